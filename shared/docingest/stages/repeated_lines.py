"""Cross-document repeated-line filter: site chrome that repeats across one source's documents.

A site header, a footer, a newsletter box or a legal notice is printed on every page of a
source, and can read like prose ("Our journalism is funded by readers like you."). No rule
for a single page can tell it from an article sentence; the source's other documents can.

Pure logic, no storage. The caller keeps, per source (a domain, a feed), a count per line
fingerprint of the documents that contained the line, and the number of documents seen:

    rl = RepeatedLines()
    fps = rl.lines_to_count(text)                  # distinct fingerprints of this document
    counts = store.get(source, fps)                # {fingerprint: documents containing it}
    kept, removed = rl.filter(text, counts, documents_seen)
    store.increment(source, fps)                   # afterwards: +1 per fingerprint, +1 document

`counts` and `documents_seen` describe the OTHER documents of the source. When they already
include this document (e.g. a redelivered message whose increment was stored before a crash),
pass `counted_this_document=True` and the filter subtracts it. A line that no other document
contains is never removed.

A line is removed when its fingerprint was seen in at least
    max(min_documents, ceil(min_share * documents_seen))
other documents, so in a large source a background paragraph reused by a few articles stays,
while a footer printed on most pages goes.
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_HAS_WORD = re.compile(r"\w")

FINGERPRINT_CHARS = 16  # hex digits of sha1 kept: 64 bits, no practical collisions per source


def normalize_line(line: str) -> str:
    """Comparison form: NFKC, case-folded, every digit run as '0', whitespace collapsed."""
    line = _INVISIBLE.sub("", unicodedata.normalize("NFKC", line)).casefold()
    return _SPACES.sub(" ", _DIGITS.sub("0", line)).strip()


@dataclass(frozen=True)
class RepeatedLines:
    """Counts and filters lines repeated across documents of one source.

    min_documents: other documents that must contain a line before it is boilerplate.
    min_share: share of the source's other documents that must contain it (0 disables).
    min_chars: shorter lines (after normalisation) are neither counted nor removed; the
        single-page rules handle short chrome, and very short lines ("Yes", "1.") repeat by chance.
    edge_lines, max_middle_chars: a line is counted (and can be removed) when it is one of the first
        or last ``edge_lines`` lines of the document, or at most ``max_middle_chars`` long. A site's
        chrome is short or stands at the top and bottom; counting every long paragraph in the middle
        of every article cost one write per paragraph for lines that never repeat.
    """

    min_documents: int = 3
    min_share: float = 0.1
    min_chars: int = 1
    edge_lines: int = 10
    max_middle_chars: int = 150

    def fingerprint(self, line: str) -> str:
        """sha1 prefix of the normalised line ('© 2023 Site' and '© 2024 Site' match)."""
        return hashlib.sha1(normalize_line(line).encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]

    def _countable(self, normalized: str) -> bool:
        return len(normalized) >= self.min_chars and bool(_HAS_WORD.search(normalized))

    def _fingerprinted(self, text: str) -> list[tuple[str, str | None]]:
        """Each line of the text with its fingerprint, or None when the line is not counted."""
        lines = text.split("\n")
        normalized = [normalize_line(line) for line in lines]
        filled = [i for i, n in enumerate(normalized) if n]
        edges = set(filled[:self.edge_lines]) | set(filled[-self.edge_lines:] if self.edge_lines else ())
        return [(line, hashlib.sha1(n.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]
                 if self._countable(n) and (i in edges or len(n) <= self.max_middle_chars) else None)
                for i, (line, n) in enumerate(zip(lines, normalized))]

    def lines_to_count(self, text: str) -> set[str]:
        """Fingerprints of the document's distinct countable lines (each counts once per document)."""
        return {fp for _, fp in self._fingerprinted(text) if fp}

    def threshold(self, documents_seen: int) -> int:
        """Other documents that must contain a line for it to be removed."""
        return max(self.min_documents, math.ceil(self.min_share * max(documents_seen, 0)), 1)

    def filter(
        self,
        text: str,
        counts: Mapping[str, int],
        documents_seen: int,
        *,
        counted_this_document: bool = False,
    ) -> tuple[str, list[str]]:
        """(kept text, removed lines). Blank lines left around removed lines are squeezed to one.

        counts: documents of the source containing each fingerprint (missing = 0).
        documents_seen: documents of the source counted so far.
        counted_this_document: counts and documents_seen already include this document.
        """
        own = 1 if counted_this_document else 0
        needed = self.threshold(documents_seen - own)
        kept: list[str] = []
        removed: list[str] = []
        for line, fp in self._fingerprinted(text):
            if fp and counts.get(fp, 0) - own >= needed:
                removed.append(line)
                continue
            if not line.strip() and (not kept or not kept[-1].strip()):
                continue  # no leading or doubled blank lines
            kept.append(line)
        while kept and not kept[-1].strip():
            kept.pop()
        return "\n".join(kept), removed
