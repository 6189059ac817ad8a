"""Hostile and broken inputs, generated (never committed as files), with the state each must end in.

Used by the tests (``small=True``: the same shapes, just past the limits) and by bench/faults.py
(full size: what a user or an attacker would really send).
"""
from __future__ import annotations

import gzip
import random
from dataclasses import dataclass

SENTENCE = "The council of Riverton approved the new bridge on Thursday, said mayor Clara Mendes. "


@dataclass(frozen=True)
class BadInput:
    name: str  # file name in the inbox (its extension picks the content type)
    data: bytes
    status: str  # DONE or FAILED
    reason: str = ""  # a regex the FAILED reason must match


def page(body: str, head: str = "") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


def corpus(small: bool = False) -> list[BadInput]:
    rng = random.Random(7)
    article = "<article><h1>Riverton bridge</h1>" + f"<p>{SENTENCE * 3}</p>" * 4 + "</article>"
    depth = 300 if small else 200_000
    elements = 100_001 if small else 1_000_000
    long_line_chars = 300_000 if small else 9_500_000
    items = [
        BadInput("empty.txt", b"", "FAILED", "empty"),
        BadInput("blank.html", b" \n\t \r\n", "FAILED", "empty"),
        BadInput("random.bin", bytes(rng.randrange(256) for _ in range(20_000)), "FAILED", "binary"),
        BadInput("archive.txt", gzip.compress(SENTENCE.encode() * 2000), "FAILED", "binary|undecodable"),
        BadInput("nul-sprinkled.txt", (SENTENCE * 40).encode().replace(b"bridge", b"bri\x00dge", 3), "DONE"),
        BadInput("nul-heavy.txt", (SENTENCE * 10).encode().replace(b" ", b"\x00"), "FAILED", "NUL bytes"),
        BadInput("utf16-meta.html", page(article, '<meta charset="utf-16">'), "DONE"),
        BadInput("only-tags.html", page("<div><span></span></div>" * 50), "FAILED", "no main text"),
        BadInput("deep.html", page("<div>" * depth + SENTENCE + "</div>" * depth), "FAILED", r"too deep: \d+ levels|too many HTML elements"),
        BadInput("wide.html", page("<p>x</p>" * elements), "FAILED", "too many HTML elements"),
        BadInput("many-lines.txt", b"ok\n" * 200_001, "FAILED", "too many lines"),
        BadInput("one-long-line.txt", (SENTENCE * (long_line_chars // len(SENTENCE))).encode(), "DONE"),
        BadInput("cp1251.html", page("<p>Мэр Ривертона открыл новый мост в четверг, сообщили в администрации.</p>" * 3,
                                     '<meta charset="windows-1251">').decode().encode("cp1251"), "DONE"),
        BadInput("empty.urls", b"# nothing here\n\n", "FAILED", "empty URL list"),
        BadInput("hostile.urls", b"file:///etc/passwd\nhttp://169.254.169.254/latest/meta-data/\nftp://x.example/\n", "DONE"),
    ]
    for charset in ("rot13", "base64", "zlib", "undefined", "punycode"):
        items.append(BadInput(f"charset-{charset}.html", page(article, f'<meta charset="{charset}">'), "DONE"))
    return items
