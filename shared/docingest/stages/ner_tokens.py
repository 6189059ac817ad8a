"""Tokens with character offsets into raw text, close to the tokenisation of the NER training sets.

CoNLL-style: words keep inner hyphens and apostrophes ("O'Brien", "Jean-Luc", "l'Europe"), the
English possessive is its own token ("Putin" "'s"), dotted abbreviations and initials stay whole ("U.S.",
"Mr.", "M."), numbers keep their separators ("1,200.50",
"2026-11-28"), and every other non-space character is a token of its own.
"""
from __future__ import annotations

import re
from typing import NamedTuple

_TOKEN = re.compile(
    r"""
    (?:[^\W\d_]\.){2,}                      # U.S. / e.g. / S.A.
    | \d+(?:[.,:/-]\d+)*[ªº]?               # 1,200.50  2026-11-28  10:30  8ª
    | (?:[^\W_]+(?:[-‐][^\W_]+)*)           # words, inner hyphens
      (?:['’](?![sS]\b)[^\W_]+)*            # inner apostrophes, not the possessive 's
    | ['’][sS]\b                            # possessive
    | ''|``                                 # TeX-style quotes (as in the training sets)
    | [^\w\s]                               # any other visible character
    | _+
    """,
    re.VERBOSE,
)

# Titles and abbreviations whose final dot belongs to the token (as in the CoNLL data).
_DOTTED = frozenset(
    "Mr Mrs Ms Dr Prof Sr Sra Jr St Gen Col Lt Sgt Capt Gov Sen Rep Rev Hon Inc Ltd Corp Co "
    "Bros Av Dra Pres Mt Ft Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec No Nr Vol".split()
)


def _is_initial(word: str) -> bool:
    """A capital letter alone ("M" of "Elliott M. Braxton"): its dot belongs to it."""
    return len(word) == 1 and word.isupper()


class Token(NamedTuple):
    text: str
    start: int
    end: int  # exclusive


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` with offsets; ``text[t.start:t.end] == t.text`` always holds."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if (
            tokens
            and match.group() == "."
            and tokens[-1].end == start
            and (tokens[-1].text in _DOTTED or _is_initial(tokens[-1].text))
        ):
            previous = tokens.pop()
            tokens.append(Token(text[previous.start:end], previous.start, end))
            continue
        tokens.append(Token(match.group(), start, end))
    return tokens


def sentence_spans(tokens: list[Token], text: str, max_tokens: int = 120) -> list[tuple[int, int]]:
    """Token index ranges of sentences: split after ! ? and after a . that a lowercase word or a number does not
    follow ("art . 44"), and at line breaks; never longer than max_tokens.

    Over-long sentences are cut at the nearest comma or semicolon before the limit, else before a
    lowercase word, so that a name is never split; the tagger sees each range as one sequence.
    """
    spans: list[tuple[int, int]] = []
    begin = 0
    for i, token in enumerate(tokens):
        following = tokens[i + 1].text if i + 1 < len(tokens) else ""
        ends_sentence = (
            (token.text in {"!", "?", "…"})
            or (token.text == "." and not following[:1].islower() and not following[:1].isdigit())
            or (bool(following) and "\n" in text[token.end:tokens[i + 1].start])
        )
        if ends_sentence:
            spans.extend(_cut_long(tokens, begin, i + 1, max_tokens))
            begin = i + 1
    if begin < len(tokens):
        spans.extend(_cut_long(tokens, begin, len(tokens), max_tokens))
    return spans


def _cut_long(tokens: list[Token], begin: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    spans = []
    while end - begin > max_tokens:
        limit = begin + max_tokens
        window = range(limit - 1, begin + max_tokens // 2, -1)
        cut = next((j + 1 for j in window if tokens[j].text in {",", ";", ":"}), None)
        if cut is None:  # no clause break: cut before a lowercase word, never inside a capitalised run
            cut = next((j for j in window if tokens[j].text[:1].islower() and not tokens[j - 1].text[:1].isupper()),
                       limit)
        spans.append((begin, cut))
        begin = cut
    spans.append((begin, end))
    return spans
