"""Clean stage: main text and metadata from an HTML page or a plain-text dump.

Pure and offline: no network, no AWS. HTML goes through trafilatura (main
text plus title, date, author, site name, description); when trafilatura
finds no main text, the visible text of <body> is rendered block by block
and cleaned like plain text. Plain text goes through `boilerplate`.
"""
from __future__ import annotations

import re

import trafilatura
from lxml import html as lxml_html
from trafilatura.metadata import extract_metadata

from docingest.errors import BadInput
from docingest.models import CleanResult
from docingest.stages.boilerplate import join_paragraphs, normalize_text, remove_boilerplate

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


def clean(content: str, content_type: str, url: str | None = None) -> CleanResult:
    """Main text and metadata of one document.

    Raises BadInput for an unsupported content type, an empty document, or a
    document with no main text left after cleaning.
    """
    media_type = _media_type(content_type)
    if media_type not in HTML_TYPES | TEXT_TYPES:
        raise BadInput(f"unsupported content type {content_type!r}: expected text/html or text/plain")
    if not isinstance(content, str) or not content.strip():
        raise BadInput("no main text found: the document is empty or only whitespace")
    if media_type in HTML_TYPES:
        return _clean_html(content, url)
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
    document = trafilatura.bare_extraction(
        content,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        favor_precision=True,
        deduplicate=False,
        # no guessing from copyright years or free text
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    text = document.text if document is not None else None
    if not text or not text.strip():
        return _clean_html_fallback(content)

    title = _clean_field(document.title)
    # trafilatura's text has one paragraph per line; drop what the line rules catch
    result = remove_boilerplate(text, trim_page_chrome=False)
    paragraphs = [p for p in result.text.split("\n\n") if p and p.casefold() != (title or "").casefold()]
    if not paragraphs:
        return _clean_html_fallback(content)
    return CleanResult(
        text=join_paragraphs(paragraphs),
        title=title,
        published=_iso_date(document.date),
        author=_clean_field(document.author),
        site_name=_clean_field(document.sitename),
        description=_clean_field(document.description),
        removed_lines=result.removed_lines,
    )


def _clean_html_fallback(content: str) -> CleanResult:
    """No main text found by trafilatura: clean the visible <body> text as a plain-text dump."""
    text = html_to_text(content)
    if not text.strip():
        raise BadInput("no main text found: the HTML page has no visible text")
    result = remove_boilerplate(text)
    if not result.text:
        raise BadInput("no main text found: the HTML page's visible text is only navigation and boilerplate")
    metadata = extract_metadata(content, extensive=False)
    return CleanResult(
        text=result.text,
        title=_clean_field(metadata.title) or result.title,
        published=_iso_date(metadata.date) or result.published,
        author=_clean_field(metadata.author),
        site_name=_clean_field(metadata.sitename),
        description=_clean_field(metadata.description),
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
