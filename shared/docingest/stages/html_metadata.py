"""Page metadata from an lxml tree: title, author, published date, site name, description, canonical URL.

Sources, best first: JSON-LD (Article/NewsArticle/BlogPosting/Product/... incl. @graph), Open Graph and
article:* meta, name=... meta (author, date, dc.*), itemprop microdata, <link rel=canonical>, <time
datetime>, <h1>, <title> (minus the " | Site" suffix). Pure Python, no network.

A page that declares no publication date gets one from the visible text, in any of the NER languages
("Nov 23, 2023", "23 de novembro de 2023", "23.11.2023"): a short line near the <h1>, then an element
whose class or id says date/time/byline, then a /YYYY/MM/DD/ canonical URL, then the modification date.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
SLASH_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—·•:»]\s+")
SPACES = re.compile(r"\s+")
DATE_META = ("article:published_time", "og:published_time", "datepublished", "date", "dc.date",
             "dc.date.issued", "dcterms.created", "dcterms.date", "publish_date", "publishdate", "pubdate",
             "sailthru.date", "parsely-pub-date", "citation_publication_date", "citation_date", "created",
             "article.published", "published_time", "release_date")
AUTHOR_META = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author",
               "citation_author", "twitter:creator")


@dataclass
class Metadata:
    title: str | None = None
    author: str | None = None
    published: str | None = None
    modified: str | None = None
    site_name: str | None = None
    description: str | None = None
    canonical_url: str | None = None


def _clean(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = SPACES.sub(" ", value).strip()
    return value or None


def iso_date(value: str | None) -> str | None:
    """'2023-11-23T08:00Z' -> '2023-11-23' when the date is plausible, else None."""
    if not value:
        return None
    match = ISO_DATE.search(value) or SLASH_DATE.search(value)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "last-modified", "dcterms.modified")
DATE_CLASS = re.compile(r"date|time|publish|posted|byline|meta|entry-info|datum|fecha|tanggal|data", re.I)
URL_DATE = re.compile(r"/((?:19|20)\d\d)/(\d{1,2})/(\d{1,2})(?:/|$)")


def _any_date(value) -> str | None:
    """An ISO date from a machine value ("2023-11-23T08:00Z") or from words ("Nov 23, 2023", "23 de
    novembro de 2023", "23.11.2023"); only full dates count."""
    if not isinstance(value, str):
        return None
    if (found := iso_date(value)) is not None:
        return found
    from docingest.stages.dates import find_dates

    for date in find_dates(value[:200]):
        if date.value and len(date.value) == 10 and 1990 <= int(date.value[:4]) <= 2100:
            return date.value
    return None


def _modified(meta: dict[str, str], ld: list[dict]) -> str | None:
    """The last modification date the page declares (meta or JSON-LD), if any."""
    for value in (*(meta.get(k) for k in MODIFIED_META), *(item.get("dateModified") for item in ld)):
        if (found := _any_date(value)) is not None:
            return found
    return None


def _published(tree, meta: dict[str, str], ld: list[dict], ld_first: dict) -> str | None:
    """The publication date, best source first; the last modification date only as a last resort."""
    candidates = [ld_first.get("datePublished"), *(meta.get(k) for k in DATE_META)]
    candidates += [item.get(key) for key in ("datePublished", "dateCreated", "uploadDate") for item in ld]
    for value in candidates:
        if (found := _any_date(value)) is not None:
            return found
    for el in tree.xpath('//*[@itemprop="datePublished" or @itemprop="dateCreated"][position() < 3]'):
        if found := _any_date(el.get("content") or el.get("datetime") or el.get("title") or el.text_content()):
            return found
    for el in tree.iter("time"):
        if found := _any_date(el.get("datetime") or el.text_content()):
            return found
    for key, value in meta.items():  # any other date-like meta ("cludo:date", "dc.date.created", ...)
        if "date" in key and "modif" not in key and "update" not in key and (found := _any_date(value)):
            return found
    for heading in tree.xpath("//body//h1[1]"):  # a short line with a date just below the headline, or above it
        for el in (*heading.xpath("following::*[position() <= 40]"), *heading.xpath("preceding::*[position() <= 15]")):
            text = el.text_content()
            if len(text) <= 80 and (found := _any_date(text)):
                return found
    for el in tree.xpath("//body//*[@class or @id][position() < 4000]"):
        if len(el) > 6 or not DATE_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
            continue  # a big container is not a date line
        text = el.text_content()
        if len(text) <= 120 and (found := _any_date(text)):
            return found
    for link in tree.xpath('//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content'):
        if match := URL_DATE.search(link):
            if found := iso_date("-".join(match.groups())):
                return found
    return _modified(meta, ld)


def _json_ld_items(tree) -> list[dict]:
    items = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, TypeError):
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                items.append(node)
                if "@graph" in node:
                    stack.append(node["@graph"])
    return items


def _ld_types(item: dict) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "techarticle",
                 "scholarlyarticle", "analysisnewsarticle", "opinionnewsarticle", "report", "webpage",
                 "socialmediaposting", "discussionforumposting", "qapage", "product", "howto", "recipe",
                 "itempage", "aboutpage", "creativework", "liveblogposting", "medicalwebpage"}


def _person_name(value) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_person_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    if isinstance(value, dict):
        return _clean(value.get("name"))
    name = _clean(value)
    if name and (name.startswith("http") or len(name) > 100):
        return None
    return name


def extract_metadata(tree) -> Metadata:
    meta: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content and key not in meta:
            meta[key] = content
    ld = _json_ld_items(tree)
    ld_main = [i for i in ld if _ld_types(i) & ARTICLE_TYPES and (i.get("headline") or i.get("name") or i.get("datePublished"))]
    ld_first = {}
    for item in ld_main:
        for key in ("headline", "name", "author", "datePublished", "dateCreated", "description", "url"):
            if key in item and key not in ld_first:
                ld_first[key] = item[key]
    site = None
    for item in ld:
        if _ld_types(item) & {"website", "organization", "newsmediaorganization"} and isinstance(item.get("name"), str):
            site = site or _clean(item["name"])

    result = Metadata()
    # title: og/twitter/JSON-LD headline, else the <title> without its site suffix, else <h1>
    head_title = None
    title_el = tree.find(".//title")
    if title_el is not None:
        head_title = _clean(title_el.text_content())
    h1 = None
    for el in tree.iter("h1"):
        h1 = _clean(el.text_content())
        if h1:
            break
    candidates = [meta.get("og:title"), ld_first.get("headline"), meta.get("twitter:title"),
                  ld_first.get("name") if isinstance(ld_first.get("name"), str) else None]
    result.title = next((c for c in (_clean(c) for c in candidates) if c), None)
    if not result.title and head_title:
        parts = TITLE_SEPARATORS.split(head_title)
        result.title = max(parts, key=len) if len(parts) > 1 else head_title
    if not result.title:
        result.title = h1
    if result.title and h1 and h1.lower() in result.title.lower() and len(h1) > 10:
        result.title = h1  # "Headline | Site" in og:title: the <h1> is the headline alone
    elif result.title and site:
        parts = TITLE_SEPARATORS.split(result.title)
        if len(parts) > 1 and parts[-1].strip().lower() == site.lower():
            result.title = result.title[: result.title.lower().rfind(parts[-1].strip().lower())].rstrip(" |-–—·•:»")

    result.author = _person_name(ld_first.get("author"))
    if not result.author:
        for key in AUTHOR_META:
            value = _clean(meta.get(key))
            if value and not value.startswith(("http", "@")):
                result.author = value
                break
    if not result.author:
        for el in tree.xpath('//*[@rel="author" or @itemprop="author"][1]'):
            result.author = _clean(el.text_content())
            break

    published = _published(tree, meta, ld, ld_first)
    result.modified = _modified(meta, ld)
    result.published = published

    result.site_name = _clean(meta.get("og:site_name")) or _clean(meta.get("application-name")) or site
    result.description = _clean(meta.get("description")) or _clean(meta.get("og:description")) or (
        _clean(ld_first.get("description")) if isinstance(ld_first.get("description"), str) else None)
    canonical = None
    for el in tree.iter("link"):
        if "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
            canonical = el.get("href").strip()
            break
    result.canonical_url = canonical or _clean(meta.get("og:url"))
    return result
