"""Quality of plain-text boilerplate removal on WCXB dev pages rendered as text dumps.

    .venv/bin/python bench/quality_boilerplate.py [--data DIR] [--limit N] [--no-trafilatura]
                                                   [--cache FILE] [--cv 5] [--dump-errors N]

Each WCXB dev page (../shared/data/extraction-dev, see its README) is decoded as the fetch stage
would and rendered to plain text with ALL visible text: navigation, headers, footers, sidebars
included, one block element per line, script/style/noscript/template/svg and hidden elements
removed (`render_text`, lxml, deterministic; a noscript or hidden element is kept only when it
holds more than half of the page's text, which scripts then reveal). That looks like the page dumps users paste. The
reference is the gold `main_content`.

Systems: (a) keep everything; (b) `remove_boilerplate`; (c) (b) plus the cross-document
repeated-line filter simulated per domain, in manifest order (counts from the domain's earlier
pages only, as the pipeline would see them) and held out (counts from all the domain's other
pages); (d) trafilatura on the same plain text, one <p> per line (it has no DOM to work with,
so this shows what its text heuristics alone do).

Scores: word F1 as upstream WCXB (tokens = re.findall(r"\\w+", text.lower()), multiset overlap,
mean over pages, overall and per page type), the share of "with" snippets found and of
"without" snippets leaked, and line P/R/F1 (definition printed). A per-family count of removed
lines (and how many of them were gold) shows which rule removed what.

Needs the data folder only here: the project never reads it at run time or in `make test`.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import pickle
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from lxml import etree  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from docingest.errors import BadInput  # noqa: E402
from docingest.stages.boilerplate import explain, remove_boilerplate  # noqa: E402
from docingest.stages.fetch import declared_charset, decode_bytes  # noqa: E402
from docingest.stages.repeated_lines import RepeatedLines  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "extraction-dev"
TOKEN = re.compile(r"\w+")

# --------------------------------------------------------------------------
# Renderer: all visible text, one block per line
# --------------------------------------------------------------------------

INVISIBLE_TAGS = frozenset((
    "script", "style", "template", "svg", "math", "head", "title", "meta", "link",
    "iframe", "object", "embed", "canvas", "audio", "video", "map", "datalist", "input",
))
BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "legend", "li", "main", "menu", "nav", "ol", "option", "p", "pre",
    "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "br", "select", "textarea",
))
CELL_TAGS = frozenset(("td", "th"))
HIDDEN_CLASSES = frozenset((
    "sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text", "screen-reader-only",
    "hidden", "d-none", "hide", "is-hidden", "u-hidden",
))
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.I)
WS = re.compile(r"\s+")
HSPACE = re.compile(r"[^\S\n]+")


def _hidden(element: etree._Element) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden") == "true" and not len(element):
        return True
    style = element.get("style")
    if style and HIDDEN_STYLE.search(style):
        return True
    classes = element.get("class")
    return bool(classes) and not HIDDEN_CLASSES.isdisjoint(classes.lower().split())


def render_text(markup: str) -> str:
    """Visible text of the page body: one line per block element, table cells separated by spaces."""
    try:
        tree = lxml_html.document_fromstring(XML_DECLARATION.sub("", markup))
    except (ValueError, etree.ParserError):
        return ""
    body = tree.find("body")
    if body is None:
        body = tree
    drop = [el for el in body.iter() if not isinstance(el.tag, str) or el.tag.lower() in INVISIBLE_TAGS]
    for el in drop:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the tail text
    # noscript and hidden elements go, unless one holds most of the page's text: then scripts
    # reveal it (server-rendered apps, Discourse's <noscript> posts, "hidden" React stream chunks)
    total = len(WS.sub("", body.text_content()))
    soft = [el for el in body.iter() if isinstance(el.tag, str) and (el.tag.lower() == "noscript" or _hidden(el))]
    for el in soft:
        if el.getparent() is not None and len(WS.sub("", el.text_content())) * 2 < total:
            el.drop_tree()
    out: list[str] = []
    pre_depth = 0
    for event, el in etree.iterwalk(body, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in BLOCK_TAGS:
                out.append("\n")
            elif tag in CELL_TAGS:
                out.append(" ")
            if tag == "pre":
                pre_depth += 1
            if el.text:
                out.append(el.text if pre_depth else WS.sub(" ", el.text))
        else:
            if tag == "pre":
                pre_depth -= 1
            if tag in BLOCK_TAGS:
                out.append("\n")
            elif tag in CELL_TAGS:
                out.append(" ")
            if el.tail:
                out.append(el.tail if pre_depth else WS.sub(" ", el.tail))
    lines = (HSPACE.sub(" ", line).strip() for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def load_pages(data: Path, limit: int | None, cache: Path | None) -> list[dict]:
    if cache and cache.exists():
        pages = pickle.loads(cache.read_bytes())
        return pages[:limit] if limit else pages
    manifest = [json.loads(line) for line in (data / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if line]
    with gzip.open(data / "ground-truth.jsonl.gz", "rt", encoding="utf-8") as f:
        gold = {rec["id"] if "id" in rec else rec["file_id"]: rec["ground_truth"] for rec in map(json.loads, f)}
    pages = []
    for rec in manifest[:limit] if limit else manifest:
        raw = gzip.decompress((data / rec["html"]).read_bytes())
        try:
            markup = decode_bytes(raw, declared_charset(raw)).text
        except BadInput:
            markup = ""
        truth = gold[rec["id"]]
        domain = rec.get("domain") or urlparse(rec.get("url") or "").hostname or f"?{rec['id']}"
        pages.append({
            "id": rec["id"], "page_type": rec["page_type"], "domain": domain.removeprefix("www."),
            "text": render_text(markup), "gold": truth.get("main_content") or "",
            "with": truth.get("with") or [], "without": truth.get("without") or [],
        })
    if cache:
        cache.write_bytes(pickle.dumps(pages))
    return pages


# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def word_f1(prediction: str, reference: str) -> float:
    pred, ref = Counter(tokens(prediction)), Counter(tokens(reference))
    if not ref:
        return 1.0 if not pred else 0.0
    overlap = sum((pred & ref).values())
    if not overlap:
        return 0.0
    p, r = overlap / sum(pred.values()), overlap / sum(ref.values())
    return 2 * p * r / (p + r)


def _snippet_key(text: str) -> str:
    return " ".join(tokens(text))


def snippet_shares(prediction: str, page: dict) -> tuple[int, int, int, int]:
    """(with found, with total, without leaked, without total), compared on token sequences."""
    pred = f" {_snippet_key(prediction)} "
    found = sum(1 for s in page["with"] if _snippet_key(s) and f" {_snippet_key(s)} " in pred)
    leaked = sum(1 for s in page["without"] if _snippet_key(s) and f" {_snippet_key(s)} " in pred)
    return found, len([s for s in page["with"] if _snippet_key(s)]), leaked, len(
        [s for s in page["without"] if _snippet_key(s)]
    )


LINE_GOLD_DEFINITION = (
    "a rendered line (with >= 1 token) is gold when more than half of its token positions are covered "
    "by a word trigram that also occurs in the gold main_content; a line of 1-2 tokens is gold when its "
    "token sequence equals that of a whole gold line. Line P/R/F1 are micro-averaged over all lines."
)


class GoldLines:
    """Labels rendered lines as gold / not gold for one page (definition above)."""

    def __init__(self, gold: str) -> None:
        toks = tokens(gold)
        self.trigrams = {tuple(toks[i : i + 3]) for i in range(len(toks) - 2)}
        self.short_lines = {tuple(t) for line in gold.split("\n") if 0 < len(t := tokens(line)) <= 2}

    def is_gold(self, line: str) -> bool | None:
        toks = tokens(line)
        if not toks:
            return None
        if len(toks) <= 2:
            return tuple(toks) in self.short_lines
        covered = [False] * len(toks)
        for i in range(len(toks) - 2):
            if tuple(toks[i : i + 3]) in self.trigrams:
                covered[i] = covered[i + 1] = covered[i + 2] = True
        return sum(covered) * 2 > len(toks)


class Scores:
    def __init__(self) -> None:
        self.f1: list[tuple[str, float]] = []
        self.snip = [0, 0, 0, 0]
        self.line = [0, 0, 0]  # tp, fp, fn

    def add(self, page: dict, prediction: str, kept_lines: list[bool], labels: list[bool | None]) -> None:
        self.f1.append((page["page_type"], word_f1(prediction, page["gold"])))
        for i, v in enumerate(snippet_shares(prediction, page)):
            self.snip[i] += v
        for kept, gold in zip(kept_lines, labels):
            if gold is None:
                continue
            if kept and gold:
                self.line[0] += 1
            elif kept:
                self.line[1] += 1
            elif gold:
                self.line[2] += 1

    def mean(self, page_type: str | None = None) -> float:
        values = [f for t, f in self.f1 if page_type is None or t == page_type]
        return sum(values) / len(values) if values else float("nan")

    def line_prf(self) -> tuple[float, float, float]:
        tp, fp, fn = self.line
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return p, r, 2 * p * r / (p + r) if p + r else 0.0


def kept_mask(lines: list[str], kept_text: str) -> list[bool]:
    """Which rendered lines survive in the output (by normalised content, in order)."""
    remaining = Counter(" ".join(line.split()) for line in kept_text.split("\n") if line.strip())
    mask = []
    for line in lines:
        key = " ".join(line.split())
        if remaining[key] > 0:
            remaining[key] -= 1
            mask.append(True)
        else:
            mask.append(False)
    return mask


# --------------------------------------------------------------------------
# Systems
# --------------------------------------------------------------------------


def run_remover(text: str) -> str:
    return remove_boilerplate(text).text


def trafilatura_on_text(text: str) -> str:
    import trafilatura
    from html import escape

    body = "".join(f"<p>{escape(line)}</p>" for line in text.split("\n"))
    return trafilatura.extract(f"<html><body>{body}</body></html>", include_comments=False) or ""


def repeated_outputs(pages: list[dict], cleaned: list[str], rl: RepeatedLines, held_out: bool,
                     count_source: str) -> list[str]:
    """Apply the repeated-line filter per domain. count_source: 'raw' or 'clean' text is counted."""
    by_domain: dict[str, list[int]] = defaultdict(list)
    for i, page in enumerate(pages):
        by_domain[page["domain"]].append(i)
    fps = [rl.lines_to_count(page["text"] if count_source == "raw" else cleaned[i]) for i, page in enumerate(pages)]
    out = list(cleaned)
    for members in by_domain.values():
        if len(members) < 2:
            continue
        for position, i in enumerate(members):
            others = [j for j in members if j != i] if held_out else members[:position]
            counts: Counter[str] = Counter()
            for j in others:
                counts.update(fps[j])
            out[i], _ = rl.filter(cleaned[i], counts, len(others))
    return out


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def report(name: str, scores: Scores, types: list[str], seconds: float | None, pages: int) -> None:
    p, r, f = scores.line_prf()
    wf, wt, lk, lt = scores.snip
    speed = f"{pages / seconds:8.1f}" if seconds else "       -"
    per_type = " ".join(f"{scores.mean(t):.3f}" for t in types)
    print(f"{name:<34} {scores.mean():.3f}  {per_type}  {p:.3f} {r:.3f} {f:.3f}  "
          f"{wf / max(wt, 1):.3f} {lk / max(lt, 1):.3f} {speed}")


CV_GRID = {"OFF_MAIN_WEIGHT": (0.5, 1.0, 2.0), "OFF_MAIN_LINE_WORDS": (1, 3), "RULE_LINE_WEIGHT": (0.1,)}


def cross_validate(pages: list[dict], folds: int) -> None:
    """Grouped k-fold (by domain) over the main-span weights of boilerplate.py: held-out word F1."""
    import hashlib
    import itertools

    from docingest.stages import boilerplate

    names = list(CV_GRID)
    saved = {name: getattr(boilerplate, name) for name in names}
    fold_of = [int(hashlib.sha1(p["domain"].encode()).hexdigest(), 16) % folds for p in pages]
    per_combo: dict[tuple, list[float]] = {}
    try:
        for combo in itertools.product(*(CV_GRID[n] for n in names)):
            for name, value in zip(names, combo):
                setattr(boilerplate, name, value)
            per_combo[combo] = [word_f1(remove_boilerplate(p["text"]).text, p["gold"]) for p in pages]
    finally:
        for name, value in saved.items():
            setattr(boilerplate, name, value)
    held_out: list[float] = [0.0] * len(pages)
    print()
    print(f"grouped {folds}-fold cross-validation by domain over {names} in {CV_GRID}:")
    for k in range(folds):
        train = [i for i in range(len(pages)) if fold_of[i] != k]
        test = [i for i in range(len(pages)) if fold_of[i] == k]
        best = max(per_combo, key=lambda c: sum(per_combo[c][i] for i in train))
        for i in test:
            held_out[i] = per_combo[best][i]
        print(f"  fold {k}: {len(test)} pages, chosen {dict(zip(names, best))}, held-out word F1 "
              f"{sum(per_combo[best][i] for i in test) / max(len(test), 1):.3f}")
    print(f"  held-out word F1 (all pages): {sum(held_out) / len(pages):.3f}; in-sample by setting: "
          + ", ".join(f"{c}: {sum(v) / len(v):.3f}" for c, v in per_combo.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--cache", type=Path, default=None, help="pickle of rendered pages (outside the repo)")
    parser.add_argument("--no-trafilatura", action="store_true")
    parser.add_argument("--cv", type=int, default=0, metavar="K",
                        help="grouped K-fold cross-validation of the main-span weights (slow)")
    parser.add_argument("--dump-errors", type=int, default=0, help="print N gold lines removed, per family")
    args = parser.parse_args(argv)

    print("$ " + " ".join([Path(sys.executable).name, "bench/quality_boilerplate.py", *(argv or sys.argv[1:])]))
    if not (args.data / "manifest.jsonl").exists():
        print(f"WCXB dev data not found in {args.data}: nothing to measure (see ../shared/data/README.md).")
        return 0

    t0 = time.perf_counter()
    pages = load_pages(args.data, args.limit, args.cache)
    print(f"{len(pages)} pages loaded and rendered in {time.perf_counter() - t0:.1f}s; "
          f"mean rendered size {sum(len(p['text']) for p in pages) / max(len(pages), 1) / 1024:.1f} KB")
    print(f"line gold: {LINE_GOLD_DEFINITION}")
    types = sorted({p["page_type"] for p in pages}, key=lambda t: (-sum(p["page_type"] == t for p in pages), t))
    type_counts = Counter(p["page_type"] for p in pages)

    lines_per_page = [[line for line in p["text"].split("\n")] for p in pages]
    labels = []
    for page, lines in zip(pages, lines_per_page):
        gold = GoldLines(page["gold"])
        labels.append([gold.is_gold(line) for line in lines])

    # (b) the remover, timed
    t0 = time.perf_counter()
    cleaned = [run_remover(p["text"]) for p in pages]
    remover_seconds = time.perf_counter() - t0

    systems: list[tuple[str, list[str], float | None]] = [
        ("(a) keep everything", [p["text"] for p in pages], None),
        ("(b) remove_boilerplate", cleaned, remover_seconds),
    ]
    rl = RepeatedLines()
    for held_out in (False, True):
        t0 = time.perf_counter()
        out = repeated_outputs(pages, cleaned, rl, held_out=held_out, count_source="raw")
        name = "(c) (b) + repeated, " + ("held out" if held_out else "in order")
        systems.append((name, out, remover_seconds + time.perf_counter() - t0))
    if not args.no_trafilatura:
        t0 = time.perf_counter()
        out = [trafilatura_on_text(p["text"]) for p in pages]
        systems.append(("(d) trafilatura on the text", out, time.perf_counter() - t0))

    header = " ".join(f"{t[:5]:>5}" for t in types)
    print()
    print(f"{'system':<34} wordF1 {header}  lineP lineR lineF  with  w/o   pages/s")
    print(f"{'':<34} {'(all)':>6} " + " ".join(f"{type_counts[t]:>5}" for t in types))
    results = {}
    for name, outputs, seconds in systems:
        scores = Scores()
        for page, lines, lab, prediction in zip(pages, lines_per_page, labels, outputs):
            scores.add(page, prediction, kept_mask(lines, prediction), lab)
        results[name] = scores
        report(name, scores, types, seconds, len(pages))
    print("  with = share of gold 'with' snippets found; w/o = share of 'without' snippets leaked; "
          "pages/s = the system alone, rendering excluded")

    # repeated-line filter: where could it act?
    by_domain = Counter(p["domain"] for p in pages)
    multi = [i for i, p in enumerate(pages) if by_domain[p["domain"]] > 1]
    actable = [i for i, p in enumerate(pages) if by_domain[p["domain"]] > rl.min_documents]
    print()
    print(f"repeated-line filter {rl}: {len(by_domain)} domains, {len(multi)} pages share a domain with "
          f"another page, {len(actable)} pages have >= {rl.min_documents} other pages of their domain "
          f"(the filter can act only there)")
    for name in [n for n in results if n.startswith("(c)")]:
        for subset_name, subset in (("pages with >= 3 other domain pages", actable),):
            b = [results["(b) remove_boilerplate"].f1[i][1] for i in subset]
            c = [results[name].f1[i][1] for i in subset]
            if subset:
                print(f"  {name}: on {len(subset)} {subset_name}: word F1 {sum(b) / len(b):.3f} -> {sum(c) / len(c):.3f}")
    for min_documents in (1, 2):
        variant = RepeatedLines(min_documents=min_documents)
        out = repeated_outputs(pages, cleaned, variant, held_out=True, count_source="raw")
        subset = [i for i, p in enumerate(pages) if by_domain[p["domain"]] > min_documents]
        b = [results["(b) remove_boilerplate"].f1[i][1] for i in subset]
        c = [word_f1(out[i], pages[i]["gold"]) for i in subset]
        print(f"  variant min_documents={min_documents}, held out: {len(subset)} pages can be acted on: "
              f"word F1 {sum(b) / len(b):.3f} -> {sum(c) / len(c):.3f}; overall "
              f"{sum(word_f1(o, p['gold']) for o, p in zip(out, pages)) / len(pages):.3f}")

    if args.cv:
        cross_validate(pages, args.cv)

    # which rule removed what
    removed: Counter[str] = Counter()
    removed_gold: Counter[str] = Counter()
    removed_tokens: Counter[str] = Counter()
    samples: dict[str, list[str]] = defaultdict(list)
    for page in pages:
        gold = GoldLines(page["gold"])
        for line, reason in explain(page["text"]):
            if reason is None:
                continue
            removed[reason] += 1
            if gold.is_gold(line):
                removed_gold[reason] += 1
                removed_tokens[reason] += len(tokens(line))
                if len(samples[reason]) < args.dump_errors:
                    samples[reason].append(f"[{page['id']}] {line[:160]}")
    print()
    print(f"{'family':<16} {'removed':>8} {'of which gold':>14} {'gold tokens lost':>17}")
    for family, n in removed.most_common():
        print(f"{family:<16} {n:>8} {removed_gold[family]:>14} {removed_tokens[family]:>17}")
    if args.dump_errors:
        for family, lines in samples.items():
            print(f"\n-- gold lines removed by {family}:")
            for line in lines:
                print("   " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
