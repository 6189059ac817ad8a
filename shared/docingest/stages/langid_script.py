"""Writing-system (ISO 15924) detection by Unicode block, for language identification.

Only the letters of a text count (with the combining marks of Indic and other abugidas). Han text is
told apart as Hans / Hant by a short list of characters that exist in one form only, Japanese (Jpan:
Han + kana) and Korean (Kore: Hangul, possibly with Han) by their own syllabaries.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter

__all__ = ["script_counts", "dominant_script", "SCRIPT_LANGUAGE", "LANGUAGE_SCRIPTS"]

_RANGES = [
    (0x0041, 0x005A, "Latn"), (0x0061, 0x007A, "Latn"), (0x00C0, 0x024F, "Latn"), (0x0250, 0x02AF, "Latn"),
    (0x0370, 0x03FF, "Grek"), (0x0400, 0x052F, "Cyrl"), (0x0530, 0x058F, "Armn"), (0x0590, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"), (0x0700, 0x074F, "Syrc"), (0x0750, 0x077F, "Arab"), (0x0780, 0x07BF, "Thaa"),
    (0x07C0, 0x07FF, "Nkoo"), (0x08A0, 0x08FF, "Arab"), (0x0900, 0x097F, "Deva"), (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"), (0x0A80, 0x0AFF, "Gujr"), (0x0B00, 0x0B7F, "Orya"), (0x0B80, 0x0BFF, "Taml"),
    (0x0C00, 0x0C7F, "Telu"), (0x0C80, 0x0CFF, "Knda"), (0x0D00, 0x0D7F, "Mlym"), (0x0D80, 0x0DFF, "Sinh"),
    (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Laoo"), (0x0F00, 0x0FFF, "Tibt"), (0x1000, 0x109F, "Mymr"),
    (0x10A0, 0x10FF, "Geor"), (0x1100, 0x11FF, "Hang"), (0x1200, 0x139F, "Ethi"), (0x13A0, 0x13FF, "Cher"),
    (0x1400, 0x167F, "Cans"), (0x1780, 0x17FF, "Khmr"), (0x1800, 0x18AF, "Mong"), (0x18B0, 0x18FF, "Cans"),
    (0x1C80, 0x1C8F, "Cyrl"), (0x1E00, 0x1EFF, "Latn"), (0x1F00, 0x1FFF, "Grek"), (0x2C60, 0x2C7F, "Latn"),
    (0x2D00, 0x2D2F, "Geor"), (0x2D30, 0x2D7F, "Tfng"), (0x2D80, 0x2DDF, "Ethi"), (0x2DE0, 0x2DFF, "Cyrl"),
    (0x3040, 0x309F, "Hira"), (0x30A0, 0x30FF, "Kana"), (0x3100, 0x312F, "Bopo"), (0x3130, 0x318F, "Hang"),
    (0x31F0, 0x31FF, "Kana"), (0x3400, 0x4DBF, "Hani"), (0x4E00, 0x9FFF, "Hani"), (0xA000, 0xA48F, "Yiii"),
    (0xA500, 0xA63F, "Vaii"), (0xA640, 0xA69F, "Cyrl"), (0xA720, 0xA7FF, "Latn"), (0xAB30, 0xAB6F, "Latn"),
    (0xAC00, 0xD7AF, "Hang"), (0xF900, 0xFAFF, "Hani"), (0xFB1D, 0xFB4F, "Hebr"), (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"), (0xFF21, 0xFF3A, "Latn"), (0xFF41, 0xFF5A, "Latn"), (0xFF66, 0xFF9F, "Kana"),
    (0xFFA0, 0xFFDC, "Hang"), (0x20000, 0x3134F, "Hani"),
]
_STARTS = [r[0] for r in _RANGES]

#: Scripts that (in practice) write one language: a text in them is that language.
SCRIPT_LANGUAGE = {
    "Hang": "ko", "Kore": "ko", "Jpan": "ja", "Thai": "th", "Laoo": "lo", "Khmr": "km", "Mymr": "my",
    "Geor": "ka", "Armn": "hy", "Grek": "el", "Tibt": "bo", "Sinh": "si", "Gujr": "gu", "Guru": "pa",
    "Orya": "or", "Taml": "ta", "Telu": "te", "Knda": "kn", "Mlym": "ml", "Thaa": "dv", "Yiii": "ii",
    "Vaii": "vai", "Cans": "iu", "Tfng": "zgh", "Hans": "zh", "Hant": "zh", "Hani": "zh", "Cher": "chr",
    "Nkoo": "nqo", "Syrc": "syr",
}

# Languages of the base model written in a script other than Latin (others: Latin).
LANGUAGE_SCRIPTS: dict[str, tuple[str, ...]] = {}
for _script, _langs in {
    "Arab": "ar arz azb fa ps ur ug ckb sd lrc mzn pnb ks",
    "Cyrl": "ru uk be bg mk sr kk ky tg tt ba cv ce os sah tyv xal bxr krc av lez kv mhr mrj myv rue mn uz tk az",
    "Deva": "hi mr ne sa mai bho new dty gom",
    "Beng": "bn as bpy", "Hebr": "he yi", "Ethi": "am ti", "Geor": "ka xmf", "Grek": "el", "Armn": "hy",
    "Hani": "zh wuu yue ja", "Hans": "zh wuu yue ja", "Hant": "zh wuu yue ja", "Jpan": "ja", "Hang": "ko",
    "Kore": "ko", "Thai": "th", "Laoo": "lo", "Khmr": "km", "Mymr": "my", "Tibt": "bo", "Sinh": "si",
    "Gujr": "gu", "Guru": "pa", "Orya": "or", "Taml": "ta", "Telu": "te", "Knda": "kn", "Mlym": "ml",
    "Thaa": "dv", "Mong": "mn",
}.items():
    for _lang in _langs.split():
        LANGUAGE_SCRIPTS[_lang] = LANGUAGE_SCRIPTS.get(_lang, ()) + (_script,)
for _lang in ("sr", "uz", "tk", "az", "ku", "mn"):  # also written in Latin
    LANGUAGE_SCRIPTS[_lang] = LANGUAGE_SCRIPTS.get(_lang, ()) + ("Latn",)

# Characters that exist only in the simplified or only in the traditional form (common ones).
_SIMPLIFIED = set("这们说为会对时来个学发经问关实现动开当过还进长东车门见书电话语认让国里后么义与应产业机务记们气区计头")
_TRADITIONAL = set("這們說為會對時來個學發經問關實現動開當過還進長東車門見書電話語認讓國裡後麼義與應產業機務記氣區計頭")

_CACHE: dict[str, str | None] = {}


def _script_of(ch: str) -> str | None:
    cached = _CACHE.get(ch, "")
    if cached != "":
        return cached
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    script = None
    if i >= 0 and cp <= _RANGES[i][1]:
        script = _RANGES[i][2]
        if not (ch.isalpha() or (script != "Latn" and not ch.isspace() and not ch.isdigit()
                                   and ch.isprintable() and not _is_punct(ch))):
            script = None
    if len(_CACHE) < 100_000:
        _CACHE[ch] = script
    return script


def _is_punct(ch: str) -> bool:
    import unicodedata

    return unicodedata.category(ch)[0] in "PSNZC"


def script_counts(text: str) -> Counter:
    counts: Counter = Counter()
    for ch in text:
        script = _script_of(ch)
        if script:
            counts[script] += 1
    return counts


def dominant_script(text: str, counts: Counter | None = None) -> str | None:
    """The text's main writing system as ISO 15924 (Jpan, Kore, Hans, Hant for East Asian text)."""
    counts = script_counts(text) if counts is None else counts
    if not counts:
        return None
    kana = counts.get("Hira", 0) + counts.get("Kana", 0)
    han = counts.get("Hani", 0)
    hang = counts.get("Hang", 0)
    if kana and kana + han >= max(counts.values()):
        return "Jpan"
    if hang and hang + han >= max(counts.values()) and hang >= han:
        return "Kore"
    script = max(counts, key=counts.get)
    if script in ("Hira", "Kana"):
        return "Jpan"
    if script == "Hang":
        return "Kore"
    if script == "Hani":
        simp = sum(1 for ch in text if ch in _SIMPLIFIED)
        trad = sum(1 for ch in text if ch in _TRADITIONAL)
        return "Hant" if trad > simp else "Hans"
    return script


_CLASS: dict[str, tuple[int, str | None, int]] = {}


def _classify(ch: str) -> tuple[int, str | None, int]:
    """(class, script, case): class 0 space, 1 letter, 2 combining mark, 3 other; case 1 upper, 2 lower."""
    import unicodedata

    if ch.isspace():
        info: tuple[int, str | None, int] = (0, None, 0)
    elif ch.isalpha():
        info = (1, _script_of(ch), 1 if ch.isupper() else 2 if ch.islower() else 0)
    elif unicodedata.category(ch)[0] == "M":
        cp = ord(ch)
        i = bisect.bisect_right(_STARTS, cp) - 1
        script = _RANGES[i][2] if i >= 0 and cp <= _RANGES[i][1] else None
        info = (2, script, 0)
    else:
        info = (3, None, 0)
    if len(_CLASS) < 200_000:
        _CLASS[ch] = info
    return info


class _Table(dict):
    """str.translate table filled lazily: each character maps to a one-character code (or None)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, cp: int):
        value = self.fn(chr(cp))
        if len(self) < 200_000:
            self[cp] = value
        return value


_SCRIPT_NAMES = sorted({r[2] for r in _RANGES})
_SCRIPT_CODE = {name: chr(0x41 + i) for i, name in enumerate(_SCRIPT_NAMES)}  # one letter per script
_CODE_SCRIPT = {code: name for name, code in _SCRIPT_CODE.items()}


def _class_code(ch: str) -> str:
    cls, _script, case = _classify(ch)
    if cls == 1:
        return "U" if case == 1 else "l" if case == 2 else "L"
    return (" ", "L", "M", "o")[cls]


def _script_code(ch: str) -> str | None:
    cls, script, _case = _classify(ch)
    return _SCRIPT_CODE[script] if cls in (1, 2) and script else None


_CLASS_TABLE = _Table(_class_code)
_SCRIPT_TABLE = _Table(_script_code)
_RUN_RE = re.compile(r"[UlL][UlLM]+")


def scan(text: str) -> tuple[int, int, int, int, Counter]:
    """One pass: (word letters, non-space characters, upper-case, lower-case, letters per script).

    Word letters are letters (with their combining marks) in runs of at least two.
    """
    classes = text.translate(_CLASS_TABLE)
    word_letters = sum(len(run) for run in _RUN_RE.findall(classes))
    non_space = len(classes) - classes.count(" ")
    upper = classes.count("U")
    lower = classes.count("l")
    counts = Counter({_CODE_SCRIPT[c]: n for c, n in Counter(text.translate(_SCRIPT_TABLE)).items()})
    return word_letters, non_space, upper, lower, counts
