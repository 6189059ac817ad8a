"""The four Lambda handlers, called with SQS events as Lambda delivers them, on moto in-process."""
import json
from pathlib import Path

import boto3
import pytest

from docingest_cli.emulator import LambdaContext, load_handler, sqs_event
from tests.conftest import REGION, ROOT, receive_all

ARTICLE = b"The new library of Northbridge opened on Friday. Librarian Maria Costa welcomed the first readers.\n"


@pytest.fixture
def handlers(provisioned):
    functions = provisioned.functions(None)
    return {logical_id: load_handler(function) for logical_id, function in functions.items()}


def sqs_message(body, message_id="m1", receive_count=1):
    return {"MessageId": message_id, "ReceiptHandle": f"rh-{message_id}", "Body": body if isinstance(body, str) else json.dumps(body),
            "Attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1732780800000"}}


def invoke(handler, *messages):
    return handler(sqs_event(list(messages), "arn:aws:sqs:us-east-1:123456789012:q", REGION), LambdaContext("f", 60, REGION))


def put_inbox(provisioned, key, data):
    boto3.client("s3", region_name=REGION).put_object(Bucket=provisioned.inbox_bucket(), Key=key, Body=data)


def test_fetch_skips_the_s3_test_event_and_decodes_keys(provisioned, handlers):
    put_inbox(provisioned, "in box/café news.txt", ARTICLE)
    sample = json.loads((ROOT / "events" / "fetch-s3-notification-moto.json").read_text())
    test_event = json.loads(sample["Records"][0]["body"])
    notification = json.loads(sample["Records"][1]["body"])
    notification["Records"][0]["s3"]["object"]["key"] = "in+box%2Fcaf%C3%A9+news.txt"
    response = invoke(handlers["FetchFunction"], sqs_message(test_event, "t"), sqs_message(notification, "n"))
    assert response == {"batchItemFailures": []}
    clean_messages = receive_all(provisioned.settings_environment(None)["CLEAN_QUEUE_URL"])
    assert len(clean_messages) == 1


def test_one_bad_record_does_not_fail_its_neighbours(provisioned, handlers):
    put_inbox(provisioned, "good.txt", ARTICLE)
    notification = lambda key: {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                             "s3": {"bucket": {"name": provisioned.inbox_bucket()}, "object": {"key": key}}}]}
    response = invoke(
        handlers["FetchFunction"],
        sqs_message(notification("good.txt"), "good"),
        sqs_message("{not json", "poison"),
        sqs_message(notification("missing.txt"), "missing"),
    )
    assert sorted(item["itemIdentifier"] for item in response["batchItemFailures"]) == ["missing", "poison"]


def test_the_stage_handlers_chain_a_document_to_done(provisioned, handlers):
    environment = provisioned.settings_environment(None)
    put_inbox(provisioned, "good.txt", ARTICLE)
    notification = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                 "s3": {"bucket": {"name": provisioned.inbox_bucket()}, "object": {"key": "good.txt"}}}]}
    invoke(handlers["FetchFunction"], sqs_message(notification))
    for function, queue in (("CleanFunction", "CLEAN_QUEUE_URL"), ("DetectLanguageFunction", "DETECT_LANGUAGE_QUEUE_URL"),
                            ("ExtractEntitiesFunction", "EXTRACT_ENTITIES_QUEUE_URL")):
        (message,) = receive_all(environment[queue])
        boto3.client("sqs", region_name=REGION).purge_queue(QueueUrl=environment[queue])
        assert invoke(handlers[function], sqs_message(message)) == {"batchItemFailures": []}
    table = boto3.resource("dynamodb", region_name=REGION).Table(environment["DOCUMENT_TABLE"])
    (record,) = table.scan()["Items"]
    assert record["status"] == "DONE" and record["language"] == "en" and record["entity_count"] > 0


def test_a_batch_that_fails_entirely_raises_so_lambda_retries_it(provisioned, handlers):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        invoke(handlers["CleanFunction"], sqs_message({"doc_id": "0" * 64}, "x"), sqs_message({"doc_id": "1" * 64}, "y"))


def test_the_last_delivery_marks_the_record_failed(provisioned, handlers):
    environment = provisioned.settings_environment(None)
    doc_id = "f" * 64
    table = boto3.resource("dynamodb", region_name=REGION).Table(environment["DOCUMENT_TABLE"])
    table.put_item(Item={"doc_id": doc_id, "status": "FETCHED", "updated_at": "2026-01-01T00:00:00Z", "charset": "utf-8",
                         "content_type": "text/plain"})  # its raw object is missing: every attempt fails
    good = {"doc_id": "a" * 64}
    table.put_item(Item={"doc_id": "a" * 64, "status": "DONE", "updated_at": "2026-01-01T00:00:00Z"})
    response = invoke(handlers["CleanFunction"], sqs_message({"doc_id": doc_id}, "bad", receive_count=3), sqs_message(good, "ok"))
    assert response["batchItemFailures"] == [{"itemIdentifier": "bad"}]
    record = table.get_item(Key={"doc_id": doc_id})["Item"]
    assert record["status"] == "FAILED" and record["failed_stage"] == "clean" and "gave up after 3 attempts" in record["error"]


def test_handlers_do_not_import_dev_only_packages():
    for app in (ROOT / "functions").glob("*/app.py"):
        source = app.read_text()
        assert "moto" not in source and "docingest_cli" not in source, app
    shared = "\n".join(path.read_text() for path in (ROOT / "shared").rglob("*.py"))
    assert "import moto" not in shared and "from moto" not in shared and "docingest_cli" not in shared


def drop_and_fetch(provisioned, handlers, names):
    """Fetch one batch of dropped files; returns the fetch handler's response."""
    messages = []
    for index, name in enumerate(names):
        put_inbox(provisioned, name, ARTICLE.replace(b"Friday", f"day {index}".encode()))
        notification = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                     "s3": {"bucket": {"name": provisioned.inbox_bucket()}, "object": {"key": name}}}]}
        messages.append(sqs_message(notification, f"m{index}"))
    return invoke(handlers["FetchFunction"], *messages)


def test_a_batch_hands_its_documents_on_in_one_send_message_batch(provisioned, handlers):
    sent = []
    sqs = __import__("docingest.handler", fromlist=["services"]).services().queues._sqs
    sqs.meta.events.register("before-call.sqs", lambda model, **_: sent.append(model.name), unique_id="count-sends")
    try:
        response = drop_and_fetch(provisioned, handlers, [f"doc{index}.txt" for index in range(12)])
    finally:
        sqs.meta.events.unregister("before-call.sqs", unique_id="count-sends")
    assert response == {"batchItemFailures": []}
    assert sent == ["SendMessageBatch", "SendMessageBatch"]  # 12 messages: 10 + 2, no SendMessage
    assert queue_length(provisioned.settings_environment(None)["CLEAN_QUEUE_URL"]) == 12


def queue_length(queue_url):
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_a_record_whose_message_was_not_sent_fails_and_its_redelivery_hands_it_on(provisioned, handlers):
    from docingest.handler import services

    sqs = services().queues._sqs
    original = sqs.send_message_batch

    def lose_the_second(**request):
        response = original(**{**request, "Entries": [entry for entry in request["Entries"] if entry["Id"] != "1"]})
        return {**response, "Failed": [{"Id": "1", "SenderFault": False, "Code": "InternalError", "Message": "lost"}]}

    sqs.send_message_batch = lose_the_second
    try:
        response = drop_and_fetch(provisioned, handlers, ["a.txt", "b.txt", "c.txt"])
    finally:
        del sqs.send_message_batch
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    clean_queue = provisioned.settings_environment(None)["CLEAN_QUEUE_URL"]
    handed_on = {message["doc_id"] for message in receive_all(clean_queue)}
    assert len(handed_on) == 2
    notification = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                 "s3": {"bucket": {"name": provisioned.inbox_bucket()}, "object": {"key": "b.txt"}}}]}
    assert invoke(handlers["FetchFunction"], sqs_message(notification, "m1", receive_count=2)) == {"batchItemFailures": []}
    redelivered = {message["doc_id"] for message in receive_all(clean_queue)} - handed_on
    assert len(redelivered) == 1 and queue_length(clean_queue) == 3  # b.txt, handed on by its redelivery
