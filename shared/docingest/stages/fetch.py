"""Fetch stage logic: document identity, content-type sniffing, bytes to text, URL checks.

Pure functions; the S3 and HTTP I/O live in ``docingest.adapters``.
"""
from __future__ import annotations

import codecs
import contextlib
import hashlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from docingest.errors import BadInput

HTML = "text/html"
PLAIN_TEXT = "text/plain"
URL_LIST = "text/uri-list"

_HTML_EXTENSIONS = (".html", ".htm", ".xhtml", ".shtml")
_URL_LIST_EXTENSIONS = (".urls", ".uri", ".uris")
_HTML_SNIFF = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<p[\s>]|<div[\s>]", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
MAX_URL_LENGTH = 2048
MAX_NUL_SHARE = 0.01  # more NUL bytes than this share of the input: binary
MAX_CONTROL_SHARE = 0.05
_CONTROL_BYTES = bytes((*range(0, 9), 11, *range(14, 32), 127))
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff]")
# Labels a page may declare that decode nothing useful: transforms (rot13, base64) are filtered by Python itself.
_NOT_DOCUMENT_ENCODINGS = frozenset(("undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape", "utf-7"))
# WHATWG encoding sniffing: a meta tag cannot declare UTF-16 (the bytes it was read from are ASCII-compatible).
_META_OVERRIDES = {"utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8", "x-user-defined": "windows-1252"}
# Legacy encodings by how common they are on the web: the tie-breaker between equally good guesses.
_WEB_ENCODINGS = ["utf_8", "cp1252", "latin_1", "cp1251", "gb18030", "gb2312", "shift_jis", "euc_jp", "euc_kr",
                  "big5", "cp1250", "iso8859_2", "cp1256", "cp1253", "cp1254", "cp1255", "cp874", "koi8_r"]


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str


def document_id(data: bytes) -> str:
    """The document id: sha256 of the raw bytes, so the same content always gets the same id."""
    return hashlib.sha256(data).hexdigest()


def request_id(url: str) -> str:
    """Id of a URL request whose content could not be fetched (there are no bytes to hash)."""
    return hashlib.sha256(b"url:" + url.encode("utf-8")).hexdigest()


def sniff_content_type(data: bytes, name: str = "", declared: str | None = None) -> str:
    """HTML, plain text or a URL list, from the declared type, the file name, then the bytes."""
    declared_type = (declared or "").split(";")[0].strip().lower()
    if declared_type in (HTML, "application/xhtml+xml"):
        return HTML
    if declared_type == URL_LIST:
        return URL_LIST
    lower_name = name.lower()
    if lower_name.endswith(_HTML_EXTENSIONS):
        return HTML
    if lower_name.endswith(_URL_LIST_EXTENSIONS):
        return URL_LIST
    if _HTML_SNIFF.search(data[:4096]):
        return HTML
    return PLAIN_TEXT


def declared_charset(data: bytes, content_type_header: str | None = None) -> str | None:
    """Charset from the HTTP Content-Type header, else from an HTML meta tag (WHATWG: a UTF-16 meta means UTF-8)."""
    if content_type_header and (match := _HEADER_CHARSET.search(content_type_header)):
        return match.group(1)
    if match := _META_CHARSET.search(data[:8192]):
        label = match.group(1).decode("ascii", "ignore")
        return _META_OVERRIDES.get(label.lower().replace("_", "-"), label)
    return None


def decode_bytes(data: bytes, charset: str | None = None) -> Decoded:
    """Bytes to NFC text: BOM, then the declared charset, then UTF-8, then detection; mojibake repaired.

    NUL bytes follow one rule wherever they are: more than 1% of the input is binary, fewer are dropped.
    A declared charset that is no text encoding (rot13, base64, punycode...) is ignored.
    Raises BadInput for empty, binary or undecodable input.
    """
    if not data.strip():
        raise BadInput("empty input: the document has no content")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _finish(_decode(data, encoding, errors="replace"), encoding)
    declared = text_codec(charset)
    if declared and declared.startswith(("utf-16", "utf-32")):  # declared by HTTP: NUL bytes belong to the text
        with contextlib.suppress(UnicodeError):
            return _finish(_decode(data, declared), declared)
    nul_bytes = data.count(b"\x00")
    if nul_bytes > MAX_NUL_SHARE * len(data):
        raise BadInput(f"binary content: {nul_bytes} NUL bytes in {len(data)}, not a text or HTML document")
    control_bytes = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if control_bytes > MAX_CONTROL_SHARE * len(data):
        raise BadInput(f"binary content: {control_bytes / len(data):.0%} control bytes, not a text or HTML document")
    if nul_bytes:
        data = data.replace(b"\x00", b"")
    for candidate in dict.fromkeys(filter(None, (declared, "utf-8"))):
        try:
            return _finish(_decode(data, candidate), candidate)
        except UnicodeError:
            continue
    encoding = _detect_encoding(data[:200_000])
    if encoding is None:
        raise BadInput("undecodable content: no text encoding fits these bytes")
    return _finish(_decode(data, encoding, errors="replace"), encoding)


def _decode(data: bytes, encoding: str, errors: str = "strict") -> str:
    try:
        return data.decode(encoding, errors=errors)
    except LookupError as error:  # a codec that cannot decode at all ("undefined")
        raise UnicodeError(str(error)) from error


def _detect_encoding(data: bytes) -> str | None:
    """charset-normalizer's pick; among near ties, the encoding most used on the web."""
    import charset_normalizer  # imported when first needed: most documents are UTF-8 (a faster cold start)

    matches = [m for m in charset_normalizer.from_bytes(data) if text_codec(m.encoding)]
    if not matches:
        return None
    best = matches[0]
    ties = [m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.05]
    return min(ties, key=lambda m: _WEB_ENCODINGS.index(m.encoding) if m.encoding in _WEB_ENCODINGS else len(_WEB_ENCODINGS)).encoding


def text_codec(charset: str | None) -> str | None:
    """Python's name of a charset label if it is a text encoding we decode with, else None."""
    if not charset:
        return None
    try:
        codec = codecs.lookup(charset)
    except (LookupError, TypeError, ValueError):
        return None
    if not codec._is_text_encoding or codec.name in _NOT_DOCUMENT_ENCODINGS:
        return None
    return codec.name


def _finish(text: str, charset: str) -> Decoded:
    share = _control_share(text)
    if share > MAX_CONTROL_SHARE:
        raise BadInput(f"binary content: {share:.0%} control characters after decoding as {charset}")
    return Decoded(text=unicodedata.normalize("NFC", repair_mojibake(text)), charset=charset)


def repair_mojibake(text: str) -> str:
    """Undo text that was decoded with the wrong codec upstream ("Ã©tÃ©" -> "été"); else unchanged."""
    if text.isascii():
        return text
    import ftfy  # imported when first needed (a faster cold start)
    import ftfy.badness

    if not ftfy.badness.is_bad(text):
        return text
    return ftfy.fix_encoding(text)


def _control_share(text: str) -> float:
    """Share of control, surrogate and private-use characters in the whole text (tab, newlines and form feed excepted)."""
    if not text:
        return 0.0
    return len(_CONTROL_CHARACTERS.findall(text)) / len(text)


def parse_url_list(text: str) -> list[str]:
    """URLs of a URL-list file: one per line; blank lines and '#' comments ignored."""
    urls = [line.strip() for line in text.splitlines()]
    return [url for url in urls if url and not url.startswith("#")]


def check_url(url: str, allow_private: bool = False, resolve=None) -> str:
    """Return the URL if it may be fetched; raise BadInput otherwise.

    Only http/https, a host, a sane length, and (unless allowed) no loopback, private,
    link-local or reserved address, literal or resolved. ``resolve(host) -> list[str]``.
    """
    if not url or len(url) > MAX_URL_LENGTH:
        raise BadInput(f"invalid URL: empty or longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise BadInput(f"unsupported URL scheme {parts.scheme!r}: only http and https are fetched")
    if not parts.hostname:
        raise BadInput("invalid URL: no host")
    if not allow_private:
        addresses = [parts.hostname] if _is_ip(parts.hostname) else (resolve(parts.hostname) if resolve else [])
        for address in addresses:
            if _is_internal(address):
                raise BadInput(f"refused URL: host {parts.hostname} is an internal address ({address})")
    return url.strip()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified
