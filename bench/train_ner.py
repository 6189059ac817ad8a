"""Train the shipped NER models (docingest/data/ner/) from ../shared/data with a fixed seed.

    .venv/bin/python bench/train_ner.py                 # everything: clusters, gazetteer, 7 CRFs
    .venv/bin/python bench/train_ner.py --languages en,pt --skip-clusters

Steps:
1. word clusters per language: PPMI over left/right context counts (unlabeled text + the training
   texts of that language), truncated SVD, k-means at three granularities (numpy/scipy, training only);
2. a gazetteer harvested from the training entities of all languages (shipped), and for training
   two-fold jackknifed copies, so that a training sentence never sees its own entities in it;
3. one CRF per language (python-crfsuite, L-BFGS with elastic net), trained in two processes; for en
   and nl first a news model on CoNLL alone, which labels MISC in the WikiANN sentences (WikiANN has
   no MISC) and ships as ``<lang>-news`` beside the main model trained on both;
4. entity-level exact-match F1 of each model on the dev sets of its language (on the pipeline's
   tokenisation of the dev texts, as the stage sees them; without document consistency and dates).

The full evaluation through the pipeline stage is bench/quality_ner.py.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
import zlib
from collections import Counter, defaultdict
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "shared"))

from docingest.stages import ner_crf  # noqa: E402
from docingest.stages.ner_tokens import tokenize  # noqa: E402

DATA = Path(os.environ.get("DOCINGEST_DATA", ROOT.parent / "shared" / "data"))
NER_DATA = DATA / "ner"
OUT = Path(os.environ.get("DOCINGEST_NER_OUT", ner_crf.MODEL_DIR))
SEED = 13

# The training sets of each shipped model (train splits only) and the dev sets it is scored on.
TRAIN_SETS = {
    "en": ["en-conll2003", "en-wikiann"],
    "es": ["es-conll2002"],
    "nl": ["nl-conll2002", "nl-wikiann"],
    "de": ["de-wikiann"],
    "fr": ["fr-wikiann"],
    "pt": ["pt-wikiann", "pt-lener-br", "pt-harem-first"],
    "id": ["id-idner-news-2k", "id-indolem-nerugm", "id-indolem-nerui", "id-indonlu-nergrit",
           "id-indonlu-nerp"],
}
DEV_SETS = {
    "en": ["en-conll2003", "en-wikiann"],
    "es": ["es-conll2002"],
    "nl": ["nl-conll2002", "nl-wikiann"],
    "de": ["de-wikiann"],
    "fr": ["fr-wikiann"],
    "pt": ["pt-wikiann", "pt-lener-br"],
    "id": ["id-idner-news-2k", "id-indolem-nerugm", "id-indolem-nerui"],
}
# Languages whose MISC-less sets (WikiANN) get MISC mentions from a model of their MISC-annotated news
# set (a "teacher" trained on that set alone; a missing type is not a negative). The teacher ships as
# the language's news model: the tagger uses, per sentence, whichever model is more confident.
MISC_TEACHER = {"en": ["en-conll2003"], "nl": ["nl-conll2002"]}
# Sets without a dev split: a fixed fifth of train is held out for bench/quality_ner.py.
HELD_OUT_SETS = ("id-indonlu-nergrit", "id-indonlu-nerp")
HELD_OUT_FOLDS = 5

CRF_PARAMS = {
    "c1": 0.05,
    "c2": 0.01,
    "max_iterations": 120,
    "feature.possible_transitions": True,
}
# Per-language changes to CRF_PARAMS. Spanish (CoNLL-2002 alone): a stronger L2 penalty, dev F1 on the
# pipeline's tokens 0.741 -> 0.750 (c2 0.01 -> 0.05); 300 iterations instead of 120 lost 0.7 points.
CRF_PARAMS_BY_LANG = {"es": {"c2": 0.05}}
# Train every set on the pipeline's tokenisation of its text (the stage never sees the data's own
# tokens); DOCINGEST_NER_RETOKENIZE=0 trains sentence-level sets on their gold tokens instead.
RETOKENIZE = os.environ.get("DOCINGEST_NER_RETOKENIZE", "1") != "0"
CLUSTER_VOCAB = 40_000
CLUSTER_CONTEXTS = 3_000
CLUSTER_K = (32, 128, 512)


# ---------------------------------------------------------------- data


def read_set(name: str, split: str) -> list[dict]:
    path = NER_DATA / f"{name}.{split}.jsonl.gz"
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def clean_tag(tag: str) -> str:
    """DATE belongs to the date stage, not to the model."""
    return "O" if tag.endswith("-DATE") else tag


def document_sentences(record: dict) -> list[tuple[list[str], list[str]]]:
    """A raw-text record (HAREM) as the pipeline sees it: tokenize(), sentence spans, BIO from char spans."""
    text = record["text"]
    tokens = tokenize(text)
    tags = ["O"] * len(tokens)
    starts = {t.start: i for i, t in enumerate(tokens)}
    for ent in record["entities"]:
        if ent["type"] == "DATE":
            continue
        first = starts.get(ent["start"])
        if first is None:
            continue  # the tokenizer does not start a token here: cannot be learnt as an exact span
        last = first
        while last + 1 < len(tokens) and tokens[last + 1].end <= ent["end"]:
            last += 1
        if tokens[last].end != ent["end"]:
            continue
        tags[first] = "B-" + ent["type"]
        for j in range(first + 1, last + 1):
            tags[j] = "I-" + ent["type"]
    out = []
    for begin, end in ner_tokens_sentence_spans(tokens, text):
        out.append(([t.text for t in tokens[begin:end]], tags[begin:end]))
    return out


def ner_tokens_sentence_spans(tokens, text):
    from docingest.stages.ner_tokens import sentence_spans

    return sentence_spans(tokens, text)


def record_sentences(record: dict) -> list[tuple[list[str], list[str]]]:
    """A record as the stage sees it: ``tokenize(text)``, sentence spans, gold spans projected.

    The data's tokens differ from the pipeline's in places (WikiANN's ``''`` markup, German "1.",
    glued quotes); training on the pipeline's tokens gains 2-7 points F1 through the stage.
    """
    if "token_offsets" in record or RETOKENIZE:  # HAREM is a raw document in any case
        return document_sentences(record)
    return [(record["tokens"], [clean_tag(t) for t in record["tags"]])]


def held_out_fold(index: int) -> int:
    return random.Random(f"{SEED}:{index}").randrange(HELD_OUT_FOLDS)


def training_sentences(lang: str, exclude_fold: bool = False, extra_exclude: set[str] | None = None,
                       sets: list[str] | None = None) -> list[tuple[list[str], list[str]]]:
    """Training sentences of a language; exclude_fold drops fold 0 of the sets without dev split."""
    sentences: list[tuple[list[str], list[str]]] = []
    for name in sets or TRAIN_SETS[lang]:
        records = read_set(name, "train")
        for i, record in enumerate(records):
            if exclude_fold and name in HELD_OUT_SETS and held_out_fold(i) == 0:
                continue
            if extra_exclude and record["id"] in extra_exclude:
                continue
            sentences.extend(record_sentences(record))
    return sentences


# ---------------------------------------------------------------- clusters


def cluster_corpus(lang: str) -> list[list[str]]:
    lines: list[list[str]] = []
    path = DATA / "unlabeled" / f"{lang}.txt.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                lines.append([ner_crf.normalise_word(t.text) for t in tokenize(line)])
    for words, _ in training_sentences(lang):
        lines.append([ner_crf.normalise_word(w) for w in words])
    return lines


def build_clusters(lang: str) -> dict[str, tuple[str, str, str]]:
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import svds

    lines = cluster_corpus(lang)
    counts = Counter(w for line in lines for w in line)
    vocab = [w for w, c in counts.most_common(CLUSTER_VOCAB) if c >= 2]
    index = {w: i for i, w in enumerate(vocab)}
    ids = []
    for line in lines:
        ids.extend(index.get(w, -1) for w in line)
        ids.append(-2)  # sentence boundary
    arr = np.array(ids, dtype=np.int64)
    n_ctx = min(CLUSTER_CONTEXTS, len(vocab))
    rows, cols = [], []
    for offset in (-2, -1, 1, 2):
        if offset < 0:
            w, c = arr[-offset:], arr[:offset]
        else:
            w, c = arr[:-offset], arr[offset:]
        side = 0 if offset < 0 else n_ctx
        far = abs(offset) == 2
        ok = (w >= 0) & (c >= 0) & (c < n_ctx)
        if far:  # do not count across a boundary at distance 2
            ok = ok & (arr[1:-1] != -2)
        rows.append(w[ok])
        cols.append(c[ok] + side)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    mat = coo_matrix((np.ones(len(r), dtype=np.float64), (r, c)), shape=(len(vocab), 2 * n_ctx)).tocsr()
    mat.sum_duplicates()
    total = mat.sum()
    row_sum = np.asarray(mat.sum(axis=1)).ravel()
    col_sum = np.asarray(mat.sum(axis=0)).ravel() ** 0.75
    col_sum = col_sum / col_sum.sum() * total
    mat = mat.tocoo()
    pmi = np.log(mat.data * total / (row_sum[mat.row] * col_sum[mat.col] + 1e-9) + 1e-12)
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (mat.row[keep], mat.col[keep])), shape=mat.shape).tocsr()
    rng = np.random.default_rng(SEED)
    u, s, _ = svds(ppmi, k=64, v0=rng.standard_normal(min(ppmi.shape)), random_state=SEED)
    vectors = u * np.sqrt(s)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    labels = [kmeans(vectors, k, rng) for k in CLUSTER_K]
    return {w: tuple(str(int(lab[i])) for lab in labels) for i, w in enumerate(vocab)}


def kmeans(x, k: int, rng, iterations: int = 15):
    import numpy as np

    centers = x[rng.choice(len(x), size=k, replace=False)].copy()
    labels = np.zeros(len(x), dtype=np.int64)
    for _ in range(iterations):
        labels = np.argmax(x @ centers.T, axis=1)  # unit vectors: cosine
        for j in range(k):
            members = x[labels == j]
            if len(members):
                centers[j] = members.mean(axis=0)
        centers /= np.linalg.norm(centers, axis=1, keepdims=True) + 1e-9
    return labels


def write_clusters(lang: str) -> None:
    started = time.time()
    clusters = build_clusters(lang)
    path = OUT / f"{lang}.clusters.tsv.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        raw.write("".join(f"{w}\t{a}\t{b}\t{c}\n" for w, (a, b, c) in clusters.items()).encode("utf-8"))
    print(f"[{lang}] clusters: {len(clusters)} words in {time.time() - started:.0f}s", flush=True)


# ---------------------------------------------------------------- gazetteer


def entity_strings(words: list[str], tags: list[str]):
    for start, end, kind in ner_crf.bio_spans(tags):
        yield " ".join(ner_crf.normalise_word(w) for w in words[start:end]), kind


def gazetteer_counts(exclude_ids: frozenset = frozenset(), exclude_fold: bool = False) -> tuple[dict, dict]:
    """Counts of (entry, type) over all training data, and per (language, jackknife fold).

    exclude_ids / exclude_fold leave out records as in training_sentences (for held-out evaluations).
    """
    total: dict[str, Counter] = defaultdict(Counter)
    per_fold: dict[tuple[str, int], dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for lang in TRAIN_SETS:
        sentences = training_sentences(lang, exclude_fold=exclude_fold, extra_exclude=set(exclude_ids))
        for words, tags in sentences:
            fold = jackknife_fold(words)
            for entry, kind in entity_strings(words, tags):
                total[entry][kind] += 1
                per_fold[(lang, fold)][entry][kind] += 1
    return total, per_fold


def jackknife_fold(words: list[str]) -> int:
    """Which half of the training data a sentence is in (stable under subsetting and reordering)."""
    return zlib.crc32(" ".join(words).encode("utf-8")) % 2


def select_gazetteer(counts: dict[str, Counter], minus: dict[str, Counter] | None = None) -> dict:
    gazetteer = {}
    for entry, counter in counts.items():
        if minus is not None and entry in minus:
            counter = counter - minus[entry]
        n = sum(counter.values())
        if n == 0:
            continue
        kind, top = counter.most_common(1)[0]
        words = entry.split(" ")
        if len(words) > 6 or top / n < 0.75 or not any(ch.isalpha() for ch in entry):
            continue
        if len(words) == 1 and len(entry) < 3:
            continue
        gazetteer[entry] = kind
    return gazetteer


def write_gazetteer(gazetteer: dict) -> None:
    ner_crf.write_gazetteer(OUT / "gazetteer.txt.gz", gazetteer)
    print(f"gazetteer: {len(gazetteer)} entries", flush=True)


# ---------------------------------------------------------------- CRF


def train_model(lang: str, model_path: Path, sentences, clusters, gazetteers: list[dict] | None,
                params: dict | None = None) -> float:
    """Train one CRF; gazetteers[jackknife_fold(words)] gives the gazetteer features of a sentence."""
    import pycrfsuite

    started = time.time()
    extractors = [ner_crf.FeatureExtractor(clusters, g) for g in (gazetteers or [None, None])]
    trainer = pycrfsuite.Trainer(verbose=False)
    for words, tags in sentences:
        if not words:
            continue
        trainer.append(extractors[jackknife_fold(words)].sentence(words), tags)
    trainer.set_params(params or CRF_PARAMS)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(model_path))
    return time.time() - started


def pack_model(path: Path) -> int:
    """Gzip a trained model next to itself (reproducibly) and remove the plain file; the packed size."""
    packed = path.with_name(path.name + ".gz")
    with open(path, "rb") as src, gzip.GzipFile(packed, "wb", mtime=0) as dst:
        dst.write(src.read())
    path.unlink()
    return packed.stat().st_size


def dev_scores(tagger: ner_crf.CrfTagger, lang: str) -> dict[str, tuple[float, float, float]]:
    scores = {}
    for name in DEV_SETS[lang]:
        gold_n = pred_n = correct = 0
        for record in read_set(name, "dev"):
            for words, tags in record_sentences(record):
                pred = tagger.tag_document([words])[0]
                gold = set(ner_crf.bio_spans(tags))
                got = set(ner_crf.bio_spans(pred))
                gold_n += len(gold)
                pred_n += len(got)
                correct += len(gold & got)
        p = correct / pred_n if pred_n else 0.0
        r = correct / gold_n if gold_n else 0.0
        scores[name] = (p, r, 2 * p * r / (p + r) if p + r else 0.0)
    return scores


def jackknife_gazetteers(lang: str, total, per_fold) -> list[dict]:
    return [select_gazetteer(total, per_fold[(lang, fold)]) for fold in (0, 1)]


def add_teacher_misc(teacher: ner_crf.CrfTagger, sentences):
    """MISC spans predicted by the teacher where the gold of a MISC-less set has only O."""
    added = 0
    out = []
    for words, tags in sentences:
        tags = list(tags)
        if words:
            for start, end, kind in ner_crf.bio_spans(teacher.tag_sentence(words)):
                if kind == "MISC" and all(t == "O" for t in tags[start:end]) and (
                        end == len(tags) or not tags[end].startswith("I-")):
                    tags[start] = "B-MISC"
                    for j in range(start + 1, end):
                        tags[j] = "I-MISC"
                    added += 1
        out.append((words, tags))
    return out, added


def train_language(job: tuple) -> str:
    lang, use_gazetteer = job
    clusters = ner_crf.read_clusters(OUT / f"{lang}.clusters.tsv.gz")
    gazetteers = None
    full_gazetteer = {}
    if use_gazetteer:
        total, per_fold = gazetteer_counts()
        gazetteers = jackknife_gazetteers(lang, total, per_fold)
        full_gazetteer = ner_crf.read_gazetteer(OUT / "gazetteer.txt.gz")
    if lang in MISC_TEACHER:
        teacher_sets = MISC_TEACHER[lang]
        other_sets = [name for name in TRAIN_SETS[lang] if name not in teacher_sets]
        teacher_sentences = training_sentences(lang, sets=teacher_sets)
        # The teacher ships too, as the language's news model (see ner_crf.CrfTagger).
        teacher_path = OUT / f"{lang}-news.crfsuite"
        seconds = train_model(lang, teacher_path, teacher_sentences, clusters, gazetteers)
        teacher = ner_crf.CrfTagger(teacher_path, ner_crf.FeatureExtractor(clusters, full_gazetteer))
        for name, (p, r, f) in dev_scores(teacher, lang).items():
            print(f"[{lang}]   news model alone ({'+'.join(teacher_sets)}, {seconds:.0f}s) dev {name} "
                  f"P {p:.3f} R {r:.3f} F1 {f:.3f}", flush=True)
        others, added = add_teacher_misc(teacher, training_sentences(lang, sets=other_sets))
        print(f"[{lang}]   teacher added {added} MISC mentions to {'+'.join(other_sets)}", flush=True)
        sentences = teacher_sentences + others
    else:
        sentences = training_sentences(lang)
    params = dict(CRF_PARAMS, **CRF_PARAMS_BY_LANG.get(lang, {}))
    seconds = train_model(lang, OUT / f"{lang}.crfsuite", sentences, clusters, gazetteers, params)
    paths = [OUT / f"{lang}.crfsuite"] + ([OUT / f"{lang}-news.crfsuite"] if lang in MISC_TEACHER else [])
    tagger = ner_crf.CrfTagger(paths, ner_crf.FeatureExtractor(clusters, full_gazetteer))
    size = sum(pack_model(path) for path in paths)
    lines = [f"[{lang}] trained on {len(sentences)} sentences in {seconds:.0f}s ({size / 1e6:.1f} MB gzipped)"]
    for name, (p, r, f) in dev_scores(tagger, lang).items():
        lines.append(f"[{lang}]   dev {name:22s} P {p:.3f} R {r:.3f} F1 {f:.3f}")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", default=",".join(TRAIN_SETS))
    parser.add_argument("--skip-clusters", action="store_true", help="reuse the cluster files in the repo")
    parser.add_argument("--no-gazetteer", action="store_true")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    if not NER_DATA.exists():
        print(f"no NER data at {NER_DATA}: nothing to train")
        return 0
    languages = [lang for lang in args.languages.split(",") if lang]
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with Pool(args.processes) as pool:
        if not args.skip_clusters:
            pool.map(write_clusters, languages)
        if not args.no_gazetteer:
            total, _ = gazetteer_counts()
            write_gazetteer(select_gazetteer(total))
        order = sorted(languages, key=lambda lang: -sum(
            (NER_DATA / f"{name}.train.jsonl.gz").stat().st_size for name in TRAIN_SETS[lang]))
        results = pool.map(train_language, [(lang, not args.no_gazetteer) for lang in order], chunksize=1)
    print("\n".join(results))
    print(f"total {time.time() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
