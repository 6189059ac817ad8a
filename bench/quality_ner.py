"""Named-entity quality and cost: the shipped CRF models against the rule-based extractor, in one run.

    .venv/bin/python bench/quality_ner.py [--quick] [--harem-folds 3] [--skip-variants] [--processes 2]

Data: ../shared/data/ner/ (see ../shared/data/README.md). Every record is run the way the pipeline runs
it: its raw ``text`` through the stage ``docingest.stages.extract_entities.extract_entities(text,
language)`` (our tokenisation, sentence splitting and offsets), and the predicted character spans
(start, end, type) are compared with the gold ``entities``: entity-level exact match, micro P/R/F1.

Scoring rules:
- a set is scored on the types it annotates (WikiANN: PER/ORG/LOC; sets without MISC ignore predicted
  MISC, a missing type is not a negative); DATE only where the set has DATE (both sides);
- NERGRIT and NER-P have no dev split: a fixed fifth of their train (fold 0, as in bench/train_ner.py) is
  held out, scored with an Indonesian model trained without it (gazetteer rebuilt without it too);
- first HAREM: document-level k-fold cross-validation over its train documents (raw text, the pipeline's
  tokenisation), PER/ORG/LOC only; each fold model is the Portuguese model trained without those documents;
- robustness: models on sets they were not trained on (CoNLL-only English on English WikiANN, a WikiANN-only
  Portuguese model on HAREM, the Indonesian model on NER-P-style lower-cased text is already in-domain).

The extra (held-out and robustness) models are trained into ``--cache`` and reused when present.
Speed is CPU time of this process (one core) over all records scored; load time and peak RSS are measured
in a fresh subprocess per language (import of the stage + model load + tagging one document).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT / "bench"))

DATA = Path(os.environ.get("DOCINGEST_DATA", ROOT.parent / "shared" / "data"))
NER_DATA = DATA / "ner"
NAME_TYPES = ("PER", "ORG", "LOC", "MISC")

DEV_SETS = [
    ("en", "en-conll2003"), ("en", "en-wikiann"),
    ("es", "es-conll2002"),
    ("nl", "nl-conll2002"), ("nl", "nl-wikiann"),
    ("de", "de-wikiann"), ("fr", "fr-wikiann"),
    ("pt", "pt-wikiann"), ("pt", "pt-lener-br"), ("pt", "pt-harem-first"),
    ("id", "id-idner-news-2k"), ("id", "id-indolem-nerugm"), ("id", "id-indolem-nerui"),
]
TARGETS = {
    "en-conll2003": 0.93, "es-conll2002": 0.85, "nl-conll2002": 0.85,
    "en-wikiann": 0.82, "de-wikiann": 0.88, "fr-wikiann": 0.88, "nl-wikiann": 0.88, "pt-wikiann": 0.88,
    "id-idner-news-2k": 0.86, "id-indolem-nerui": 0.90, "id-indolem-nerugm": 0.80,
    "id-indonlu-nergrit (held-out)": 0.80, "id-indonlu-nerp (held-out)": 0.80,
    "pt-lener-br": 0.90, "pt-harem-first (CV)": 0.75,
}


def read_set(name: str, split: str) -> list[dict]:
    path = NER_DATA / f"{name}.{split}.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


class Score:
    """Micro counts per type."""

    def __init__(self) -> None:
        self.tp: Counter = Counter()
        self.fp: Counter = Counter()
        self.fn: Counter = Counter()

    def add(self, gold: set, pred: set) -> None:
        for span in pred & gold:
            self.tp[span[2]] += 1
        for span in pred - gold:
            self.fp[span[2]] += 1
        for span in gold - pred:
            self.fn[span[2]] += 1

    def merge(self, other: "Score") -> None:
        self.tp.update(other.tp)
        self.fp.update(other.fp)
        self.fn.update(other.fn)

    def prf(self, kind: str | None = None) -> tuple[float, float, float, int]:
        def total(c: Counter) -> int:
            return c[kind] if kind else sum(c.values())

        tp, fp, fn = total(self.tp), total(self.fp), total(self.fn)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0), tp + fn

    def types(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fn) | set(self.fp))


def gold_types(records: list[dict]) -> set[str]:
    return {e["type"] for r in records for e in r["entities"]}


def spans(entities, types: set[str]) -> set[tuple[int, int, str]]:
    out = set()
    for e in entities:
        start, end, kind = (e["start"], e["end"], e["type"]) if isinstance(e, dict) else (e.start, e.end, e.type)
        if kind in types:
            out.add((start, end, kind))
    return out


class Timer:
    def __init__(self) -> None:
        self.cpu = 0.0
        self.tokens = 0


def run_system(extract, records: list[dict], types: set[str], lang: str, timer: Timer) -> Score:
    from docingest.stages.ner_tokens import tokenize

    score = Score()
    for record in records:
        text = record["text"]
        started = time.process_time()
        predicted = extract(text, lang)
        timer.cpu += time.process_time() - started
        timer.tokens += len(tokenize(text))
        score.add(spans(record["entities"], types), spans(predicted, types))
    return score


def tagger_extractor(tagger):
    """The stage's CRF path with a given (non-shipped) tagger: same tokenisation and span conversion."""
    from docingest.stages.extract_entities import entities_from_bio
    from docingest.stages.ner_tokens import sentence_spans, tokenize

    def extract(text: str, language: str | None):
        tokens = tokenize(text)
        sentences = [tokens[b:e] for b, e in sentence_spans(tokens, text)]
        tags = tagger.tag_document([[t.text for t in s] for s in sentences])
        out = []
        for sentence, sentence_tags in zip(sentences, tags):
            out.extend(entities_from_bio(text, sentence, sentence_tags))
        return out

    return extract


def subsample(records: list[dict], quick: bool, n: int = 300) -> list[dict]:
    if not quick or len(records) <= n:
        return records
    return random.Random(7).sample(records, n)


# ---------------------------------------------------------------- extra models


def train_variant(job: tuple) -> str:
    """Train a model like the shipped one of ``lang`` without some records, into the cache (if absent)."""
    import train_ner
    from docingest.stages import ner_crf

    cache, key, lang, exclude_ids, exclude_fold, sets = job
    model = cache / f"{key}.crfsuite"
    gaz_path = cache / f"{key}.gazetteer.json.gz"
    if model.exists() and gaz_path.exists():
        return key
    started = time.time()
    clusters = ner_crf.read_clusters(ner_crf.MODEL_DIR / f"{lang}.clusters.tsv.gz")
    total, per_fold = train_ner.gazetteer_counts(exclude_ids, exclude_fold)
    gazetteers = train_ner.jackknife_gazetteers(lang, total, per_fold)
    sentences = train_ner.training_sentences(lang, exclude_fold=exclude_fold, extra_exclude=set(exclude_ids),
                                             sets=sets)
    cache.mkdir(parents=True, exist_ok=True)
    train_ner.train_model(lang, model, sentences, clusters, gazetteers)
    with gzip.open(gaz_path, "wt", encoding="utf-8") as f:
        json.dump(train_ner.select_gazetteer(total), f)
    print(f"  (trained {key} in {time.time() - started:.0f}s)", flush=True)
    return key


def variant_tagger(cache: Path, key: str, lang: str):
    from docingest.stages import ner_crf

    clusters = ner_crf.read_clusters(ner_crf.MODEL_DIR / f"{lang}.clusters.tsv.gz")
    with gzip.open(cache / f"{key}.gazetteer.json.gz", "rt", encoding="utf-8") as f:
        gazetteer = json.load(f)
    return ner_crf.CrfTagger(cache / f"{key}.crfsuite", ner_crf.FeatureExtractor(clusters, gazetteer))


# ---------------------------------------------------------------- cost


_PROBE = r"""
import json, resource, sys, time
started = time.perf_counter()
sys.path.insert(0, {shared!r})
from docingest.stages.{module} import extract_entities
imported = time.perf_counter()
extract_entities({text!r}, {lang!r}{extra})
loaded = time.perf_counter()
try:  # VmHWM: ru_maxrss would include the forking parent's memory
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"import": imported - started, "load": loaded - started, "rss_mb": rss}}))
"""


def probe(module: str, lang: str, text: str) -> dict:
    extra = ', "crf"' if module == "extract_entities" else ""
    code = _PROBE.format(shared=str(ROOT / "shared"), module=module, text=text, lang=lang, extra=extra)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"import": float("nan"), "load": float("nan"), "rss_mb": float("nan"), "error": out.stderr[-300:]}


# ---------------------------------------------------------------- report


def print_table(title: str, results: dict[str, dict[str, Score]], systems: list[str]) -> None:
    print(f"\n## {title}")
    print(f"{'set':34s} {'type':5s} {'gold':>6s} " + " ".join(f"{s + ' P/R/F1':>22s}" for s in systems)
          + f" {'target':>6s}")
    for name, by_system in results.items():
        first = by_system[systems[0]]
        for kind in [None] + first.types():
            label = kind or "all"
            cells = []
            for system in systems:
                p, r, f, _ = by_system[system].prf(kind)
                cells.append(f"{p:6.3f} {r:6.3f} {f:6.3f}  ")
            gold = first.prf(kind)[3]
            target = TARGETS.get(name) if kind is None else None
            mark = f"{target:6.2f}" if target else ""
            print(f"{(name if kind is None else ''):34s} {label:5s} {gold:6d} " + " ".join(f"{c:>22s}" for c in cells)
                  + f" {mark}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="300 records per set, 2 HAREM folds")
    parser.add_argument("--harem-folds", type=int, default=3)
    parser.add_argument("--train-only", action="store_true", help="only train the evaluation models")
    parser.add_argument("--reverse-jobs", action="store_true", help="train the evaluation models last to first")
    parser.add_argument("--processes", type=int, default=2, help="for training the evaluation models")
    parser.add_argument("--skip-variants", action="store_true", help="no held-out, CV or robustness models")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "docingest-ner-eval")
    args = parser.parse_args()
    if not NER_DATA.exists():
        print(f"NER data not found at {NER_DATA} (see ../shared/data/README.md): nothing to measure.")
        return 0

    from docingest.stages.extract_entities import extract_entities as stage
    from docingest.stages.rule_entities import extract_entities as rules

    def crf(text: str, language: str | None):
        return stage(text, language, "crf")

    systems = {"crf": crf, "rules": rules}
    timers = {name: Timer() for name in systems}
    results: dict[str, dict[str, Score]] = {}
    per_language: dict[str, dict[str, Score]] = defaultdict(lambda: {s: Score() for s in systems})
    per_type_all: dict[str, Score] = {s: Score() for s in systems}
    run_started = time.time()

    print("# NER quality: shipped CRF (through the extract_entities stage) vs the rule-based extractor")
    print(f"data: {NER_DATA}  mode: {'quick' if args.quick else 'full'}")
    # Models load on first use: load every language first so that tokens/s is the steady state
    # (load time is measured separately below).
    for system, extract in ({} if args.train_only else systems).items():
        for lang in sorted({lang for lang, _ in DEV_SETS}):
            extract("Warm up in Lisboa.", lang)
    for lang, name in ([] if args.train_only else DEV_SETS):
        records = subsample(read_set(name, "dev"), args.quick)
        types = gold_types(records) if name != "pt-harem-first" else {"PER", "ORG", "LOC"}
        types = types & set(NAME_TYPES) | ({"DATE"} & types)
        label = name + (" (dev, PER/ORG/LOC)" if name == "pt-harem-first" else "")
        results[label] = {}
        for system, extract in systems.items():
            score = run_system(extract, records, types, lang, timers[system])
            results[label][system] = score
            per_language[lang][system].merge(score)
            per_type_all[system].merge(score)
        print(f"  {label}: crf F1 {results[label]['crf'].prf()[2]:.3f}  rules F1 {results[label]['rules'].prf()[2]:.3f}",
              flush=True)

    held_out: dict[str, dict[str, Score]] = {}
    robustness: dict[str, dict[str, Score]] = {}
    if not args.skip_variants:
        import train_ner
        from multiprocessing import Pool

        # The cache is keyed by the training and feature code, so a changed recipe retrains.
        import hashlib
        import inspect

        from docingest.stages import ner_crf

        recipe = repr(train_ner.CRF_PARAMS) + repr(train_ner.RETOKENIZE)
        for function in (ner_crf.FeatureExtractor, ner_crf.word_shape, ner_crf.short_shape, ner_crf.normalise_word,
                         ner_crf.strip_accents, train_ner.select_gazetteer, train_ner.record_sentences,
                         train_ner.training_sentences, train_ner.document_sentences, train_ner.train_model,
                         train_ner.jackknife_fold, train_ner.gazetteer_counts):
            recipe += inspect.getsource(function)
        args.cache = args.cache / hashlib.sha256(recipe.encode("utf-8")).hexdigest()[:12]
        harem = read_set("pt-harem-first", "train")
        folds = 2 if args.quick else args.harem_folds
        order = list(range(len(harem)))
        random.Random(train_ner.SEED).shuffle(order)
        harem_folds = [[harem[i] for i in order[fold::folds]] for fold in range(folds)]
        robustness_checks = [
            ("en-conll-only", "en", ["en-conll2003"], "en-wikiann", "dev"),
            ("pt-wikiann-only", "pt", ["pt-wikiann"], "pt-harem-first", "train"),
            ("nl-conll-only", "nl", ["nl-conll2002"], "nl-wikiann", "dev"),
        ]
        jobs = [(args.cache, "id-heldout", "id", frozenset(), True, None)]
        jobs += [(args.cache, f"pt-harem-cv{folds}-{fold}", "pt", frozenset(r["id"] for r in test), False, None)
                 for fold, test in enumerate(harem_folds)]
        jobs += [(args.cache, key, lang, frozenset(), False, sets) for key, lang, sets, _, _ in robustness_checks]
        print(f"training {len(jobs)} evaluation models (cached in {args.cache})", flush=True)
        with Pool(args.processes) as pool:
            pool.map(train_variant, jobs[::-1] if args.reverse_jobs else jobs, chunksize=1)
        if args.train_only:
            return 0

        # NERGRIT and NER-P: fold 0 of train held out.
        extract = tagger_extractor(variant_tagger(args.cache, "id-heldout", "id"))
        for name in train_ner.HELD_OUT_SETS:
            records = [r for i, r in enumerate(read_set(name, "train")) if train_ner.held_out_fold(i) == 0]
            records = subsample(records, args.quick)
            types = gold_types(records) & set(NAME_TYPES)
            label = f"{name} (held-out)"
            held_out[label] = {"crf": run_system(extract, records, types, "id", Timer()),
                               "rules": run_system(rules, records, types, "id", timers["rules"])}
            per_language["id"]["crf"].merge(held_out[label]["crf"])
            per_language["id"]["rules"].merge(held_out[label]["rules"])
            print(f"  {label}: crf F1 {held_out[label]['crf'].prf()[2]:.3f}", flush=True)

        # First HAREM: document-level cross-validation on train, PER/ORG/LOC.
        label = "pt-harem-first (CV)"
        held_out[label] = {"crf": Score(), "rules": Score()}
        types = {"PER", "ORG", "LOC"}
        for fold, test in enumerate(harem_folds):
            tagger = variant_tagger(args.cache, f"pt-harem-cv{folds}-{fold}", "pt")
            held_out[label]["crf"].merge(run_system(tagger_extractor(tagger), test, types, "pt", Timer()))
            held_out[label]["rules"].merge(run_system(rules, test, types, "pt", Timer()))
        print(f"  {label}: crf F1 {held_out[label]['crf'].prf()[2]:.3f}", flush=True)

        # Robustness: models on sets they were not trained on.
        for key, lang, sets, target, split in robustness_checks:
            tagger = variant_tagger(args.cache, key, lang)
            records = subsample(read_set(target, split), args.quick)
            types = (gold_types(records) & set(NAME_TYPES)) if "harem" not in target else {"PER", "ORG", "LOC"}
            robustness[f"{key} model on {target} {split}"] = {
                "crf": run_system(tagger_extractor(tagger), records, types, lang, Timer()),
                "rules": run_system(rules, records, types, lang, Timer()),
            }

    print_table("Dev sets (entity-level exact match, micro)", results, list(systems))
    if held_out:
        print_table("Held-out folds and cross-validation (models trained without the scored records)",
                    held_out, list(systems))
    if robustness:
        print_table("Robustness: models trained on other sets (crf column = that model)", robustness, list(systems))

    print("\n## Per language (micro over the language's sets above, held-out folds included)")
    print(f"{'lang':5s} {'type':5s} {'gold':>6s} " + " ".join(f"{s + ' P/R/F1':>22s}" for s in systems))
    for lang in sorted(per_language):
        first = per_language[lang]["crf"]
        for kind in [None] + first.types():
            cells = " ".join(f"{per_language[lang][s].prf(kind)[0]:6.3f} {per_language[lang][s].prf(kind)[1]:6.3f} "
                             f"{per_language[lang][s].prf(kind)[2]:6.3f}  " for s in systems)
            print(f"{lang:5s} {kind or 'all':5s} {first.prf(kind)[3]:6d} {cells}")
    print("\n## Per type (all dev sets)")
    for kind in per_type_all["crf"].types():
        cells = " ".join(f"{s} {per_type_all[s].prf(kind)[2]:.3f}" for s in systems)
        print(f"{kind:5s} gold {per_type_all['crf'].prf(kind)[3]:6d}  F1 {cells}")

    print("\n## Cost")
    for system, timer in timers.items():
        rate = timer.tokens / timer.cpu if timer.cpu else 0.0
        print(f"{system:6s} {timer.tokens:9d} tokens in {timer.cpu:7.1f} s CPU: {rate:9.0f} tokens/s "
              "(one core, whole stage incl. tokenisation)")
    sample = "Maria Silva, the new director of the Lisbon Museum, met John Carter in Jakarta on Monday."
    print(f"{'module':16s} {'lang':4s} {'import s':>8s} {'import+load+1 doc s':>20s} {'peak RSS MB':>12s}")
    from docingest.stages.ner_crf import MODEL_LANGUAGES

    for module in ("extract_entities", "rule_entities"):
        for lang in (MODEL_LANGUAGES if module == "extract_entities" else ("en",)):
            figures = probe(module, lang, sample)
            print(f"{module:16s} {lang:4s} {figures['import']:8.2f} {figures['load']:20.2f} {figures['rss_mb']:12.0f}"
                  + (f"  {figures['error']}" if "error" in figures else ""))
    model_dir = ROOT / "shared" / "docingest" / "data" / "ner"
    size = sum(p.stat().st_size for p in model_dir.glob("*") if p.is_file())
    print(f"model files: {size / 1e6:.1f} MB in {model_dir.relative_to(ROOT)}")
    print(f"run time {time.time() - run_started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
