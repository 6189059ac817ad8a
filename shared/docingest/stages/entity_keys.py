"""Canonical entity keys: one key per real-world entity, within a document and across documents.

A key is ``TYPE:normalised name``, e.g. ``PER:vladimir putin``. Normalising folds case and
diacritics, drops honorifics and titles ("Mr", "Presiden", "Sra."), possessives ("Putin's") and
punctuation, and applies cheap transliteration folds to names of people ("Tokayev"/"Tokaev",
"Wladimir"/"Vladimir", "Dmitriy"/"Dmitry"). Places in the shipped gazetteer map their exonyms
to one name ("Moscou", "Moskau" -> "moscow").

Within a document, a shorter person mention that is part of exactly one longer one ("Putin" in a
text that also says "Vladimir Putin") takes the longer one's key, and an organisation spelled out
next to its acronym ("Organização das Nações Unidas" ... "ONU") takes the acronym's key.
"""
from __future__ import annotations

import importlib.resources
import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache

from docingest.models import Entity

NAME_TYPES = ("PER", "ORG", "LOC", "MISC")

_HONORIFICS = frozenset(
    # en
    "mr mrs ms miss mister dr prof professor sir dame lord lady president pres prime minister premier "
    "senator sen governor gov general gen colonel col captain capt lieutenant lt sergeant sgt king queen "
    "prince princess pope rev reverend judge chancellor mayor secretary ambassador "
    # pt / es
    "sr sra srta senhor senhora dom dona doutor doutora dra presidente ministro ministra senador senadora "
    "deputado deputada governador governadora prefeito prefeita papa rei rainha señor señora don doña "
    "alcalde general "
    # id / ms
    "bapak pak ibu bu presiden menteri gubernur bupati walikota wali kota jenderal letjen mayjen brigjen "
    "kapolri kapolda irjen haji hj h kh ir drs tuan puan datuk dato encik raja "
    # de / nl / fr
    "herr frau präsident prasident kanzler bundeskanzler bundeskanzlerin minister ministerin bürgermeister "
    "dhr mevr meneer mevrouw burgemeester m mme mlle monsieur madame président ministre maire".split()
)
_PARTICLES = frozenset("de da do das dos del della di du van von der den la le bin binti al el y e".split())
_STROKE_LETTERS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ß": "ss", "æ": "ae",
                                 "œ": "oe", "þ": "th", "ð": "d"})
_NON_WORD = re.compile(r"[^\w]+")
_POSSESSIVE = re.compile(r"['’]s?$")
_TRANSLITERATION = (
    (re.compile(r"(?<=[aeiou])ye"), "e"),  # Tokayev -> Tokaev, Sergeyev -> Sergeev
    (re.compile(r"(?:iy|ii|yi)$"), "y"),  # Dmitriy, Dmitrii -> Dmitry
    (re.compile(r"^w(?=[aeiou]|l)"), "v"),  # Wladimir -> Vladimir
    (re.compile(r"ph"), "f"),
)


def fold(text: str) -> str:
    """Case, diacritics and punctuation folded: "São Paulo's" -> "sao paulo"."""
    words = []
    for word in text.split():
        words.append(_POSSESSIVE.sub("", word) if len(word) > 2 else word)
    text = " ".join(words).casefold().translate(_STROKE_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


def _without_honorifics(words: list[str]) -> list[str]:
    start = 0
    while start < len(words) - 1 and words[start] in _HONORIFICS:
        start += 1
    return words[start:]


def _transliterated(word: str) -> str:
    for pattern, replacement in _TRANSLITERATION:
        word = pattern.sub(replacement, word)
    return word


def canonical_name(text: str, entity_type: str) -> str:
    """The normalised name of a mention (the part of the key after the type)."""
    words = fold(text).split()
    if entity_type == "PER":
        words = [_transliterated(w) for w in _without_honorifics(words)]
    elif entity_type == "LOC":
        return _place_names().get(" ".join(words), " ".join(words))
    return " ".join(words)


def entity_key(text: str, entity_type: str) -> str:
    return f"{entity_type}:{canonical_name(text, entity_type)}"


def search_names(query: str) -> list[str]:
    """The canonical names a free-text query may stand for, most specific first."""
    names = [canonical_name(query, kind) for kind in ("PER", "LOC", "ORG")]
    return list(dict.fromkeys(name for name in names if name))


@lru_cache(maxsize=1)
def _place_names() -> dict[str, str]:
    """Folded exonym -> folded canonical (English) name, from the shipped gazetteer."""
    resource = importlib.resources.files("docingest.data").joinpath("gazetteer.json")
    gazetteer = json.loads(resource.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for section in ("countries", "cities", "regions"):
        for name, variants in gazetteer[section].items():
            for variant in variants:
                names.setdefault(fold(variant), fold(name))
    return names


# ---------------------------------------------------------------- within one document


def assign_keys(entities: list[Entity]) -> list[Entity]:
    """Entities with their ``key`` set; DATE mentions keep no key."""
    keys = {id(e): entity_key(e.text, e.type) for e in entities if e.type in NAME_TYPES}
    _link_partial_person_names(entities, keys)
    _link_acronyms(entities, keys)
    return [e.model_copy(update={"key": keys[id(e)]}) if id(e) in keys else e for e in entities]


def _name_words(key: str) -> list[str]:
    return key.split(":", 1)[1].split()


def _link_partial_person_names(entities: list[Entity], keys: dict[int, str]) -> None:
    full_names = {keys[id(e)] for e in entities if e.type == "PER" and len(_name_words(keys[id(e)])) > 1}
    names_with_word: dict[str, set[str]] = defaultdict(set)
    for name in full_names:
        for word in _name_words(name):
            names_with_word[word].add(name)

    def longer_names(key: str) -> list[str]:
        words = _name_words(key)
        if not words:
            return []
        return [k for k in names_with_word.get(words[0], ()) if len(_name_words(k)) > len(words) and _contains(_name_words(k), words)]

    @cache
    def longest_form(key: str) -> str:
        """"PER:joko widodo" -> "PER:ir joko widodo" when only that longer name contains it."""
        longer = longer_names(key)
        return max(longer, key=lambda k: len(_name_words(k))) if len(longer) == 1 else key

    @cache
    def linked(key: str) -> str:
        forms = {longest_form(k) for k in longer_names(key)}
        return forms.pop() if len(forms) == 1 else key

    for entity in entities:
        if entity.type == "PER":
            keys[id(entity)] = linked(keys[id(entity)])


def _contains(words: list[str], part: list[str]) -> bool:
    """Is ``part`` a run of ``words`` that does not start or end on a particle ("da", "van")?"""
    if not part or part[0] in _PARTICLES or part[-1] in _PARTICLES:
        return False
    n = len(part)
    return any(words[i:i + n] == part for i in range(len(words) - n + 1))


_ACRONYM_SKIP = frozenset("of the and for de da do das dos del di du van der den la le des et e y dan".split())


def _initials(name: str) -> str:
    return "".join(w[0] for w in fold(name).split() if w not in _ACRONYM_SKIP)


def _link_acronyms(entities: list[Entity], keys: dict[int, str]) -> None:
    """An organisation's acronym and its spelled-out form share the acronym's key ("ORG:csto"): the
    acronym is what other documents and languages most often write. A place keeps its long form."""
    long_forms: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in entities:
        if e.type in ("ORG", "MISC", "LOC") and len(e.text.split()) >= 2:
            long_forms[(e.type, _initials(e.text))].add(keys[id(e)])
    renamed: dict[str, str] = {}
    for e in entities:
        if e.type in ("ORG", "MISC", "LOC") and re.fullmatch(r"[A-Z][A-Z.&]{1,9}", e.text):
            candidates = long_forms.get((e.type, fold(e.text).replace(" ", "")), set())
            if len(candidates) == 1:
                long_form = next(iter(candidates))
                if e.type == "LOC":
                    keys[id(e)] = long_form
                else:
                    renamed[long_form] = keys[id(e)]
    for e in entities:
        if id(e) in keys and keys[id(e)] in renamed:
            keys[id(e)] = renamed[keys[id(e)]]


# ---------------------------------------------------------------- per-document summary for the index


@dataclass(frozen=True)
class EntityMentions:
    """One entity of one document, as the entity index stores it."""

    key: str
    type: str
    name: str  # the most frequent surface form, longest on ties
    mentions: int
    first_sentence: str
    aliases: tuple[str, ...]  # canonical names a search may use: every form, and a person's surname


def summarise(text: str, entities: list[Entity]) -> list[EntityMentions]:
    """Group a document's keyed entities by key, most mentioned first."""
    groups: dict[str, list[Entity]] = defaultdict(list)
    for entity in entities:
        if entity.key:
            groups[entity.key].append(entity)
    summaries = []
    for key, group in groups.items():
        forms = Counter(e.text for e in group)
        name = max(forms, key=lambda form: (forms[form], len(form)))
        kind = group[0].type
        aliases = {canonical_name(e.text, kind) for e in group} | {key.split(":", 1)[1]}
        if kind == "PER":
            aliases |= {words[-1] for words in (a.split() for a in list(aliases)) if len(words) > 1}
        first = min(group, key=lambda e: e.start)
        summaries.append(EntityMentions(key, kind, name, len(group), sentence_around(text, first.start, first.end),
                                        tuple(sorted(a for a in aliases if a))))
    summaries.sort(key=lambda s: (-s.mentions, s.key))
    return summaries


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def sentence_around(text: str, start: int, end: int, limit: int = 400) -> str:
    """The sentence holding text[start:end], cut to about ``limit`` characters around the mention."""
    begin = max(0, start - limit - 1)  # a sentence starting earlier is cut to the limit anyway
    for match in _SENTENCE_END.finditer(text, begin, start):
        begin = match.end()
    match = _SENTENCE_END.search(text, end)
    finish = match.start() if match else len(text)
    if finish - begin > limit:
        begin = max(begin, start - limit // 2)
        finish = min(finish, end + limit // 2)
    return " ".join(text[begin:finish].split())
