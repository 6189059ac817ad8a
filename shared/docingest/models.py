"""Results of the pure stages: plain pydantic models, no AWS."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

EntityType = Literal["PER", "ORG", "LOC", "MISC", "DATE"]


class Entity(BaseModel):
    """A mention in the clean text: Python str offsets, end exclusive."""

    text: str
    type: EntityType
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    value: str | None = None  # normalised value, e.g. ISO date for DATE
    key: str | None = None  # canonical entity key, e.g. "PER:vladimir putin" (not for DATE)


class CleanResult(BaseModel):
    text: str
    title: str | None = None
    published: str | None = None  # ISO 8601 date
    modified: str | None = None  # ISO 8601 date of the last update the page declares
    author: str | None = None
    site_name: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    removed_lines: int = 0  # plain text: boilerplate lines dropped


class LanguageShare(BaseModel):
    language: str
    share: float = Field(ge=0.0, le=1.0)  # of the text's letters, by paragraph


class LanguageResult(BaseModel):
    language: str  # ISO 639-1, 639-3 where none exists, "und" when unknown
    confidence: float = Field(ge=0.0, le=1.0)
    script: str | None = None  # ISO 15924: Latn, Cyrl, Arab, Hans, Hant, Jpan, Deva...
    languages: list[LanguageShare] | None = None  # mixed-language text: each language's share
