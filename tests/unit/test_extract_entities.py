"""The extract-entities stage with the shipped CRF models: project-written news in the trained
languages, offsets into the raw text, canonical keys, long and hostile input."""
import pytest

from docingest.stages.extract_entities import SENTENCES_PER_CHUNK, extract_entities

NEWS = {
    "en": ("Prime Minister Helga Andersen of Norway arrived in Berlin on Monday for talks with the European Union. "
           "Andersen told Reuters that the meeting with Chancellor Markus Feldmann had been useful.",
           {("Helga Andersen", "PER"), ("Berlin", "LOC"), ("Reuters", "ORG")}),
    "pt": ("O presidente do Brasil, João Carvalho, chegou a Lisboa na segunda-feira para uma reunião com o "
           "primeiro-ministro português. Carvalho disse à agência Lusa que a visita foi produtiva.",
           {("João Carvalho", "PER"), ("Lisboa", "LOC")}),
    "id": ("Presiden Indonesia Budi Santoso tiba di Surabaya pada Senin untuk meresmikan pelabuhan baru. "
           "Budi Santoso mengatakan kepada wartawan bahwa Pelabuhan Tanjung Perak akan diperluas.",
           {("Budi Santoso", "PER"), ("Surabaya", "LOC")}),
    "es": ("El presidente de México, Andrés Navarro, viajó a Madrid el lunes para reunirse con el Gobierno de España. "
           "Navarro dijo a la agencia EFE que la visita fue un éxito.",
           {("Andrés Navarro", "PER"), ("Madrid", "LOC")}),
    "nl": ("Minister-president Pieter de Vries reisde maandag naar Brussel voor overleg met de Europese Commissie. "
           "De Vries zei tegen het ANP dat het gesprek nuttig was.",
           {("Pieter de Vries", "PER"), ("Brussel", "LOC")}),
}


def assert_well_formed(text, entities):
    assert entities == sorted(entities, key=lambda e: (e.start, e.end))
    for entity in entities:
        assert text[entity.start:entity.end] == entity.text and entity.start < entity.end
        assert (entity.key is None) == (entity.type == "DATE")
    for left, right in zip(entities, entities[1:]):
        assert left.end <= right.start


@pytest.mark.parametrize("language", sorted(NEWS))
def test_people_and_places_in_each_trained_language(language):
    text, expected = NEWS[language]
    entities = extract_entities(text, language, backend="crf")
    assert_well_formed(text, entities)
    assert expected <= {(e.text, e.type) for e in entities}


def test_a_surname_shares_the_full_names_key():
    text, _ = NEWS["en"]
    keys = {e.text: e.key for e in extract_entities(text, "en", backend="crf")}
    assert keys["Andersen"] == keys["Helga Andersen"] == "PER:helga andersen"


def test_dates_come_with_iso_values():
    text = "Budi Santoso tiba di Surabaya pada 17 Agustus 2023."
    dates = [e for e in extract_entities(text, "id", backend="crf") if e.type == "DATE"]
    assert [(d.text, d.value) for d in dates] == [("17 Agustus 2023", "2023-08-17")]


def test_malay_and_unknown_languages_use_a_fallback_model():
    text = "Perdana Menteri Ahmad Rahman tiba di Kuala Lumpur pada hari Isnin."
    for language in ("ms", None, "und", "xx"):
        entities = extract_entities(text, language, backend="crf")
        assert_well_formed(text, entities)
    assert ("Ahmad Rahman", "PER") in {(e.text, e.type) for e in extract_entities(text, "ms", backend="crf")}


def test_a_long_document_is_tagged_in_chunks_without_losing_names_at_the_borders():
    sentence = "Helga Andersen visited Berlin and met officials there."
    count = SENTENCES_PER_CHUNK * 2 + 7
    text = " ".join([sentence] * count)
    entities = extract_entities(text, "en", backend="crf")
    assert_well_formed(text, entities)
    people = [e for e in entities if e.type == "PER"]
    assert len(people) == count and {e.text for e in people} == {"Helga Andersen"}


def test_a_sentence_without_stops_is_cut_but_its_names_stay_whole():
    words = ["and then the officials went on"] * 60 + ["to meet Helga Andersen in Berlin"] + ["and so on"] * 60
    text = " ".join(words)
    entities = extract_entities(text, "en", backend="crf")
    assert_well_formed(text, entities)
    assert ("Helga Andersen", "PER") in {(e.text, e.type) for e in entities}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "12345 67.89 %%% $$$ ---",
        "https://example.org/path?q=1 user@example.org",
        "A" * 200_000,
        "Ⓐ 🙂 مرحبا بالعالم 你好世界 \u200b\u202e reversed \x00\x07",
        "Budi " * 20_000,
        "<script>alert('x')</script> {\"json\": [1, 2]} SELECT * FROM users;",
    ],
)
def test_empty_and_hostile_input_never_crashes(text):
    entities = extract_entities(text, "en", backend="crf")
    assert_well_formed(text, entities)
    if not text.strip():
        assert entities == []


def test_a_common_word_capitalised_at_a_sentence_start_is_not_a_name():
    text = ("Ferries returned to Port Carrow on Thursday. The ferries had stopped in 2022. "
            "Halvorsen said ferries matter. Halvorsen thanked the crews.")
    found = {(e.text, e.type) for e in extract_entities(text, "en", backend="crf")}
    assert not any(name == "Ferries" for name, _ in found)
    assert any(name == "Halvorsen" for name, _ in found)  # never written in lowercase: still a name
