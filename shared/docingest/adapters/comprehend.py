"""Amazon Comprehend as an entity recogniser: BatchDetectEntities within its per-call limits.

Comprehend detects entities in 12 languages; text in any other language goes to the fallback.
A document is cut at sentence ends into parts under 5,000 UTF-8 bytes, sent 25 parts per call,
and the offsets are mapped back to the document.
"""
from __future__ import annotations

from typing import Any, Callable

from docingest.adapters.aws import client
from docingest.models import Entity

LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})
MAX_PART_BYTES = 4_900  # the limit is 5,000 bytes per document of a batch
MAX_PARTS_PER_CALL = 25
TYPES = {"PERSON": "PER", "ORGANIZATION": "ORG", "LOCATION": "LOC", "COMMERCIAL_ITEM": "MISC",
         "EVENT": "MISC", "TITLE": "MISC"}  # DATE, QUANTITY and OTHER: not names


class ComprehendRecognizer:
    def __init__(self, fallback: Callable[[str, str | None], list[Entity]], comprehend: Any = None,
                 min_score: float = 0.5):
        self.fallback = fallback
        self.comprehend = comprehend
        self.min_score = min_score

    def __call__(self, text: str, language: str | None) -> list[Entity]:
        code = _comprehend_language(language)
        if code is None:
            return self.fallback(text, language)
        comprehend = self.comprehend or client("comprehend")
        parts = split_parts(text)
        entities: list[Entity] = []
        for first in range(0, len(parts), MAX_PARTS_PER_CALL):
            batch = parts[first:first + MAX_PARTS_PER_CALL]
            response = comprehend.batch_detect_entities(TextList=[text[a:b] for a, b in batch], LanguageCode=code)
            if response.get("ErrorList"):
                error = response["ErrorList"][0]
                raise RuntimeError(f"Comprehend: {error.get('ErrorCode')}: {error.get('ErrorMessage')}")
            for result in response["ResultList"]:
                offset = batch[result["Index"]][0]
                entities.extend(self._entities(text, offset, result["Entities"]))
        return entities

    def _entities(self, text: str, offset: int, found: list[dict[str, Any]]) -> list[Entity]:
        entities = []
        for item in found:
            kind = TYPES.get(item["Type"])
            if kind is None or item.get("Score", 1.0) < self.min_score:
                continue
            start, end = offset + item["BeginOffset"], offset + item["EndOffset"]
            if text[start:end] != item["Text"]:
                continue  # offsets that do not point at the text are not trusted
            entities.append(Entity(text=item["Text"], type=kind, start=start, end=end))
        return entities


def _comprehend_language(language: str | None) -> str | None:
    if not language:
        return None
    if language in LANGUAGES:
        return language
    code = language.split("-")[0].lower()
    return code if code in LANGUAGES else None


def split_parts(text: str, max_bytes: int = MAX_PART_BYTES) -> list[tuple[int, int]]:
    """(start, end) ranges covering ``text``, each under ``max_bytes`` in UTF-8, cut after a sentence
    end or line break when one is in reach, else at a space, else anywhere."""
    parts = []
    start = 0
    while start < len(text):
        end = _fit(text, start, max_bytes)
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind(". "), window.rfind("\n"), window.rfind("? "), window.rfind("! "))
            if cut <= 0:
                cut = window.rfind(" ")
            if cut > 0:
                end = start + cut + 1
        parts.append((start, end))
        start = end
    return parts


def _fit(text: str, start: int, max_bytes: int) -> int:
    """The largest end such that text[start:end] is at most max_bytes of UTF-8 (binary search)."""
    low, high = start, min(len(text), start + max_bytes)  # a character is at least one byte
    while low < high:
        middle = (low + high + 1) // 2
        if len(text[start:middle].encode("utf-8")) <= max_bytes:
            low = middle
        else:
            high = middle - 1
    return low
