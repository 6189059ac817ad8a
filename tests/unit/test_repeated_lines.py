"""Unit tests for the cross-document repeated-line filter.

All text here is invented for these tests.
"""
from __future__ import annotations

from collections import Counter

from docingest.stages.repeated_lines import RepeatedLines, normalize_line

FOOTER = "Our newsroom is funded by readers like you, and every gift keeps local reporting alive."
HEADER = "Harbour Post - News from the valley towns"


def _doc(*body: str) -> str:
    return "\n\n".join([HEADER, *body, FOOTER, "© 2024 Harbour Post"])


OTHER_DOCS = [
    _doc("The ferry sailed twice on Monday.", "Passengers praised the new timetable."),
    _doc("The library opened a reading room.", "Children can borrow three books at a time."),
    _doc("A new bridge links the two markets.", "Traders expect more customers this summer."),
]


def _source_counts(rl: RepeatedLines, docs: list[str]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    for doc in docs:
        counts.update(rl.lines_to_count(doc))
    return counts, len(docs)


def test_line_in_three_other_documents_is_removed_even_if_it_reads_like_prose() -> None:
    rl = RepeatedLines(min_documents=3)
    counts, seen = _source_counts(rl, OTHER_DOCS)
    text = _doc("The council voted to repair the pier before the autumn storms.")
    kept, removed = rl.filter(text, counts, seen)
    assert kept == "The council voted to repair the pier before the autumn storms."
    assert FOOTER in removed and HEADER in removed


def test_line_seen_only_in_this_document_is_kept_even_if_it_looks_like_chrome() -> None:
    rl = RepeatedLines(min_documents=3)
    counts, seen = _source_counts(rl, OTHER_DOCS)
    text = "Subscribe to our newsletter\nAll rights reserved\nThe pier reopens in May."
    kept, removed = rl.filter(text, counts, seen)
    assert kept == text and removed == []


def test_line_in_fewer_than_min_documents_is_kept() -> None:
    rl = RepeatedLines(min_documents=3)
    counts, seen = _source_counts(rl, OTHER_DOCS[:2])
    kept, removed = rl.filter(_doc("A short note."), counts, seen)
    assert removed == [] and FOOTER in kept


def test_digits_are_masked_so_years_match() -> None:
    rl = RepeatedLines()
    assert rl.fingerprint("© 2023 Harbour Post") == rl.fingerprint("©  2024 HARBOUR post")
    assert rl.fingerprint("Page 2 of 9") == rl.fingerprint("Page 10 of 12")
    assert rl.fingerprint("© 2024 Harbour Post") != rl.fingerprint("© 2024 Valley Times")
    counts, seen = _source_counts(rl, [d.replace("2024", str(year)) for d, year in zip(OTHER_DOCS, (2021, 2022, 2023))])
    kept, removed = rl.filter("The pier reopens in May.\n© 2025 Harbour Post", counts, seen)
    assert removed == ["© 2025 Harbour Post"] and kept == "The pier reopens in May."


def test_fingerprint_is_a_short_stable_hex_string() -> None:
    fp = RepeatedLines().fingerprint("  Follow   us on Instagram ")
    assert fp == RepeatedLines().fingerprint("follow us on instagram")
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert normalize_line("Ikuti Kami di 3 kanal") == "ikuti kami di 0 kanal"


def test_lines_to_count_gives_distinct_fingerprints_once_per_document() -> None:
    rl = RepeatedLines()
    fps = rl.lines_to_count("Baca juga\nBaca juga\n\n   \n---\nBerita utama hari ini")
    assert fps == {rl.fingerprint("Baca juga"), rl.fingerprint("Berita utama hari ini")}


def test_counts_that_include_this_document_are_discounted() -> None:
    rl = RepeatedLines(min_documents=3)
    text = _doc("A single new sentence about the harbour.")
    counts, seen = _source_counts(rl, [*OTHER_DOCS[:2], text])  # this doc already counted: 2 others
    kept, removed = rl.filter(text, counts, seen, counted_this_document=True)
    assert removed == []
    counts, seen = _source_counts(rl, [*OTHER_DOCS, text])  # 3 others
    kept, removed = rl.filter(text, counts, seen, counted_this_document=True)
    assert kept == "A single new sentence about the harbour."


def test_min_share_raises_the_bar_in_large_sources() -> None:
    rl = RepeatedLines(min_documents=3, min_share=0.1)
    assert rl.threshold(10) == 3 and rl.threshold(100) == 10 and rl.threshold(0) == 3
    line = "Reporting by the valley desk."
    counts = {rl.fingerprint(line): 5}
    assert rl.filter(line, counts, 100) == (line, [])
    assert rl.filter(line, counts, 20) == ("", [line])


def test_other_languages_and_scripts() -> None:
    rl = RepeatedLines(min_documents=3)
    chrome = [
        "Dapatkan berita terbaru setiap pagi langsung di kotak masuk Anda.",  # Indonesian
        "Receba as principais notícias da região no seu e-mail todas as manhãs.",  # Portuguese
        "Подпишитесь на наш канал, чтобы первыми узнавать новости города.",  # Russian (Cyrillic)
    ]
    docs = ["\n".join([*chrome, f"Artikel nomor {n} tentang pasar ikan."]) for n in ("satu", "dua", "tiga")]
    counts, seen = _source_counts(rl, docs)
    text = "\n".join(["Pasar ikan baru dibuka di tepi sungai.", *chrome])
    kept, removed = rl.filter(text, counts, seen)
    assert kept == "Pasar ikan baru dibuka di tepi sungai." and removed == chrome


def test_blank_lines_are_squeezed_and_empty_counts_keep_everything() -> None:
    rl = RepeatedLines()
    text = "First paragraph.\n\nSecond paragraph."
    assert rl.filter(text, {}, 0) == (text, [])
    counts = {rl.fingerprint("Second paragraph."): 9}
    assert rl.filter(text + "\n\nThird.", counts, 9) == ("First paragraph.\n\nThird.", ["Second paragraph."])


def test_long_lines_in_the_middle_are_not_counted_but_short_or_edge_lines_are() -> None:
    rl = RepeatedLines(edge_lines=2, max_middle_chars=40)
    long_middle = "A long paragraph of the article body that no other page of the site will print again."
    text = "\n".join(["Site header", "Top story", "Short chrome line", long_middle, "Another middle paragraph of the report, "
                      "long enough to be left alone by the counter.", "Footer links", "Copyright"])
    counted = rl.lines_to_count(text)
    assert rl.fingerprint(long_middle) not in counted
    assert {rl.fingerprint(line) for line in ("Site header", "Top story", "Short chrome line", "Footer links", "Copyright")} <= counted
    everywhere = {fp: 10 for fp in counted | {rl.fingerprint(long_middle)}}
    kept, removed = rl.filter(text, everywhere, documents_seen=10)
    assert long_middle in kept and "Short chrome line" in removed
