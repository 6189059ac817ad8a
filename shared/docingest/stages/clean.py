"""Clean stage: main text and metadata from an HTML page or a plain-text dump.

Pure and offline: no network, no AWS. HTML goes through `html_extract` (a
block classifier on DOM features, pure Python + lxml) for the main text and
`html_metadata` for title, date, author, site name, description and
canonical URL; when no block is kept, the visible text of <body> is rendered block by block
and cleaned like plain text. Plain text goes through `boilerplate`.
"""
from __future__ import annotations

import re

from urllib.parse import urljoin

from lxml import html as lxml_html

from docingest.deadline import check
from docingest.errors import BadInput
from docingest.models import CleanResult
from docingest.stages import html_extract
from docingest.stages.boilerplate import join_paragraphs, normalize_text, remove_boilerplate
from docingest.stages.html_metadata import extract_metadata as extract_page_metadata

HTML_TYPES = frozenset(("text/html", "application/xhtml+xml"))
TEXT_TYPES = frozenset(("text/plain",))

# Elements never rendered in the fallback, and elements that end a line.
SKIPPED_TAGS = ("script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form")
BLOCK_TAGS = frozenset((
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2",
    "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr", "td", "th", "figure",
    "figcaption", "br", "hr", "address", "time",
))
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
BYLINE = re.compile(r"^(by|von|par|por|oleh|di|av|door|przez|автор|от)\s", re.IGNORECASE)
MAX_HTML_ELEMENTS = 100_000  # about 6 s and 300 MB of work; real pages have under 20,000
MAX_TEXT_LINES = 200_000


def clean(content: str, content_type: str, url: str | None = None, *, max_elements: int = MAX_HTML_ELEMENTS,
          max_lines: int = MAX_TEXT_LINES) -> CleanResult:
    """Main text and metadata of one document.

    Raises BadInput for an unsupported content type, an empty document, a document over the work
    limits (HTML elements, nesting depth, lines), or a document with no main text left after cleaning.
    """
    media_type = _media_type(content_type)
    if media_type not in HTML_TYPES | TEXT_TYPES:
        raise BadInput(f"unsupported content type {content_type!r}: expected text/html or text/plain")
    if not isinstance(content, str) or not content.strip():
        raise BadInput("no main text found: the document is empty or only whitespace")
    if media_type in HTML_TYPES:
        if content.count("<") > max_elements and (elements := html_extract.count_elements(content)) > max_elements:
            raise BadInput(f"too many HTML elements: {elements}, the limit is {max_elements}")
        return _clean_html(content, url)
    lines = content.count("\n") + 1
    if lines > max_lines:
        raise BadInput(f"too many lines: {lines}, the limit is {max_lines}")
    return _clean_plain_text(content)


def _media_type(content_type: str | None) -> str:
    """'Text/HTML; charset=utf-8' -> 'text/html'."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _clean_plain_text(content: str) -> CleanResult:
    result = remove_boilerplate(content)
    if not result.text:
        raise BadInput(
            f"no main text found: all {result.removed_lines} lines of the text are page boilerplate"
        )
    return CleanResult(
        text=result.text,
        title=result.title,
        published=result.published,
        removed_lines=result.removed_lines,
    )


def _clean_html(content: str, url: str | None) -> CleanResult:
    """Main text by the block classifier of `html_extract`, metadata by `html_metadata`."""
    tree = html_extract.parse(content)
    if tree is None:
        raise BadInput("no main text found: the HTML page cannot be parsed")
    if html_extract.parse_was_cut():
        raise BadInput(f"too deep: {html_extract.nesting_depth(content)} levels of nested elements, "
                       f"the limit is {html_extract.MAX_DEPTH}")
    metadata = extract_page_metadata(tree)  # before extraction: segmenting does not change the tree
    title = _clean_field(metadata.title)
    author = _clean_field(metadata.author)
    check("extracting the main text")
    paragraphs, link_only = html_extract.extract_with_links(content, tree=tree)
    if not paragraphs:
        return _clean_html_fallback(content, metadata)
    check("removing boilerplate lines")
    kept, result = finish_paragraphs(paragraphs, title, author)
    if not kept or all(p in link_only for p in kept):  # a menu is not main text
        return _clean_html_fallback(content, metadata)
    return CleanResult(
        text=join_paragraphs(kept),
        title=title,
        published=metadata.published,
        modified=metadata.modified,
        author=author,
        site_name=_clean_field(metadata.site_name),
        description=_clean_field(metadata.description),
        canonical_url=_canonical(metadata.canonical_url, url),
        removed_lines=result.removed_lines,
    )


def finish_paragraphs(paragraphs: list[str], title: str | None, author: str | None):
    """The block classifier's paragraphs after the line rules (READ MORE, share bars, cookie notes...),
    without the headline, a leading byline and a closing tag list; and the line rules' result."""
    result = remove_boilerplate("\n".join(paragraphs), trim_page_chrome=False)  # one paragraph per line
    kept = [p for p in result.text.split("\n\n") if p]
    return _drop_trailing_fragments(_drop_headline_and_byline(kept, title, author)), result


def _drop_headline_and_byline(paragraphs: list[str], title: str | None, author: str | None) -> list[str]:
    """The headline (it is the title) and a short byline before the first long paragraph go."""
    out = []
    seen_prose = False
    folded_title = (title or "").casefold()
    for paragraph in paragraphs:
        folded = paragraph.casefold()
        if folded_title and folded == folded_title:
            continue
        if not seen_prose and len(paragraph) < 120 and (
            (author and author.casefold() in folded) or BYLINE.match(paragraph)
        ):
            continue
        if len(paragraph) >= 120:
            seen_prose = True
        out.append(paragraph)
    return out


SENTENCE_END = (".", "!", "?", "…", '"', "”", "»", ":", ";", ")", "。", "！", "？")


def _drop_trailing_fragments(paragraphs: list[str], min_run: int = 3, max_words: int = 4) -> list[str]:
    """A run of short, unpunctuated paragraphs closing the text is a tag or topic list, not the article."""
    end = len(paragraphs)
    while end and len(paragraphs[end - 1].split()) <= max_words and not paragraphs[end - 1].rstrip().endswith(SENTENCE_END):
        end -= 1
    return paragraphs[:end] if len(paragraphs) - end >= min_run and end else paragraphs


def _canonical(canonical: str | None, url: str | None) -> str | None:
    if not canonical:
        return None
    if canonical.startswith(("http://", "https://")):
        return canonical
    if url:
        return urljoin(url, canonical)
    return None


def _clean_html_fallback(content: str, metadata=None) -> CleanResult:
    """No main text found by the block classifier: clean the visible <body> text as a plain-text dump."""
    check("rendering the page's visible text")
    text = html_to_text(content)
    if not text.strip():
        raise BadInput("no main text found: the HTML page has no visible text")
    result = remove_boilerplate(text)
    if not result.text:
        raise BadInput("no main text found: the HTML page's visible text is only navigation and boilerplate")
    if metadata is None:
        tree = html_extract.parse(content)
        metadata = extract_page_metadata(tree) if tree is not None else None
    return CleanResult(
        text=result.text,
        title=(_clean_field(metadata.title) if metadata else None) or result.title,
        published=(metadata.published if metadata else None) or result.published,
        modified=metadata.modified if metadata else None,
        author=_clean_field(metadata.author) if metadata else None,
        site_name=_clean_field(metadata.site_name) if metadata else None,
        description=_clean_field(metadata.description) if metadata else None,
        canonical_url=metadata.canonical_url if metadata else None,
        removed_lines=result.removed_lines,
    )


def html_to_text(content: str) -> str:
    """Visible text of <body>, one line per block element, without scripts and page chrome."""
    try:
        tree = lxml_html.document_fromstring(content)
    except (ValueError, lxml_html.etree.ParserError):
        return ""
    for element in tree.xpath("//" + " | //".join(SKIPPED_TAGS)):
        element.drop_tree()
    body = tree.find("body")
    if body is None:
        return ""
    for element in body.iter():
        if isinstance(element.tag, str) and element.tag in BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            element.text = "\n" + (element.text or "")
    return normalize_text(body.text_content())


def _clean_field(value: str | None) -> str | None:
    """Normalised metadata string, None when empty."""
    if not value:
        return None
    value = " ".join(normalize_text(value).split())
    return value or None


def _iso_date(value: str | None) -> str | None:
    """'2023-11-23...' -> '2023-11-23'; anything else -> None."""
    if value and ISO_DATE.match(value):
        return value[:10]
    return None
