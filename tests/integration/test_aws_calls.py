"""The AWS calls each stage makes per document, counted on the pipeline's own clients against moto."""
from __future__ import annotations

import json
from collections import Counter

import boto3
import pytest

from docingest import pipeline
from docingest.lifecycle import Status
from tests.conftest import REGION, ROOT, receive_all
from tests.integration.test_pipeline import ARTICLE, put_inbox


class Calls:
    """Every AWS operation the services' clients make, by name, from the last ``reset``."""

    def __init__(self, services: pipeline.Services):
        self.seen: list[str] = []
        self.document_table = services.documents.table.name
        self.on_documents: list[str] = []  # the calls on the document table
        clients = {id(c): c for c in (services.store._s3, services.queues._sqs, services.documents.table.meta.client,
                                      *(x.client for x in (services.line_counts, services.entity_index) if x))}
        for client in clients.values():
            client.meta.events.register("before-call", self._record)
            client.meta.events.register("before-parameter-build", self._record_table)

    def _record(self, model, **kwargs) -> None:
        self.seen.append(model.name)

    def _record_table(self, model, params, **kwargs) -> None:
        if params.get("TableName") == self.document_table:
            self.on_documents.append(model.name)

    def reset(self) -> None:
        self.seen.clear()
        self.on_documents.clear()

    def counts(self) -> Counter:
        return Counter(self.seen)

    def take(self) -> Counter:
        counts = self.counts()
        self.reset()
        return counts

    def take_documents(self) -> Counter:
        """The calls on the document table since the last reset (and reset)."""
        counts = Counter(self.on_documents)
        self.reset()
        return counts


@pytest.fixture
def calls(services):
    return Calls(services)


# fetch ----------------------------------------------------------------------------------------


def test_fetch_reads_a_dropped_file_with_one_get_object_and_no_head_object(provisioned, services, calls):
    bucket = put_inbox(provisioned, "news/eastvale.txt", ARTICLE)
    calls.reset()
    doc_id, outcome = pipeline.fetch_s3_object(services, bucket, "news/eastvale.txt")
    counts = calls.take()
    assert outcome == pipeline.Outcome.ADVANCED
    assert counts["GetObject"] == 1 and "HeadObject" not in counts
    assert counts == {"GetObject": 1, "PutObject": 1, "PutItem": 1, "SendMessage": 1}  # the record created FETCHED
    assert services.store.read_raw(doc_id) == ARTICLE
    record = services.documents.get(doc_id)
    assert record["status"] == Status.FETCHED and record["charset"] == "utf-8" and record["content_type"] == "text/plain"
    assert record["fetched_at"] == record["updated_at"] and record["received_at"]
    assert record["sources"] == [f"s3://{bucket}/news/eastvale.txt"] and record["raw_key"] == f"raw/{doc_id}"
    assert [m["doc_id"] for m in receive_all(services.settings.clean_queue_url)] == [doc_id]


def test_a_file_dropped_again_takes_the_path_of_an_existing_record(provisioned, services, calls):
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    put_inbox(provisioned, "b.txt", ARTICLE)
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, "a.txt")
    before = services.documents.get(doc_id)
    calls.reset()
    assert pipeline.fetch_s3_object(services, bucket, "b.txt") == (doc_id, pipeline.Outcome.SKIPPED)
    # the PutItem's condition fails: the source is added, the record read, and (already FETCHED) handed on again
    assert calls.take() == {"GetObject": 1, "PutObject": 1, "PutItem": 1, "UpdateItem": 1, "GetItem": 1, "SendMessage": 1}
    after = services.documents.get(doc_id)
    assert after["sources"] == [f"s3://{bucket}/a.txt", f"s3://{bucket}/b.txt"]
    assert {k: v for k, v in after.items() if k != "sources"} == {k: v for k, v in before.items() if k != "sources"}


def test_a_fetch_that_gave_up_is_retried_from_its_existing_record(provisioned, services):
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    doc_id = pipeline.fetch_stage.document_id(ARTICLE)
    services.documents.create(doc_id, f"s3://{bucket}/a.txt", {"kind": "document"})
    services.documents.fail(doc_id, pipeline.Stage.FETCH, "gave up after 3 attempts: LookupError", {"error_kind": pipeline.GAVE_UP})
    assert pipeline.fetch_s3_object(services, bucket, "a.txt") == (doc_id, pipeline.Outcome.ADVANCED)
    record = services.documents.get(doc_id)
    assert record["status"] == Status.FETCHED and record["charset"] == "utf-8" and "error" not in record


def test_a_file_that_failed_for_good_is_not_fetched_again(provisioned, services):
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    doc_id = pipeline.fetch_stage.document_id(ARTICLE)
    services.documents.create(doc_id, f"s3://{bucket}/a.txt", {"kind": "document"})
    services.documents.fail(doc_id, pipeline.Stage.FETCH, "refused", {"error_kind": pipeline.BAD_INPUT})
    assert pipeline.fetch_s3_object(services, bucket, "a.txt") == (doc_id, pipeline.Outcome.SKIPPED)
    assert services.documents.get(doc_id)["status"] == Status.FAILED
    assert receive_all(services.settings.clean_queue_url) == []


def test_a_too_large_file_is_refused_from_its_one_get_object(provisioned, services, calls, monkeypatch):
    monkeypatch.setenv("MAX_DOCUMENT_BYTES", "100")
    limited = pipeline.Services.from_env()
    limited_calls = Calls(limited)
    data = b"word " * 100
    bucket = put_inbox(provisioned, "big.txt", data)
    doc_id, outcome = pipeline.fetch_s3_object(limited, bucket, "big.txt")
    counts = limited_calls.take()
    assert outcome == pipeline.Outcome.FAILED
    assert counts["GetObject"] == 1 and "HeadObject" not in counts and "PutObject" not in counts  # not copied to raw/
    import hashlib

    assert doc_id == hashlib.sha256(data).hexdigest()  # the body streamed for its hash
    record = limited.documents.get(doc_id)
    assert record["status"] == Status.FAILED and record["error_kind"] == pipeline.BAD_INPUT
    assert record["error"] == (f"too large: 500 bytes, the limit is 100 (raw input kept at s3://{bucket}/big.txt)")
    assert record["size_bytes"] == 500 and record["raw_key"] == f"s3://{bucket}/big.txt"


# messages carry the record ----------------------------------------------------------------------


def fetched(provisioned, services, key="news/eastvale.txt", data=ARTICLE):
    bucket = put_inbox(provisioned, key, data)
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, key)
    return doc_id, next_message(services, services.settings.clean_queue_url)


def next_message(services, queue_url):
    """The one message on a queue, deleted from it."""
    sqs = boto3.client("sqs", region_name=REGION)
    (message,) = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return json.loads(message["Body"])


def test_each_stage_works_on_the_record_its_message_carries_without_reading_it(provisioned, services, calls):
    doc_id, message = fetched(provisioned, services)
    assert "sources" not in message["record"] and message["record"]["status"] == Status.FETCHED
    settings = services.settings
    steps = ((pipeline.clean_document, settings.detect_language_queue_url, Status.CLEANED),
             (pipeline.detect_document_language, settings.extract_entities_queue_url, Status.LANGUAGE_DETECTED),
             (pipeline.extract_document_entities, None, Status.DONE))
    for step, queue, status in steps:
        calls.reset()
        assert step(services, doc_id, record=message["record"]) == pipeline.Outcome.ADVANCED
        assert calls.take_documents() == {"UpdateItem": 1}  # the conditional advance, no GetItem
        if queue:
            message = next_message(services, queue)
            stored = services.documents.get(doc_id)
            assert stored["status"] == status
            assert message["record"] == {k: v for k, v in stored.items() if k != "sources"}
    record = services.documents.get(doc_id)
    assert record["status"] == Status.DONE and record["language"] == "en"
    enriched = services.store.read_enriched(doc_id)
    assert enriched["metadata"]["sources"] == record["sources"] and enriched["language"] == "en"


def test_detect_language_with_the_record_carried(provisioned, services, calls):
    doc_id, message = fetched(provisioned, services)
    pipeline.clean_document(services, doc_id, record=message["record"])
    message = next_message(services, services.settings.detect_language_queue_url)
    calls.reset()
    assert pipeline.detect_document_language(services, doc_id, record=message["record"]) == pipeline.Outcome.ADVANCED
    assert calls.take() == {"GetObject": 1, "UpdateItem": 1, "SendMessage": 1}


def test_a_message_without_a_record_reads_it_as_before(provisioned, services, calls):
    doc_id, message = fetched(provisioned, services)
    pipeline.clean_document(services, doc_id)  # no record: read
    calls.reset()
    assert pipeline.detect_document_language(services, doc_id) == pipeline.Outcome.ADVANCED
    assert calls.take() == {"GetItem": 1, "GetObject": 1, "UpdateItem": 1, "SendMessage": 1}
    assert services.documents.get(doc_id)["status"] == Status.LANGUAGE_DETECTED


def test_the_sample_events_without_a_record_still_work(provisioned, services):
    from docingest.messages import DocumentMessage

    for name in ("clean.json", "detect-language.json", "extract-entities.json"):
        body = json.loads((ROOT / "events" / name).read_text())["Records"][0]["body"]
        assert DocumentMessage.model_validate_json(body).record is None


@pytest.mark.parametrize("stage", ["clean", "detect_language", "extract_entities"])
def test_a_duplicate_with_a_stale_record_changes_nothing_and_hands_on_again(provisioned, services, calls, stage):
    settings = services.settings
    doc_id, message = fetched(provisioned, services)
    messages = {"clean": message}
    pipeline.clean_document(services, doc_id, record=message["record"])
    messages["detect_language"] = next_message(services, settings.detect_language_queue_url)
    pipeline.detect_document_language(services, doc_id, record=messages["detect_language"]["record"])
    messages["extract_entities"] = next_message(services, settings.extract_entities_queue_url)
    step = {"clean": pipeline.clean_document, "detect_language": pipeline.detect_document_language,
            "extract_entities": pipeline.extract_document_entities}[stage]
    if stage == "extract_entities":
        pipeline.extract_document_entities(services, doc_id, record=messages[stage]["record"])
    record, clean = services.documents.get(doc_id), services.store.read_clean_document(doc_id)
    # other documents of the source counted since: a rerun of clean would now remove a line (it must not run)
    calls.reset()
    assert step(services, doc_id, record=messages[stage]["record"]) == pipeline.Outcome.SKIPPED
    on_documents = calls.take_documents()
    assert on_documents["GetItem"] == 1  # the guard failed (or the object was there): the record read, as before
    assert services.documents.get(doc_id) == record
    assert services.store.read_clean_document(doc_id) == clean
    if stage == "detect_language":  # already LANGUAGE_DETECTED: handed on again, as before
        assert next_message(services, settings.extract_entities_queue_url)["doc_id"] == doc_id
    if stage == "extract_entities":
        assert services.store.read_enriched(doc_id)["metadata"]["sources"] == record["sources"]


def test_a_document_failed_for_good_is_never_advanced_by_a_stale_message(provisioned, services, calls):
    doc_id, message = fetched(provisioned, services)
    services.documents.fail(doc_id, pipeline.Stage.CLEAN, "no text", {"error_kind": pipeline.BAD_INPUT})
    assert services.documents.advance(doc_id, pipeline.Stage.CLEAN, {"text_chars": 1}) is None  # the condition says so
    failed = services.documents.get(doc_id)
    # the message still says FETCHED: the stage runs, its advance's condition fails, the record read: skipped
    assert pipeline.clean_document(services, doc_id, record=message["record"]) == pipeline.Outcome.SKIPPED
    assert services.documents.get(doc_id) == failed
    assert receive_all(services.settings.detect_language_queue_url) == []
    # a bad input found again on a stale message does not touch the record either
    assert pipeline.detect_document_language(services, doc_id, record={**message["record"], "status": "CLEANED"}) \
        == pipeline.Outcome.SKIPPED
    assert services.documents.get(doc_id) == failed


def test_a_stage_that_gave_up_is_retried_from_the_carried_record(provisioned, services):
    doc_id, message = fetched(provisioned, services)
    services.documents.fail(doc_id, pipeline.Stage.CLEAN, "gave up after 3 attempts: X", {"error_kind": pipeline.GAVE_UP})
    assert pipeline.clean_document(services, doc_id, record=message["record"]) == pipeline.Outcome.ADVANCED
    record = services.documents.get(doc_id)
    assert record["status"] == Status.CLEANED and "error" not in record and "error_kind" not in record


def test_a_bad_input_on_a_carried_record_ends_failed(provisioned, services, calls):
    page = b"<html><head><title>x</title></head><body><script>var a = 1;</script><img src=a.png></body></html>"
    doc_id, message = fetched(provisioned, services, "empty.html", page)
    assert pipeline.clean_document(services, doc_id, record=message["record"]) == pipeline.Outcome.FAILED
    failed = services.documents.get(doc_id)
    assert failed["status"] == Status.FAILED and failed["failed_stage"] == "clean" and failed["error_kind"] == pipeline.BAD_INPUT
    assert pipeline.clean_document(services, doc_id, record=message["record"]) == pipeline.Outcome.SKIPPED  # redelivered
    assert services.documents.get(doc_id) == failed


def test_the_enriched_object_lists_every_source_of_a_carried_record(provisioned, services):
    doc_id, message = fetched(provisioned, services, "a.txt")
    put_inbox(provisioned, "copy.txt", ARTICLE)
    pipeline.fetch_s3_object(services, provisioned.inbox_bucket(), "copy.txt")  # a second source, after the message
    pipeline.clean_document(services, doc_id, record=message["record"])
    message = next_message(services, services.settings.detect_language_queue_url)
    pipeline.detect_document_language(services, doc_id, record=message["record"])
    message = next_message(services, services.settings.extract_entities_queue_url)
    assert "sources" not in message["record"]
    pipeline.extract_document_entities(services, doc_id, record=message["record"])
    sources = services.documents.get(doc_id)["sources"]
    assert len(sources) == 2 and services.store.read_enriched(doc_id)["metadata"]["sources"] == sources


# messages carry the text the next stage reads ------------------------------------------------------


def test_each_message_carries_the_text_the_next_stage_reads(provisioned, services, calls):
    doc_id, message = fetched(provisioned, services)
    assert message["text"] == ARTICLE.decode()  # fetch -> clean: the decoded text
    settings = services.settings
    calls.reset()
    assert pipeline.clean_document(services, doc_id, record=message["record"], text=message["text"]) == pipeline.Outcome.ADVANCED
    counts = calls.take()
    assert "GetObject" not in counts and counts["PutObject"] == 1  # raw/ not read; clean/ written as before
    message = next_message(services, settings.detect_language_queue_url)
    clean_text = services.store.read_clean(doc_id)
    assert message["text"] == clean_text and "READ MORE" not in clean_text
    calls.reset()
    assert pipeline.detect_document_language(services, doc_id, record=message["record"], text=message["text"]) \
        == pipeline.Outcome.ADVANCED
    assert calls.take() == {"UpdateItem": 1, "SendMessage": 1}
    message = next_message(services, settings.extract_entities_queue_url)
    assert message["text"] == clean_text
    calls.reset()
    assert pipeline.extract_document_entities(services, doc_id, record=message["record"], text=message["text"]) \
        == pipeline.Outcome.ADVANCED
    counts = calls.take()
    assert "GetObject" not in counts and "GetItem" not in counts and counts["PutObject"] == 1
    enriched = services.store.read_enriched(doc_id)
    assert enriched["text"] == clean_text and enriched["language"] == "en" and enriched["entities"]


def test_a_text_too_large_for_the_message_is_read_from_s3(provisioned, services, calls):
    from docingest.messages import MAX_TEXT_MESSAGE_BYTES, message_bytes

    lines = [f"Report {n}: the council of Eastvale met on day {n} and voted on the harbour budget again.\n" for n in range(900)]
    data = "".join(lines).encode()
    assert len(data) > MAX_TEXT_MESSAGE_BYTES
    doc_id, message = fetched(provisioned, services, "long.txt", data)
    assert "text" not in message and message["record"]["status"] == Status.FETCHED and message_bytes(message) < 32 * 1024
    calls.reset()
    assert pipeline.clean_document(services, doc_id, record=message["record"]) == pipeline.Outcome.ADVANCED
    assert calls.take()["GetObject"] == 1  # raw/ read, as before
    message = next_message(services, services.settings.detect_language_queue_url)
    assert "text" not in message
    calls.reset()
    assert pipeline.detect_document_language(services, doc_id, record=message["record"]) == pipeline.Outcome.ADVANCED
    assert calls.take() == {"GetObject": 1, "UpdateItem": 1, "SendMessage": 1}


# repeated-line counts -----------------------------------------------------------------------------


def test_clean_counts_a_documents_lines_in_one_read_and_one_transaction(provisioned, services, calls):
    doc_id, message = fetched(provisioned, services)
    calls.reset()
    assert pipeline.clean_document(services, doc_id, record=message["record"], text=message["text"]) == pipeline.Outcome.ADVANCED
    # the marker read with the counts; marker and increments in one transaction; clean/ written; advance; hand on
    assert calls.take() == {"BatchGetItem": 1, "TransactWriteItems": 1, "PutObject": 1, "UpdateItem": 1, "SendMessage": 1}
    counts, seen, counted = services.line_counts.lookup(services.documents.get(doc_id)["line_source"], doc_id, [])
    assert counted and seen == 1


def test_line_counts_are_atomic_and_chunked_with_the_marker_first(provisioned, services):
    counts = services.line_counts
    many = [f"f{n}" for n in range(250)]
    transactions = []
    counts.client.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems", lambda params, **kwargs: transactions.append(params["TransactItems"]))
    assert counts.add("site-a", "d1", many) is True
    assert [len(t) for t in transactions] == [100, 100, 52]  # marker + #documents + 250 lines
    assert "Put" in transactions[0][0] and all("Update" in a for t in transactions for a in t[1:] if t is transactions[0])
    assert counts.lookup("site-a", "d1", many) == ({f: 1 for f in many}, 1, True)
    transactions.clear()
    assert counts.add("site-a", "d1", many) is False  # cancelled on the marker: counted already
    assert len(transactions) == 1 and counts.counts("site-a", many[:2]) == ({"f0": 1, "f1": 1}, 1)


def test_a_cancelled_line_count_transaction_leaves_no_count(provisioned, services):
    counts = services.line_counts
    counts.client.put_item(TableName=counts.table_name, Item={"source": {"S": "site-a"}, "line": {"S": "doc#d2"}})  # counted (the marker) but, say, by another path
    assert counts.add("site-a", "d2", ["f1", "f2"]) is False
    assert counts.counts("site-a", ["f1", "f2"]) == ({}, 0)


# entity index -------------------------------------------------------------------------------------


def test_extract_entities_indexes_with_one_transaction_of_summaries_and_batched_postings(provisioned, services, calls):
    doc_id, message = fetched(provisioned, services)
    pipeline.clean_document(services, doc_id, record=message["record"], text=message["text"])
    message = next_message(services, services.settings.detect_language_queue_url)
    pipeline.detect_document_language(services, doc_id, record=message["record"], text=message["text"])
    message = next_message(services, services.settings.extract_entities_queue_url)
    index = services.entity_index
    transactions = []
    index.client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems",
                                      lambda params, **kwargs: transactions.append(params["TransactItems"]))
    calls.reset()
    assert pipeline.extract_document_entities(services, doc_id, record=message["record"], text=message["text"]) \
        == pipeline.Outcome.ADVANCED
    assert calls.take() == {"PutObject": 1, "TransactWriteItems": 1, "BatchGetItem": 1, "BatchWriteItem": 1, "UpdateItem": 1}
    keys = {e["key"] for e in services.store.read_enriched(doc_id)["entities"] if e.get("key")}
    (actions,) = transactions
    assert actions[0]["Put"]["Item"]["pk"] == {"S": f"INDEXED#{doc_id}"} and len(actions) == len(keys) + 1
    assert all(a["Update"]["Key"]["sk"] == {"S": "#SUMMARY"} for a in actions[1:])  # the postings are not in it
    for key in keys:
        assert [d.doc_id for d in index.documents(key)] == [doc_id] and index.entity(key)["documents"] == 1
    before = {key: index.entity(key) for key in keys}
    summaries = pipeline_summaries(services, doc_id)
    calls.reset()
    assert index.add_document(doc_id, "en", summaries) == 0  # redelivered: the marker cancels the transaction
    assert {key: index.entity(key) for key in keys} == before
    assert calls.counts()["TransactWriteItems"] == 1


def pipeline_summaries(services, doc_id):
    from docingest.models import Entity
    from docingest.stages.entity_keys import summarise

    enriched = services.store.read_enriched(doc_id)
    return summarise(enriched["text"], [Entity(**e) for e in enriched["entities"]])
