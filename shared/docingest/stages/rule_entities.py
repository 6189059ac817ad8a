"""Rule- and gazetteer-based named-entity extraction (offline, standard library only).

The pipeline's first entity extractor, kept as the "rules" backend and as the baseline of
bench/quality_ner.py: capitalised word sequences and acronyms are typed with a gazetteer
(places, organisations, demonyms) and cue lists (organisation keywords, person titles,
stopwords); dates come from ``docingest.stages.dates``. English, Portuguese and
Indonesian cue lists ship in ``docingest/data/*.json``.

Steps for one text:
1. dates: regexes over the raw text (their tokens never join a name span);
2. tokens: words with offsets (Unicode letters, inner apostrophes and hyphens,
   possessive 's stripped);
3. spans: maximal runs of capitalised words, allowing lowercase connectors
   ("of the", "de", "da", ...) between two capitalised words;
4. pieces: each span is cut greedily into the longest gazetteer/cue matches
   (LOC, ORG, TITLE, DEMONYM, STOP) and unknown words;
5. typing: organisation keywords grow ORG pieces, unknown runs become PER
   (2-3 name-like words, or 1-4 after a title), then surname back-references.
"""
from __future__ import annotations

import importlib.resources
import json
import re
from dataclasses import dataclass, field

from docingest.models import Entity
from docingest.stages.dates import find_dates

LANGUAGES = ("en", "pt", "id")
_QUOTES = "\"'“”‘’«»„"
_SENTENCE_PUNCT = ",.;:!?"

# Piece kinds produced by segmentation (see _segment).
LOC, ORG, TITLE, DEMONYM, STOP, CONN, WORD, ACRO = (
    "LOC", "ORG", "TITLE", "DEMONYM", "STOP", "CONN", "WORD", "ACRO",
)
RUN, ORG_KEYWORD = "RUN", "ORGK"  # produced by grouping


# ---------------------------------------------------------------- data loading


def _load_json(name: str) -> dict:
    resource = importlib.resources.files("docingest.data").joinpath(name)
    return json.loads(resource.read_text(encoding="utf-8"))


_CUES = _load_json("entity_cues.json")
_GAZETTEER = _load_json("gazetteer.json")


def _normalise(word: str) -> str:
    """Lookup form of one token: case-folded, typographic apostrophe, no final dot."""
    return word.replace("’", "'").rstrip(".").casefold()


def _entry_key(entry: str) -> str:
    """Lookup key of a gazetteer/cue entry; single all-caps entries stay case-sensitive."""
    words = entry.split()
    if len(words) == 1 and entry.isupper():
        return entry
    return " ".join(_normalise(w) for w in words)


def _multiword_starts(entries: set[str] | frozenset[str]) -> set[str]:
    return {entry.split()[0] for entry in entries if " " in entry}


def _names_with_variants(table: dict[str, list[str]]) -> list[str]:
    return [name for key, variants in table.items() for name in (key, *variants)]


_PLACES = {
    _entry_key(name)
    for section in ("countries", "cities", "regions")
    for name in _names_with_variants(_GAZETTEER[section])
}
_ORGS = {_entry_key(name) for name in _GAZETTEER["organisations"]}
_DEMONYMS = {_normalise(name) for name in _GAZETTEER["demonyms"]}
_NAME_PARTICLES = set(_CUES["name_particles"])
_NON_NAME_WORDS = set(_CUES["non_name_words"])
_NON_NAME_SUFFIXES = tuple(_CUES["non_name_suffixes"])
_ABBREVIATIONS = _CUES["abbreviations_with_dot"]
_NON_PLACE_WORDS = set(_CUES["non_place_words"])
_HEAD_FIRST_KEYWORDS = frozenset(
    _normalise(w) for lang in ("pt", "id") for w in _CUES["org_keywords"][lang]
) - {_normalise(w) for w in _CUES["org_keywords"]["en"]}


@dataclass(frozen=True)
class _Cues:
    """Cue lists for one language (or the union of all languages)."""

    connectors: frozenset[str]
    org_keywords: frozenset[str]
    titles: frozenset[str]
    stopwords: frozenset[str]
    misc_keywords: frozenset[str]
    months: dict[str, int]  # normalised month name -> month number
    lowercase_months: frozenset[str]  # full month names also valid in lowercase
    max_ngram: int
    multiword_starts: frozenset[str]  # first words of multi-word places, orgs and titles
    place_first: frozenset[str]  # "River Wend", "Sungai Ciliwung", "Estado de São Paulo"
    place_last: frozenset[str]  # "Riverside Park", "Kilbrannan Bay"
    place_suffixes: frozenset[str]  # "Jakarta Timur", "Jaraguá do Sul"
    locative_prepositions: frozenset[str]  # "near Kingsford", "em Joinville", "di Cawang"


def _full_month_names(months: dict[str, int]) -> set[str]:
    """Month names that are not a shorter prefix of another name of the same month."""
    return {
        name
        for name, number in months.items()
        if not any(o != name and o.startswith(name) and n == number for o, n in months.items())
    }


def _build_cues(languages: tuple[str, ...]) -> _Cues:
    def merged(section: str) -> frozenset[str]:
        return frozenset(_entry_key(w) for lang in languages for w in _CUES[section][lang])

    months: dict[str, int] = {}
    lowercase_months: set[str] = set()
    for lang in languages:
        months.update(_CUES["months"][lang])
        if lang in _CUES["lowercase_month_languages"]:
            lowercase_months |= _full_month_names(_CUES["months"][lang])
    connectors = frozenset(w for c in merged("connectors") for w in c.split())
    titles = merged("titles")
    longest = max(len(k.split()) for k in (*_PLACES, *_ORGS, *titles))
    return _Cues(
        connectors=connectors,
        org_keywords=merged("org_keywords"),
        titles=titles,
        stopwords=merged("stopwords") | frozenset(months),
        misc_keywords=merged("misc_keywords"),
        months=months,
        lowercase_months=frozenset(lowercase_months),
        max_ngram=longest,
        multiword_starts=frozenset(_multiword_starts(_PLACES | _ORGS | titles)),
        place_first=merged("place_keywords_first"),
        place_last=merged("place_keywords_last"),
        place_suffixes=merged("place_suffixes"),
        locative_prepositions=merged("locative_prepositions"),
    )


_CUES_BY_LANGUAGE = {lang: _build_cues((lang,)) for lang in LANGUAGES}
_ALL_CUES = _build_cues(LANGUAGES)


def _cues_for(language: str | None) -> _Cues:
    """Cue lists of a language code like "pt" or "pt-BR"; all lists when unknown."""
    code = (language or "").replace("_", "-").split("-")[0].lower()
    return _CUES_BY_LANGUAGE.get(code, _ALL_CUES)


def _without_overlaps(entities: list[Entity]) -> list[Entity]:
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: (e.start, -(e.end - e.start))):
        if not kept or entity.start >= kept[-1].end:
            kept.append(entity)
    return kept


# ---------------------------------------------------------------- tokens and spans


_LETTERS = r"[^\W\d_](?:[^\W\d_]|[\u0300-\u036f])*"  # letters, NFD accents included
_WORD = rf"{_LETTERS}(?:['’\-]{_LETTERS})*"
_TOKEN_RE = re.compile(
    rf"(?P<abbr>\b(?:{'|'.join(_ABBREVIATIONS)})\.(?=\s))"
    rf"|(?P<initial>\b[A-Z]\.(?=\s*[A-Z]))"
    rf"|(?P<word>{_WORD})"
    r"|(?P<other>[^\s\w]|\d+|_+)"
)
_INITIAL_RE = re.compile(r"[A-Z]\.")
_POSSESSIVE_RE = re.compile(r"['’]s$", re.IGNORECASE)
_PARTICLE_PREFIX_RE = re.compile(r"^(?:al|el|ad|as|ash|bin)-(?=[^\W\d_])")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    is_word: bool
    possessive: bool = False


def _tokenise(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN_RE.finditer(text):
        word = match.group()
        if match.lastgroup == "other":
            tokens.append(_Token(word, match.start(), match.end(), is_word=False))
            continue
        possessive = bool(_POSSESSIVE_RE.search(word)) and len(word) > 2
        if possessive:
            word = word[:-2]
        tokens.append(_Token(word, match.start(), match.start() + len(word), True, possessive))
    return tokens


def _is_capitalised(token: _Token) -> bool:
    if not token.is_word:
        return False
    return token.text[0].isupper() or bool(_PARTICLE_PREFIX_RE.match(token.text))


def _adjacent(text: str, left: _Token, right: _Token) -> bool:
    """Only spaces (no line break, no punctuation) between two tokens."""
    gap = text[left.end:right.start]
    return not left.possessive and (gap == " " or (gap.isspace() and "\n" not in gap))


def _find_spans(text: str, tokens: list[_Token], blocked: list[bool], cues: _Cues) -> list[tuple[int, int]]:
    """(first, last+1) token index ranges of capitalised words joined by connectors."""
    spans: list[tuple[int, int]] = []
    start = end = -1  # current span [start, end)
    for i, token in enumerate(tokens):
        if blocked[i]:
            continue
        if _is_capitalised(token):
            if start >= 0 and _joinable(text, tokens, blocked, end, i, cues):
                end = i + 1
            else:
                if start >= 0:
                    spans.append((start, end))
                start, end = i, i + 1
    if start >= 0:
        spans.append((start, end))
    return spans


def _joinable(text: str, tokens: list[_Token], blocked: list[bool], end: int, i: int, cues: _Cues) -> bool:
    """Can token i extend the span ending before `end`? At most two connectors in between."""
    if i - end > 2 or any(blocked[end:i]):
        return False
    between = tokens[end:i]
    if any(not t.is_word or _normalise(t.text) not in cues.connectors for t in between):
        return False
    chain = tokens[end - 1:i + 1]
    return all(_adjacent(text, a, b) for a, b in zip(chain, chain[1:]))


# ---------------------------------------------------------------- segmentation


@dataclass
class _Piece:
    kind: str
    tokens: list[_Token]
    keyword_first: bool = False  # ORG_KEYWORD pieces: "Kementerian Luar Negeri" style

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end


def _key(tokens: list[_Token]) -> str:
    if len(tokens) == 1 and tokens[0].text.isupper():
        return tokens[0].text
    return " ".join(_normalise(t.text) for t in tokens)


def _is_demonym(word: str) -> bool:
    key = _normalise(word)
    return key in _DEMONYMS or all(part in _DEMONYMS for part in key.split("-"))


def _lookup(words: list[str], raw: str, cues: _Cues) -> str | None:
    """Kind of a known word sequence (normalised `words`; `raw` text of a single word)."""
    folded = " ".join(words)
    key = raw if len(words) == 1 and raw.isupper() else folded
    if key in _PLACES:
        return LOC
    if key in _ORGS:
        return ORG
    if folded in cues.titles:
        return TITLE
    if len(words) == 1:
        if _is_demonym(raw):
            return DEMONYM
        if folded in cues.stopwords:
            return STOP
    return None


def _single_token_kind(token: _Token, cues: _Cues) -> str:
    word = token.text
    if not _is_capitalised(token):
        return CONN
    if word.isupper() and word.isalpha() and _normalise(word) not in cues.org_keywords:
        return ACRO if 2 <= len(word) <= 6 else STOP
    return WORD


def _segment(span: list[_Token], cues: _Cues) -> list[_Piece]:
    """Cut a span into the longest known matches, left to right."""
    pieces: list[_Piece] = []
    words = [_normalise(t.text) for t in span]
    i = 0
    while i < len(span):
        kind, length = _single_token_kind(span[i], cues), 1
        if kind != CONN:
            longest = min(cues.max_ngram, len(span) - i) if words[i] in cues.multiword_starts else 1
            for n in range(longest, 0, -1):
                if n > 1 and not _is_capitalised(span[i + n - 1]):
                    continue
                found = _lookup(words[i:i + n], span[i].text, cues)
                if found:
                    kind, length = found, n
                    break
        pieces.append(_Piece(kind, span[i:i + length]))
        i += length
    _silence_shouting(pieces)
    return pieces


def _silence_shouting(pieces: list[_Piece]) -> None:
    """Three or more acronyms in a row are an all-caps headline, not organisations."""
    run: list[_Piece] = []
    for piece in [*pieces, _Piece(STOP, [])]:
        if piece.kind == ACRO:
            run.append(piece)
            continue
        if len(run) >= 3:
            for acronym in run:
                acronym.kind = STOP
        run = []


def _group_runs(pieces: list[_Piece]) -> list[_Piece]:
    """Merge unknown words, and connectors between them, into RUN pieces."""
    grouped: list[_Piece] = []
    pending: list[_Piece] = []  # connectors waiting for the next piece
    for piece in pieces:
        if piece.kind == CONN:
            pending.append(piece)
            continue
        if piece.kind == WORD and grouped and grouped[-1].kind == RUN:
            grouped[-1].tokens += [t for p in pending for t in p.tokens] + piece.tokens
        else:
            grouped += pending
            grouped.append(_Piece(RUN, list(piece.tokens)) if piece.kind == WORD else piece)
        pending = []
    return grouped + pending


# ---------------------------------------------------------------- organisations


def _has_org_keyword(tokens: list[_Token], cues: _Cues) -> bool:
    return any(_normalise(t.text) in cues.org_keywords for t in tokens)


def _split_org_runs(pieces: list[_Piece], cues: _Cues) -> list[_Piece]:
    """Cut the organisation part (around an org keyword) out of each RUN."""
    result: list[_Piece] = []
    for piece in pieces:
        result += _split_run(piece, cues) if piece.kind == RUN else [piece]
    return result


def _split_run(run: _Piece, cues: _Cues) -> list[_Piece]:
    tokens = run.tokens
    is_keyword = [_normalise(t.text) in cues.org_keywords for t in tokens]
    if not any(is_keyword):
        return [run]
    first = is_keyword.index(True)
    block_start = first
    while block_start > 0 and _is_capitalised(tokens[block_start - 1]) and not _heads_name(tokens[first]):
        block_start -= 1
    keyword_first = block_start == first
    org_end = len(tokens) if keyword_first else _english_org_end(tokens, is_keyword, first)
    before = _strip_connectors(tokens[:block_start])
    after = _strip_connectors(tokens[org_end:])
    parts = [_Piece(RUN, before)] if before else []
    parts.append(_Piece(ORG_KEYWORD, tokens[block_start:org_end], keyword_first))
    return parts + ([_Piece(RUN, after)] if after else [])


def _heads_name(keyword: _Token) -> bool:
    """Portuguese/Indonesian keywords start the name: "Saham PT Maju" -> "PT Maju"."""
    return _normalise(keyword.text) in _HEAD_FIRST_KEYWORDS


def _english_org_end(tokens: list[_Token], is_keyword: list[bool], first: int) -> int:
    """End of "Collective Security Treaty Organisation" (keyword last): the last keyword of
    its block, or the whole run when a connector follows ("Central Bank of Russia")."""
    end, last_keyword = first + 1, first
    while end < len(tokens) and _is_capitalised(tokens[end]):
        if is_keyword[end]:
            last_keyword = end
        end += 1
    if end < len(tokens) and last_keyword == end - 1:  # keyword, then a connector
        return len(tokens)
    return last_keyword + 1


def _strip_connectors(tokens: list[_Token]) -> list[_Token]:
    start, end = 0, len(tokens)
    while start < end and not _is_capitalised(tokens[start]):
        start += 1
    while end > start and not _is_capitalised(tokens[end - 1]):
        end -= 1
    return tokens[start:end]


def _extend_orgs(pieces: list[_Piece], cues: _Cues) -> list[_Piece]:
    """Grow keyword organisations over neighbouring names:
    "Moscow State University", "Bank Indonesia", "Conselho de Segurança da ONU"."""
    for piece in pieces:
        if piece.kind == ORG and _has_org_keyword(piece.tokens, cues):
            piece.kind = ORG_KEYWORD
    result: list[_Piece] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if piece.kind != ORG_KEYWORD:
            result.append(piece)
            i += 1
            continue
        while result and result[-1].kind in (LOC, DEMONYM, ACRO, ORG) and not piece.keyword_first:
            piece.tokens = result.pop().tokens + piece.tokens
        i = _absorb_right(pieces, i + 1, piece)
        piece.kind = ORG
        result.append(piece)
    return result


def _absorb_right(pieces: list[_Piece], i: int, org: _Piece) -> int:
    """Append following names to `org`; returns the index of the first piece left."""
    names = (LOC, ORG, ACRO, ORG_KEYWORD, RUN)
    while i < len(pieces):
        j = i
        while j < len(pieces) and pieces[j].kind == CONN:
            j += 1
        if j == len(pieces) or pieces[j].kind not in names:
            break
        if j == i and pieces[j].kind == RUN:
            break  # "...Organisation Imangali Tasmagambetov": a name, not part of the org
        org.tokens += [t for p in pieces[i:j + 1] for t in p.tokens]
        i = j + 1
    return i


# ---------------------------------------------------------------- places


_MAX_PLACE_NAME_WORDS = 3  # capitalised words beside a place keyword; more is a headline


def _keyword_length(tokens: list[_Token], i: int, keywords: frozenset[str]) -> int:
    """Number of tokens of the place keyword starting at token i ("Estado de": 2), 0 if none."""
    if not _is_capitalised(tokens[i]):
        return 0
    for length in (2, 1):
        if i + length <= len(tokens) and _key(tokens[i:i + length]) in keywords:
            return length
    return 0


def _block_start(tokens: list[_Token], i: int) -> int:
    """First token of the connector-free capitalised block ending before token i."""
    while i > 0 and _is_capitalised(tokens[i - 1]):
        i -= 1
    return i


def _place_span(tokens: list[_Token], after_title: bool, cues: _Cues) -> tuple[int, int] | None:
    """(start, end) of the place named with a keyword inside a run: "River Wend",
    "Sungai Ciliwung", "Porto Novo do Sul" (keyword first), "Riverside Park" (keyword last)."""
    for i in range(len(tokens)):
        length = _keyword_length(tokens, i, cues.place_first)
        if length and i + length < len(tokens):
            words = sum(_is_capitalised(t) for t in tokens[i + length:])
            return (i, len(tokens)) if words <= _MAX_PLACE_NAME_WORDS else None
        if _keyword_length(tokens, i, cues.place_last) == 1 and i > 0 and _is_capitalised(tokens[i - 1]):
            start = _block_start(tokens, i)
            if i - start > _MAX_PLACE_NAME_WORDS or (start == 0 and after_title):
                return None  # "Mr Damon Hill" is a person
            return start, i + 1
    return _suffix_place_span(tokens, cues)


def _suffix_place_span(tokens: list[_Token], cues: _Cues) -> tuple[int, int] | None:
    """A run ending in a cardinal suffix: "Kalimantan Timur", "Jaraguá do Sul"."""
    for length in (2, 1):
        suffix_start = len(tokens) - length
        if suffix_start > 0 and _is_capitalised(tokens[suffix_start - 1]):
            if _key(tokens[suffix_start:]) in cues.place_suffixes:
                start = _block_start(tokens, suffix_start)
                return (start, len(tokens)) if suffix_start - start <= 2 else None
    return None


def _split_place_run(run: _Piece, after_title: bool, cues: _Cues) -> list[_Piece]:
    span = _place_span(run.tokens, after_title, cues)
    if span is None:
        return [run]
    start, end = span
    before = _strip_connectors(run.tokens[:start])
    after = _strip_connectors(run.tokens[end:])
    parts = [_Piece(RUN, before)] if before else []
    parts.append(_Piece(LOC, run.tokens[start:end]))
    return parts + ([_Piece(RUN, after)] if after else [])


def _mark_places(pieces: list[_Piece], after_title: bool, cues: _Cues) -> list[_Piece]:
    """Type keyword places in the runs left over by the organisation rules (so "Port
    Authority" stays an organisation), and grow known places over a following run:
    "Porto" + "Novo do Sul", "Jakarta" + "Timur", "Jakarta" + "Bay"."""
    result: list[_Piece] = []
    for piece in pieces:
        if piece.kind != RUN:
            result.append(piece)
            continue
        previous = result[-1] if result else None
        if previous is not None and previous.kind == LOC:
            parts = _split_place_run(_Piece(RUN, previous.tokens + piece.tokens), False, cues)
            if parts[0].kind == LOC and len(parts[0].tokens) > len(previous.tokens):
                result[-1:] = parts
                continue
        title_before = previous.kind == TITLE if previous is not None else after_title
        result += _split_place_run(piece, title_before, cues)
    return result


def _after_locative(token: _Token, doc: _Document) -> bool:
    """A lone word right after "in", "near", "em", "di"..., not followed by another name word."""
    i = doc.token_index[token.start]
    if i == 0:
        return False
    before = doc.tokens[i - 1]
    if not before.is_word or _normalise(before.text) not in doc.cues.locative_prepositions:
        return False
    if not _adjacent(doc.text, before, token):
        return False
    after = doc.tokens[i + 1] if i + 1 < len(doc.tokens) else None
    return after is None or not (_is_capitalised(after) and _adjacent(doc.text, token, after))


def _place_like(token: _Token, doc: _Document) -> bool:
    word = _normalise(token.text)
    if len(word) < 2 or token.text.isupper() or word in doc.lowercase_words:
        return False
    return word not in _NON_PLACE_WORDS and word not in _NON_NAME_WORDS and not word.endswith(_NON_NAME_SUFFIXES)


def _resolve_locative_words(doc: _Document) -> None:
    """A lone unknown word after a locative preposition ("near Kingsford") is a place when
    the document never uses it in a person or organisation name; its other lone mentions too."""
    in_names = {w for e in doc.entities if e.type in ("PER", "ORG") for w in e.text.split()}
    places = {
        t.text for t in doc.single_words
        if t.text not in in_names and _after_locative(t, doc) and _place_like(t, doc)
    }
    for token in doc.single_words:
        if token.text in places:
            _add(doc, "LOC", [token])


# ---------------------------------------------------------------- persons and typing


@dataclass
class _Document:
    """What the typing rules need to know about the whole text."""

    text: str
    cues: _Cues
    lowercase_words: set[str]
    tokens: list[_Token] = field(default_factory=list)
    token_index: dict[int, int] = field(default_factory=dict)  # token start offset -> index
    entities: list[Entity] = field(default_factory=list)
    single_words: list[_Token] = field(default_factory=list)  # for surname back-references


def _name_like(tokens: list[_Token], doc: _Document) -> bool:
    for token in tokens:
        word = _normalise(token.text)
        if _INITIAL_RE.fullmatch(token.text):
            continue  # "J. K. Rowling"
        if len(word) < 2 or token.text.isupper() or not _is_capitalised(token):
            return False
        if word in _NON_NAME_WORDS or word in doc.lowercase_words or word in doc.cues.titles:
            return False
        if word.endswith(_NON_NAME_SUFFIXES):
            return False
    return True


def _quoted(tokens: list[_Token], text: str) -> bool:
    before = text[tokens[0].start - 1:tokens[0].start]
    after = text[tokens[-1].end:tokens[-1].end + 2].lstrip(_SENTENCE_PUNCT)[:1]
    return bool(before) and before in _QUOTES and bool(after) and after in _QUOTES


def _name_candidates(run: _Piece, doc: _Document) -> list[list[_Token]]:
    """A run is one name when its connectors are name particles ("Lula da Silva"),
    otherwise one candidate per connector-free block."""
    connectors = [t for t in run.tokens if not _is_capitalised(t)]
    if all(_normalise(t.text) in _NAME_PARTICLES for t in connectors):
        return [run.tokens]
    blocks: list[list[_Token]] = [[]]
    for token in run.tokens:
        if _is_capitalised(token):
            blocks[-1].append(token)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _type_run(run: _Piece, after_title: bool, doc: _Document) -> None:
    for candidate in _name_candidates(run, doc):
        words = [t for t in candidate if _is_capitalised(t)]
        if len(words) > 1 and any(_normalise(t.text) in doc.cues.misc_keywords for t in words):
            _add(doc, "MISC", candidate)
        elif _quoted(candidate, doc.text):
            _add(doc, "MISC", candidate)
        elif _name_like(words, doc) and 1 + (not after_title) <= len(words) <= _max_name_words(
            candidate, after_title
        ):
            _add(doc, "PER", candidate)
        elif len(words) == 1:
            doc.single_words.append(words[0])
        after_title = False


def _max_name_words(candidate: list[_Token], after_title: bool) -> int:
    """2-3 words, up to 4 after a title or with a particle ("Lula da Silva")."""
    has_particle = any(not _is_capitalised(t) for t in candidate)
    return 4 if after_title or has_particle else 3


def _add(doc: _Document, label: str, tokens: list[_Token]) -> None:
    start, end = tokens[0].start, tokens[-1].end
    doc.entities.append(Entity(text=doc.text[start:end], type=label, start=start, end=end))


_LABELS = {LOC: "LOC", ORG: "ORG", ACRO: "ORG", DEMONYM: "MISC"}


def _type_pieces(pieces: list[_Piece], after_title: bool, doc: _Document) -> None:
    for piece in pieces:
        if piece.kind == TITLE:
            after_title = True
        elif piece.kind == STOP:
            after_title = False
        elif piece.kind == RUN:
            _type_run(piece, after_title, doc)
            after_title = False
        elif piece.kind in _LABELS and not _bare_keyword(piece, doc.cues):
            _add(doc, _LABELS[piece.kind], piece.tokens)


def _bare_keyword(piece: _Piece, cues: _Cues) -> bool:
    """"Council" or "Organisasi" alone is not an organisation name."""
    tokens = piece.tokens
    return len(tokens) == 1 and _key(tokens) not in _ORGS and _normalise(tokens[0].text) in cues.org_keywords


def _preceded_by_title(tokens: list[_Token], first: int, doc: _Document) -> bool:
    """A lowercase title right before a span: "presidente Lula", "juru bicara Kremlin"."""
    words: list[str] = []
    for token in reversed(tokens[max(0, first - 3):first]):
        if not token.is_word:
            break
        words.insert(0, _normalise(token.text))
        if " ".join(words) in doc.cues.titles:
            return True
    return False


def _resolve_back_references(doc: _Document) -> None:
    """A lone word equal to the first or last word of a person found elsewhere is PER."""
    name_parts = set()
    for entity in doc.entities:
        if entity.type == "PER":
            words = entity.text.split()
            name_parts.update({words[0], words[-1]})
    for token in doc.single_words:
        if token.text in name_parts:
            _add(doc, "PER", [token])


# ---------------------------------------------------------------- public API


def extract_entities(text: str, language: str | None = None) -> list[Entity]:
    """Named entities (PER, ORG, LOC, MISC, DATE) in `text`, sorted by start offset.

    `language` is an ISO 639-1 code ("en", "pt", "id"); any other value uses the
    cue lists of all languages. Offsets are Python str indices, end exclusive, and
    ``text[e.start:e.end] == e.text`` holds for every entity.
    """
    if not text:
        return []
    cues = _cues_for(language)
    dates = find_dates(text, language)
    tokens = _tokenise(text)
    blocked = _tokens_inside(tokens, dates)
    doc = _Document(
        text=text,
        cues=cues,
        lowercase_words={_normalise(t.text) for t in tokens if t.is_word and t.text[0].islower()},
        tokens=tokens,
        token_index={t.start: i for i, t in enumerate(tokens)},
    )
    for first, last in _find_spans(text, tokens, blocked, cues):
        after_title = _preceded_by_title(tokens, first, doc)
        pieces = _segment(tokens[first:last], cues)
        pieces = _extend_orgs(_split_org_runs(_group_runs(pieces), cues), cues)
        _type_pieces(_mark_places(pieces, after_title, cues), after_title, doc)
    _resolve_back_references(doc)
    _resolve_locative_words(doc)
    return _without_overlaps(doc.entities + dates)


def _tokens_inside(tokens: list[_Token], spans: list[Entity]) -> list[bool]:
    """For each token: does it overlap one of the (sorted, disjoint) spans?"""
    blocked, j = [], 0
    for token in tokens:
        while j < len(spans) and spans[j].end <= token.start:
            j += 1
        blocked.append(j < len(spans) and spans[j].start < token.end)
    return blocked
