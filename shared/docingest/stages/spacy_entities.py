"""An installed spaCy pipeline as an entity recogniser (optional: spaCy is not in the layer).

``SPACY_MODEL`` names one pipeline for every language ("xx_ent_wiki_sm") or one per language
("en=en_core_web_sm,de=de_core_news_sm"); languages without a pipeline use the fallback.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from docingest.models import Entity

# spaCy labels (OntoNotes and WikiNER schemes) -> ours; DATE and numbers come from our own rules.
LABELS = {
    "PERSON": "PER", "PER": "PER",
    "ORG": "ORG",
    "GPE": "LOC", "LOC": "LOC", "FAC": "LOC",
    "NORP": "MISC", "EVENT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC", "PRODUCT": "MISC",
    "LANGUAGE": "MISC", "MISC": "MISC",
}


class SpacyRecognizer:
    def __init__(self, models: dict[str, str], fallback: Callable[[str, str | None], list[Entity]],
                 loader: Callable[[str], Any] | None = None):
        self.models = models  # language ("*" for any) -> pipeline name
        self.fallback = fallback
        self._load = lru_cache(maxsize=None)(loader or _spacy_load)

    @classmethod
    def from_setting(cls, setting: str, fallback: Callable[[str, str | None], list[Entity]],
                     loader: Callable[[str], Any] | None = None) -> "SpacyRecognizer":
        if not setting.strip():
            raise ValueError("ENTITY_BACKEND=spacy needs SPACY_MODEL (a pipeline name, or lang=name,...)")
        models = {}
        for part in setting.split(","):
            language, _, name = part.strip().rpartition("=")
            models[language or "*"] = name
        return cls(models, fallback, loader)

    def __call__(self, text: str, language: str | None) -> list[Entity]:
        code = (language or "").split("-")[0].lower()
        name = self.models.get(code) or self.models.get("*")
        if name is None:
            return self.fallback(text, language)
        doc = self._load(name)(text)
        return [
            Entity(text=text[span.start_char:span.end_char], type=LABELS[span.label_],
                   start=span.start_char, end=span.end_char)
            for span in doc.ents
            if span.label_ in LABELS and text[span.start_char:span.end_char].strip()
        ]


def _spacy_load(name: str) -> Any:
    import spacy  # an optional dependency the user installs with the pipeline

    return spacy.load(name, disable=["parser", "lemmatizer", "tagger", "attribute_ruler"])
