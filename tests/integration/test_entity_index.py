"""The entity index on moto: counts per entity, idempotent under redelivery, ranking and search."""
import pytest

from docingest.adapters.entity_index import EntityIndex
from docingest.models import Entity
from docingest.stages.entity_keys import assign_keys, summarise


def summaries(text: str, spans: list[tuple[str, str]]):
    entities, position = [], 0
    for surface, kind in spans:
        start = text.index(surface, position)
        entities.append(Entity(text=surface, type=kind, start=start, end=start + len(surface)))
        position = start + 1
    return summarise(text, assign_keys(entities))


EN = "Vladimir Putin met Anna Berg in Oslo. Putin left Oslo. Berg stayed."
PT = "Vladímir Putin chegou a Moscou. Putin falou com a ONU."
ID = "Presiden Vladimir Putin tiba di Moskwa. Putin bertemu Anna Berg."


@pytest.fixture
def index(provisioned):
    import os

    return EntityIndex(os.environ["ENTITY_INDEX_TABLE"])


def add_three(index):
    index.add_document("doc-en", "en", summaries(EN, [("Vladimir Putin", "PER"), ("Anna Berg", "PER"), ("Oslo", "LOC"),
                                                      ("Putin", "PER"), ("Oslo", "LOC"), ("Berg", "PER")]))
    index.add_document("doc-pt", "pt", summaries(PT, [("Vladímir Putin", "PER"), ("Moscou", "LOC"), ("Putin", "PER"),
                                                      ("ONU", "ORG")]))
    index.add_document("doc-id", "id", summaries(ID, [("Vladimir Putin", "PER"), ("Moskwa", "LOC"), ("Putin", "PER"),
                                                      ("Anna Berg", "PER")]))


def test_entities_are_counted_across_documents_and_languages(index):
    add_three(index)
    putin = index.entity("PER:vladimir putin")
    assert (putin["mentions"], putin["documents"], putin["languages"]) == (6, 3, ["en", "id", "pt"])
    assert putin["name"] in {"Vladimir Putin", "Vladímir Putin"}
    assert [d.doc_id for d in index.documents("PER:vladimir putin")] == ["doc-en", "doc-id", "doc-pt"]
    assert index.entity("LOC:moscow")["documents"] == 2  # Moscou and Moskwa are Moscow


def test_a_redelivered_document_changes_no_count(index):
    add_three(index)
    again = summaries(EN, [("Vladimir Putin", "PER"), ("Anna Berg", "PER"), ("Oslo", "LOC"), ("Putin", "PER"),
                           ("Oslo", "LOC"), ("Berg", "PER")])
    assert index.add_document("doc-en", "en", again) == 0
    assert index.entity("PER:vladimir putin")["mentions"] == 6
    assert index.entity("PER:anna berg")["documents"] == 2


def test_a_partly_indexed_document_adds_only_what_is_missing(index):
    text_entities = summaries(EN, [("Vladimir Putin", "PER"), ("Anna Berg", "PER"), ("Oslo", "LOC")])
    index.add_document("doc-x", "en", text_entities[:1])  # a crash after the first entity
    assert index.add_document("doc-x", "en", text_entities) == 2
    assert [index.entity(s.key)["mentions"] for s in text_entities] == [1, 1, 1]


def test_top_ranks_by_mentions_with_type_and_language_filters(index):
    add_three(index)
    top = index.top(limit=2)
    assert [t["key"] for t in top] == ["PER:vladimir putin", "PER:anna berg"]
    assert [t["key"] for t in index.top("LOC")] == ["LOC:moscow", "LOC:oslo"]
    assert [t["key"] for t in index.top("LOC", language="en")] == ["LOC:oslo"]
    assert [t["key"] for t in index.top(language="pt")] == ["PER:vladimir putin", "LOC:moscow", "ORG:onu"]
    assert index.top("MISC") == []


def test_search_finds_full_names_surnames_and_other_spellings(index):
    add_three(index)
    assert index.search("Vladimir Putin") == ["PER:vladimir putin"]
    assert index.search("putin") == ["PER:vladimir putin"]
    assert index.search("Mr. Vladímir PUTIN") == ["PER:vladimir putin"]
    assert index.search("Moscou") == ["LOC:moscow"]
    assert index.search("Nobody Here") == []
    (first,) = [d for d in index.documents("PER:vladimir putin") if d.doc_id == "doc-pt"]
    assert first.first_sentence == "Vladímir Putin chegou a Moscou." and first.language == "pt"


def test_more_entities_than_one_transaction_holds(index):
    text = " ".join(f"Person{i} Surname{i} spoke." for i in range(120))
    many = summaries(text, [(f"Person{i} Surname{i}", "PER") for i in range(120)])
    assert index.add_document("doc-many", "en", many) == 120
    assert index.add_document("doc-many", "en", many) == 0
    assert len(index.top("PER", limit=500)) == 120


def test_a_cancelled_transaction_leaves_no_partial_write(index):
    """The emulator's moto rolls back item by item (docingest_cli.moto_patches): check it is complete."""
    first = summaries("Anna Berg and Rui Costa met.", [("Anna Berg", "PER"), ("Rui Costa", "PER")])
    index.add_document("doc-y", "en", first[1:])  # Rui Costa counted already
    before = {s.key: index.entity(s.key) for s in first[1:]}
    actions = index._chunk_actions("doc-y", 0, "en", first, "2026-01-01T00:00:00+00:00")  # doc-y's marker 0 exists
    with pytest.raises(Exception, match="TransactionCanceled"):
        index.client.transact_write_items(TransactItems=actions[1:] + actions[:1])  # the failing condition last
    assert index.entity("PER:anna berg") is None  # the first entity's writes were undone
    assert {s.key: index.entity(s.key) for s in first[1:]} == before


def test_aliases_already_in_the_index_are_not_written_again(index):
    written = []
    index.client.meta.events.register(
        "provide-client-params.dynamodb.BatchWriteItem",
        lambda params, **kwargs: written.extend(r["PutRequest"]["Item"]["pk"]["S"] for r in params["RequestItems"][index.table.name]))
    first = summaries(EN, [("Vladimir Putin", "PER"), ("Oslo", "LOC"), ("Putin", "PER")])
    index.add_document("doc-1", "en", first)
    assert "ALIAS#putin" in written
    written.clear()
    index.add_document("doc-2", "en", summaries(EN, [("Vladimir Putin", "PER"), ("Anna Berg", "PER"), ("Putin", "PER")]))
    assert "ALIAS#putin" not in written and "ALIAS#berg" in written
    assert index.search("Putin") == ["PER:vladimir putin"] and index.search("Berg") == ["PER:anna berg"]


def test_aliases_are_looked_up_in_one_read_per_hundred(index):
    reads = []
    index.client.meta.events.register("provide-client-params.dynamodb.BatchGetItem", lambda params, **kwargs: reads.append(params))
    index.add_document("doc-1", "en", summaries(EN, [("Vladimir Putin", "PER"), ("Anna Berg", "PER"), ("Oslo", "LOC")]))
    assert len(reads) == 1


def test_aliases_known_to_the_process_are_not_read_again(index):
    reads = []
    index.client.meta.events.register("provide-client-params.dynamodb.BatchGetItem",
                                      lambda params, **kwargs: reads.append(params["RequestItems"][index.table.name]["Keys"]))
    index.add_document("doc-1", "en", summaries(EN, [("Vladimir Putin", "PER"), ("Anna Berg", "PER"), ("Putin", "PER")]))
    assert len(reads) == 1
    index.add_document("doc-2", "en", summaries(EN, [("Vladimir Putin", "PER"), ("Anna Berg", "PER"), ("Putin", "PER")]))
    assert len(reads) == 1  # every alias known: no read
    index.add_document("doc-3", "en", summaries(EN, [("Vladimir Putin", "PER"), ("Oslo", "LOC")]))
    assert [key["pk"]["S"] for key in reads[-1]] == ["ALIAS#oslo"]  # only the new one
    fresh = EntityIndex(index.table.name)  # another process: reads, finds them, writes nothing
    fresh.add_document("doc-4", "en", summaries(EN, [("Vladimir Putin", "PER"), ("Oslo", "LOC")]))
    assert index.search("Putin") == ["PER:vladimir putin"] and index.search("Oslo") == ["LOC:oslo"]


def test_items_are_stored_with_the_attribute_types_readers_expect(index):
    add_three(index)
    table = index.table.name

    def stored(pk: str, sk: str) -> dict:
        item = index.client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
        return {name: next(iter(value)) for name, value in item.items()}

    summary = stored("ENTITY#PER:vladimir putin", "#SUMMARY")
    assert summary == {"pk": "S", "sk": "S", "mention_count": "N", "document_count": "N", "languages": "SS",
                       "entity_type": "S", "entity_key": "S", "updated_at": "S", "name": "S"}
    assert stored("ENTITY#PER:vladimir putin", "DOC#doc-pt") == {
        "pk": "S", "sk": "S", "doc_id": "S", "entity_key": "S", "name": "S", "mentions": "N", "first_sentence": "S",
        "indexed_at": "S", "language": "S"}
    assert stored("INDEXED#doc-en", "CHUNK#0")["entity_keys"] == "L"
    assert stored("ALIAS#putin", "ENTITY#PER:vladimir putin") == {"pk": "S", "sk": "S", "entity_key": "S", "entity_type": "S"}
    assert sorted(index.entity("PER:vladimir putin")["languages"]) == ["en", "id", "pt"]
