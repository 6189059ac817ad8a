"""Train the HTML block classifier of docingest.stages.html_extract (pure Python, no numpy).

    .venv/bin/python bench/train_html_blocks.py [--folds 5] [--jobs 2] [--limit N] [--out PATH]
        [--dataset wcxb,extraction-dev2] [--set-weight extraction-dev2=W]
        [--drop reference,repeat]   (ablation: leave a feature group out; write to another --out/--folds-out)

Every page of the datasets (wcxb: ../shared/data/extraction-dev; extraction-dev2: bench/data/extraction-dev2,
see bench/quality_clean.py) is split into blocks (html_extract.segment); a block is
labelled main text when most of its word trigrams (short blocks: the whole token sequence) occur in the
page's gold main_content. Two logistic regressions (block features, then block + neighbour scores) are
fitted by AdaGrad SGD with L2, each example weighted by the square root of its token count (the score is
token-level F1; a set's pages can weigh more with --set-weight, so 48 pages are not drowned by 1,358).
Cross-validation is grouped by domain (crc32(domain) % K) over all sets together: each fold's model never
saw a page of the domains it is scored on; the threshold is chosen on the pooled held-out predictions
(the mean over sets of each set's mean page F1) and the held-out-fold F1 of each set is printed. The final model (all pages) goes to shared/docingest/data/html_block_model.json.
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

from docingest.stages import clean as clean_stage  # noqa: E402
from docingest.stages import html_extract as hx  # noqa: E402
from docingest.stages.html_metadata import extract_metadata as extract_page_metadata  # noqa: E402

CACHE = Path(os.environ.get("HTML_BLOCKS_CACHE", "/tmp/docingest_html_blocks.pkl"))


# page types that are one article: WCXB's "article"; the second set's groups are all articles
ARTICLE_TYPES = frozenset(("article", "mozilla", "newspaper4k", "news-nonspaced"))


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
    tree = hx.parse(html)
    metadata = extract_page_metadata(tree) if tree is not None else None
    blocks = hx.segment(html, tree=tree) if tree is not None else []
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
            "rows": rows, "ctx": ctx,
            # what clean() does after the classifier: html_extract.select's menu rule, then finish_paragraphs
            "menu": [bool(b.tags & 1 and b.link_chars > 0.5 * len(b.text)) for b in blocks],
            "page": hx.page_features(blocks, tree),
            "article": page["page_type"] in ARTICLE_TYPES,
            "title": clean_stage._clean_field(metadata.title) if metadata else None,
            "author": clean_stage._clean_field(metadata.author) if metadata else None}


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


def load_features(pages: list[dict], jobs: int, cache: Path = CACHE) -> list[dict]:
    key = (len(pages), pages[0]["id"], pages[-1]["id"], os.path.getmtime(hx.__file__),
           os.path.getmtime(clean_stage.__file__), 3)
    if cache.exists():
        with open(cache, "rb") as handle:
            cached = pickle.load(handle)
        if cached.get("key") == key:
            return cached["pages"]
    with Pool(jobs) as pool:
        out = pool.map(page_rows, pages, chunksize=8)
    with open(cache, "wb") as handle:
        pickle.dump({"key": key, "pages": out}, handle)
    return out


def load_datasets(names: list[str], jobs: int, limit: int | None) -> list[dict]:
    """Block rows of every page of the named sets; each page carries its set's name in "set"."""
    pages = []
    for name in names:
        folder = qc.DATASETS.get(name, Path(name))
        if not qc.available(folder):
            print(f"{name}: no data at {folder}: left out")
            continue
        cache = CACHE if name == "wcxb" else CACHE.with_name(f"{CACHE.stem}.{Path(name).name}{CACHE.suffix}")
        for page in load_features(qc.load_pages(folder, limit=limit), jobs, cache):
            page["set"] = name
            pages.append(page)
    return pages


SET_WEIGHT: dict[str, float] = {}  # page weight multiplier per set (--set-weight)
FLOOR_CACHE = CACHE.with_name("docingest_html_floor.json")


def _trafilatura_f1(page: dict) -> tuple[str, float]:
    return page["id"], qc.f1(qc._trafilatura(qc.read_html(page)), page["gold"].get("main_content"))[2]


def trafilatura_floors(names: list[str], jobs: int, limit: int | None) -> dict[str, float]:
    """trafilatura's mean page F1 on each set (the floor the issue holds ours to); {} without trafilatura."""
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        return {}
    cached = json.loads(FLOOR_CACHE.read_text()) if FLOOR_CACHE.exists() else {}
    floors = {}
    for name in names:
        folder = qc.DATASETS.get(name, Path(name))
        if not qc.available(folder):
            continue
        pages = qc.load_pages(folder, limit=limit)
        missing = [p for p in pages if p["id"] not in cached.get(name, {})]
        if missing:
            with Pool(jobs) as pool:
                cached.setdefault(name, {}).update(pool.map(_trafilatura_f1, missing, chunksize=8))
            FLOOR_CACHE.write_text(json.dumps(cached))
        floors[name] = sum(cached[name][p["id"]] for p in pages) / len(pages)
    return floors


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
    def weight(page, n):
        return (math.sqrt(n) + 0.5) * SET_WEIGHT.get(page.get("set"), 1.0)

    s1 = [(x, y, weight(p, n)) for p in pages for x, y, n, _ in p["rows"]]
    w1 = train_lr(s1, drop=DROP["stage1"])
    s2 = []
    for p in pages:
        probs = [sigmoid_dot(w1, x) for x, _, _, _ in p["rows"]]
        for row, (_, y, n, _) in zip(context_rows(p, probs), p["rows"]):
            s2.append((row, y, weight(p, n)))
    w2 = train_lr(s2, drop=DROP["stage2"])
    # one example per page: is it a single article (WCXB's "article" pages, every page of the article sets)
    s3 = [(p["page"], 1.0 if p["article"] else 0.0, SET_WEIGHT.get(p.get("set"), 1.0)) for p in pages]
    return {"w1": w1, "w2": w2, "page": train_lr(s3, epochs=40, lr=0.1)}


def predict(model: dict, page: dict) -> list[float]:
    probs = [sigmoid_dot(model["w1"], x) for x, _, _, _ in page["rows"]]
    return [sigmoid_dot(model["w2"], row) for row in context_rows(page, probs)]


def page_f1(page: dict, probs: list[float], threshold: float) -> float:
    """F1 of the page's text as clean() would give it with these block scores."""
    kept = [r[3] for r, p, menu in zip(page["rows"], probs, page["menu"]) if p >= threshold and not menu]
    if kept:
        kept = clean_stage.finish_paragraphs(kept, page["title"], page["author"])[0]
    return qc.f1("\n\n".join(kept), page["gold"])[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", default=str(hx.MODEL_PATH))
    parser.add_argument("--folds-out", default="/tmp/docingest_html_fold_models.json",
                        help="the K fold models, for bench/quality_clean.py --folds")
    parser.add_argument("--dataset", default="wcxb,extraction-dev2",
                        help="comma-separated sets to train on (bench/quality_clean.py's names, or folders)")
    parser.add_argument("--set-weight", default="extraction-dev2=8",
                        help="comma-separated SET=W: page weight multiplier of a set's blocks")
    parser.add_argument("--drop", default="", help="ablation: comma-separated feature groups to leave out "
                        f"({', '.join(ABLATIONS)})")
    args = parser.parse_args()
    for name in filter(None, args.drop.split(",")):
        (a1, b1), (a2, b2) = ABLATIONS[name]
        DROP["stage1"].update(range(a1, b1))
        DROP["stage2"].update(range(a2, b2))
    for item in filter(None, args.set_weight.split(",")):
        name, _, value = item.partition("=")
        SET_WEIGHT[name] = float(value)
    start = time.time()
    names = args.dataset.split(",")
    pages = load_datasets(names, args.jobs, args.limit)
    if not pages:
        print("no extraction data found: nothing to train on")
        return 0
    sets = sorted({p["set"] for p in pages}, key=names.index)
    counts = ", ".join(f"{n} {sum(p['set'] == n for p in pages)}" for n in sets)
    print(f"{len(pages)} pages ({counts}), "
          f"{sum(len(p['rows']) for p in pages)} blocks, features in {time.time() - start:.0f}s", flush=True)
    held_out: dict[str, list[float]] = {}
    held_out_article: dict[str, float] = {}
    fold_models = {}
    for k in range(args.folds):
        train = [p for p in pages if qc.fold_of(p["domain"], args.folds) != k]
        test = [p for p in pages if qc.fold_of(p["domain"], args.folds) == k]
        model = fit(train)
        fold_models[k] = model
        for p in test:
            held_out[p["id"]] = predict(model, p)
            held_out_article[p["id"]] = sigmoid_dot(model["page"], p["page"])
        print(f"fold {k}: trained on {len(train)} pages, {time.time() - start:.0f}s", flush=True)

    # each page's F1 at every grid threshold (clean()'s line rules make a page's F1 slow to compute)
    grid = [x / 100 for x in range(15, 75, 5)]
    page_grid = {p["id"]: [page_f1(p, held_out[p["id"]], t) for t in grid] for p in pages}
    floors = trafilatura_floors(sets, args.jobs, args.limit)
    if floors:
        print("trafilatura (the floor): " + ", ".join(f"{n} {v:.4f}" for n, v in floors.items()))

    def page_index(page: dict, low: float, high: float, cut: float) -> int:
        return grid.index(high if held_out_article[page["id"]] >= cut else low)

    def set_means(low: float, high: float, cut: float = 0.5) -> dict[str, float]:
        """Mean page F1 per set, a page's threshold being `high` when its held-out article probability
        is >= cut, else `low` (html_extract.page_threshold)."""
        scores: dict[str, list[float]] = {}
        for p in pages:
            scores.setdefault(p["set"], []).append(page_grid[p["id"]][page_index(p, low, high, cut)])
        return {n: sum(v) / len(v) for n, v in scores.items()}

    def objective(means: dict[str, float]) -> float:
        """The worst set's margin over trafilatura; without trafilatura, the mean over sets."""
        if floors:
            return min(means[n] - floors[n] for n in means)
        return sum(means.values()) / len(means)

    def show(label: str, means: dict[str, float]) -> str:
        return f"{label}: objective {objective(means):+.4f} (" + ", ".join(
            f"{n} {v:.4f}" + (f" {v - floors[n]:+.4f}" if n in floors else "") for n, v in means.items()) + ")"

    fixed = max(((objective(set_means(t, t)), t) for t in grid))[1]
    for t in grid:
        print("  " + show(f"threshold {t:.2f}", set_means(t, t)))
    cuts = [x / 10 for x in range(3, 9)]
    best = max((objective(set_means(lo, hi, c)), lo, hi, c) for lo in grid for hi in grid if hi >= lo for c in cuts)
    low, high, cut = best[1:]
    print("best fixed threshold   " + show(f"{fixed:.2f}", set_means(fixed, fixed)))
    print("by page type           " + show(f"{low:.2f}/{high:.2f} at article >= {cut}", set_means(low, high, cut)))
    means = set_means(low, high, cut)
    by_type: dict[tuple, list[float]] = {}
    for p in pages:
        by_type.setdefault((p["set"], p["page_type"]), []).append(page_grid[p["id"]][page_index(p, low, high, cut)])
    print(f"held-out ({args.folds} folds grouped by domain) mean page F1, thresholds {low:.2f} / {high:.2f} "
          f"(article probability >= {cut}):")
    for (n, t), v in sorted(by_type.items()):
        print(f"  {n:16s} {t:14s} {sum(v) / len(v):.4f} ({len(v)})")
    final = fit(pages)
    final["threshold"] = fixed  # for readers without the page model
    final["threshold_low"], final["threshold_high"], final["article_cut"] = low, high, cut
    final["features"] = {"stage1": len(final["w1"]), "stage2": len(final["w2"]), "page": len(final["page"])}
    final["trained_on"] = "; ".join(
        f"{n}: {sum(p['set'] == n for p in pages)} pages, held-out {args.folds}-fold F1 {means[n]:.4f}"
        + (f", page weight x{SET_WEIGHT[n]:g}" if SET_WEIGHT.get(n, 1.0) != 1.0 else "") for n in sets)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({k: ([round(x, 5) for x in v] if isinstance(v, list) else v) for k, v in final.items()}, handle)
    with open(args.folds_out, "w", encoding="utf-8") as handle:
        json.dump({"folds": args.folds, "threshold": fixed, "threshold_low": low, "threshold_high": high, "article_cut": cut,
                   "datasets": sets, "models": {str(k): v for k, v in fold_models.items()}}, handle)
    print(f"wrote {args.out} and {args.folds_out} in {time.time() - start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
