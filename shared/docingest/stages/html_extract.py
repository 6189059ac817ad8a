"""HTML main-text extraction: DOM blocks scored by a small two-stage logistic model.

Pure Python on top of lxml (no numpy): the page is parsed once, split into text
blocks (a paragraph, a heading, a list item, a table cell...), each block gets
language-independent features (length, link density, punctuation density, tag,
class/id/role cues of the block and of its ancestors, position, whether it sits
in the densest prose subtree of the page; how much of it resiliparse's main-content
extraction keeps; whether it sits in a repeated sibling structure such as forum posts
or listing items, and how much of the page that structure holds) and a first logistic model scores it;
a second logistic model rescores every block with its neighbours' scores, so a
short line between two kept paragraphs stays and an isolated long line in the
footer goes. A page model (`page_features`) then says whether the page is one article or a page of
many items (forum, listing, product), and the keep threshold follows it (`page_threshold`). The weights
live in `docingest/data/html_block_model.json` (trained by `bench/train_html_blocks.py` on two extraction
sets, cross-validated grouped by domain).

`segment(html)` gives the blocks and their features (used by training too),
`extract(html)` the main text as paragraphs. Run-time requirements: lxml and resiliparse (without
resiliparse its features take neutral values and the scores get worse, not broken).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from operator import mul
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "html_block_model.json"

# Never rendered.
SKIP_TAGS = frozenset((
    "script", "style", "noscript", "template", "svg", "iframe", "select", "option", "textarea",
    "input", "button", "head", "canvas", "object", "embed", "map", "audio", "video", "picture",
    "img", "link", "meta", "math", "dialog",
))
# Start and end a text block.
BLOCK_TAGS = frozenset((
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2",
    "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tbody", "thead", "tfoot", "tr", "td",
    "th", "caption", "figure", "figcaption", "header", "footer", "nav", "aside", "form",
    "address", "details", "summary", "body", "center", "fieldset", "legend", "hr", "br_block",
    "menu", "hgroup", "search", "html",
))
HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))

# Class/id/role cue groups (matched as substrings of the lower-cased class + id + role).
NEG_GROUPS = (
    ("nav", ("nav", "menu", "breadcrumb", "pagination", "pager", "toc", "skip", "dropdown", "mega")),
    ("header", ("header", "masthead", "topbar", "top-bar", "navbar", "banner", "logo", "brand")),
    ("footer", ("footer", "copyright", "colophon", "bottom", "legal")),
    ("side", ("sidebar", "side-bar", "aside", "widget", "rail", "secondary", "sidenav")),
    ("comment", ("comment", "disqus", "respond", "reply", "discussion")),
    ("share", ("share", "social", "sharing", "follow", "facebook", "twitter", "whatsapp", "print")),
    ("related", ("related", "recommend", "more-", "trending", "popular", "also", "readnext",
                 "read-next", "upnext", "teaser", "promo", "carousel", "slider", "outbrain", "taboola")),
    ("cookie", ("cookie", "consent", "gdpr", "privacy", "onetrust", "cmp")),
    ("ad", ("advert", "ads-", "-ads", "ad-", "-ad", "sponsor", "dfp", "banner-ad", "adslot", "ad_")),
    ("subscribe", ("subscribe", "newsletter", "signup", "sign-up", "login", "register", "paywall",
                   "modal", "popup", "overlay", "cta")),
    ("meta", ("byline", "author", "date", "time", "meta", "tag", "categor", "label", "badge", "info")),
    ("hidden", ("hidden", "visually-hidden", "sr-only", "screen-reader", "offscreen", "d-none")),
    ("media", ("gallery", "gal-", "slideshow", "caption", "photo", "video", "player", "media", "credit",
               "lightbox", "image", "thumb")),
    ("bio", ("bio", "about-author", "author-info", "contributor", "profile")),
)
POS_GROUPS = (
    ("article", ("article", "post", "entry", "story", "blog")),
    ("content", ("content", "main", "body", "text", "prose", "markdown", "rich", "copy")),
    ("product", ("product", "description", "detail", "spec", "feature")),
    ("forum", ("thread", "message", "question", "answer", "topic", "forum", "discussion")),
    ("doc", ("doc", "documentation", "manual", "reference", "wiki", "mw-parser")),
)
N_NEG = len(NEG_GROUPS)
N_POS = len(POS_GROUPS)
TAG_BITS = {"nav": 0, "header": 1, "footer": 2, "aside": 3, "form": 4, "article": 5, "main": 6,
            "a": 7, "li": 8, "table": 9, "blockquote": 10, "figure": 11}
ROLE_BITS = {"navigation": 0, "banner": 1, "contentinfo": 2, "complementary": 3, "search": 4,
             "main": 6, "article": 5}
BLOCK_KINDS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "dt", "dd", "pre",
               "blockquote", "figcaption", "div", "span", "other")

SENT_END = re.compile(r"[.!?。！？;؟।…]")
COMMA = re.compile(r"[,，、;；:：]")
WORDS = re.compile(r"\w+")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
SPACES = re.compile(r"\s+")
DIGITS = re.compile(r"\d")
COPYRIGHT = re.compile(r"©|\(c\)|&copy;|copyright", re.IGNORECASE)


@dataclass(slots=True)
class Block:
    text: str
    tag: str
    link_chars: int
    neg: int  # cue groups of the ancestors (bit per NEG_GROUPS)
    pos: int
    own_neg: int  # cue groups of the nearest block element itself
    own_pos: int
    tags: int  # enclosing structural tags (TAG_BITS)
    depth: int
    element: object = None
    features: list = field(default_factory=list)
    group: object = None  # the repeated sibling structure (parent, signature) the block sits in
    parent: object = None  # element.getparent(), looked up once


def _parent(b: Block):
    """The parent of the block's element (cached on the block)."""
    parent = b.parent
    if parent is None and b.element is not None:
        parent = b.parent = b.element.getparent()
    return parent


def _group_patterns(groups) -> tuple:
    """(bit, compiled alternation of the group's words): a substring search per group."""
    return tuple((1 << i, re.compile("|".join(map(re.escape, words)))) for i, (_, words) in enumerate(groups))


_NEG_PATTERNS = _group_patterns(NEG_GROUPS)
_POS_PATTERNS = _group_patterns(POS_GROUPS)


@lru_cache(maxsize=8192)
def _cues(attrs: str) -> tuple[int, int]:
    neg = 0
    for bit, pattern in _NEG_PATTERNS:
        if pattern.search(attrs):
            neg |= bit
    pos = 0
    for bit, pattern in _POS_PATTERNS:
        if pattern.search(attrs):
            pos |= bit
    return neg, pos


def _is_hidden(attrib) -> bool:
    """`attrib`: the element's attributes (a dict, or the element itself)."""
    if attrib.get("hidden") is not None or attrib.get("aria-hidden") == "true":
        return True
    style = attrib.get("style")
    if style:
        style = style.replace(" ", "").lower()
        return "display:none" in style or "visibility:hidden" in style
    return False


# lxml.html's parser looks the element class up in Python for every element proxy (FormElement,
# InputElement...); nothing here uses those classes, so every element is a plain HtmlElement, looked
# up in C. Same libxml2 parser settings, same tree.
_PARSER = etree.HTMLParser()
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
    pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity))
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


MAX_DEPTH = 255  # libxml2 stops reading a page nested deeper than this
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^>]*?(/?)>")
_VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def count_elements(content: str) -> int:
    """How many start tags the page has (cheap: no parsing)."""
    return sum(1 for _ in _START_TAG.finditer(content))


_START_TAG = re.compile(r"<[a-zA-Z]")


def nesting_depth(content: str) -> int:
    """The deepest nesting of elements, counted on the tags as written (void and self-closed tags do not nest)."""
    depth = deepest = 0
    for match in _TAG.finditer(content):
        closing, name, self_closed = match.groups()
        if closing:
            depth = max(0, depth - 1)
        elif not self_closed and name.lower() not in _VOID_TAGS:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def parse_was_cut() -> bool:
    """True when the last ``parse`` stopped early because the page is nested too deep."""
    return any("Excessive depth" in error.message for error in _PARSER.error_log)


def parse(content: str):
    """lxml tree of an HTML string (None if it cannot be parsed)."""
    try:
        if content.lstrip().startswith("<?xml"):
            content = XML_DECLARATION.sub("", content)
        return lxml_html.document_fromstring(content, parser=_PARSER)
    except (ValueError, etree.ParserError):
        return None


class _Walker:
    def __init__(self):
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.owner = None  # (element, tag, neg, pos, own_neg, own_pos, tags, depth)

    def flush(self):
        if self.parts:
            text = SPACES.sub(" ", "".join(self.parts)).strip()
            if text and self.owner is not None:
                el, tag, neg, pos, own_neg, own_pos, tags, depth = self.owner
                self.blocks.append(Block(text, tag, min(self.link_chars, len(text)), neg, pos,
                                         own_neg, own_pos, tags, depth, el))
            self.parts = []
        self.link_chars = 0

    def walk(self, el, neg, pos, tags, depth, in_link):
        tag = el.tag
        if not isinstance(tag, str):  # comment, processing instruction
            return
        tag = tag.lower() if ":" not in tag else tag.rsplit(":", 1)[-1].lower()
        if tag in SKIP_TAGS:
            return
        own_neg = own_pos = 0
        if tag in TAG_BITS:
            tags |= 1 << TAG_BITS[tag]
        # one attribute lookup per element (the HTML parser keeps no duplicate attributes)
        attrib = dict(el.items())
        if attrib:
            if _is_hidden(attrib):
                return
            attrs = (attrib.get("class") or "") + " " + (attrib.get("id") or "")
            role = attrib.get("role")
            if len(attrs) > 1:
                own_neg, own_pos = _cues(attrs.lower())
                neg |= own_neg
                pos |= own_pos
            if role and role in ROLE_BITS:
                tags |= 1 << ROLE_BITS[role]
            if attrib.get("itemprop") in ("articleBody", "text", "description", "reviewBody"):
                pos |= 2
        is_block = tag in BLOCK_TAGS
        saved = None
        if is_block:
            self.flush()
            saved = self.owner
            self.owner = (el, tag, neg, pos, own_neg, own_pos, tags, depth)
        elif tag == "br":
            self.parts.append(" ")
        link = in_link or tag == "a"
        if el.text:
            self.parts.append(el.text)
            if link:
                self.link_chars += len(el.text.strip())
        if depth < 300:
            for child in el:
                self.walk(child, neg, pos, tags, depth + 1, link)
                if child.tail:
                    self.parts.append(child.tail)
                    if link:
                        self.link_chars += len(child.tail.strip())
        else:
            text = el.text_content()
            self.parts.append(text)
        if is_block:
            self.flush()
            self.owner = saved
        elif tag in ("td", "th"):
            self.parts.append(" ")


# Overlap tokens: \w+ runs, but every CJK character is a token of its own (no spaces to split on).
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
OVERLAP_TOKENS = re.compile(f"[{_CJK_CHARS}]|[^\\W{_CJK_CHARS}]+")


def _overlap_tokens(text: str) -> list[str]:
    return OVERLAP_TOKENS.findall(text.lower())


def reference_text(content: str | None) -> str | None:
    """resiliparse's main-content plain text of the page (None when resiliparse is unavailable)."""
    if not content:
        return None
    try:
        from resiliparse.extract.html2text import extract_plain_text
    except ImportError:  # pragma: no cover - resiliparse is a run-time requirement
        return None
    try:
        return extract_plain_text(content, main_content=True) or ""
    except Exception:  # noqa: BLE001  (a crash in the helper must not fail the page)
        return None


def segment(content: str | None = None, tree=None, reference: str | None = None) -> list[Block]:
    """Text blocks of the page body, in document order, with their features.

    `reference`: resiliparse's main-content text of the same page (`reference_text`); computed from
    `content` when not given.
    """
    if reference is None:
        reference = reference_text(content)
    if tree is None:
        tree = parse(content or "")
    if tree is None:
        return []
    body = tree.find("body")
    if body is None:
        body = tree
    walker = _Walker()
    walker.owner = (body, "body", 0, 0, 0, 0, 0, 0)
    walker.walk(body, 0, 0, 0, 0, False)
    walker.flush()
    blocks = walker.blocks
    _featurize(blocks)
    _reference_features(blocks, reference)
    _repeat_features(blocks)
    return blocks


def _units(text: str) -> float:
    cjk = len(CJK.findall(text))
    return len(WORDS.findall(text)) + 0.5 * cjk


@lru_cache(maxsize=None)
def _bit_features(mask: int, width: int) -> tuple[float, ...]:
    """1.0/0.0 per bit of `mask` (the one-hot cue and tag columns)."""
    return tuple(1.0 if mask >> g & 1 else 0.0 for g in range(width))


_KIND_FEATURES = {k: tuple(1.0 if kind == k else 0.0 for kind in BLOCK_KINDS) for k in BLOCK_KINDS}
_KIND_OF_TAG = {"section": "div", "article": "div", "main": "div", "body": "div"}


def _featurize(blocks: list[Block]) -> None:
    n = len(blocks)
    if not n:
        return
    # Prose blocks vote for their ancestors: the densest subtree holds the main text.
    score: dict = {}
    parent_of: dict = {}
    total = 0.0
    lengths = []
    for b in blocks:
        length = len(b.text)
        lengths.append(length)
        ld = b.link_chars / length
        if length >= 60 and ld < 0.35 and not (b.tags & 0b11111):
            weight = length * (1 - ld)
            total += weight
            el = b.element
            while el is not None:
                score[el] = score.get(el, 0.0) + weight
                parent = parent_of.get(el)
                if parent is None:
                    parent = el.getparent()
                    parent_of[el] = parent if parent is not None else False
                el = parent if parent is not False else None
    main = None
    if total > 0:
        # walk down from the top while one child keeps most of the prose
        top = max((el for el in score if parent_of.get(el) is False), key=score.get, default=None)
        main = top
        while main is not None:
            best = None
            best_score = 0.0
            for child in main:
                s = score.get(child)
                if s and s > best_score:
                    best, best_score = child, s
            if best is not None and best_score >= 0.6 * score[main]:
                main = best
            else:
                break
    main_members = set()
    main_parent_members = set()
    if main is not None:
        for el in main.iter():
            main_members.add(el)
        parent = main.getparent()
        if parent is not None:
            for el in parent.iter():
                main_parent_members.add(el)
    first_main = last_main = -1
    in_main = []
    for i, b in enumerate(blocks):
        m = b.element in main_members
        in_main.append(m)
        if m:
            if first_main < 0:
                first_main = i
            last_main = i
    # container stats: text and link chars under each block's owning element's parent
    cont_len: dict = {}
    cont_link: dict = {}
    keys = []
    for b in blocks:
        parent = _parent(b)
        key = parent if parent is not None else b.element
        keys.append(key)
        cont_len[key] = cont_len.get(key, 0) + len(b.text)
        cont_link[key] = cont_link.get(key, 0) + b.link_chars
    total_chars = sum(lengths) or 1
    # the same text in other blocks: menus repeated in header and footer, gallery controls per slide
    repeats: dict = {}
    folded = [b.text.strip().casefold() for b in blocks]
    for key in folded:
        repeats[key] = repeats.get(key, 0) + 1
    main_share = (score.get(main, 0.0) / total) if main is not None and total else 0.0
    for i, b in enumerate(blocks):
        text = b.text
        length = lengths[i]
        ld = b.link_chars / length
        units = _units(text)
        sent = len(SENT_END.findall(text))
        commas = len(COMMA.findall(text))
        key = keys[i]
        c_len = cont_len.get(key, length)
        c_ld = cont_link.get(key, 0) / c_len if c_len else 0.0
        kind = b.tag if b.tag in _KIND_FEATURES else _KIND_OF_TAG.get(b.tag, "other")
        f = [
            1.0,
            math.log1p(length),
            math.log1p(units),
            ld,
            1.0 if ld > 0.9 else 0.0,
            min(sent / max(units, 1.0) * 10, 3.0),
            min(commas / max(units, 1.0) * 10, 3.0),
            1.0 if SENT_END.search(text[-2:]) else 0.0,
            min(len(DIGITS.findall(text)) / length, 1.0),
            1.0 if COPYRIGHT.search(text) else 0.0,
            1.0 if in_main[i] else 0.0,
            1.0 if b.element in main_parent_members else 0.0,
            1.0 if (first_main >= 0 and i < first_main) else 0.0,
            1.0 if (last_main >= 0 and i > last_main) else 0.0,
            i / n,
            math.log1p(c_len),
            c_ld,
            math.log1p(b.depth),
            main_share,
            math.log1p(n),
            1.0 if length < 20 else 0.0,
        ]
        f += _KIND_FEATURES[kind]
        f += _bit_features(b.neg, N_NEG)
        f += _bit_features(b.own_neg, N_NEG)
        f += _bit_features(b.pos, N_POS)
        f += _bit_features(b.tags, 12)
        others = repeats[folded[i]] - 1
        f += (math.log1p(others), 1.0 if others else 0.0, 1.0 if others and length < 40 else 0.0)
        b.features = f


N_BASE = 21 + len(BLOCK_KINDS) + 2 * N_NEG + N_POS + 12 + 3  # stage-1 features of _featurize
REFERENCE_FEATURES = (N_BASE, N_BASE + 5)  # column range of _reference_features
REPEAT_FEATURES = (N_BASE + 5, N_BASE + 11)  # column range of _repeat_features


def _reference_features(blocks: list[Block], reference: str | None) -> None:
    """How much of each block resiliparse's main-content extraction keeps (word-trigram overlap)."""
    if not blocks:
        return
    if reference is None:  # resiliparse missing: neutral values
        for b in blocks:
            b.features.extend((0.0, 0.0, 0.0, 0.0, 1.0))
        return
    # tokenised line by line (no token spans a line break, and lower() does not look across one),
    # so the page's tokens are the lines' tokens end to end
    line_tokens = [_overlap_tokens(line) for line in reference.splitlines()]
    ref = [tok for toks in line_tokens for tok in toks]
    if not ref:  # resiliparse kept nothing: no block overlaps it, coverage 0
        for b in blocks:
            b.features.extend((0.0, 0.0, 0.0, 1.0, 0.0))
        return
    lines = {" ".join(toks) for toks in line_tokens}
    trigrams = set(zip(ref, ref[1:], ref[2:]))
    # a run of 1-3 tokens inside the reference (same as " a b " in " ".join(ref) with spaces around:
    # tokens hold no spaces)
    runs = (None, set(ref), set(zip(ref, ref[1:])), trigrams)
    in_reference = trigrams.__contains__
    block_tokens = 0
    hits = []
    for b in blocks:
        toks = _overlap_tokens(b.text)
        n_toks = len(toks)
        block_tokens += n_toks
        if not n_toks:
            hits.append(0.0)
        elif n_toks < 4:  # a short block: a line of its own in the reference, or only inside one
            hits.append(1.0 if " ".join(toks) in lines else 0.5 if (toks[0] if n_toks == 1 else tuple(toks)) in runs[n_toks] else 0.0)
        else:
            hits.append(sum(map(in_reference, zip(toks, toks[1:], toks[2:]))) / (n_toks - 2))
    coverage = min(len(ref) / max(block_tokens, 1), 1.5)
    empty = 0.0
    for b, hit in zip(blocks, hits):
        b.features.extend((hit, 1.0 if hit >= 0.5 else 0.0, coverage, empty, 0.0))


def _signature(el) -> tuple:
    return (el.tag, el.get("class") or "")


def _repeat_features(blocks: list[Block]) -> None:
    """Repeated sibling structure: a block inside one of many same-tag+class siblings (forum posts,
    listing and product items, table rows), how many there are and how much of the page they hold."""
    if not blocks:
        return
    counts: dict = {}
    signatures: dict = {}
    parents: dict = {}
    chosen = []
    for b in blocks:
        el = b.element
        best = (1, None, 0)
        level = 0
        while el is not None and level < 6:
            parent = parents.get(el, parents)
            if parent is parents:  # not looked up yet
                parent = parents[el] = el.getparent()
            if parent is None:
                break
            counter = counts.get(parent)
            if counter is None:
                counter = {}
                for child in parent:
                    if isinstance(child.tag, str):
                        sig = signatures[child] = _signature(child)
                        counter[sig] = counter.get(sig, 0) + 1
                counts[parent] = counter
            sig = signatures.get(el) or _signature(el)
            n = counter.get(sig, 1)
            if n > best[0]:
                best = (n, (parent, sig), level)
            el = parent
            level += 1
        chosen.append(best)
    group_len: dict = {}
    group_link: dict = {}
    for b, (_, key, _) in zip(blocks, chosen):
        if key is not None:
            group_len[key] = group_len.get(key, 0) + len(b.text)
            group_link[key] = group_link.get(key, 0) + b.link_chars
    total = sum(len(b.text) for b in blocks) or 1
    for b, (n, key, level) in zip(blocks, chosen):
        b.group = key
        if key is None:
            b.features.extend((0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
            continue
        g_len = group_len[key]
        b.features.extend((
            math.log1p(n),
            1.0 if n >= 3 else 0.0,
            g_len / total,
            math.log1p(g_len / n),
            group_link[key] / g_len if g_len else 0.0,
            1.0 if level == 0 else 0.0,
        ))


def context_features(blocks: list[Block], probs: list[float]) -> list[list[float]]:
    """Second-stage features: a block's own score with its neighbours' and its container's."""
    n = len(blocks)
    sibling_sum: dict = {}
    sibling_n: dict = {}
    group_sum: dict = {}
    group_n: dict = {}
    for b, p in zip(blocks, probs):
        parent = _parent(b)
        sibling_sum[parent] = sibling_sum.get(parent, 0.0) + p * len(b.text)
        sibling_n[parent] = sibling_n.get(parent, 0) + len(b.text)
        if b.group is not None:
            group_sum[b.group] = group_sum.get(b.group, 0.0) + p * len(b.text)
            group_n[b.group] = group_n.get(b.group, 0) + len(b.text)
    rows = []
    for i, b in enumerate(blocks):
        p = probs[i]
        prev1 = probs[i - 1] if i > 0 else 0.0
        next1 = probs[i + 1] if i + 1 < n else 0.0
        lo, hi = max(0, i - 3), min(n, i + 4)
        window = sum(probs[lo:hi]) / (hi - lo)
        wide_lo, wide_hi = max(0, i - 10), min(n, i + 11)
        wide = sum(probs[wide_lo:wide_hi]) / (wide_hi - wide_lo)
        parent = _parent(b)
        sib = sibling_sum[parent] / sibling_n[parent] if sibling_n[parent] else p
        logit = math.log(max(p, 1e-6) / max(1 - p, 1e-6))
        short = 1.0 if len(b.text) < 40 else 0.0
        head = 1.0 if b.tag in HEADINGS else 0.0
        f = b.features
        grp = (group_sum[b.group] / group_n[b.group] if group_n[b.group] else p) if b.group is not None else p
        rows.append([1.0, logit, p, prev1, next1, window, wide, sib, min(prev1, next1), max(prev1, next1),
                     short, short * min(prev1, next1), head, head * next1, f[3], f[1],
                     # resiliparse overlap (STAGE2_REFERENCE)
                     f[REFERENCE_FEATURES[0]], f[REFERENCE_FEATURES[0] + 2],
                     # repeated structure (STAGE2_REPEAT)
                     grp, f[REPEAT_FEATURES[0] + 2], grp * f[REPEAT_FEATURES[0] + 1]])
    return rows


STAGE2_REFERENCE = (16, 18)
STAGE2_REPEAT = (18, 21)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _dot(w: list[float], x: list[float]) -> float:
    return sum(map(mul, w, x))


@lru_cache(maxsize=4)
def _load_model(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_model(path: Path | str | None = None) -> dict | None:
    path = Path(path or MODEL_PATH)
    if not path.exists():
        return None
    return _load_model(str(path))


def score_blocks(blocks: list[Block], model: dict) -> list[float]:
    w1 = model["w1"]
    probs = [_sigmoid(_dot(w1, b.features)) for b in blocks]
    if "w2" in model:
        w2 = model["w2"]
        probs = [_sigmoid(_dot(w2, row)) for row in context_features(blocks, probs)]
    return probs


ARTICLE_LD = re.compile(r'"@type"\s*:\s*\[?\s*"(?:\w*Article|BlogPosting|Report)"')


def page_features(blocks: list[Block], tree) -> list[float]:
    """Whether the page reads as one article (prose, declared article type) or as a forum, listing,
    product or collection page (repeated items, links): the keep threshold moves with it."""
    total = sum(len(b.text) for b in blocks) or 1
    prose = [b for b in blocks if len(b.text) >= 150 and b.link_chars < 0.2 * len(b.text)]
    repeat_share = max((b.features[REPEAT_FEATURES[0] + 2] for b in blocks
                        if b.features[REPEAT_FEATURES[0] + 1]), default=0.0)
    og_type = ld_article = False
    articles = 0
    if tree is not None:
        for meta in tree.iter("meta"):
            if (meta.get("property") or meta.get("name") or "").lower() == "og:type":
                og_type = "article" in (meta.get("content") or "").lower()
        for script in tree.iter("script"):
            if (script.get("type") or "").strip().lower() == "application/ld+json" and script.text:
                ld_article = ld_article or bool(ARTICLE_LD.search(script.text))
        articles = sum(1 for _ in tree.iter("article"))
    return [1.0, math.log1p(len(blocks)), sum(b.link_chars for b in blocks) / total,
            sum(len(b.text) for b in prose) / total, math.log1p(len(prose)),
            blocks[0].features[18] if blocks else 0.0, repeat_share,
            1.0 if og_type else 0.0, 1.0 if ld_article else 0.0,
            1.0 if articles == 0 else 0.0, 1.0 if articles == 1 else 0.0, 1.0 if articles > 1 else 0.0]


def page_threshold(blocks: list[Block], tree, model: dict) -> float:
    """The model's keep threshold for this page: threshold_high when the page model calls it one article
    (probability >= article_cut: keep less around the text), threshold_low for pages of many items
    (forums, listings, products: keep more); the fixed threshold when the model has no page model."""
    if "page" not in model:
        return model.get("threshold", 0.5)
    article = _sigmoid(_dot(model["page"], page_features(blocks, tree)))
    return model["threshold_high"] if article >= model["article_cut"] else model["threshold_low"]


def select(blocks: list[Block], probs: list[float], threshold: float) -> list[str]:
    """Kept block texts, merged so a paragraph split by inline markup stays one paragraph."""
    # a link inside <nav> / role=navigation is a menu whatever its neighbours say
    return [b.text for b, p in zip(blocks, probs)
            if p >= threshold and not (b.tags & 1 and b.link_chars > 0.5 * len(b.text))]


def extract(content: str | None = None, tree=None, model: dict | None = None) -> list[str]:
    """Main-text paragraphs of an HTML page (empty list when nothing is found)."""
    return extract_with_links(content, tree, model)[0]


def extract_with_links(content: str | None = None, tree=None, model: dict | None = None) -> tuple[list[str], set[str]]:
    """Main-text paragraphs, and which of them are link-only blocks (menus, tag clouds).

    Pass `content` (the HTML string) even with `tree`: resiliparse's view of the page is a feature.
    """
    if tree is None:
        tree = parse(content or "")
    blocks = segment(content, tree=tree)
    if not blocks:
        return [], set()
    model = model or load_model()
    if model is None:
        kept = _fallback(blocks)
    else:
        probs = score_blocks(blocks, model)
        kept = select(blocks, probs, page_threshold(blocks, tree, model))
    return kept, {b.text for b in blocks if b.link_chars > 0.8 * len(b.text)}


def _fallback(blocks: list[Block]) -> list[str]:
    """No model file: blocks in the densest subtree that are not link lists."""
    return [b.text for b in blocks if b.features[10] and b.features[3] < 0.5]
