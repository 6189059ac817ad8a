import json

import pytest

from docingest.messages import DocumentMessage, parse_fetch_message


def notification(key: str, **extra) -> str:
    record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2026-11-28T09:00:00.000Z",
              "s3": {"bucket": {"name": "inbox"}, "object": {"key": key, "size": 10}}, **extra}
    return json.dumps({"Records": [record]})


def test_s3_test_event_yields_no_work():
    request = parse_fetch_message(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "inbox"}))
    assert request.objects == [] and request.url is None


def test_keys_are_url_decoded_as_moto_and_aws_encode_them():
    request = parse_fetch_message(notification("news%2Fberita+hari+ini+%C3%A9.txt"))
    assert request.objects[0].key == "news/berita hari ini é.txt"
    assert request.objects[0].s3.bucket.name == "inbox"


def test_lenient_about_fields_moto_leaves_out():
    body = json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                    "s3": {"bucket": {"name": "inbox"}, "object": {"key": "a.txt"}}}]})
    assert parse_fetch_message(body).objects[0].key == "a.txt"


def test_only_object_created_events_are_fetched():
    assert parse_fetch_message(notification("a.txt", eventName="ObjectRemoved:Delete")).objects == []


def test_url_message():
    request = parse_fetch_message('{"url": "https://example.com/a"}')
    assert request.url.url == "https://example.com/a"


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"hello": 1}', '{"Records": [{"s3": {}}]}', '{"url": ""}'])
def test_poison_bodies_raise(body):
    with pytest.raises(ValueError):
        parse_fetch_message(body)


def test_document_message_requires_a_sha256_id():
    assert DocumentMessage.model_validate_json('{"doc_id": "' + "a" * 64 + '"}').doc_id == "a" * 64
    with pytest.raises(ValueError):
        DocumentMessage.model_validate_json('{"doc_id": "../etc/passwd"}')


def test_a_document_message_carries_the_record_without_sources_while_within_32_kb():
    from docingest.messages import MAX_RECORD_MESSAGE_BYTES, document_message, message_bytes

    doc_id = "a" * 64
    record = {"doc_id": doc_id, "status": "CLEANED", "sources": ["s3://inbox/a.txt"], "title": "Café"}
    assert document_message(doc_id) == {"doc_id": doc_id}
    assert document_message(doc_id, record) == {"doc_id": doc_id, "record": {"doc_id": doc_id, "status": "CLEANED", "title": "Café"}}
    large = {**record, "description": "é" * (MAX_RECORD_MESSAGE_BYTES // 2)}  # under 32 K characters, over 32 KB
    assert document_message(doc_id, large) == {"doc_id": doc_id}
    fits = {**record, "description": "x" * 30_000}
    assert message_bytes(document_message(doc_id, fits)) <= MAX_RECORD_MESSAGE_BYTES
    assert DocumentMessage.model_validate(document_message(doc_id, fits)).record["description"] == "x" * 30_000


def test_a_document_message_carries_the_text_while_the_whole_body_stays_under_60_kb():
    from docingest.messages import MAX_TEXT_MESSAGE_BYTES, document_message, message_bytes

    doc_id = "b" * 64
    record = {"doc_id": doc_id, "status": "FETCHED"}
    assert document_message(doc_id, record, "Olá")["text"] == "Olá"
    near = "x" * (MAX_TEXT_MESSAGE_BYTES - 300)
    assert "text" not in document_message(doc_id, record, near[:-200] + "é" * 200)  # the same characters, more bytes
    message = document_message(doc_id, record, near)
    assert message["text"] == near and message_bytes(message) < MAX_TEXT_MESSAGE_BYTES
    assert DocumentMessage.model_validate(message).text == near
