"""Canonical keys: one key per entity within a document and across documents and languages."""
import pytest

from docingest.models import Entity
from docingest.stages.entity_keys import assign_keys, canonical_name, entity_key, search_names, sentence_around, summarise


def mentions(text: str, spans: list[tuple[str, str]]) -> list[Entity]:
    """Entities for the first occurrence after the previous one of each (surface, type)."""
    entities, position = [], 0
    for surface, kind in spans:
        start = text.index(surface, position)
        entities.append(Entity(text=surface, type=kind, start=start, end=start + len(surface)))
        position = start + 1
    return entities


@pytest.mark.parametrize(
    "first, second, kind",
    [
        ("Vladimir Putin", "VLADIMIR PUTIN", "PER"),
        ("Mr Halvorsen", "Halvorsen", "PER"),
        ("Presiden Wiryanto", "Wiryanto", "PER"),
        ("Sra. Conceição Alves", "Conceicao Alves", "PER"),
        ("Halvorsen's", "Halvorsen", "PER"),
        ("Kassym-Jomart Tokayev", "Kassym-Jomart Tokaev", "PER"),
        ("Wladimir Putin", "Vladimir Putin", "PER"),
        ("Dmitriy Peskov", "Dmitry Peskov", "PER"),
        ("Jerzy Wałęsa", "Jerzy Walesa", "PER"),
        ("Moscou", "Moscow", "LOC"),
        ("São Paulo", "Sao Paulo", "LOC"),
        ("Nações Unidas", "Nacoes Unidas", "ORG"),
    ],
)
def test_variants_share_a_key(first, second, kind):
    assert entity_key(first, kind) == entity_key(second, kind)


def test_type_is_part_of_the_key_and_different_names_differ():
    assert entity_key("Jordan", "PER") != entity_key("Jordan", "LOC")
    assert entity_key("Anna Berg", "PER") != entity_key("Anna Borg", "PER")
    assert canonical_name("Dr", "PER") == "dr"  # a title alone is kept, not emptied


def test_a_surname_takes_the_full_name_key_within_a_document():
    text = "Vladimir Putin arrived. Later Putin spoke, and Mr Putin left. Anna Putin-Berg stayed."
    keyed = assign_keys(mentions(text, [("Vladimir Putin", "PER"), ("Putin", "PER"), ("Mr Putin", "PER")]))
    assert {e.key for e in keyed} == {"PER:vladimir putin"}


def test_an_ambiguous_surname_keeps_its_own_key():
    text = "Ana Costa and Rui Costa met. Costa said no."
    keyed = assign_keys(mentions(text, [("Ana Costa", "PER"), ("Rui Costa", "PER"), ("Costa", "PER")]))
    assert [e.key for e in keyed] == ["PER:ana costa", "PER:rui costa", "PER:costa"]


def test_a_particle_alone_never_links():
    text = "Maria da Silva spoke. Then da said nothing."
    keyed = assign_keys(mentions(text, [("Maria da Silva", "PER"), ("da", "PER")]))
    assert keyed[1].key == "PER:da"


def test_an_organisation_spelled_out_in_the_document_takes_its_acronyms_key():
    text = "A Organização das Nações Unidas reuniu-se. A ONU decidiu."
    keyed = assign_keys(mentions(text, [("Organização das Nações Unidas", "ORG"), ("ONU", "ORG")]))
    assert keyed[1].key == keyed[0].key == "ORG:onu"
    (summary,) = summarise(text, keyed)
    assert set(summary.aliases) == {"onu", "organizacao das nacoes unidas"}


def test_a_place_keeps_its_long_form_key():
    text = "The United Kingdom voted. The UK left."
    keyed = assign_keys(mentions(text, [("United Kingdom", "LOC"), ("UK", "LOC")]))
    assert keyed[1].key == keyed[0].key == entity_key("United Kingdom", "LOC")


def test_dates_get_no_key():
    text = "On 5 May 2021 Halvorsen came."
    entities = [Entity(text="5 May 2021", type="DATE", start=3, end=13, value="2021-05-05")]
    assert assign_keys(entities)[0].key is None


def test_summary_groups_by_key_with_first_sentence_and_aliases():
    text = "Talks opened in Oslo.\nVladimir Putin arrived on Monday. Putin said the talks would go on. Oslo was cold."
    keyed = assign_keys(mentions(text, [("Oslo", "LOC"), ("Vladimir Putin", "PER"), ("Putin", "PER"), ("Oslo", "LOC")]))
    by_key = {s.key: s for s in summarise(text, keyed)}
    putin = by_key["PER:vladimir putin"]
    assert (putin.mentions, putin.name, putin.first_sentence) == (2, "Vladimir Putin", "Vladimir Putin arrived on Monday.")
    assert set(putin.aliases) == {"vladimir putin", "putin"}
    assert by_key["LOC:oslo"].first_sentence == "Talks opened in Oslo."


def test_sentence_around_cuts_long_sentences_near_the_mention():
    text = "word " * 300 + "Halvorsen " + "word " * 300
    start = text.index("Halvorsen")
    sentence = sentence_around(text, start, start + 9, limit=100)
    assert "Halvorsen" in sentence and len(sentence) <= 110


def test_search_names_fold_the_query():
    assert search_names("Mr. Vladímir PUTIN")[0] == "vladimir putin"
