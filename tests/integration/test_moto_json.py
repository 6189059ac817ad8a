"""moto's DynamoDB reads requests and writes responses with plain JSON where that gives the same answer.

The same DynamoDB session runs twice on fresh moto backends, with the JSON short cuts off (moto's own
model walk) and on; every answer botocore parses must be the same.
"""
import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from docingest_cli import moto_patches

ITEM = {"pk": {"S": "doc#1"}, "sk": {"S": "ç\u00e9 日本"}, "n": {"N": "1.50"}, "ok": {"BOOL": True}, "nothing": {"NULL": True},
        "tags": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2"]}, "list": {"L": [{"S": "x"}, {"N": "2"}]},
        "map": {"M": {"inner": {"S": "v"}, "deep": {"M": {"k": {"N": "0"}}}}}, "kind": {"S": "PER"}, "rank": {"N": "3"}}


def session_answers() -> list:
    answers = []
    client = boto3.client("dynamodb", region_name="us-east-1")

    def call(operation: str, **request) -> None:
        try:
            response = getattr(client, operation)(**request)
            response.pop("ResponseMetadata", None)
            response.pop("TableDescription", None)  # creation times differ between the two runs
            answers.append((operation, "ok", response))
        except ClientError as error:
            answers.append((operation, "error", error.response["Error"], error.response.get("CancellationReasons")))

    client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                                              (("pk", "S"), ("sk", "S"), ("kind", "S"), ("rank", "N"))],
                        GlobalSecondaryIndexes=[{"IndexName": "by-kind", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
                            {"AttributeName": "kind", "KeyType": "HASH"}, {"AttributeName": "rank", "KeyType": "RANGE"}]}])
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    call("put_item", TableName="t", Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
    call("put_item", TableName="t", Item=ITEM, ConditionExpression="attribute_not_exists(pk)")  # fails
    call("put_item", TableName="t", Item={**ITEM, "sk": {"S": "bin"}, "blob": {"B": b"\x00\x01"}})
    call("get_item", TableName="t", Key=key, ConsistentRead=True)
    call("get_item", TableName="t", Key={"pk": {"S": "missing"}, "sk": {"S": "x"}})
    call("get_item", TableName="t", Key=key, ProjectionExpression="#n, tags", ExpressionAttributeNames={"#n": "n"})
    call("get_item", TableName="t", Key={"pk": ITEM["pk"], "sk": {"S": "bin"}})
    for return_values in ("NONE", "ALL_NEW", "UPDATED_OLD", "ALL_OLD"):
        call("update_item", TableName="t", Key=key, UpdateExpression="ADD n :one SET #s = :s REMOVE nothing",
             ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":one": {"N": "1"}, ":s": {"S": "É"}},
             ReturnValues=return_values)
    call("update_item", TableName="t", Key=key, UpdateExpression="SET n = :v", ConditionExpression="n = :zero",
         ExpressionAttributeValues={":v": {"N": "1"}, ":zero": {"N": "0"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    call("update_item", TableName="t", Key=key, UpdateExpression="SET u = :v", ExpressionAttributeValues={":v": {"S": "x"}, ":x": {"S": "y"}})
    call("batch_write_item", RequestItems={"t": [{"PutRequest": {"Item": {**ITEM, "sk": {"S": f"s{i}"}, "rank": {"N": str(i)}}}}
                                                 for i in range(5)]})
    call("batch_get_item", RequestItems={"t": {"Keys": [{"pk": ITEM["pk"], "sk": {"S": f"s{i}"}} for i in range(7)],
                                               "ProjectionExpression": "sk, #r", "ExpressionAttributeNames": {"#r": "rank"}}})
    call("batch_get_item", RequestItems={"t": {"Keys": [key, {"pk": ITEM["pk"], "sk": {"S": "bin"}}]}})
    call("query", TableName="t", IndexName="by-kind", KeyConditionExpression="kind = :k AND #r >= :r",
         ExpressionAttributeNames={"#r": "rank"}, ExpressionAttributeValues={":k": {"S": "PER"}, ":r": {"N": "2"}},
         ScanIndexForward=False, Limit=2)
    call("query", TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": ITEM["pk"]},
         Select="COUNT")
    call("scan", TableName="t", FilterExpression="contains(tags, :a)", ExpressionAttributeValues={":a": {"S": "a"}})
    call("transact_write_items", TransactItems=[
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "m"}, "sk": {"S": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": "t", "Key": key, "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    call("transact_write_items", TransactItems=[  # cancelled: the first Put's condition fails
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "m"}, "sk": {"S": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": "t", "Key": key, "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    call("delete_item", TableName="t", Key=key, ReturnValues="ALL_OLD")
    call("get_item", TableName="nope", Key=key)
    return answers


def test_json_short_cuts_give_moto_answers(aws_credentials, monkeypatch):
    moto_patches.apply()
    monkeypatch.setattr(moto_patches, "JSON_SHORTCUTS", False)
    with mock_aws():
        walked = session_answers()
    monkeypatch.setattr(moto_patches, "JSON_SHORTCUTS", True)
    plain = []
    check = moto_patches._plain
    monkeypatch.setattr(moto_patches, "_plain", lambda value: plain.append(check(value)) or plain[-1])
    with mock_aws():
        shortcut = session_answers()
    assert sum(plain) >= 15 and not all(plain)  # most answers were written as plain JSON, the binary ones not
    assert len(walked) == len(shortcut) > 20
    for expected, got in zip(walked, shortcut):
        assert got == expected
    assert sum(answer[1] == "error" for answer in walked) >= 4  # the error answers were compared too
