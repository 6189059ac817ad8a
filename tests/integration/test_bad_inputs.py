"""The bad-input corpus end to end through the pipeline (moto in-process): each file ends where it must."""
import dataclasses
import re

import boto3
import pytest

from docingest import pipeline
from docingest.lifecycle import Status
from tests.bad_inputs import corpus
from tests.conftest import REGION

STEPS = (pipeline.clean_document, pipeline.detect_document_language, pipeline.extract_document_entities)


@pytest.fixture
def small_services(services):
    """Default limits except the entity search, so the long-line file stays quick."""
    return dataclasses.replace(services, settings=dataclasses.replace(services.settings, max_entity_text_chars=20_000))


@pytest.mark.parametrize("item", corpus(small=True), ids=lambda item: item.name)
def test_every_bad_input_ends_done_or_failed_with_a_reason(provisioned, small_services, item):
    bucket = provisioned.inbox_bucket()
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=item.name, Body=item.data)
    doc_id, _ = pipeline.fetch_s3_object(small_services, bucket, item.name)
    for step in STEPS:
        if small_services.documents.get(doc_id)["status"] in (Status.DONE, Status.FAILED):
            break
        step(small_services, doc_id)
    record = small_services.documents.get(doc_id)
    assert record["status"] == item.status, record.get("error")
    if item.status == Status.FAILED:
        assert re.search(item.reason, record["error"]), record["error"]
        assert record["raw_key"]  # the raw input is kept
    if item.name == "utf16-meta.html":
        assert record["language"] == "en"
    if item.name == "one-long-line.txt":
        assert 0 < record["entities_searched_chars"] <= 20_000 and record["entity_count"] > 0
