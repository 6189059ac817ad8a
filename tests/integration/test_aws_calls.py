"""The AWS calls each stage makes per document, counted on the pipeline's own clients against moto."""
from __future__ import annotations

from collections import Counter

import pytest

from docingest import pipeline
from docingest.lifecycle import Status
from tests.conftest import receive_all
from tests.integration.test_pipeline import ARTICLE, put_inbox


class Calls:
    """Every AWS operation the services' clients make, by name, from the last ``reset``."""

    def __init__(self, services: pipeline.Services):
        self.seen: list[str] = []
        clients = {id(c): c for c in (services.store._s3, services.queues._sqs, services.documents.table.meta.client,
                                      *(x.table.meta.client for x in (services.line_counts, services.entity_index) if x))}
        for client in clients.values():
            client.meta.events.register("before-call", self._record)

    def _record(self, model, **kwargs) -> None:
        self.seen.append(model.name)

    def reset(self) -> None:
        self.seen.clear()

    def counts(self) -> Counter:
        return Counter(self.seen)

    def take(self) -> Counter:
        counts = self.counts()
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
