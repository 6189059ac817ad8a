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
    assert services.store.read_raw(doc_id) == ARTICLE


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
