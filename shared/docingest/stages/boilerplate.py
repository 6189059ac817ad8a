"""Plain-text boilerplate removal for text dumps of whole web pages.

Input is the visible text of a page, one block per line, in any language
(word lists cover English, Indonesian and Portuguese, with some Spanish,
French and German). The cleaner works in passes:

1. normalise the lines and re-join sentences that a link split apart;
2. line rules, one small function per family of page chrome
   (icon dumps, "read more" links, ads, counters, credits, dates...);
3. block rules: tag/topic blocks and metadata clusters (date, time, place);
4. page edges: short non-sentence lines before the first and after the last
   prose line are chrome; the headline is picked from them as the title.

Word lists live at the top of the module, apart from the logic, and every
regular expression is compiled once at import.
"""
from __future__ import annotations

import importlib.resources
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

# --------------------------------------------------------------------------
# Data: words and phrases, kept apart from the rules that use them.
# --------------------------------------------------------------------------

MONTHS: dict[str, int] = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11,
    "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # Indonesian
    "januari": 1, "februari": 2, "maret": 3, "mei": 5, "juni": 6, "juli": 7,
    "agustus": 8, "oktober": 10, "desember": 12, "agu": 8, "agt": 8, "okt": 10,
    "des": 12,
    # Portuguese
    "janeiro": 1, "fevereiro": 2, "março": 3, "abril": 4, "maio": 5, "junho": 6,
    "julho": 7, "agosto": 8, "setembro": 9, "outubro": 10, "novembro": 11,
    "dezembro": 12, "fev": 2, "abr": 4, "mai": 5, "ago": 8, "set": 9, "out": 10,
    "dez": 12,
    # Spanish
    "enero": 1, "febrero": 2, "marzo": 3, "mayo": 5, "junio": 6, "julio": 7,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    # French
    "janvier": 1, "février": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7,
    "août": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
    # German
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "dezember": 12,
}

# Words that may surround a date or time on a date-only line.
DATE_FILLER_WORDS = (
    # weekdays
    "monday tuesday wednesday thursday friday saturday sunday "
    "mon tue wed thu fri sat sun "
    "senin selasa rabu kamis jumat jum'at sabtu minggu ahad "
    "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo "
    "segunda terça quarta quinta sexta "
    "lunes martes miércoles jueves viernes "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "montag dienstag mittwoch donnerstag freitag samstag sonntag "
    # time zones and clock words
    "wib wita wit gmt utc bst cet cest est edt pst pdt msk brt brst am pm a.m. p.m. h hrs "
    # publishing words
    "date published updated posted last modified on at by "
    "diterbitkan dipublikasikan diperbarui diperbaharui terbit pukul jam tanggal "
    "publicado publicada atualizado atualizada em às as de do da "
    "actualizado el a las publié mis jour le à veröffentlicht aktualisiert am um uhr"
).split()

READ_MORE_LABELS = (
    "read more", "read also", "also read", "read next", "see also", "related",
    "related articles", "related news", "related stories", "recommended",
    "more on this", "more from", "you may also like", "you might also like",
    "baca juga", "lihat juga", "simak juga", "baca selengkapnya", "berita terkait",
    "artikel terkait", "baca lainnya",
    "leia mais", "leia também", "veja também", "veja mais", "saiba mais",
    "notícias relacionadas", "matérias relacionadas",
    "lea también", "lee también", "ver también", "noticias relacionadas",
    "lire aussi", "à lire aussi", "voir aussi", "sur le même sujet",
    "mehr zum thema", "lesen sie auch", "auch interessant", "siehe auch",
)

AD_LINES = frozenset((
    "advertisement", "advertising", "ads", "ad", "sponsored", "sponsored content",
    "scroll to continue", "scroll to continue with content", "scroll down to continue",
    "continue reading below", "story continues below advertisement",
    "iklan", "konten sponsor", "konten bersponsor", "gulir untuk melanjutkan",
    "scroll untuk melanjutkan", "lanjutkan membaca", "lanjut baca",
    "publicidade", "continua após a publicidade", "conteúdo patrocinado",
    "publicidad", "anuncio", "publicité", "anzeige", "werbung",
))

AD_SHORTCODE_WORDS = (
    "iklan", "ads?", "advert", "advertisement", "advertorial", "banner",
    "publicidade", "publicidad", "anuncio", "anúncio", "werbung", "pub", "sponsor",
)

COMMENT_WORDS = (
    "comments?", "komentar", "comentários?", "comentarios?", "commentaires?",
    "kommentare?", "replies", "balasan", "respostas?",
)
COUNTER_WORDS = COMMENT_WORDS + (
    "shares?", "views?", "likes?", "dilihat", "kali dibaca", "dibaca",
    "visualizações", "curtidas?", "compartilhamentos?", "reads?",
)
COMMENT_PROMPTS = frozenset((
    "comments", "comment", "leave a comment", "add a comment", "post a comment",
    "write a comment", "komentar", "tulis komentar", "kirim komentar",
    "comentários", "comentar", "deixe seu comentário", "deixe um comentário",
    "comentarios", "commentaires", "kommentare",
))

# A share/print/save bar is a line made only of these words...
SHARE_BAR_WORDS = frozenset((
    "share", "shares", "tweet", "facebook", "twitter", "x", "whatsapp", "telegram",
    "linkedin", "pinterest", "reddit", "line", "messenger", "flipboard", "vk",
    "email", "e-mail", "mail", "print", "copy", "link", "copied", "save", "bookmark",
    "bagikan", "salin", "tautan", "cetak", "simpan", "compartilhe", "compartilhar",
    "copiar", "imprimir", "salvar", "compartir", "partager", "imprimer", "teilen",
    "drucken", "this", "article", "story", "on", "via", "artikel", "ini", "berita",
    "matéria", "notícia", "esta", "este", "the", "page", "halaman", "partilhe", "partilhar",
    "artigo", "artículo", "comparte", "noticia", "e",
))
# ...and it must hold at least one of these.
SHARE_BAR_STRONG_WORDS = frozenset((
    "share", "tweet", "facebook", "twitter", "whatsapp", "telegram", "linkedin",
    "pinterest", "reddit", "email", "e-mail", "print", "bookmark", "bagikan", "cetak",
    "compartilhe", "compartilhar", "imprimir", "compartir", "partager", "imprimer",
    "teilen", "drucken", "copy", "salin", "partilhe", "partilhar", "comparte",
))

GALLERY_WORDS = (
    "photo", "photos", "foto", "fotos", "image", "imagem", "imagen", "gambar",
    "slide", "gallery", "galeri", "galeria", "bild",
)
CREDIT_LABELS = (
    "photo", "photos", "foto", "fotos", "image", "images", "imagem", "imagen",
    "gambar", "picture", "credit", "credits", "kredit", "crédito", "créditos",
    "source", "sumber", "fonte", "fuente", "quelle", "illustration", "ilustrasi",
    "ilustração", "ilustración", "video", "vídeo", "caption", "keterangan foto",
    "legenda", "photographer", "fotografer", "fotógrafo",
)
CREDIT_AGENCIES = (
    "getty images", "reuters", "afp", "ap photo", "associated press", "epa",
    "antara foto", "antara", "anadolu", "shutterstock", "istock", "sputnik",
    "ria novosti", "tass", "xinhua", "agência brasil", "folhapress", "estadão conteúdo",
    "europa press", "dpa", "pool",
)

BYLINE_WORDS = ("by", "oleh", "por", "par", "von", "penulis", "reporter", "escrito por", "texto")

TAG_LABELS = (
    "tags?", "topics?", "related topics", "topik", "topik terkait", "tópicos?",
    "temas?", "tema", "kategori", "categories", "category", "categoria", "categorias",
    "categoría", "geography", "persons", "people", "organisations", "organizations",
    "keywords?", "kata kunci", "palavras-chave", "etiquetas", "schlagwörter",
    "themen", "mots-clés", "sujets", "publication status",
)

# Lines starting with these are site furniture (source links, publication
# data, print/email links, newsletter, copyright, social follow prompts).
SITE_FOOTER_PREFIXES = (
    "tautan sumber", "link sumber", "source link", "link fonte", "link da fonte",
    "enlace fuente", "lien source", "fonte:", "sumber:", "source:", "fuente:",
    "quelle:", "publication date", "published in sections", "publication status",
    "text version", "versi teks", "print version", "printer friendly",
    "print this", "email this", "send by email", "bookmark this",
    "subscribe to", "subscribe now", "sign up for", "sign up to", "get our newsletter",
    "berlangganan", "langganan newsletter", "daftar newsletter",
    "assine", "inscreva-se", "receba as notícias", "suscríbete", "abonnez-vous",
    "jetzt abonnieren", "newsletter",
    "©", "(c) ", "copyright", "hak cipta", "direitos reservados", "all rights reserved",
    "follow us", "follow @", "ikuti kami", "ikuti berita", "ikuti kanal", "ikuti saluran",
    "siga-nos", "siga o", "síguenos", "suivez-nous", "folgen sie uns",
    "download the app", "download aplikasi", "baixe o app",
    "editor:", "penulis:", "reporter:", "pewarta:", "redaktur:", "editor :",
)
COOKIE_PHRASES = (
    "we use cookies", "this site uses cookies", "this website uses cookies",
    "accept cookies", "accept all cookies", "cookie policy", "cookie settings",
    "menggunakan cookie", "kebijakan cookie", "usamos cookies", "utilizamos cookies",
    "este site usa cookies", "este site utiliza cookies", "política de cookies",
    "aceitar cookies", "aceptar cookies", "nous utilisons des cookies",
    "wir verwenden cookies", "cookie-einstellungen",
)
RIGHTS_PHRASES = (
    "all rights reserved", "hak cipta dilindungi", "todos os direitos reservados",
    "todos los derechos reservados", "tous droits réservés", "alle rechte vorbehalten",
)


def _load_chrome_phrases(name: str = "boilerplate_lines.json") -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """Per family: whole-line phrases and line prefixes, as comparison keys (see _chrome_key)."""
    resource = importlib.resources.files("docingest.data").joinpath(name)
    data = json.loads(resource.read_text(encoding="utf-8"))
    return {
        family: (
            frozenset(_chrome_key(p) for p in entry.get("lines", ())),
            tuple(sorted({_chrome_key(p) for p in entry.get("prefixes", ())}, key=len, reverse=True)),
        )
        for family, entry in data.items()
        if not family.startswith("_")
    }


def _chrome_key(line: str) -> str:
    """Case-folded, digit runs as '0', punctuation as spaces: 'Page 2 of 9 ›' -> 'page 0 of 0'."""
    return " ".join(re.sub(r"\d+", "0", re.sub(r"[^\w\s'&]+", " ", line.casefold())).split())


# nav/legal links, pagination, comment-section furniture, newsletter/social boxes, related blocks
CHROME_PHRASES = _load_chrome_phrases()
CHROME_LINE_MAX_WORDS = 12

# --------------------------------------------------------------------------
# Thresholds
# --------------------------------------------------------------------------

PROSE_MIN_WORDS = 5  # with sentence-final punctuation
PROSE_LONG_WORDS = 15  # without it
META_MAX_WORDS = 4  # lines of a metadata cluster
TAG_MAX_WORDS = 5  # items of a tag block
TITLE_MIN_WORDS, TITLE_MAX_WORDS = 3, 25
STANDFIRST_MIN_WORDS = 10
SHORT_CREDIT_WORDS = 15
CREDIT_TAIL_WORDS = 10
FOOTER_MAX_WORDS = 25
COOKIE_MAX_WORDS = 60
SHORT_LINE_CHARS = 80  # ad labels, counters and share bars are never longer
# main text span: weight of a word outside prose lines against a word of prose (cross-validated
# by domain on WCXB dev pages rendered as text dumps, see bench/quality_boilerplate.py)
OFF_MAIN_WEIGHT = 0.5
OFF_MAIN_LINE_WORDS = 3  # a short line (a menu item) costs at least this many words
RULE_LINE_WEIGHT = 0.1

# --------------------------------------------------------------------------
# Compiled patterns
# --------------------------------------------------------------------------


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation, longest first so that "sept" wins over "sep"."""
    return "|".join(sorted(words, key=len, reverse=True))


_MONTH = _alternation(re.escape(m) for m in MONTHS)
_F = re.IGNORECASE

DATE_DMY = re.compile(
    rf"\b(\d{{1,2}})(?:\.|º)?\s*(?:de\s+)?({_MONTH})\.?,?\s*(?:de\s+)?(\d{{4}})\b", _F
)
DATE_MDY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", _F)
DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
DATE_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
DATE_NO_YEAR = re.compile(rf"\b\d{{1,2}}\.?\s+(?:de\s+)?(?:{_MONTH})\b|\b(?:{_MONTH})\.?\s+\d{{1,2}}\b", _F)
TIME = re.compile(r"\b(?:[01]?\d|2[0-3])[:.h][0-5]\d(?::[0-5]\d)?(?:\s*[ap]\.?m\.?)?(?!\w)", _F)
RELATIVE_TIME = re.compile(
    r"\b\d+\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?|menit|jam|hari|minggu|minutos?|horas?|dias?|semanas?)"
    r"\s+(?:ago|yang\s+lalu|lalu|atrás)\b|\bhá\s+\d+\s+(?:minutos?|horas?|dias?|semanas?)\b",
    _F,
)
DATE_FILLER = re.compile(rf"(?<!\w)(?:{_alternation(re.escape(w) for w in DATE_FILLER_WORDS)})(?!\w)", _F)
NON_WORD = re.compile(r"[\W_]+")

ICON_TOKEN = re.compile(r"icon$", _F)
MENU_SEPARATOR = re.compile(r"\s+[|•·»/]\s+")
SENTENCE_MARKS = re.compile(r"[.,;:!?…\"“”«»]")

READ_MORE = re.compile(rf"^(?:{_alternation(re.escape(w) for w in READ_MORE_LABELS)})\b\s*(?P<sep>[:\-–—|»>]+)?", _F)

AD_SHORTCODE = re.compile(rf"\[\s*(?:{_alternation(AD_SHORTCODE_WORDS)})[\s_-]*\d*\s*\]", _F)

_COMMENTS = _alternation(COMMENT_WORDS)
_COUNTERS = _alternation(COUNTER_WORDS)
COMMENT_COUNTER = re.compile(rf"^(?:{_COMMENTS})\s*[:(]?\s*\d+\s*\)?$", _F)
NUMBER_COUNTER = re.compile(rf"^\d[\d.,]*\s*[kKrbjt]?\s*(?:{_COUNTERS})$", _F)
GALLERY_COUNTER = re.compile(
    rf"^(?:(?:{_alternation(GALLERY_WORDS)})\s*)?\d{{1,3}}\s*(?:of|dari|de|von|sur|/)\s*\d{{1,3}}$", _F
)

CREDIT_START = re.compile(
    rf"^(?:{_alternation(re.escape(w) for w in CREDIT_LABELS)})\s*(?:(?:by|oleh|de|por|von|par)\b\s*)?[:|/–—-]"
    r"|^(?:photo|foto|image|picture|imagem)\s+(?:by|oleh|de|por|von|par)\b",
    _F,
)
CREDIT_INLINE = re.compile(
    r"(?:^|[\s.(])(?:photos?|fotos?|images?|imagem|imagen|gambar|credit|kredit|ilustrasi)\s*:\s*\S|©", _F
)
CREDIT_PARENTHESIS = re.compile(
    r"\((?:foto|photo|image|gambar|ilustrasi|imagem|reprodução|divulgação|dok|doc)\b[^)]*\)\s*$", _F
)
CREDIT_AGENCY = re.compile(rf"\b(?:{_alternation(re.escape(a) for a in CREDIT_AGENCIES)})\b", _F)
CREDIT_AGENCY_END = re.compile(
    rf"(?:^|[.,;:|/\s])(?:{_alternation(re.escape(a) for a in CREDIT_AGENCIES)})\s*$", _F
)
AGENCY_SLASH = re.compile(r"\b(?:reuters|afp|ap|epa|antara(?:\s+foto)?|anadolu|dpa)\s*/\s*\w", _F)

BYLINE = re.compile(rf"^(?:{_alternation(re.escape(w) for w in BYLINE_WORDS)})\s*:?\s+\S", _F)
TAG_LABEL = re.compile(rf"^(?:{_alternation(TAG_LABELS)})\s*:?$", _F)
INLINE_TAGS = re.compile(rf"^(?:{_alternation(TAG_LABELS)})\s*:\s*\S", _F)

SITE_FOOTER_START = re.compile(rf"^(?:{_alternation(re.escape(p) for p in SITE_FOOTER_PREFIXES)})", _F)
RIGHTS_HINTS = ("reserv", "hak cipta", "droits", "rechte")  # cheap test before RIGHTS_NOTICE
COOKIE_NOTICE = re.compile(_alternation(re.escape(p) for p in COOKIE_PHRASES), _F)
RIGHTS_NOTICE = re.compile(_alternation(re.escape(p) for p in RIGHTS_PHRASES), _F)

SPACES = re.compile(r"[^\S\n]+")
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
CONTINUATION = re.compile(r"^[,.;]")
SENTENCE_END = re.compile(r"[.!?…\"”»:’]$")
CLAUSE_END = re.compile(r"[.!?…\"”»:’,;]$")
LETTER = re.compile(r"[^\W\d_]")

# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BoilerplateResult:
    """Kept text (one paragraph per line, blank line between), plus what was found."""

    text: str
    title: str | None
    published: str | None  # ISO date YYYY-MM-DD
    removed_lines: int


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """NFC, one space between words, no invisible characters, stripped lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = INVISIBLE.sub("", text)
    return "\n".join(SPACES.sub(" ", line).strip() for line in text.split("\n"))


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Paragraphs separated by exactly one blank line."""
    return "\n\n".join(p for p in paragraphs if p)


def _words(line: str) -> list[str]:
    return line.split()


@lru_cache(maxsize=8192)
def _key(line: str) -> str:
    """Comparison key: case-folded, punctuation-free."""
    return NON_WORD.sub(" ", line.casefold()).strip()


def is_prose(line: str) -> bool:
    """A sentence: >= 5 words ending like a sentence, or any line of >= 15 words."""
    n = len(_words(line))
    return n >= PROSE_LONG_WORDS or (n >= PROSE_MIN_WORDS and bool(SENTENCE_END.search(line)))


def _is_short_fragment(line: str, max_words: int) -> bool:
    """A few words that do not end like a sentence or clause."""
    return len(_words(line)) <= max_words and not CLAUSE_END.search(line)


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: str) -> str | None:
    """First full date (day, month, year) in `text` as ISO YYYY-MM-DD, else None."""
    found: list[tuple[int, str]] = []
    for m in DATE_ISO.finditer(text):
        if iso := _iso(int(m[1]), int(m[2]), int(m[3])):
            found.append((m.start(), iso))
    for m in DATE_DMY.finditer(text):
        if iso := _iso(int(m[3]), MONTHS[m[2].casefold()], int(m[1])):
            found.append((m.start(), iso))
    for m in DATE_MDY.finditer(text):
        if iso := _iso(int(m[3]), MONTHS[m[1].casefold()], int(m[2])):
            found.append((m.start(), iso))
    for m in DATE_NUMERIC.finditer(text):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        day, month = (second, first) if second > 12 else (first, second)  # day first unless impossible
        if iso := _iso(year, month, day):
            found.append((m.start(), iso))
    return min(found)[1] if found else None


def _strip_dates_and_times(line: str) -> str:
    for pattern in (DATE_ISO, DATE_DMY, DATE_MDY, DATE_NUMERIC, DATE_NO_YEAR, RELATIVE_TIME, TIME):
        line = pattern.sub(" ", line)
    return line


def _has_date_or_time(line: str) -> bool:
    return any(p.search(line) for p in (DATE_ISO, DATE_DMY, DATE_MDY, DATE_NUMERIC, DATE_NO_YEAR, RELATIVE_TIME, TIME))


# --------------------------------------------------------------------------
# Line rules: one function per family, each returns True for chrome.
# --------------------------------------------------------------------------


def is_separator(line: str) -> bool:
    """Only punctuation or symbols: '* * *', '<…>', '---'."""
    return not any(ch.isalnum() for ch in line) and not NON_WORD.sub("", line)


def is_icon_or_menu_dump(line: str) -> bool:
    """Token soup: icon-font names ('chevron downicon') or a long run of menu words."""
    tokens = _words(line)
    icons = sum(1 for t in tokens if ICON_TOKEN.search(t))
    if icons >= 3 and icons * 5 >= len(tokens):
        return True
    if len(MENU_SEPARATOR.split(line)) >= 4 and all(len(_words(p)) <= 4 for p in MENU_SEPARATOR.split(line)):
        return True
    if len(tokens) >= 8 and not SENTENCE_MARKS.search(line):
        capitalised = sum(1 for t in tokens if t[0].isupper() or t[0].isdigit())
        return capitalised * 10 >= len(tokens) * 9
    return False


def is_read_more_link(line: str) -> bool:
    """'READ MORE: ...', 'Baca juga: ...', 'Leia também ...' cross-links."""
    m = READ_MORE.match(line)
    if not m:
        return False
    label = line[: m.end()].strip()
    if m["sep"] or label.isupper() or m.end() >= len(line):
        return True
    # no separator after the label: a link title, not a sentence
    return len(_words(line)) <= 20 and not SENTENCE_END.search(line)


def is_advert(line: str) -> bool:
    """Ad shortcodes ('[iklan_2]') and ad labels ('ADVERTISEMENT', 'Publicidade')."""
    if len(line) > SHORT_LINE_CHARS:
        return False
    if not AD_SHORTCODE.sub("", line).strip():
        return True
    return _key(line) in AD_LINES


def is_counter_or_share_bar(line: str) -> bool:
    """'Komentar (0)', '12 comments', or a bar of share/print buttons."""
    if len(line) > SHORT_LINE_CHARS:
        return False
    if COMMENT_COUNTER.match(line) or NUMBER_COUNTER.match(line):
        return True
    key = _key(line)
    if key in COMMENT_PROMPTS:
        return True
    words = set(key.replace("copy link", "copy").split())
    return bool(words) and words <= SHARE_BAR_WORDS and bool(words & SHARE_BAR_STRONG_WORDS)


def is_gallery_counter(line: str) -> bool:
    """'5 of 21', '3 dari 10', '2 de 15', 'Photo 3/12'."""
    return bool(GALLERY_COUNTER.match(line))


def is_photo_credit(line: str) -> bool:
    """Photo credits and captions that end in a credit."""
    n = len(_words(line))
    if CREDIT_START.match(line) and n <= SHORT_CREDIT_WORDS:
        return True
    if SENTENCE_END.search(line) and not line.endswith(")"):
        return False  # a sentence, even if it mentions a photo or an agency
    if CREDIT_PARENTHESIS.search(line):
        return True
    m = CREDIT_INLINE.search(line)
    if m and len(_words(line[m.end() - 1 :])) <= CREDIT_TAIL_WORDS:
        return True
    if AGENCY_SLASH.search(line) and n <= 30:
        return True
    if CREDIT_AGENCY_END.search(line) and n <= 20:
        return True
    return n <= 6 and bool(CREDIT_AGENCY.search(line))


def is_byline(line: str) -> bool:
    """'By Mara Linden', 'Oleh: Budi Santoso', 'Por Ana Prado' (a few words, no sentence)."""
    return bool(BYLINE.match(line)) and _is_short_fragment(line, 6)


def is_site_footer(line: str) -> bool:
    """Source links, publication data, print/email, newsletter, cookies, copyright, follow-us."""
    n = len(_words(line))
    if n > COOKIE_MAX_WORDS:
        return False
    if SITE_FOOTER_START.match(line) and n <= FOOTER_MAX_WORDS:
        return True
    folded = line.casefold()
    if n <= FOOTER_MAX_WORDS and any(w in folded for w in RIGHTS_HINTS) and RIGHTS_NOTICE.search(line):
        return True
    return "cookie" in folded and bool(COOKIE_NOTICE.search(line))


def is_date_or_time_line(line: str) -> bool:
    """A date and/or time with nothing else but weekday, time zone or 'Published'."""
    if len(_words(line)) > 10 or not _has_date_or_time(line):
        return False
    rest = DATE_FILLER.sub(" ", _strip_dates_and_times(line))
    return not NON_WORD.sub("", rest)


def chrome_phrase_family(line: str) -> str | None:
    """Family of a short line that is a known chrome phrase ('Privacy Policy', 'Leave a Reply',
    'Halaman 2 dari 9', 'Читайте также'), from data/boilerplate_lines.json; None otherwise."""
    if len(line) > SHORT_LINE_CHARS * 2 or len(_words(line)) > CHROME_LINE_MAX_WORDS:
        return None
    key = _chrome_key(line)
    if not key:
        return None
    for family, (whole, prefixes) in CHROME_PHRASES.items():
        if key in whole:
            return family
        if prefixes and key.startswith(prefixes) and not (
            SENTENCE_END.search(line) and len(_words(line)) >= PROSE_MIN_WORDS and family == "related"
        ):
            return family
    return None


def is_chrome_phrase(line: str) -> bool:
    return chrome_phrase_family(line) is not None


LINE_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("separator", is_separator),
    ("advert", is_advert),
    ("date_time", is_date_or_time_line),
    ("gallery", is_gallery_counter),
    ("counter_share", is_counter_or_share_bar),
    ("icon_menu", is_icon_or_menu_dump),
    ("read_more", is_read_more_link),
    ("credit", is_photo_credit),
    ("byline", is_byline),
    ("site_footer", is_site_footer),
    ("chrome_phrase", is_chrome_phrase),
)
# families that anchor a metadata cluster
META_ANCHORS = frozenset(("date_time", "gallery", "counter_share"))


def classify_line(line: str) -> str | None:
    """Name of the first boilerplate family the line belongs to, or None."""
    for family, rule in LINE_RULES:
        if rule(line):
            return chrome_phrase_family(line) if family == "chrome_phrase" else family
    return None


# --------------------------------------------------------------------------
# Passes over the whole page
# --------------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Normalised non-empty lines; lines starting with ',', '.' or ';' rejoin the previous one."""
    lines: list[str] = []
    for line in normalize_text(text).split("\n"):
        if "[" in line and not is_advert(line):  # drop ad shortcodes inside a sentence
            line = SPACES.sub(" ", AD_SHORTCODE.sub(" ", line)).strip()
        if not line:
            continue
        if lines and CONTINUATION.match(line):
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def mark_tag_blocks(lines: list[str], reasons: list[str | None]) -> None:
    """A 'Tags'/'Topik'/'Geography' label and the short items after it."""
    i = 0
    while i < len(lines):
        if INLINE_TAGS.match(lines[i]) and _is_short_fragment(lines[i], 30):
            reasons[i] = reasons[i] or "tags"
        if not TAG_LABEL.match(lines[i]):
            i += 1
            continue
        reasons[i] = reasons[i] or "tags"
        i += 1
        while i < len(lines) and (TAG_LABEL.match(lines[i]) or _is_short_fragment(lines[i], TAG_MAX_WORDS)):
            reasons[i] = reasons[i] or "tags"
            i += 1


def mark_metadata_clusters(lines: list[str], reasons: list[str | None], keep: set[int]) -> None:
    """Runs of short lines (date, time, place, counter) go together if one is a date/time/counter."""
    run: list[int] = []
    for i in range(len(lines) + 1):
        member = i < len(lines) and i not in keep and (
            reasons[i] is not None or _is_short_fragment(lines[i], META_MAX_WORDS)
        )
        if member:
            run.append(i)
            continue
        if any(reasons[j] in META_ANCHORS for j in run):
            for j in run:
                reasons[j] = reasons[j] or "metadata"
        run = []


def _headline_like(line: str, min_words: int) -> bool:
    n = len(_words(line))
    letters = len(LETTER.findall(line))
    return (
        min_words <= n <= TITLE_MAX_WORDS
        and letters * 10 >= len(line.replace(" ", "")) * 6
        and not line.endswith((".", ",", ";", ":"))
    )


def _line_counts(lines: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        counts[_key(line)] = counts.get(_key(line), 0) + 1
    return counts


def _is_repeated_headline(line: str, counts: dict[str, int]) -> bool:
    """A long headline printed twice (top and bottom of the page) is not prose."""
    return counts[_key(line)] > 1 and not SENTENCE_END.search(line)


def choose_title(lines: list[str], header: list[int], counts: dict[str, int]) -> int | None:
    """Index of the headline among the header lines: a repeated one, else the nearest to the body."""
    for min_words in (TITLE_MIN_WORDS, 2):
        candidates = [i for i in reversed(header) if _headline_like(lines[i], min_words)]
        repeated = [i for i in candidates if counts[_key(lines[i])] > 1]
        if repeated:
            return repeated[0]
        if candidates:
            return _skip_standfirst(lines, header, candidates[0])
    return None


def _skip_standfirst(lines: list[str], header: list[int], index: int) -> int:
    """If the chosen line looks like a standfirst under a shorter headline, take the headline."""
    position = header.index(index)
    if position == 0:
        return index
    previous = header[position - 1]
    words, previous_words = len(_words(lines[index])), len(_words(lines[previous]))
    if words >= STANDFIRST_MIN_WORDS and 5 <= previous_words < words and _headline_like(lines[previous], 5):
        return previous
    return index


def find_published(lines: list[str], reasons: list[str | None]) -> str | None:
    """First parseable date on a date/metadata line, else on any removed line."""
    for families in (("date_time", "metadata"), None):
        for line, reason in zip(lines, reasons):
            if reason and (families is None or reason in families):
                if iso := parse_date(line):
                    return iso
    return None


def remove_boilerplate(text: str, *, trim_page_chrome: bool = True) -> BoilerplateResult:
    """Remove page chrome from a plain-text page dump.

    With trim_page_chrome=False only the line and tag-block rules run (for text
    that an HTML extractor already reduced to the article).
    """
    lines, reasons, title = _classify_page(text, trim_page_chrome)
    kept = [line for line, reason in zip(lines, reasons) if reason is None]
    return BoilerplateResult(
        text=join_paragraphs(kept),
        title=title,
        published=find_published(lines, reasons),
        removed_lines=len(lines) - len(kept),
    )


def explain(text: str) -> list[tuple[str, str | None]]:
    """Debug helper: each line with the family that removed it (None = kept)."""
    lines, reasons, _ = _classify_page(text, True)
    return list(zip(lines, reasons))


def _classify_page(text: str, trim_page_chrome: bool) -> tuple[list[str], list[str | None], str | None]:
    """Lines, the family that removes each (None = kept), and the title."""
    lines = split_lines(text)
    reasons: list[str | None] = [classify_line(line) for line in lines]
    mark_tag_blocks(lines, reasons)
    title = _trim_page_chrome(lines, reasons) if trim_page_chrome else None
    return lines, reasons, title


def main_span(lines: list[str], reasons: list[str | None], prose: set[int]) -> tuple[int, int]:
    """First and last line of the page's main text: the run of lines with the most prose.

    Every word of a prose line counts +1, every word of another line (menus, link lists,
    footers) -OFF_MAIN_WEIGHT with at least OFF_MAIN_LINE_WORDS words per line, of a line a rule
    already removed -RULE_LINE_WEIGHT, at least one word per line; the span with the largest sum wins (maximum subarray). Article paragraphs separated by a short "related"
    block stay together; a sidebar teaser or footer blurb far from the article falls outside.
    """
    best, best_span = float("-inf"), (min(prose), max(prose))
    total, start = 0.0, 0
    for i, line in enumerate(lines):
        words = len(_words(line))
        if i in prose:
            total += words
        elif reasons[i] is None:
            total -= OFF_MAIN_WEIGHT * max(words, OFF_MAIN_LINE_WORDS)
        else:  # chrome a line rule knows (ads, read-more links, credits) sits inside articles too
            total -= RULE_LINE_WEIGHT * max(words, 1)
        if total > best:
            best, best_span = total, (start, i)
        if total <= 0:
            total, start = 0.0, i + 1
    first, last = best_span
    # the span starts and ends on prose lines
    inside = [i for i in prose if first <= i <= last]
    return (min(inside), max(inside)) if inside else (min(prose), max(prose))


def _trim_page_chrome(lines: list[str], reasons: list[str | None]) -> str | None:
    """Metadata clusters, header and footer; returns the title."""
    repeats = _line_counts(lines)
    prose = [
        i
        for i, line in enumerate(lines)
        if reasons[i] is None and is_prose(line) and not _is_repeated_headline(line, repeats)
    ]
    if not prose:
        mark_metadata_clusters(lines, reasons, keep=set())
        return None
    first, last = main_span(lines, reasons, set(prose))
    header = [i for i in range(first) if reasons[i] is None]
    title_index = choose_title(lines, header, repeats)
    title = lines[title_index] if title_index is not None else None
    mark_metadata_clusters(lines, reasons, keep={title_index} if title_index is not None else set())
    title_key = _key(title) if title else None
    title_first = min((i for i in header if _key(lines[i]) == title_key), default=None)
    for i in header:
        standfirst = (
            title_first is not None
            and i > title_first
            and len(_words(lines[i])) >= STANDFIRST_MIN_WORDS
            and _key(lines[i]) != title_key
        )
        if reasons[i] is None and not standfirst:
            reasons[i] = "header"
    for i in range(last + 1, len(lines)):
        reasons[i] = reasons[i] or "footer"
    for i in prose:
        if not first <= i <= last and reasons[i] in ("header", "footer"):
            reasons[i] = "off_main"
    for i, line in enumerate(lines):
        if title_key and reasons[i] is None and _key(line) == title_key:
            reasons[i] = "title"
    return title

