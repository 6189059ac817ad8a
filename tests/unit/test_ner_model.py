"""The shipped CRF models (docingest/data/ner/): they load, tag every token, and find obvious names.

The sentences are written for these tests (invented news), never taken from the training data.
"""
from __future__ import annotations

import pytest

from docingest.stages import ner_crf
from docingest.stages.ner_crf import MODEL_LANGUAGES, load_tagger, model_language
from docingest.stages.ner_tokens import tokenize

# (language, sentence, [(name, type), ...] that the model must find exactly)
SENTENCES = [
    ("en", "Prime Minister Margaret Holloway met executives of Microsoft in London on Tuesday .",
     [("Margaret Holloway", "PER"), ("Microsoft", "ORG"), ("London", "LOC")]),
    ("en", "The United Nations said Daniel Okafor would travel to Kenya next week .",
     [("United Nations", "ORG"), ("Daniel Okafor", "PER"), ("Kenya", "LOC")]),
    ("pt", "O ministro João Ferreira visitou ontem a cidade de Lisboa com representantes da Petrobras .",
     [("João Ferreira", "PER"), ("Lisboa", "LOC"), ("Petrobras", "ORG")]),
    ("id", "Presiden Joko Widodo meresmikan bendungan baru di Jawa Tengah bersama Bank Indonesia .",
     [("Joko Widodo", "PER"), ("Jawa Tengah", "LOC")]),
    ("de", "Bundeskanzlerin Angela Merkel sprach am Montag in Berlin mit Vertretern von Siemens .",
     [("Angela Merkel", "PER"), ("Berlin", "LOC")]),
    ("fr", "Le président Emmanuel Macron a rencontré les dirigeants de Renault à Paris .",
     [("Emmanuel Macron", "PER"), ("Paris", "LOC")]),
    ("nl", "Minister Jan de Vries opende dinsdag een nieuwe fabriek van Philips in Eindhoven .",
     [("Jan de Vries", "PER"), ("Eindhoven", "LOC")]),
    ("es", "El presidente Pedro Sánchez viajó a Madrid para reunirse con directivos de Telefónica .",
     [("Pedro Sánchez", "PER"), ("Madrid", "LOC")]),
]


def names(words: list[str], tags: list[str]) -> set[tuple[str, str]]:
    return {(" ".join(words[start:end]), kind) for start, end, kind in ner_crf.bio_spans(tags)}


def test_every_declared_language_ships_a_model_file():
    for lang in MODEL_LANGUAGES:
        assert (ner_crf.MODEL_DIR / f"{lang}.crfsuite.gz").is_file(), lang
        assert (ner_crf.MODEL_DIR / f"{lang}.clusters.tsv.gz").is_file(), lang
    assert (ner_crf.MODEL_DIR / "gazetteer.txt.gz").is_file()


def test_a_packed_model_is_unpacked_once_and_reused():
    first = ner_crf.model_file("es")
    assert first.is_file() and first.stat().st_size > 0
    assert ner_crf.model_file("es") == first


def test_model_files_stay_small():
    size = sum(p.stat().st_size for p in ner_crf.MODEL_DIR.iterdir() if p.is_file())
    assert size <= 60_000_000


@pytest.mark.parametrize(
    "code, expected",
    [("en", "en"), ("pt-BR", "pt"), ("PT_pt", "pt"), ("ms", "id"), ("gl", "pt"), ("ca", "es"), ("af", "nl"),
     (None, "en"), ("und", "en"), ("", "en"), ("zz", "en")],
)
def test_model_language_falls_back_to_a_shipped_model(code, expected):
    assert model_language(code) == expected
    assert model_language(code) in MODEL_LANGUAGES


def test_unknown_model_language_is_refused():
    with pytest.raises(ValueError):
        load_tagger("xx")


def test_taggers_are_cached():
    assert load_tagger("en") is load_tagger("en")


@pytest.mark.parametrize("lang, sentence, expected", SENTENCES, ids=[s[0] + str(i) for i, s in enumerate(SENTENCES)])
def test_obvious_names_are_found(lang, sentence, expected):
    words = [t.text for t in tokenize(sentence)]
    tags = load_tagger(lang).tag_document([words])[0]
    assert len(tags) == len(words)
    found = names(words, tags)
    for name in expected:
        assert name in found, (name, found)


def test_tag_counts_match_token_counts_and_tags_are_bio():
    words = "Yesterday , in Lisbon , Ana Costa of Galp said : “ Nothing changes . ”".split()
    sentences = [words, ["Hello"], words[:3]]
    for lang in MODEL_LANGUAGES:
        tags = load_tagger(lang).tag_document(sentences)
        assert [len(t) for t in tags] == [len(s) for s in sentences]
        for tag in (t for sentence in tags for t in sentence):
            assert tag == "O" or (tag[:2] in ("B-", "I-") and tag[2:] in ner_crf.ENTITY_TYPES), tag


def test_empty_input():
    tagger = load_tagger("pt")
    assert tagger.tag_document([]) == []
    assert tagger.tag_document([[]]) == [[]]
    assert tagger.tag_document([[], ["Lisboa"], []])[0] == []


def test_lower_cased_and_odd_tokens_do_not_break_the_tagger():
    odd = ["", " ", "\u200b", "😀", "a" * 500, "ﬁnance", "12:30", "--", "İstanbul", "ß"]
    tags = load_tagger("id").tag_document([odd, ["presiden", "joko", "widodo", "di", "jakarta"]])
    assert [len(t) for t in tags] == [len(odd), 5]


def test_a_repeated_name_keeps_its_type_across_the_document():
    first = "Former senator Oliver Brandt met reporters in Chicago on Monday .".split()
    later = "Brandt said he would not run again .".split()
    tags = load_tagger("en").tag_document([first, later])
    assert ("Oliver Brandt", "PER") in names(first, tags[0])
    assert ("Brandt", "PER") in names(later, tags[1])


def test_harmonise_document_fills_untagged_repeats_with_the_majority_type():
    sentences = [["Acme", "Corp", "grew", "."], ["Acme", "Corp", "fell", "."], ["Acme", "Corp", "rose"]]
    tags = [["B-ORG", "I-ORG", "O", "O"], ["B-ORG", "I-ORG", "O", "O"], ["O", "O", "O"]]
    out = ner_crf.harmonise_document(sentences, tags)
    assert out[2] == ["B-ORG", "I-ORG", "O"]
    mixed = [["B-ORG", "I-ORG", "O", "O"], ["B-ORG", "I-ORG", "O", "O"], ["B-LOC", "I-LOC", "O"]]
    assert ner_crf.harmonise_document(sentences, mixed)[2] == ["B-ORG", "I-ORG", "O"]
    assert ner_crf.harmonise_document([], []) == []


def test_feature_shapes():
    assert ner_crf.word_shape("McDonald's") == "XxXxx'x"
    assert ner_crf.short_shape("McDonald's") == "XxXxpx"
    assert ner_crf.short_shape("2026-11-28") == "dpdpd"
    assert ner_crf.normalise_word("Covid-19") == "covid-00"
