"""Every document ends DONE or FAILED: unexpected errors, timeouts, URL failures, URL lists, on moto in-process."""
import dataclasses
import json
import time

import boto3
import pytest

from docingest import pipeline
from docingest.adapters.http import Download, TransientFetchError
from docingest.deadline import OutOfTime, check
from docingest.lifecycle import Stage, Status
from docingest.messages import UrlMessage
from docingest_cli.emulator import LambdaContext, load_handler, sqs_event
from tests.conftest import REGION, receive_all

ARTICLE = b"The ferry to Westport sailed again on Tuesday. Captain Ines Duarte said the crossing was calm.\n"


@pytest.fixture
def handlers(provisioned):
    return {logical_id: load_handler(function) for logical_id, function in provisioned.functions(None).items()}


def notification(bucket, key):
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2026-12-01T10:00:00.000Z",
                         "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}


def invoke(handler, body, receive_count=1, timeout=60):
    message = {"MessageId": "m1", "ReceiptHandle": "rh", "Body": json.dumps(body),
               "Attributes": {"ApproximateReceiveCount": str(receive_count)}}
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    try:
        return handler(sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:q", REGION), LambdaContext("f", timeout, REGION))
    except BatchProcessingError:  # the only record failed: Lambda retries the batch
        return {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def put_inbox(provisioned, key, data):
    bucket = provisioned.inbox_bucket()
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=data)
    return bucket


def with_settings(services, **changes):
    return dataclasses.replace(services, settings=dataclasses.replace(services.settings, **changes))


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "zlib", "undefined", "punycode"])
def test_a_page_declaring_a_non_text_charset_is_fetched(provisioned, handlers, services, charset):
    page = f'<html><head><meta charset="{charset}"></head><body><p>Hi there, the market opens at nine.</p></body></html>'
    bucket = put_inbox(provisioned, "x.html", page.encode())
    assert invoke(handlers["FetchFunction"], notification(bucket, "x.html")) == {"batchItemFailures": []}
    (record,) = [r for r in services.documents.list_by_status("FETCHED")]
    assert record["charset"] == "utf-8"


def test_an_unexpected_error_on_the_s3_path_ends_failed_on_the_last_delivery(provisioned, handlers, services, monkeypatch):
    bucket = put_inbox(provisioned, "news/a.txt", ARTICLE)

    def broken(*args, **kwargs):
        raise LookupError("unknown encoding: surprise")

    monkeypatch.setattr(pipeline.fetch_stage, "decode_bytes", broken)
    first = invoke(handlers["FetchFunction"], notification(bucket, "news/a.txt"), receive_count=1)
    assert first["batchItemFailures"]  # retried
    (record,) = services.documents.list_by_status("RECEIVED")
    invoke(handlers["FetchFunction"], notification(bucket, "news/a.txt"), receive_count=3)
    record = services.documents.get(record["doc_id"])
    assert record["status"] == Status.FAILED and record["failed_stage"] == "fetch" and record["error_kind"] == pipeline.GAVE_UP
    assert "LookupError: unknown encoding: surprise" in record["error"]
    assert record["raw_key"] and record["source"] == f"s3://{bucket}/news/a.txt"


def test_an_inbox_object_that_cannot_be_read_leaves_a_failed_record(provisioned, handlers, services):
    bucket = provisioned.inbox_bucket()
    response = invoke(handlers["FetchFunction"], notification(bucket, "gone.txt"), receive_count=3)
    assert response["batchItemFailures"]
    (record,) = services.documents.list_by_status("FAILED")
    assert record["source"] == f"s3://{bucket}/gone.txt" and record["kind"] == "document"
    assert record["received_at"] == "2026-12-01T10:00:00.000Z" and "gave up after 3 attempts" in record["error"]


def test_a_given_up_url_has_a_whole_record_and_a_later_success_supersedes_it(provisioned, handlers, services, monkeypatch):
    url = "https://news.example/ferry"

    def unreachable(*args, **kwargs):
        raise TransientFetchError(f"could not reach {url}: ConnectTimeoutError")

    monkeypatch.setattr(pipeline, "download", unreachable)
    body = {"url": url, "source": "s3://inbox/feeds.urls", "depth": 1}
    invoke(handlers["FetchFunction"], body, receive_count=3)
    failed = services.documents.get(pipeline.url_request_id(url))
    assert failed["status"] == Status.FAILED and failed["error_kind"] == pipeline.GAVE_UP
    assert failed["kind"] == "url" and failed["url"] == url and failed["source"] == url
    assert failed["via"] == "s3://inbox/feeds.urls" and failed["received_at"]

    monkeypatch.setattr(pipeline, "download", lambda *a, **k: Download(url, ARTICLE, "text/plain"))
    assert invoke(handlers["FetchFunction"], body) == {"batchItemFailures": []}  # redriven
    assert services.documents.get(pipeline.url_request_id(url)) is None
    assert services.documents.count_by_status()["FAILED"] == 0
    assert services.documents.count_by_status()["FETCHED"] == 1


def test_url_lists_nested_too_deep_end_failed(provisioned, services, monkeypatch):
    listing = b"https://news.example/list-2.urls\n"
    monkeypatch.setattr(pipeline, "download", lambda url, **k: Download(url, listing + url.encode(), "text/uri-list"))
    deep = with_settings(services, max_url_list_depth=2)
    doc_id, outcome = pipeline.fetch_url(deep, UrlMessage(url="https://news.example/list-1.urls", depth=1))
    assert outcome == pipeline.Outcome.ADVANCED
    queued = [m for m in receive_all(services.settings.fetch_queue_url) if "url" in m]
    assert {m["depth"] for m in queued} == {2}
    doc_id, outcome = pipeline.fetch_url(deep, UrlMessage(url="https://news.example/list-2.urls", depth=2))
    record = services.documents.get(doc_id)
    assert outcome == pipeline.Outcome.FAILED and "nested too deep" in record["error"] and "the limit is 2" in record["error"]


def test_a_url_list_over_the_limit_ends_failed(provisioned, services):
    bucket = put_inbox(provisioned, "many.urls", "".join(f"https://news.example/{i}\n" for i in range(30)).encode())
    doc_id, outcome = pipeline.fetch_s3_object(with_settings(services, max_urls_per_list=25), bucket, "many.urls")
    record = services.documents.get(doc_id)
    assert outcome == pipeline.Outcome.FAILED and record["error"].startswith("too many URLs: 30 in one list, the limit is 25")
    assert [m for m in receive_all(services.settings.fetch_queue_url) if "url" in m] == []


def test_out_of_time_is_recorded_and_the_next_delivery_retries(provisioned, services, monkeypatch):
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, "a.txt")
    from docingest.stages import clean as clean_module

    real_clean = clean_module.clean

    def too_slow(*args, **kwargs):
        raise OutOfTime("out of time before scoring blocks")

    monkeypatch.setattr(clean_module, "clean", too_slow)
    with pytest.raises(OutOfTime):
        pipeline.clean_document(services, doc_id)
    record = services.documents.get(doc_id)
    assert record["status"] == Status.FAILED and record["error_kind"] == pipeline.TIMED_OUT and "timed out" in record["error"]
    monkeypatch.setattr(clean_module, "clean", real_clean)
    assert pipeline.clean_document(services, doc_id) == pipeline.Outcome.ADVANCED


def test_a_step_that_cannot_be_interrupted_is_recorded_by_the_watchdog(provisioned, handlers, services, monkeypatch):
    """The function has 2 s; the step blocks for 2.5 s: the record is FAILED before Lambda would kill it."""
    monkeypatch.setenv("TIME_MARGIN_SECONDS", "1.5")
    from docingest import handler

    handler.services.cache_clear()
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, "a.txt")
    from docingest.stages import clean as clean_module

    def blocks(*args, **kwargs):
        time.sleep(2.5)  # a C call: no deadline check inside
        check("after the C call")
        raise AssertionError("unreachable")

    monkeypatch.setattr(clean_module, "clean", blocks)
    response = invoke(handlers["CleanFunction"], {"doc_id": doc_id}, timeout=2)
    assert response["batchItemFailures"]
    record = services.documents.get(doc_id)
    assert record["status"] == Status.FAILED and record["error_kind"] == pipeline.TIMED_OUT
    assert "clean" in record["error"] and record["failed_stage"] == "clean"
    handler.services.cache_clear()
