"""The patched query on a secondary index (prefiltered candidates) answers as moto's own query does."""
import random

import boto3
import pytest
from moto import mock_aws

from docingest_cli import moto_patches

OPERATORS = ["= :a", "< :a", "<= :a", "> :a", ">= :a", "BETWEEN :a AND :b", "begins_with({}, :a)"]


def pages(client, request):
    answers, request = [], dict(request)
    while True:
        page = client.query(**request)
        page.pop("ResponseMetadata")
        answers.append(page)
        if "LastEvaluatedKey" not in page:
            return answers
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.parametrize("seed", range(3))
def test_index_queries_answer_as_moto(aws_credentials, monkeypatch, seed):
    moto_patches.apply()
    from moto.dynamodb.models.table import Table

    patched_query, patched_all_items = Table.query, Table.all_items
    rng = random.Random(seed)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                                  (("id", "S"), ("status", "S"), ("at", "S"), ("kind", "S"), ("rank", "N"))],
            GlobalSecondaryIndexes=[
                {"IndexName": "by-status", "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["extra"]},
                 "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}]},
                {"IndexName": "by-kind", "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}, {"AttributeName": "rank", "KeyType": "RANGE"}]},
                {"IndexName": "kind-only", "Projection": {"ProjectionType": "KEYS_ONLY"},
                 "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}]}])
        for index in range(300):
            item = {"id": {"S": f"d{index:03d}"}, "extra": {"S": "x" * rng.randint(0, 50)}}
            if rng.random() < 0.9:
                item["status"] = {"S": rng.choice(["DONE", "FAILED", "CLEAN", "done"])}
            if rng.random() < 0.9:
                item["at"] = {"S": f"2026-12-03T10:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"}
            if rng.random() < 0.7:
                item["kind"] = {"S": rng.choice(["PER", "ORG"])}
                item["rank"] = {"N": str(rng.randint(-5, 50))}
            client.put_item(TableName="t", Item=item)
        prefiltered = 0
        for _ in range(120):
            index = rng.choice(["by-status", "by-kind", "kind-only"])
            hash_name, hash_value = ("status", rng.choice(["DONE", "FAILED", "CLEAN", "none"])) if index == "by-status" \
                else ("kind", rng.choice(["PER", "ORG"]))
            request = {"TableName": "t", "IndexName": index, "ExpressionAttributeNames": {"#h": hash_name},
                       "ExpressionAttributeValues": {":h": {"S": hash_value}}, "KeyConditionExpression": "#h = :h",
                       "ScanIndexForward": rng.random() < 0.5}
            if index != "kind-only" and rng.random() < 0.8:
                operator = rng.choice(OPERATORS if index == "by-status" else OPERATORS[:6])
                range_name = "at" if index == "by-status" else "rank"
                request["ExpressionAttributeNames"]["#r"] = range_name
                low, high = sorted(rng.sample(range(0, 60), 2))
                values = ({":a": {"S": f"2026-12-03T10:{low:02d}"}, ":b": {"S": f"2026-12-03T10:{high:02d}"}}
                          if index == "by-status" else {":a": {"N": str(low - 5)}, ":b": {"N": str(high - 5)}})
                if "begins_with" in operator:
                    values[":a"] = {"S": f"2026-12-03T10:{low // 10}"}
                request["ExpressionAttributeValues"].update({k: v for k, v in values.items() if k in operator})
                condition = operator.format("#r") if "{}" in operator else f"#r {operator}"
                request["KeyConditionExpression"] += f" AND {condition}"
            if rng.random() < 0.4:
                request["Limit"] = rng.randint(1, 30)
            if rng.random() < 0.3:
                request["ProjectionExpression"] = "id, #h"
            if rng.random() < 0.2:
                request["Select"] = "COUNT"
                request.pop("ProjectionExpression", None)
            fast = pages(client, request)
            monkeypatch.setattr(Table, "query", patched_query.moto_query)
            monkeypatch.setattr(Table, "all_items", patched_all_items.moto_all_items)
            slow = pages(client, request)
            monkeypatch.setattr(Table, "query", patched_query)
            monkeypatch.setattr(Table, "all_items", patched_all_items)
            assert fast == slow
            prefiltered += sum(page.get("Count", 0) for page in fast) > 0
        assert prefiltered > 40  # most queries found something


def test_large_items_page_by_size_as_moto(aws_credentials, monkeypatch):
    moto_patches.apply()
    from moto.dynamodb.models.table import Table

    patched_query, patched_all_items = Table.query, Table.all_items
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="big", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "status", "at")],
            GlobalSecondaryIndexes=[{"IndexName": "by-status", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
                {"AttributeName": "status", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}]}])
        for index in range(30):
            client.put_item(TableName="big", Item={"id": {"S": f"d{index:02d}"}, "status": {"S": "DONE"},
                                                   "at": {"S": f"{index:02d}"}, "body": {"S": "x" * 90_000}})
        request = {"TableName": "big", "IndexName": "by-status", "KeyConditionExpression": "#s = :s AND #a >= :a",
                   "ExpressionAttributeNames": {"#s": "status", "#a": "at"},
                   "ExpressionAttributeValues": {":s": {"S": "DONE"}, ":a": {"S": "05"}}}
        fast = pages(client, request)
        monkeypatch.setattr(Table, "query", patched_query.moto_query)
        monkeypatch.setattr(Table, "all_items", patched_all_items.moto_all_items)
        slow = pages(client, request)
    assert fast == slow and len(fast) == 3  # 25 items of 90 KB: pages of 11, 11 and 3
