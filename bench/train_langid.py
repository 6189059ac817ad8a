"""Build the small data files of the language-ID stage (``shared/docingest/data/langid_*``).

    .venv/bin/python bench/train_langid.py [--words 8000] [--seed 7] [--skip-calibration]

1. ``langid_lexicon.json.gz``: per language (en, pt, id, es, nl, de, fr) the most frequent words with their
   log relative frequency, from TRAIN data only: ../shared/data/unlabeled/*.txt.gz and the NER training
   texts (ner/*.train.jsonl.gz). Any line equal to a langid-dev sentence is skipped. Used for short strings.
2. ``langid_names.txt.gz``: personal-name tokens from the PER entities of the NER training sets, minus tokens
   that also occur as ordinary lower-case words there or are frequent lexicon words: a lone name -> "und".
3. ``langid_ngram.bin.gz``: naive-Bayes model over words and character trigrams, trained on ALL langid-dev
   sentences plus up to 3,000 train lines per major language. The benchmark evaluates it only k-fold
   (a model trained without the fold it scores): held-out numbers.
4. ``langid_calibration.json``: isotonic maps raw score -> accuracy, fitted on the held-out (k-fold) raw
   outputs on the langid-dev sentences and the short strings cut from them (the benchmark reports ECE
   cross-fitted once more: the map for a fold is fitted on the other folds).
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT / "bench"))
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "shared" / "docingest" / "data"
LEXICON_LANGS = ("en", "pt", "id", "es", "nl", "de", "fr")
TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")


def dev_texts() -> set[str]:
    from quality_langid import DATA, load_dev

    return {" ".join(text.split()) for _, _, text in load_dev(DATA, None)} if DATA.exists() else set()


def iter_train_texts(lang: str):
    path = SHARED / "unlabeled" / f"{lang}.txt.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield line
    for path in sorted((SHARED / "ner").glob(f"{lang}-*.train.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)["text"]


def build_lexicon(words_per_lang: int, skip: set[str]) -> dict:
    lexicon = {}
    for lang in LEXICON_LANGS:
        counts: Counter = Counter()
        for text in iter_train_texts(lang):
            if " ".join(text.split()) in skip:
                continue
            counts.update(w.lower() for w in TOKEN_RE.findall(text))
        total = sum(counts.values())
        top = counts.most_common(words_per_lang)
        lexicon[lang] = {w: round(math.log(c / total), 2) for w, c in top if c >= 3}
        print(f"lexicon {lang}: {total:,} tokens, kept {len(lexicon[lang])} words")
    return lexicon


def build_names(lexicon: dict, skip: set[str]) -> list[str]:
    per: Counter = Counter()
    plain: Counter = Counter()
    for path in sorted((SHARED / "ner").glob("*.train.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                text = rec["text"]
                if " ".join(text.split()) in skip:
                    continue
                spans = [(e["start"], e["end"]) for e in rec.get("entities", []) if e["type"] == "PER"]
                for m in TOKEN_RE.finditer(text):
                    inside = any(s <= m.start() and m.end() <= e for s, e in spans)
                    word = m.group()
                    if inside:
                        per[word.lower()] += 1
                    elif word[:1].islower():
                        plain[word.lower()] += 1
    frequent = set()
    for words in lexicon.values():
        frequent.update(sorted(words, key=words.get, reverse=True)[:3000])
    names = sorted(w for w, c in per.items()
                   if c >= 2 and len(w) >= 2 and plain[w] <= 0.05 * c)
    print(f"names: {len(names)} tokens (from {len(per)} PER tokens)")
    return names


def major_train_samples(skip: set[str], cap: int = 3000) -> list[tuple[str, str]]:
    """Up to ``cap`` train lines per major language (unlabeled + NER train), dev sentences excluded."""
    out = []
    for lang in LEXICON_LANGS:
        n = 0
        for text in iter_train_texts(lang):
            flat = " ".join(text.split())
            if len(flat) < 20 or flat in skip:
                continue
            out.append((lang, flat))
            n += 1
            if n >= cap:
                break
    return out


def fold_of(n: int, folds: int, seed: int) -> list[int]:
    import random

    order = list(range(n))
    random.Random(seed).shuffle(order)
    fold = [0] * n
    for position, i in enumerate(order):
        fold[i] = position % folds
    return fold


def train_ngram(rows, major, exclude_fold=None, fold=None) -> dict:
    from docingest.stages import langid_ngram
    from quality_langid import canon

    samples = [(canon(lang), text) for i, (lang, _src, text) in enumerate(rows)
               if exclude_fold is None or fold[i] != exclude_fold]
    return langid_ngram.train(samples + major)


def cross_validated(rows, short_rows, folds: int, seed: int, major, on_fold) -> None:
    """For each fold: ship a model trained without it into the stage, then ``on_fold(fold_index, fold)``."""
    from docingest.stages import detect_language as stage
    from docingest.stages import langid_ngram

    fold = fold_of(len(rows), folds, seed)
    try:
        for f in range(folds):
            stage._set_ngram_model(langid_ngram.packed(train_ngram(rows, major, f, fold)))
            on_fold(f, fold)
    finally:
        stage._set_ngram_model(None)


def build_calibration(seed: int, folds: int, major) -> dict:
    """Isotonic maps fitted on held-out raw outputs (the n-gram model never saw the line it scores)."""
    from docingest.stages import detect_language as stage
    from docingest.stages import langid_calibration as cal
    from quality_langid import DATA, canon, cut_short_rows, load_dev

    rows = load_dev(DATA, None)
    short_rows = cut_short_rows(rows, seed)
    data = []

    def on_fold(f, fold):
        for i, (lang, _src, text) in enumerate(rows):
            if fold[i] == f:
                code, conf, kind, _ = stage._detect_raw(text)
                data.append((code, conf, kind, canon(code) == canon(lang)))
        for row, lang, _kind, text in short_rows:
            if fold[row] == f:
                code, conf, kind, _ = stage._detect_raw(text)
                data.append((code, conf, kind, canon(code) == canon(lang)))

    cross_validated(rows, short_rows, folds, seed, major, on_fold)
    params = cal.fit(data)
    params["fitted_on"] = (f"held-out ({folds}-fold) raw outputs on the langid-dev sentences + short strings "
                           f"cut with seed {seed} ({len(data)} items)")
    return params


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-calibration", action="store_true")
    parser.add_argument("--only-calibration", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    skip = dev_texts()
    if not args.only_calibration:
        lexicon = build_lexicon(args.words, skip)
        with gzip.open(OUT / "langid_lexicon.json.gz", "wt", encoding="utf-8") as f:
            json.dump(lexicon, f, ensure_ascii=False, separators=(",", ":"))
        names = build_names(lexicon, skip)
        with gzip.open(OUT / "langid_names.txt.gz", "wt", encoding="utf-8") as f:
            f.write("\n".join(names) + "\n")
    major = major_train_samples(skip)
    if not args.only_calibration:
        from docingest.stages import langid_ngram
        from quality_langid import DATA, load_dev

        model = train_ngram(load_dev(DATA, None), major)
        langid_ngram.dump(model, str(OUT / "langid_ngram.bin.gz"))
        print(f"n-gram model: {len(model['langs'])} languages, {len(model['index'])} features")
    if not args.skip_calibration:
        params = build_calibration(args.seed, args.folds, major)
        (OUT / "langid_calibration.json").write_text(json.dumps(params, indent=1) + "\n", encoding="utf-8")
        print("calibration:", {k: v["n"] for k, v in params["maps"].items()})
    for path in sorted(OUT.glob("langid_*")):
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
