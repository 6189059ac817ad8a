"""Malay / Indonesian confusion, out of sample: ms->id and id->ms on an independent set.

    PYTHONPATH=shared .venv/bin/python bench/quality_msid.py [--data bench/data/langid-ms-id/sentences.tsv]
        [--tools ours,fasttext-lite,lingua] [--seed 7] [--errors 0] [--half all|tune|held-out]

``--half``: the set is split in two by a hash of each sentence (sha1 parity, fixed). Changes to the arbiter
may look at ``tune`` (its errors, its rates); ``held-out`` is only measured, and is the figure to report.

Data: ``bench/data/langid-ms-id/sentences.tsv`` (lang<TAB>source<TAB>text, lang in {ms, id}); see its README
for the sources (none of it is in ../shared/data, nothing of it was used to write or tune the arbiter).
Short strings are cut from every sentence exactly as ``bench/quality_langid.py`` cuts them
(:func:`quality_langid.cut_short_rows`: one 1-3 word string and one title-like 3-6 word fragment per sentence,
same ``--seed``). The shipped detector is used as is (no cross-validation: these lines are not dev lines).

Reported per tool: ms->id (Malay called Indonesian), id->ms, and the share called neither (other/und), on
sentences, 1-3 word strings and title-like strings, overall and per source. ``--errors N`` prints N Malay
sentences that ours calls Indonesian, with the arbiter's lexicon score (``langid_msid.malay_score``).
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT / "bench"))

from quality_langid import TOOLS, canon, cut_short_rows  # noqa: E402

DEFAULT = ROOT / "bench" / "data" / "langid-ms-id" / "sentences.tsv"


def half_of(text: str) -> str:
    import hashlib

    return "tune" if hashlib.sha1(text.encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


def load(path: Path, half: str = "all") -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            lang, src, text = line.split("\t", 2)
            if half == "all" or half_of(text) == half:
                rows.append((lang, src, text))
    return rows


def rates(items) -> dict:
    """items: (gold, pred) -> counts per gold."""
    n, wrong, other = Counter(), Counter(), Counter()
    for gold, pred in items:
        n[gold] += 1
        if pred in ("id", "ms") and pred != gold:
            wrong[gold] += 1
        elif pred != gold:
            other[gold] += 1
    return {g: (wrong[g], other[g], n[g]) for g in n}


def fmt(r, gold):
    w, o, n = r.get(gold, (0, 0, 0))
    return f"{100 * w / max(1, n):5.1f}% {w:>3}/{n:<3}" + (f" (+{o} other)" if o else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--tools", default="ours,fasttext-lite,lingua")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--errors", type=int, default=0)
    parser.add_argument("--half", choices=("all", "tune", "held-out"), default="all")
    args = parser.parse_args()
    print("$ " + " ".join([Path(sys.executable).name, *sys.argv]))
    rows = load(args.data, args.half)
    short = cut_short_rows(rows, args.seed)
    print(f"data: {args.data.name} ({args.half}): " + ", ".join(f"{l} {n}" for l, n in sorted(Counter(r[0] for r in rows).items()))
          + f" sentences; {len(short)} short strings (seed {args.seed})")
    tools = {}
    for name in [t.strip() for t in args.tools.split(",") if t.strip()]:
        try:
            tools[name] = TOOLS[name]()
        except ImportError as exc:  # reference tool not installed: say so, do not install it
            print(f"{name}: not available ({exc})")
    results = {}
    for name, tool in tools.items():
        sent = [(canon(lang), canon(tool.predict(text)[0])) for lang, _src, text in rows]
        words = [(canon(lang), canon(tool.predict(text)[0])) for _r, lang, kind, text in short if kind == "words"]
        title = [(canon(lang), canon(tool.predict(text)[0])) for _r, lang, kind, text in short if kind == "title"]
        per_src = defaultdict(list)
        for (lang, src, _t), pair in zip(rows, sent):
            per_src[src].append(pair)
        results[name] = dict(sent=rates(sent), words=rates(words), title=rates(title),
                             src={s: rates(p) for s, p in per_src.items()}, preds=sent)
        if hasattr(tool, "save"):
            tool.save()
    cols = list(results)
    print()
    print(f"{'rate (wrong / n)':<34}" + "".join(f"{c:>26}" for c in cols))
    print("-" * (34 + 26 * len(cols)))
    for key, label in (("sent", "sentences"), ("words", "short: 1-3 words"), ("title", "short: title-like")):
        for gold, tag in (("ms", "ms->id"), ("id", "id->ms")):
            print(f"{tag + ' ' + label:<34}" + "".join(f"{fmt(results[c][key], gold):>26}" for c in cols))
    print()
    print("sentences, per source:")
    for src in sorted({r[1] for r in rows}):
        gold = next(r[0] for r in rows if r[1] == src)
        tag = "ms->id" if gold == "ms" else "id->ms"
        print(f"  {tag + ' ' + src:<40}" + "".join(f"{fmt(results[c]['src'][src], gold):>26}" for c in cols))
    if args.errors and "ours" in results:
        from docingest.stages import langid_msid

        print(f"\nMalay sentences ours calls Indonesian (first {args.errors}; lexicon score):")
        shown = 0
        for (lang, src, text), (_g, pred) in zip(rows, results["ours"]["preds"]):
            if lang == "ms" and pred == "id" and shown < args.errors:
                print(f"  {langid_msid.malay_score(text):+5.1f}  [{src}] {text}")
                shown += 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
