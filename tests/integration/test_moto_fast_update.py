"""The emulator's direct path for plain update expressions gives moto's own answer on every request.

Random requests (plain and not, valid and not) go through the patched UpdateItem on one table and
through moto's original on a twin table holding the same item; the items after, and the errors, must
be the same.
"""
import copy
import random

import boto3
import pytest
from moto import mock_aws

from docingest_cli import moto_patches

NAMES = ["count_a", "tags", "label", "total", "name", "status", "pk", "sk", "kind", "rank"]  # name, status: reserved
VALUES = [
    {"N": "1"}, {"N": "2.5"}, {"N": "-3"}, {"S": "x"}, {"S": "PER"}, {"SS": ["a", "b"]}, {"SS": ["b", "c"]},
    {"NS": ["1", "2"]}, {"SS": []}, {"L": [{"S": "a"}]}, {"BOOL": True}, {"M": {"a": {"S": "b"}}},
]
CONDITIONS = [None, "attribute_not_exists(pk)", "attribute_exists(pk)", "#c = :c", "#c <> :c OR attribute_not_exists(#c)"]


def random_request(rng: random.Random) -> dict:
    names, values = {}, {}

    def path() -> str:
        name = rng.choice(NAMES)
        if rng.random() < 0.6 or name in ("name", "status"):
            if rng.random() < 0.1:
                return name  # a reserved word unescaped: moto's path and its error
            placeholder = f"#n{len(names)}"
            names[placeholder] = name
            return placeholder
        return name

    def value(choices=VALUES) -> str:
        placeholder = f":v{len(values)}"
        values[placeholder] = copy.deepcopy(rng.choice(choices))
        return placeholder

    clauses = []
    for keyword in rng.sample(["SET", "ADD", "REMOVE"], rng.choice([1, 1, 1, 2, 3])):
        actions = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            if keyword == "SET":
                target = path()
                actions.append(f"{target} = if_not_exists({path()}, {value()})" if rng.random() < 0.3 else f"{target} = {value()}")
                if rng.random() < 0.1:
                    actions[-1] = f"{target} = {path()} + {value()}"  # not plain: moto's path
            elif keyword == "ADD":
                actions.append(f"{path()} {value(VALUES[:8] if rng.random() < 0.8 else VALUES)}")
            else:
                actions.append(path())
        clauses.append(f"{keyword} {', '.join(actions)}")
    request = {"update_expression": " ".join(clauses), "expression_attribute_names": names,
               "expression_attribute_values": values, "condition_expression": None}
    condition = rng.choice(CONDITIONS)
    if condition and "#c" in condition:
        names["#c"] = rng.choice(["label", "kind"])
        values[":c"] = {"S": rng.choice(["x", "PER"])}
    request["condition_expression"] = condition
    if rng.random() < 0.05:
        values[":unused"] = {"S": "u"}
    return request


def random_item(rng: random.Random) -> dict | None:
    if rng.random() < 0.3:
        return None
    item = {"pk": {"S": "p"}, "sk": {"S": "s"}}
    for name in rng.sample(["count_a", "tags", "label", "total", "kind", "rank"], rng.randint(0, 5)):
        item[name] = copy.deepcopy(rng.choice(VALUES[:8]))
    return item


def outcome(call) -> tuple:
    try:
        item = call()
        return "ok", item.to_json()["Attributes"] if item is not None else None
    except Exception as error:  # noqa: BLE001  (the comparison is the point)
        return "error", type(error).__name__, str(error)


@pytest.mark.parametrize("seed", range(4))
def test_plain_update_path_gives_moto_answers(aws_credentials, monkeypatch, seed):
    moto_patches.apply()
    applied = []
    apply_plan = moto_patches._apply_plan
    monkeypatch.setattr(moto_patches, "_apply_plan", lambda *args: applied.append(1) or apply_plan(*args))
    from moto.dynamodb import models

    patched = models.DynamoDBBackend.update_item
    original = patched.moto_update_item
    rng = random.Random(seed)
    with mock_aws():
        from moto.dynamodb.models import dynamodb_backends

        client = boto3.client("dynamodb", region_name="us-east-1")
        for table in ("fast", "slow"):
            client.create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                                      (("pk", "S"), ("sk", "S"), ("kind", "S"), ("rank", "N"))],
                GlobalSecondaryIndexes=[{"IndexName": "by-kind", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
                    {"AttributeName": "kind", "KeyType": "HASH"}, {"AttributeName": "rank", "KeyType": "RANGE"}]}])
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        for _ in range(400):
            item, request = random_item(rng), random_request(rng)
            for table in ("fast", "slow"):
                if backend.get_item(table, {"pk": {"S": "p"}, "sk": {"S": "s"}}) is not None:
                    backend.delete_item(table, {"pk": {"S": "p"}, "sk": {"S": "s"}})
                if item is not None:
                    backend.put_item(table, copy.deepcopy(item))
            key = {"pk": {"S": "p"}, "sk": {"S": "s"}}
            fast = outcome(lambda: patched(backend, "fast", key, **copy.deepcopy(request)))
            slow = outcome(lambda: original(backend, "slow", key, **copy.deepcopy(request)))
            assert fast == slow, (item, request)
            after_fast = backend.get_item("fast", key)
            after_slow = backend.get_item("slow", key)
            assert (after_fast and after_fast.to_json()) == (after_slow and after_slow.to_json()), (item, request)
    assert len(applied) > 20  # the direct path really ran (and changed an item) on a fair share


def test_pipeline_expressions_take_the_plain_path():
    plan = moto_patches.plain_update_plan(
        "ADD mention_count :m, document_count :one, languages :langs SET entity_type = :t, entity_key = :k, "
        "updated_at = :now, #name = if_not_exists(#name, :n)", {"#name": "name"},
        {":m": {"N": "2"}, ":one": {"N": "1"}, ":langs": {"SS": ["en"]}, ":t": {"S": "PER"}, ":k": {"S": "k"},
         ":now": {"S": "t"}, ":n": {"S": "n"}})
    assert plan is not None and ("SET_IF_NOT_EXISTS", "name", "name", ":n") in plan
    assert moto_patches.plain_update_plan("SET #a0 = :v0 REMOVE #r0", {"#a0": "status", "#r0": "error"}, {":v0": {"S": "x"}})
    assert moto_patches.plain_update_plan("ADD documents :one", None, {":one": {"N": "1"}}) == [("ADD", "documents", ":one")]
    assert moto_patches.plain_update_plan("SET a = a + :one", None, {":one": {"N": "1"}}) is None
    assert moto_patches.plain_update_plan("SET status = :s", None, {":s": {"S": "x"}}) is None  # reserved word


@pytest.mark.parametrize("sizes", [(200_000, 204_993), (200_000, 204_994), (405_100,), (10, 20, 30)])  # 405,000 bytes, then one over
def test_items_sized_once_keep_moto_limit(sizes):
    moto_patches.apply()
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    attrs = {"pk": {"S": "p"}, **{f"a{index}": {"S": "x" * size} for index, size in enumerate(sizes)}}

    def built(init):
        item = Item.__new__(Item)
        try:
            init(item, DynamoType({"S": "p"}), None, copy.deepcopy(attrs))
        except Exception as error:  # noqa: BLE001
            return type(error).__name__
        return item.to_json()

    assert built(Item.__init__) == built(Item.__init__.moto_init)


def test_an_update_past_the_size_limit_is_refused_and_changes_nothing(aws_credentials):
    moto_patches.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        client.put_item(TableName="t", Item={"pk": {"S": "p"}, "a": {"S": "x" * 300_000}})
        with pytest.raises(client.exceptions.ClientError) as error:
            client.update_item(TableName="t", Key={"pk": {"S": "p"}}, UpdateExpression="SET b = :b, c = :c",
                               ExpressionAttributeValues={":b": {"S": "y"}, ":c": {"S": "z" * 200_000}})
        assert error.value.response["Error"]["Code"] == "ValidationException"
        assert set(client.get_item(TableName="t", Key={"pk": {"S": "p"}})["Item"]) == {"pk", "a"}
