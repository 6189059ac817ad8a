"""The emulator's moto speed fixes keep AWS's behaviour."""
import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from docingest_cli import moto_patches


def test_received_messages_still_honour_the_retention_period(monkeypatch, aws_credentials):
    moto_patches.apply()
    with mock_aws():
        from moto.sqs import models

        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="fresh")
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]] == ["fresh"]
        now = models.unix_time()
        monkeypatch.setattr(models, "unix_time", lambda: now + 61)  # past the retention period
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_sending_skips_the_queue_attributes_and_keeps_their_answers(aws_credentials):
    moto_patches.apply()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        standard = sqs.create_queue(QueueName="standard")["QueueUrl"]
        fifo = sqs.create_queue(QueueName="dedup.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
        for index in range(3):
            sqs.send_message(QueueUrl=standard, MessageBody=f"m{index}")
            sqs.send_message(QueueUrl=fifo, MessageBody="same body", MessageGroupId="g")  # deduplicated by content
        counts = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == "3" and "ContentBasedDeduplication" not in counts
        fifo_attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
        assert fifo_attributes["ContentBasedDeduplication"] == "true" and fifo_attributes["ApproximateNumberOfMessages"] == "1"
        with pytest.raises(ClientError):  # a FIFO queue without content deduplication still asks for an id
            plain_fifo = sqs.create_queue(QueueName="plain.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            sqs.send_message(QueueUrl=plain_fifo, MessageBody="x", MessageGroupId="g")


def test_projections_of_top_level_names_answer_as_moto_does(aws_credentials):
    import random

    moto_patches.apply()
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    rng = random.Random(5)
    values = [{"S": "x"}, {"N": "2.5"}, {"SS": ["a", "b"]}, {"L": [{"S": "a"}, {"N": "1"}]}, {"BOOL": False},
              {"M": {"a": {"S": "b"}, "c": {"L": [{"N": "3"}]}}}, {"B": b"\x00\xff"}, {"NULL": True}]
    names = ["a", "b", "c", "d", "pk"]
    paths = [["a"], ["b"], ["c"], ["missing"], ["pk"], ["m", "a"], ["m"], ["l[1]"]]  # m, l: moto's way (nested)

    def plain(item: Item) -> dict:  # sets compared as sets (moto's own projection may reorder them)
        return {name: {kind: sorted(value) if kind in ("SS", "NS") else value for kind, value in attribute.to_json().items()}
                for name, attribute in item.attrs.items()}

    for _ in range(200):
        attributes = {name: rng.choice(values) for name in rng.sample(names[:4], rng.randint(0, 4))}
        attributes.update(pk={"S": "key"}, m={"M": {"a": {"S": "b"}}}, l={"L": [{"S": "a"}, {"N": "1"}]})
        item = Item(DynamoType({"S": "key"}), None, attributes)
        projection = rng.sample(paths, rng.randint(1, 4))
        projected = item.project(projection)
        assert plain(projected) == plain(Item.project.moto_project(item, projection))
        if any(name in attributes for (name, *_) in projection):
            projected.attrs[projection[0][0]] = DynamoType({"S": "changed"}) if projection[0][0] in projected.attrs else None
            assert plain(item) == plain(Item(DynamoType({"S": "key"}), None, attributes))  # a copy, not a view


@pytest.mark.parametrize("operation", ["update_item", "put_item", "delete_item", "transact"])
def test_condition_placeholders_are_checked_as_moto_does(aws_credentials, monkeypatch, operation):
    moto_patches.apply()
    from moto.dynamodb import comparisons, responses
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        client.put_item(TableName="t", Item={"pk": {"S": "k"}, "state": {"S": "A"}})

        def call(condition: str, names: dict, values: dict) -> str:
            request = {"TableName": "t", "Key": {"pk": {"S": "k"}}, "ConditionExpression": condition}
            if names:
                request["ExpressionAttributeNames"] = names
            if values:
                request["ExpressionAttributeValues"] = values
            try:
                if operation == "update_item":
                    client.update_item(UpdateExpression="SET #n = :n", **{**request, "ExpressionAttributeNames": {**names, "#n": "n"},
                                                                            "ExpressionAttributeValues": {**values, ":n": {"S": "v"}}})
                elif operation == "put_item":
                    request.pop("Key")
                    client.put_item(Item={"pk": {"S": "k"}, "state": {"S": "A"}}, **request)
                elif operation == "delete_item":
                    client.delete_item(**request)
                    client.put_item(TableName="t", Item={"pk": {"S": "k"}, "state": {"S": "A"}})
                else:
                    client.transact_write_items(TransactItems=[{"ConditionCheck": request}])
                return "ok"
            except ClientError as error:
                return error.response["Error"]["Code"] + ": " + error.response["Error"]["Message"]
            except Exception as error:  # noqa: BLE001  (moto's own KeyError for a value not given)
                return f"{error.__class__.__name__}: {error}"

        cases = [("#s = :a", {"#s": "state"}, {":a": {"S": "A"}}),  # holds
                 ("#s = :a", {"#s": "state"}, {":a": {"S": "B"}}),  # fails the check
                 ("#s = :a", {"#s": "state", "#unused": "x"}, {":a": {"S": "A"}}),  # a name not used
                 ("#s = :a", {"#s": "state"}, {":a": {"S": "A"}, ":unused": {"S": "x"}}),  # a value not used
                 ("#s = :missing", {"#s": "state"}, {":a": {"S": "A"}}),  # a value not given
                 ("#s = :a AND", {"#s": "state"}, {":a": {"S": "A"}})]  # not an expression
        answers = [call(*case) for case in cases * 2]  # the second round answers from the cache
        monkeypatch.setattr(responses, "create_condition_expression_parser", comparisons.create_condition_expression_parser)
        monkeypatch.setattr(responses, "UpdateExpressionParser", UpdateExpressionParser)
        assert answers == [call(*case) for case in cases * 2]  # moto's own request layer
        assert answers[0] == "ok" and answers[1].startswith(("ConditionalCheckFailed", "TransactionCanceled"))
        assert answers[2].startswith("ValidationException") and "#unused" in answers[2]


def test_random_identifiers_keep_moto_s_form(aws_credentials):
    import string

    moto_patches.apply()
    from moto.moto_api._internal import mock_random

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="m")
        handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    assert len(handle) == 185 and set(handle) <= set(string.ascii_lowercase)
    drawn = {mock_random.get_random_string(40) for _ in range(50)}
    assert len(drawn) == 50 and all(len(s) == 40 and set(s) <= set(string.ascii_letters + string.digits) for s in drawn)
    assert set(mock_random.get_random_string(200, include_digits=False, lower_case=True)) <= set(string.ascii_lowercase)
    assert set(mock_random.get_random_hex(64)) <= set("0123456789abcdef") and len(mock_random.get_random_hex(64)) == 64
    mock_random.seed(3)
    first = mock_random.get_random_string(30)
    mock_random.seed(3)
    assert mock_random.get_random_string(30) == first  # still seedable


def test_items_are_sized_as_moto_sizes_them():
    moto_patches.apply()
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    values = [{"S": "plain"}, {"S": "ünïcødé 漢字"}, {"S": ""}, {"N": "12.50"}, {"N": "-3"}, {"SS": ["a", "ßb", "漢"]},
              {"NS": ["1", "2.5"]}, {"BOOL": True}, {"NULL": True}, {"B": b"\x00\xff"}, {"BS": [b"a", b"bc"]},
              {"L": [{"S": "é"}, {"N": "1"}]}, {"M": {"ké": {"S": "v"}, "n": {"SS": ["x"]}}}]
    attributes = {f"name{i}é": DynamoType(value) for i, value in enumerate(values)}
    assert moto_patches._item_size(attributes) == sum(bytesize(k) + v.size() for k, v in attributes.items())
    for value in attributes.values():
        assert moto_patches._attribute_size(value) == value.size()
