"""Experiment (2026-12-03, not shipped): the BiLSTM-CRF's tags, with the CRF's type where both models find
the same span with different types and the CRF's marginal of its type is >= CUT on every token of the span.

    cd /work/main && .venv/bin/python bench/ner_contextual/type_override.py pt|id [CUT=0.9] [quick]

Full dev sets, CUT 0.8 (F1 crf / bilstm / override): pt WikiANN 0.8372 / 0.8606 / 0.8628, LeNER-Br
0.7344 / 0.7617 / 0.7612, HAREM dev 0.5280 / 0.6475 / 0.6341; id idner, NER UGM, NER UI: override = bilstm
(0.8036, 0.7919, 0.8641). On samples/pt it fixes Caminha, Valença and "Conselho Regional do Atlântico Norte"
but not CRAN, Tui or Coopervale. Not better on dev: not shipped.
"""
import os, sys
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, "/work/main/bench/ner_contextual")
import train_contextual as tc  # noqa
import quality_ner
from docingest.stages import ner_crf
from docingest.stages.extract_entities import extract_entities as stage

CUT = float(sys.argv[2]) if len(sys.argv) > 2 else 0.9
lang = sys.argv[1]

class Combo:
    def __init__(self, crf, bilstm):
        self.crf, self.bilstm = crf, bilstm
    def tag_sentence(self, words):
        b = list(self.bilstm.tag_sentence(words))
        crf = self.crf
        feats = crf.features.sentence(words)
        t = crf._taggers[0]
        with crf._lock:
            c = list(t.tag(feats))
            cspans = {(s, e): k for s, e, k in ner_crf.bio_spans(c)}
            for s, e, k in list(ner_crf.bio_spans(b)):
                ck = cspans.get((s, e))
                if ck and ck != k and all(t.marginal(("B-" if i == s else "I-") + ck, i) >= CUT for i in range(s, e)):
                    for i in range(s, e):
                        b[i] = ("B-" if i == s else "I-") + ck
        return b
    def tag_document(self, sentences):
        return ner_crf.harmonise_document(sentences, [self.tag_sentence(list(w)) for w in sentences])

bil = ner_crf.load_tagger(lang); crf = ner_crf.load_crf_tagger(lang)
taggers = {"crf": crf, "bilstm": bil, "combo": Combo(crf, bil)}
def system(tagger):
    def extract(text, language):
        prev = ner_crf._TAGGERS.get(lang); ner_crf._TAGGERS[lang] = tagger
        try: return stage(text, language, "crf")
        finally: ner_crf._TAGGERS[lang] = prev
    return extract
sets = {"id": ["id-idner-news-2k", "id-indolem-nerugm", "id-indolem-nerui"], "pt": ["pt-wikiann", "pt-lener-br", "pt-harem-first"]}[lang]
for name in sets:
    records = quality_ner.subsample(quality_ner.read_set(name, "dev"), len(sys.argv) > 3)
    types = quality_ner.gold_types(records) if name != "pt-harem-first" else {"PER", "ORG", "LOC"}
    types = types & set(quality_ner.NAME_TYPES) | ({"DATE"} & types)
    for key, tagger in taggers.items():
        timer = quality_ner.Timer()
        s = quality_ner.run_system(system(tagger), records, types, lang, timer)
        print(f"{name:20s} {key:6s} F1 {s.prf()[2]:.4f}", flush=True)
from docingest.stages.clean import clean
for path, ct in (("samples/pt/cimeira-regional.html", "text/html"), ("samples/pt/porto-novo.txt", "text/plain")) if lang == "pt" else ():
    text = clean(open(path, encoding="utf-8").read(), ct).text
    ents = system(taggers["combo"])(text, "pt")
    print(path, sorted({(e.text, e.type) for e in ents if e.text in ("CRAN", "Coopervale", "Tui", "Valença", "Caminha", "Conselho Regional do Atlântico Norte")}))
