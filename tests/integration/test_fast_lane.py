"""The emulator's DynamoDB fast lane answers as moto's HTTP application does: the same operations run on
two identical tables, one through each, must give the same answers, errors and items."""
import copy
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from docingest_cli import direct_transport
from docingest_cli.emulator import EmbeddedServer

SLOW, FAST = "lane-slow", "lane-fast"


@pytest.fixture(scope="module")
def lanes():
    embedded = EmbeddedServer()
    endpoint = embedded.start()
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
    slow = session.client("dynamodb", endpoint_url=endpoint)
    fast = session.client("dynamodb", endpoint_url=endpoint)
    fast.sender = direct_transport.DirectSender(endpoint, embedded.direct_socket)
    direct_transport.attach(fast, endpoint, embedded.direct_socket, sender=fast.sender)
    for name in (SLOW, FAST):
        slow.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                          AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                                                (("pk", "S"), ("sk", "S"), ("kind", "S"), ("n", "N"))],
                          GlobalSecondaryIndexes=[{"IndexName": "by-kind", "Projection": {"ProjectionType": "ALL"},
                                                   "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                                                                 {"AttributeName": "n", "KeyType": "RANGE"}]}])
    yield slow, fast, session, endpoint
    embedded.stop()


def both(lanes, operation, **request):
    """Run ``operation`` on each table through its lane; the answers (or error responses), table names made equal."""
    slow, fast, _, _ = lanes
    answers = []
    for client, table in ((slow, SLOW), (fast, FAST)):
        try:
            answer = getattr(client, operation)(**rename(request, table))
        except ClientError as error:
            answer = {"error": error.response["Error"]["Code"], "reasons": error.response.get("CancellationReasons")}
        answer.pop("ResponseMetadata", None)
        answers.append(rename(answer, "T"))
    return answers


def rename(value, table):
    """Table names (as keys or values) replaced by ``table``."""
    if isinstance(value, dict):
        return {rename(k, table): rename(v, table) for k, v in value.items()}
    if isinstance(value, list):
        return [rename(v, table) for v in value]
    return table if value in ("TABLE", SLOW, FAST) else value


def item(pk, sk, **attributes):
    return {"pk": {"S": pk}, "sk": {"S": sk}, **attributes}


OPERATIONS = [
    ("put_item", dict(TableName="TABLE", Item=item("a", "1", kind={"S": "x"}, n={"N": "3"}, tags={"SS": ["p", "q"]},
                                                  nested={"M": {"l": {"L": [{"N": "1.50"}, {"BOOL": True}, {"NULL": True}]}}}))),
    ("put_item", dict(TableName="TABLE", Item=item("a", "1", kind={"S": "x"}, n={"N": "4"}), ReturnValues="ALL_OLD")),
    ("put_item", dict(TableName="TABLE", Item=item("a", "1"), ConditionExpression="attribute_not_exists(pk)")),
    ("put_item", dict(TableName="TABLE", Item=item("a", "2", kind={"S": "x"}, n={"N": "1"}, word={"S": "Belarus"}))),
    ("update_item", dict(TableName="TABLE", Key=item("a", "1"), UpdateExpression="ADD n :one, seen :s SET #w = :w",
                         ExpressionAttributeNames={"#w": "word"},
                         ExpressionAttributeValues={":one": {"N": "1"}, ":s": {"SS": ["en"]}, ":w": {"S": "é"}},
                         ReturnValues="ALL_NEW")),
    ("update_item", dict(TableName="TABLE", Key=item("a", "9"), UpdateExpression="SET n = :n",
                         ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":n": {"N": "1"}})),
    ("update_item", dict(TableName="TABLE", Key=item("a", "1"), UpdateExpression="SET n = :missing")),
    ("update_item", dict(TableName="TABLE", Key=item("a", "1"), UpdateExpression="SET list_append(", ExpressionAttributeValues={":x": {"N": "1"}})),
    ("get_item", dict(TableName="TABLE", Key=item("a", "1"))),
    ("get_item", dict(TableName="TABLE", Key=item("a", "1"), ProjectionExpression="n, #w", ExpressionAttributeNames={"#w": "word"})),
    ("get_item", dict(TableName="TABLE", Key=item("zz", "1"))),
    ("get_item", dict(TableName="TABLE", Key={"pk": {"S": "a"}})),
    ("batch_write_item", dict(RequestItems={"TABLE": [{"PutRequest": {"Item": item("b", str(i), kind={"S": "y"}, n={"N": str(i)})}}
                                                      for i in range(20)] + [{"DeleteRequest": {"Key": item("a", "2")}}]})),
    ("batch_get_item", dict(RequestItems={"TABLE": {"Keys": [item("b", str(i)) for i in range(0, 30, 3)],
                                                    "ProjectionExpression": "pk, sk, n", "ConsistentRead": True}})),
    ("transact_write_items", dict(TransactItems=[
        {"Put": {"TableName": "TABLE", "Item": item("c", "marker"), "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": "TABLE", "Key": item("c", "sum"), "UpdateExpression": "ADD sum_of_t :t",
                    "ExpressionAttributeValues": {":t": {"N": "5"}}}}])),
    ("transact_write_items", dict(TransactItems=[
        {"Put": {"TableName": "TABLE", "Item": item("c", "marker"), "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": "TABLE", "Key": item("c", "sum"), "UpdateExpression": "ADD sum_of_t :t",
                    "ExpressionAttributeValues": {":t": {"N": "5"}}}}])),
    ("get_item", dict(TableName="TABLE", Key=item("c", "sum"), ConsistentRead=True)),
    ("query", dict(TableName="TABLE", KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                   ExpressionAttributeValues={":p": {"S": "b"}, ":s": {"S": "1"}})),
    ("query", dict(TableName="TABLE", IndexName="by-kind", KeyConditionExpression="kind = :k AND n > :n",
                   ExpressionAttributeValues={":k": {"S": "y"}, ":n": {"N": "4"}}, ScanIndexForward=False, Limit=5)),
    ("query", dict(TableName="TABLE", IndexName="by-kind", KeyConditionExpression="kind = :k", ConsistentRead=True,
                   ExpressionAttributeValues={":k": {"S": "y"}})),
    ("query", dict(TableName="TABLE", KeyConditionExpression="pk = :p", FilterExpression="n > :n", Select="COUNT",
                   ExpressionAttributeValues={":p": {"S": "b"}, ":n": {"N": "10"}})),
    ("delete_item", dict(TableName="TABLE", Key=item("b", "3"), ReturnValues="ALL_OLD")),
    ("put_item", dict(TableName="TABLE", Item=item("d", "1", blob={"B": b"\x00\xffbinary"}))),
    ("get_item", dict(TableName="TABLE", Key=item("d", "1"))),
    ("get_item", dict(TableName="no-such-table", Key=item("d", "1"))),
]


@pytest.mark.parametrize("index", range(len(OPERATIONS)))
def test_each_operation_answers_the_same_through_both_lanes(lanes, index):
    operation, request = OPERATIONS[index]
    slow_answer, fast_answer = both(lanes, operation, **copy.deepcopy(request))
    assert fast_answer == slow_answer


def test_the_tables_end_the_same_and_the_fast_lane_was_taken(lanes):
    slow, fast, _, _ = lanes
    for index in range(len(OPERATIONS)):  # in order, whatever pytest selected
        both(lanes, OPERATIONS[index][0], **copy.deepcopy(OPERATIONS[index][1]))
    scan = lambda table: sorted(rename(slow.scan(TableName=table)["Items"], "T"), key=repr)  # noqa: E731
    assert scan(FAST) == scan(SLOW) and len(scan(FAST)) > 20
    assert fast.sender.fast >= len(OPERATIONS) - 3  # the binary requests took the usual path


def test_the_resource_layer_works_through_the_fast_lane(lanes):
    _, fast, session, endpoint = lanes
    table = session.resource("dynamodb", endpoint_url=endpoint).Table(FAST)
    table.meta.client.meta.events.register("before-call.dynamodb", fast.sender.fast_call)
    before = fast.sender.fast
    table.put_item(Item={"pk": "r", "sk": "1", "n": Decimal("2.5"), "names": {"a", "b"}, "doc": {"x": [1, "y"]}})
    got = table.get_item(Key={"pk": "r", "sk": "1"})["Item"]
    assert got == {"pk": "r", "sk": "1", "n": Decimal("2.5"), "names": {"a", "b"}, "doc": {"x": [Decimal(1), "y"]}}
    with pytest.raises(ClientError) as error:
        table.put_item(Item={"pk": "r", "sk": "1"}, ConditionExpression="attribute_not_exists(pk)")
    assert error.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert fast.sender.fast == before + 3


def test_concurrent_increments_through_both_lanes_are_never_lost(lanes):
    import threading

    slow, fast, _, _ = lanes
    key = item("counter", "1")

    def increments(client, count):
        for _ in range(count):
            client.transact_write_items(TransactItems=[{"Update": {
                "TableName": FAST, "Key": key, "UpdateExpression": "ADD n :one, m :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}}}}])

    threads = [threading.Thread(target=increments, args=(client, 150)) for client in (slow, fast, slow, fast)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counted = fast.get_item(TableName=FAST, Key=key, ConsistentRead=True)["Item"]
    assert counted["n"] == counted["m"] == {"N": "600"}


# SQS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def queues(lanes):
    _, _, session, endpoint = lanes
    slow = session.client("sqs", endpoint_url=endpoint)
    fast = session.client("sqs", endpoint_url=endpoint)
    fast.sender = direct_transport.DirectSender(endpoint, lanes[1].sender.path)
    direct_transport.attach(fast, endpoint, lanes[1].sender.path, sender=fast.sender)
    urls = {}
    for name in ("q-slow", "q-fast"):
        dlq = slow.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = slow.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        urls[name] = slow.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": "30", "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "2"}}'})["QueueUrl"]
    return slow, fast, urls


def normalised(answer):
    """Random ids and times made comparable."""
    if isinstance(answer, dict):
        return {k: ("<id>" if k in ("MessageId", "ReceiptHandle") else "<time>" if k.endswith("Timestamp") else normalised(v))
                for k, v in answer.items()}
    if isinstance(answer, list):
        return [normalised(v) for v in answer]
    return answer


def sqs_both(queues, operation, receipts=None, **request):
    slow, fast, urls = queues
    answers = []
    for client, name in ((slow, "q-slow"), (fast, "q-fast")):
        call = {k: (urls[name] if v == "URL" else v) for k, v in request.items()}
        if receipts is not None:
            call = receipts(call, name)
        try:
            answer = getattr(client, operation)(**call)
        except ClientError as error:
            answer = {"error": error.response["Error"]["Code"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
        answer.pop("ResponseMetadata", None)
        answers.append(answer)
    return answers


def test_queue_operations_answer_the_same_through_both_lanes(queues):
    slow, fast, urls = queues
    before = fast.sender.fast
    cases = [
        ("send_message", dict(QueueUrl="URL", MessageBody='{"doc_id": "ü"}',
                              MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}})),
        ("send_message_batch", dict(QueueUrl="URL", Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)])),
        ("send_message_batch", dict(QueueUrl="URL", Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])),
        ("send_message_batch", dict(QueueUrl="URL", Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])),
        ("send_message", dict(QueueUrl="URL", MessageBody="")),
        ("receive_message", dict(QueueUrl="URL", MaxNumberOfMessages=11)),
        ("receive_message", dict(QueueUrl="URL", MaxNumberOfMessages=3, WaitTimeSeconds=0, AttributeNames=["All"],
                                 MessageAttributeNames=["All"], VisibilityTimeout=0)),
        ("receive_message", dict(QueueUrl="URL-missing".replace("URL-missing", "http://127.0.0.1:1/123456789012/none"))),
        ("change_message_visibility", dict(QueueUrl="URL", ReceiptHandle="not-a-handle", VisibilityTimeout=5)),
        ("delete_message_batch", dict(QueueUrl="URL", Entries=[{"Id": "x", "ReceiptHandle": "not-a-handle"}])),
    ]
    for operation, request in cases:
        slow_answer, fast_answer = sqs_both(queues, operation, **request)
        assert normalised(fast_answer) == normalised(slow_answer), operation
    # receive all, then delete half and let the rest go to the DLQ after two receives
    received = {}
    for name, client in (("q-slow", slow), ("q-fast", fast)):
        got = []
        while True:
            batch = client.receive_message(QueueUrl=urls[name], MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            if not batch:
                break
            got += batch
        received[name] = sorted(got, key=lambda m: m["Body"])
    assert [m["Body"] for m in received["q-fast"]] == [m["Body"] for m in received["q-slow"]] and len(received["q-fast"]) == 12
    handles = {name: [m["ReceiptHandle"] for m in messages[:6]] for name, messages in received.items()}
    deleted = sqs_both(queues, "delete_message_batch", receipts=lambda call, name: {
        **call, "Entries": [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[name])]}, QueueUrl="URL")
    assert normalised(deleted[0]) == normalised(deleted[1]) and len(deleted[1]["Successful"]) == 6
    assert fast.sender.fast > before + len(cases)  # the fast client's calls took the fast lane


def test_a_cancelled_transaction_says_why_through_both_lanes(lanes):
    marker = {"Put": {"TableName": "TABLE", "Item": item("e", "marker"), "ConditionExpression": "attribute_not_exists(pk)"}}
    both(lanes, "transact_write_items", TransactItems=[marker])
    slow_answer, fast_answer = both(lanes, "transact_write_items", TransactItems=[marker, {
        "Update": {"TableName": "TABLE", "Key": item("e", "count"), "UpdateExpression": "ADD c :one",
                   "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    assert fast_answer == slow_answer
    assert fast_answer["error"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in fast_answer["reasons"]] == ["ConditionalCheckFailed", "None"]
