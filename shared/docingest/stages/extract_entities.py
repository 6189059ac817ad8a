"""The extract-entities stage: names from a recogniser, dates by rules, canonical keys.

``extract_entities(text, language)`` returns PER, ORG, LOC, MISC and DATE mentions sorted by
offset, with ``text[e.start:e.end] == e.text`` for every one. Names come from a recogniser chosen
by name (the ``ENTITY_BACKEND`` setting):

- ``crf``: the shipped models (default; offline, see docs/model-card-ner.md): a CRF per language, and
  for Indonesian and Portuguese (and the languages that fall back to them) a BiLSTM-CRF run with numpy
  (``ner_bilstm``), the CRF being its fallback;
- ``rules``: the first rule- and gazetteer-based extractor;
- ``spacy``: an installed spaCy pipeline (``SPACY_MODEL``: a name, or ``en=en_core_web_sm,de=...``);
- ``comprehend``: Amazon Comprehend, for the languages it supports (the shipped model otherwise).
"""
from __future__ import annotations

import os
import re
from bisect import bisect_left
from functools import lru_cache
from typing import Callable, Protocol

from docingest.deadline import check
from docingest.models import Entity
from docingest.stages.dates import find_dates
from docingest.stages.entity_keys import NAME_TYPES, assign_keys
from docingest.stages.ner_tokens import Token, sentence_spans, tokenize

DEFAULT_BACKEND = "crf"
SENTENCES_PER_CHUNK = 400  # the CRF tags a long document this many sentences at a time


class Recognizer(Protocol):
    def __call__(self, text: str, language: str | None) -> list[Entity]: ...


def extract_entities(text: str, language: str | None = None, backend: str | None = None) -> list[Entity]:
    """Named entities and dates of ``text`` with canonical keys, sorted by start offset."""
    if not text or not text.strip():
        return []
    names = [e for e in recognizer(backend or DEFAULT_BACKEND)(text, language) if e.type in NAME_TYPES]
    dates = find_dates(text, language)
    return assign_keys(_merge(dates, names))


def _merge(preferred: list[Entity], others: list[Entity]) -> list[Entity]:
    """Both lists, sorted; a mention of ``others`` overlapping one of ``preferred`` is dropped."""
    kept = list(preferred)
    taken = sorted((e.start, e.end) for e in preferred)
    starts = [start for start, _ in taken]
    furthest_end, running = [], -1  # furthest_end[i]: the largest end among taken[:i + 1]
    for _, end in taken:
        running = max(running, end)
        furthest_end.append(running)
    for entity in others:
        before = bisect_left(starts, entity.end)  # taken[:before] start before the entity ends
        if not (before and furthest_end[before - 1] > entity.start):
            kept.append(entity)
    return sorted(kept, key=lambda e: (e.start, e.end))


# ---------------------------------------------------------------- recognisers


def recognizer(name: str) -> Recognizer:
    factories: dict[str, Callable[[], Recognizer]] = {
        "crf": lambda: crf_entities,
        "rules": lambda: _rule_entities,
        "spacy": _spacy_from_env,
        "comprehend": _comprehend_from_env,
    }
    if name not in factories:
        raise ValueError(f"unknown entity backend {name!r}: use one of {', '.join(factories)}")
    return _cached(name, factories[name])


@lru_cache(maxsize=None)
def _cached(name: str, factory: Callable[[], Recognizer]) -> Recognizer:
    return factory()


def crf_entities(text: str, language: str | None) -> list[Entity]:
    """PER/ORG/LOC/MISC from the shipped model of the language (a fallback model otherwise): the CRF, or
    the BiLSTM-CRF where ``ner_crf.load_tagger`` picks it (id, pt)."""
    from docingest.stages.ner_crf import load_tagger, model_language

    tagger = load_tagger(model_language(language))
    tokens = tokenize(text)
    spans = sentence_spans(tokens, text)
    entities: list[Entity] = []
    for first in range(0, len(spans), SENTENCES_PER_CHUNK):
        check(f"tagging sentences {first + 1}-{min(first + SENTENCES_PER_CHUNK, len(spans))} of {len(spans)}")
        chunk = spans[first:first + SENTENCES_PER_CHUNK]
        sentences = [tokens[begin:end] for begin, end in chunk]
        tags = tagger.tag_document([[t.text for t in sentence] for sentence in sentences])
        for sentence, sentence_tags in zip(sentences, tags):
            entities.extend(entities_from_bio(text, sentence, sentence_tags))
    return _without_capitalised_common_words(entities, tokens, spans)


def _without_capitalised_common_words(entities: list[Entity], tokens: list[Token],
                                      spans: list[tuple[int, int]]) -> list[Entity]:
    """Drop a one-word mention that only starts a sentence ("Ferries returned...") when the document
    also writes that word in lowercase: a common word capitalised by its position, not a name."""
    lowercase = {t.text for t in tokens if t.text[:1].islower()}
    sentence_starts = {tokens[begin].start for begin, end in spans if begin < end}
    return [
        e for e in entities
        if not (e.start in sentence_starts and " " not in e.text and e.text.lower() in lowercase)
    ]


def entities_from_bio(text: str, tokens: list[Token], tags: list[str]) -> list[Entity]:
    """Character spans of BIO-tagged tokens; an I- tag without its B- starts a mention, and quotes or
    brackets at the edges of a mention are left out of it."""
    spans: list[tuple[str, int, int]] = []  # (type, first token, last token)
    for i, tag in enumerate(tags[: len(tokens)]):
        kind = tag[2:] if tag[:2] in ("B-", "I-") else None
        if kind and tag.startswith("I-") and spans and spans[-1][0] == kind and spans[-1][2] == i - 1:
            spans[-1] = (kind, spans[-1][1], i)
        elif kind:
            spans.append((kind, i, i))
    entities = []
    for kind, first, last in spans:
        while first <= last and _EDGE_PUNCTUATION.fullmatch(tokens[first].text):
            first += 1
        while last >= first and _EDGE_PUNCTUATION.fullmatch(tokens[last].text) and not _closes(tokens, first, last):
            last -= 1
        if first <= last:
            start, end = tokens[first].start, tokens[last].end
            entities.append(Entity(text=text[start:end], type=kind, start=start, end=end))
    return entities


def _closes(tokens: list[Token], first: int, last: int) -> bool:
    """Does the token at ``last`` close a bracket opened inside the mention ("Lei 8.078 ( CDC )")?"""
    opening = {")": "(", "]": "[", "}": "{", "»": "«", "”": "“"}.get(tokens[last].text)
    return opening is not None and any(t.text == opening for t in tokens[first:last])


_EDGE_PUNCTUATION = re.compile(r"[\"'‘’‚“”„«»‹›()\[\]{}<>,;:!?]+|''|``")


def _rule_entities(text: str, language: str | None) -> list[Entity]:
    from docingest.stages.rule_entities import extract_entities as rule_extract

    return rule_extract(text, language)


def _spacy_from_env() -> Recognizer:
    from docingest.stages.spacy_entities import SpacyRecognizer

    return SpacyRecognizer.from_setting(os.environ.get("SPACY_MODEL", ""), fallback=crf_entities)


def _comprehend_from_env() -> Recognizer:
    from docingest.adapters.comprehend import ComprehendRecognizer

    return ComprehendRecognizer(fallback=crf_entities)
