"""DATE mentions with ISO values, by rules, in the pipeline's NER languages.

Forms: "23 November 2023", "November 23, 2023", "23 de novembro de 2023", "23. November 2023",
"1er mars 2024", "September 2022", "23 November" (no year: "--11-23"), "2023-11-23", "23/11/2023"
and "23.11.2023" (day first; "11/23/2023" month first in English, when the day is above 12). A month name in
lowercase counts only in languages that write months in lowercase ("5 de maio"; never English "may 5").
"""
from __future__ import annotations

import datetime
import re
from functools import lru_cache

from docingest.models import Entity

_MONTHS: dict[str, dict[str, int]] = {
    "en": {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
           "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
           "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
           "dec": 12},
    "pt": {"janeiro": 1, "jan": 1, "fevereiro": 2, "fev": 2, "março": 3, "marco": 3, "mar": 3,
           "abril": 4, "abr": 4, "maio": 5, "mai": 5, "junho": 6, "jun": 6, "julho": 7, "jul": 7,
           "agosto": 8, "ago": 8, "setembro": 9, "set": 9, "outubro": 10, "out": 10, "novembro": 11,
           "nov": 11, "dezembro": 12, "dez": 12},
    "id": {"januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3, "mar": 3,
           "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "agustus": 8,
           "agu": 8, "agt": 8, "ags": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10,
           "november": 11, "nov": 11, "desember": 12, "des": 12},
    "es": {"enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "mar": 3, "abril": 4, "abr": 4,
           "mayo": 5, "may": 5, "junio": 6, "jun": 6, "julio": 7, "jul": 7, "agosto": 8, "ago": 8,
           "septiembre": 9, "setiembre": 9, "sept": 9, "sep": 9, "octubre": 10, "oct": 10,
           "noviembre": 11, "nov": 11, "diciembre": 12, "dic": 12},
    "de": {"januar": 1, "jänner": 1, "jan": 1, "februar": 2, "feb": 2, "märz": 3, "mär": 3, "april": 4,
           "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "august": 8, "aug": 8,
           "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11,
           "dezember": 12, "dez": 12},
    "fr": {"janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "mars": 3, "avril": 4,
           "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8,
           "septembre": 9, "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
           "décembre": 12, "decembre": 12, "déc": 12},
    "nl": {"januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "april": 4, "apr": 4,
           "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8,
           "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11,
           "december": 12, "dec": 12},
}
_ALIASES = {"ms": "id"}
_LOWERCASE_MONTH_LANGUAGES = frozenset({"pt", "es", "fr", "nl"})
_ORDINAL = r"(?:st|nd|rd|th|er|º|°|\.)?"


def _language_code(language: str | None) -> str | None:
    code = (language or "").replace("_", "-").split("-")[0].lower()
    code = _ALIASES.get(code, code)
    return code if code in _MONTHS else None


@lru_cache(maxsize=16)
def _month_table(code: str | None) -> tuple[dict[str, int], frozenset[str]]:
    """Month names of a language (all languages when None) and those valid in lowercase."""
    languages = (code,) if code else tuple(_MONTHS)
    months: dict[str, int] = {}
    lowercase: set[str] = set()
    for lang in languages:
        for name, number in _MONTHS[lang].items():
            months.setdefault(name, number)
        if lang in _LOWERCASE_MONTH_LANGUAGES:
            lowercase |= _full_month_names(_MONTHS[lang])
    return months, frozenset(lowercase)


def _full_month_names(months: dict[str, int]) -> set[str]:
    """Month names that are not a shorter prefix of another name of the same month."""
    return {
        name
        for name, number in months.items()
        if not any(o != name and o.startswith(name) and n == number for o, n in months.items())
    }


@lru_cache(maxsize=16)
def _patterns(code: str | None) -> tuple[re.Pattern[str], ...]:
    months, _ = _month_table(code)
    month = "|".join(re.escape(m) for m in sorted(months, key=len, reverse=True))
    day = rf"(?P<day>\d{{1,2}}){_ORDINAL}"
    year = r"(?P<year>\d{4})"
    month_group = rf"(?P<month>{month})\b\.?"
    flags = re.IGNORECASE
    return (
        re.compile(r"\b(?P<year>\d{4})-(?P<month_number>\d{2})-(?P<day>\d{2})\b"),
        re.compile(r"\b(?P<a>\d{1,2})([./])(?P<b>\d{1,2})\2(?P<year>\d{4})\b"),
        re.compile(rf"\b{day}\s+(?:de\s+)?{month_group}(?:,?\s+(?:de\s+)?{year}\b)?", flags),
        re.compile(rf"\b{month_group}\s+{day}(?!\d)(?:,?\s+{year}\b)?", flags),
        re.compile(rf"\b{month_group}\s+(?:de\s+)?{year}\b", flags),
    )


def iso_value(year: str | int | None, month: int, day: str | int | None) -> str | None:
    """ISO date (YYYY-MM-DD, YYYY-MM or --MM-DD); None when the date is impossible."""
    try:
        if year and day:
            return datetime.date(int(year), month, int(day)).isoformat()
        if year:
            return f"{int(year):04d}-{month:02d}" if 1 <= month <= 12 else None
        if day:
            datetime.date(2000, month, int(day))  # a leap year: 29 February is valid
            return f"--{month:02d}-{int(day):02d}"
    except ValueError:
        return None
    return None


def _numeric_day_month(first: int, second: int, separator: str, code: str | None) -> tuple[int, int]:
    if code == "en" and separator == "/" and first <= 12 < second:
        return second, first  # 11/23/2023
    return first, second


def _date_from_match(match: re.Match[str], code: str | None) -> Entity | None:
    groups = match.groupdict()
    day = groups.get("day")
    if groups.get("a"):
        day, month = _numeric_day_month(int(groups["a"]), int(groups["b"]), match.group(2), code)
    elif groups.get("month_number"):
        month = int(groups["month_number"])
    else:
        months, lowercase = _month_table(code)
        name = groups["month"].casefold()
        if groups["month"].islower() and name not in lowercase:
            return None  # "may 5" is not a date; Portuguese "5 de maio" is
        month = months[name]
    year = groups.get("year")
    if year and not 1000 <= int(year) <= 2999:
        return None
    value = iso_value(year, month, day)
    if value is None:
        return None
    text = match.group().rstrip(".")  # "on 23 November." ends the sentence
    return Entity(text=text, type="DATE", start=match.start(), end=match.start() + len(text), value=value)


def find_dates(text: str, language: str | None = None) -> list[Entity]:
    """Non-overlapping DATE entities, sorted; earlier and then longer matches win. An impossible
    date ("31 February 2023") wins too and is then dropped, so "February 2023" is not kept."""
    code = _language_code(language)
    matches = [m for pattern in _patterns(code) for m in pattern.finditer(text)]
    matches.sort(key=lambda m: (m.start(), -(m.end() - m.start())))
    dates: list[Entity] = []
    covered_until = 0
    for match in matches:
        if match.start() >= covered_until:
            covered_until = match.end()
            if (entity := _date_from_match(match, code)) is not None:
                dates.append(entity)
    return dates
