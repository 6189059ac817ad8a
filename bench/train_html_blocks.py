"""Train the HTML block classifier of docingest.stages.html_extract (pure Python, no numpy).

    .venv/bin/python bench/train_html_blocks.py [--folds 5] [--jobs 2] [--limit N] [--out PATH]
        [--drop reference,repeat]   (ablation: leave a feature group out; write to another --out/--folds-out)

Every page of /work/shared/data/extraction-dev is split into blocks (html_extract.segment); a block is
labelled main text when most of its word trigrams (short blocks: the whole token sequence) occur in the
page's gold main_content. Two logistic regressions (block features, then block + neighbour scores) are
fitted by AdaGrad SGD with L2, each example weighted by the square root of its token count (the score is
token-level F1). Cross-validation is grouped by domain (crc32(domain) % K): each fold's model never saw a
page of the domains it is scored on; the threshold is chosen on the pooled held-out predictions and the
held-out-fold F1 is printed. The final model (all pages) goes to shared/docingest/data/html_block_model.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import random
import sys
import time
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_clean as qc  # noqa: E402  (also puts shared/ on sys.path)

from docingest.stages import html_extract as hx  # noqa: E402

CACHE = Path(os.environ.get("HTML_BLOCKS_CACHE", "/tmp/docingest_html_blocks.pkl"))


def _label(block_tokens: list[str], gold_joined: str, gold_trigrams: set) -> float:
    if not block_tokens:
        return 0.0
    if len(block_tokens) < 4:
        return 1.0 if (" " + " ".join(block_tokens) + " ") in gold_joined else 0.0
    grams = [tuple(block_tokens[i:i + 3]) for i in range(len(block_tokens) - 2)]
    hit = sum(g in gold_trigrams for g in grams) / len(grams)
    return 1.0 if hit >= 0.5 else 0.0


def page_rows(page: dict) -> dict:
    html = qc.read_html(page)
    blocks = hx.segment(html)
    gold = page["gold"].get("main_content") or ""
    gold_tokens = qc.tokens(gold)
    gold_joined = " " + " ".join(gold_tokens) + " "
    trigrams = {tuple(gold_tokens[i:i + 3]) for i in range(len(gold_tokens) - 2)}
    rows = []
    for b in blocks:
        toks = qc.tokens(b.text)
        rows.append((b.features, _label(toks, gold_joined, trigrams), len(toks), b.text))
    # context features need block elements: keep what context_features reads
    parents: dict = {}
    groups: dict = {}
    ctx = [(b.tag, b.text, b.features,
            parents.setdefault(b.element.getparent() if b.element is not None else None, len(parents)),
            None if b.group is None else groups.setdefault(b.group, len(groups)))
           for b in blocks]
    return {"id": page["id"], "domain": page["domain"], "page_type": page["page_type"], "gold": gold,
            "rows": rows, "ctx": ctx}


class _Lite:
    """What context_features reads of a Block, without the lxml element."""

    __slots__ = ("tag", "text", "features", "element", "group", "parent")

    class _El:
        __slots__ = ("parent",)

        def __init__(self, parent):
            self.parent = parent

        def getparent(self):
            return self.parent

    def __init__(self, tag, text, features, parent, group):
        self.tag, self.text, self.features, self.group = tag, text, features, group
        self.element = _Lite._El(parent)
        self.parent = None  # html_extract._parent caches a Block's parent here; None: look it up from the element


def context_rows(page: dict, probs: list[float]) -> list[list[float]]:
    lites = [_Lite(*c) for c in page["ctx"]]
    return hx.context_features(lites, probs)


def load_features(pages: list[dict], jobs: int) -> list[dict]:
    key = (len(pages), pages[0]["id"], pages[-1]["id"], hx.__file__ and os.path.getmtime(hx.__file__))
    if CACHE.exists():
        with open(CACHE, "rb") as handle:
            cached = pickle.load(handle)
        if cached.get("key") == key:
            return cached["pages"]
    with Pool(jobs) as pool:
        out = pool.map(page_rows, pages, chunksize=8)
    with open(CACHE, "wb") as handle:
        pickle.dump({"key": key, "pages": out}, handle)
    return out


DROP: dict[str, set[int]] = {"stage1": set(), "stage2": set()}  # ablation: columns kept at weight 0
ABLATIONS = {"reference": (hx.REFERENCE_FEATURES, hx.STAGE2_REFERENCE),
             "repeat": (hx.REPEAT_FEATURES, hx.STAGE2_REPEAT)}


def train_lr(samples: list[tuple[list[float], float, float]], epochs: int = 6, lr: float = 0.2,
             l2: float = 1e-5, seed: int = 1, drop: set[int] = frozenset()) -> list[float]:
    """Logistic regression by AdaGrad SGD over sparse rows; samples are (x, y, weight).

    Columns in `drop` are ignored (their weight stays 0), for ablations."""
    dim = len(samples[0][0])
    w = [0.0] * dim
    g2 = [1e-8] * dim
    sparse = [([(j, v) for j, v in enumerate(x) if v and j not in drop], y, wt) for x, y, wt in samples]
    order = list(range(len(sparse)))
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(order)
        for k in order:
            xs, y, wt = sparse[k]
            z = 0.0
            for j, v in xs:
                z += w[j] * v
            p = 1 / (1 + math.exp(-z)) if z > -30 else 0.0
            g = (p - y) * wt
            for j, v in xs:
                gj = g * v + l2 * w[j]
                g2[j] += gj * gj
                w[j] -= lr * gj / math.sqrt(g2[j])
    return w


def sigmoid_dot(w, x):
    return hx._sigmoid(hx._dot(w, x))


def fit(pages: list[dict]) -> dict:
    weight = lambda n: math.sqrt(n) + 0.5  # noqa: E731
    s1 = [(x, y, weight(n)) for p in pages for x, y, n, _ in p["rows"]]
    w1 = train_lr(s1, drop=DROP["stage1"])
    s2 = []
    for p in pages:
        probs = [sigmoid_dot(w1, x) for x, _, _, _ in p["rows"]]
        for row, (_, y, n, _) in zip(context_rows(p, probs), p["rows"]):
            s2.append((row, y, weight(n)))
    w2 = train_lr(s2, drop=DROP["stage2"])
    return {"w1": w1, "w2": w2}


def predict(model: dict, page: dict) -> list[float]:
    probs = [sigmoid_dot(model["w1"], x) for x, _, _, _ in page["rows"]]
    return [sigmoid_dot(model["w2"], row) for row in context_rows(page, probs)]


def page_f1(page: dict, probs: list[float], threshold: float) -> float:
    text = "\n\n".join(r[3] for r, p in zip(page["rows"], probs) if p >= threshold)
    return qc.f1(text, page["gold"])[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", default=str(hx.MODEL_PATH))
    parser.add_argument("--folds-out", default="/tmp/docingest_html_fold_models.json",
                        help="the K fold models, for bench/quality_clean.py --folds")
    parser.add_argument("--drop", default="", help="ablation: comma-separated feature groups to leave out "
                        f"({', '.join(ABLATIONS)})")
    args = parser.parse_args()
    for name in filter(None, args.drop.split(",")):
        (a1, b1), (a2, b2) = ABLATIONS[name]
        DROP["stage1"].update(range(a1, b1))
        DROP["stage2"].update(range(a2, b2))
    if not qc.available():
        print(f"no extraction-dev data at {qc.DATA}: nothing to train on")
        return 0
    start = time.time()
    pages = load_features(qc.load_pages(limit=args.limit), args.jobs)
    print(f"{len(pages)} pages, {sum(len(p['rows']) for p in pages)} blocks, "
          f"features in {time.time() - start:.0f}s", flush=True)
    held_out: dict[str, list[float]] = {}
    fold_models = {}
    for k in range(args.folds):
        train = [p for p in pages if qc.fold_of(p["domain"], args.folds) != k]
        test = [p for p in pages if qc.fold_of(p["domain"], args.folds) == k]
        model = fit(train)
        fold_models[k] = model
        for p in test:
            held_out[p["id"]] = predict(model, p)
        print(f"fold {k}: trained on {len(train)} pages, {time.time() - start:.0f}s", flush=True)
    best = (0.0, 0.5)
    for t in [x / 100 for x in range(20, 75, 5)]:
        mean = sum(page_f1(p, held_out[p["id"]], t) for p in pages) / len(pages)
        print(f"  threshold {t:.2f}: held-out mean F1 {mean:.4f}")
        best = max(best, (mean, t))
    threshold = best[1]
    by_type: dict[str, list[float]] = {}
    for p in pages:
        by_type.setdefault(p["page_type"], []).append(page_f1(p, held_out[p["id"]], threshold))
    print(f"held-out ({args.folds} folds grouped by domain) block-level mean F1 {best[0]:.4f} at threshold {threshold}")
    for t, v in sorted(by_type.items()):
        print(f"  {t:14s} {sum(v) / len(v):.4f} ({len(v)})")
    final = fit(pages)
    final["threshold"] = threshold
    final["features"] = {"stage1": len(final["w1"]), "stage2": len(final["w2"])}
    final["trained_on"] = f"extraction-dev, {len(pages)} pages; held-out {args.folds}-fold F1 {best[0]:.4f}"
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({k: ([round(x, 5) for x in v] if isinstance(v, list) else v) for k, v in final.items()}, handle)
    with open(args.folds_out, "w", encoding="utf-8") as handle:
        json.dump({"folds": args.folds, "threshold": threshold,
                   "models": {str(k): v for k, v in fold_models.items()}}, handle)
    print(f"wrote {args.out} and {args.folds_out} in {time.time() - start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
