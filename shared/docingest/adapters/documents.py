"""The document table on DynamoDB: the one place that reads and writes document records."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from docingest.adapters.aws import resource
from docingest.lifecycle import FINAL, RETRYABLE_ERROR_KINDS, Stage, Status, expected_before, timestamp_attribute, STAGE_RESULT

STATUS_INDEX = "by-status"
LANGUAGE_INDEX = "by-language"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(round(value, 6)))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(_from_dynamo(v) for v in value)
    return value


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


_ERROR_ATTRIBUTES = ("error", "error_kind", "failed_stage", "failed_at")


def _ready_for(stage: Stage, expected: Status) -> tuple[str, dict[str, Any]]:
    """The condition under which ``stage`` may work on a document: it is where the stage expects it, or
    FAILED by this same stage with a retryable error (never a document FAILED for good: bad_input)."""
    condition = ("#status = :expected OR (#status = :failed AND #failed_stage = :stage AND "
                 "#error_kind IN (" + ", ".join(f":retryable{i}" for i in range(len(RETRYABLE_ERROR_KINDS))) + "))")
    values = {":expected": expected.value, ":failed": Status.FAILED.value, ":stage": stage.value,
              **{f":retryable{i}": kind for i, kind in enumerate(RETRYABLE_ERROR_KINDS)}}
    return condition, values


class DocumentRepository:
    def __init__(self, table_name: str, dynamodb=None):
        self.table = (dynamodb or resource("dynamodb")).Table(table_name)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"doc_id": doc_id}, ConsistentRead=True).get("Item")
        return _from_dynamo(item) if item else None

    def get_many(self, doc_ids: list[str], attributes: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
        """Records by id (only ``attributes`` when given), 100 per request; ids without a record are left out."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(doc_ids))
        projection = {}
        if attributes:
            names = {f"#p{i}": name for i, name in enumerate(("doc_id", *attributes))}
            projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        for start in range(0, len(unique), 100):
            keys = [{"doc_id": doc_id} for doc_id in unique[start:start + 100]]
            request = {self.table.name: {"Keys": keys, "ConsistentRead": True, **projection}}
            while request:
                response = self.table.meta.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table.name, []):
                    found[item["doc_id"]] = _from_dynamo(item)
                request = response.get("UnprocessedKeys") or None
        return found

    def create(self, doc_id: str, source: str, attributes: dict[str, Any], received_at: str | None = None) -> bool:
        """Create a RECEIVED record; False (and the source added) when the document exists already."""
        return self._create(doc_id, source, Status.RECEIVED, attributes, received_at) is not None

    def create_fetched(self, doc_id: str, source: str, attributes: dict[str, Any],
                       received_at: str | None = None) -> dict[str, Any] | None:
        """Create a record directly in its FETCHED state (as ``create`` then ``advance(FETCH)`` would leave it),
        in one conditional PutItem; returns it. None (and the source added) when the document exists already."""
        return self._create(doc_id, source, Status.FETCHED, attributes, received_at)

    def _create(self, doc_id: str, source: str, status: Status, attributes: dict[str, Any],
                received_at: str | None) -> dict[str, Any] | None:
        stamp = now()
        item = {
            "doc_id": doc_id,
            "status": status.value,
            "source": source,
            "sources": {source},
            "received_at": received_at or stamp,
            "updated_at": stamp,
            **_to_dynamo(attributes),
        }
        if status != Status.RECEIVED:
            item[timestamp_attribute(status)] = stamp
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(doc_id)")
            return _from_dynamo(item)
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise
        self.table.update_item(
            Key={"doc_id": doc_id},
            UpdateExpression="ADD sources :source",
            ExpressionAttributeValues={":source": {source}},
        )
        return None

    def advance(self, doc_id: str, stage: Stage, attributes: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Move a document to the status ``stage`` produces, if it is where that stage expects it; returns the
        record as it is now (UpdateItem's ALL_NEW: no read), which the next stage's message may carry.

        A document FAILED by this same stage with a retryable error may be advanced too (a retried or
        redriven message), never one FAILED for good. Returns None when the document was elsewhere (a
        duplicate delivery, or a stale message): nothing is changed.
        """
        status = STAGE_RESULT[stage]
        stamp = now()
        values = {**_to_dynamo(attributes or {}), "status": status.value, timestamp_attribute(status): stamp, "updated_at": stamp}
        condition, condition_values = _ready_for(stage, expected_before(stage))
        new = self._update_if(doc_id, values, condition, condition_values, remove=_ERROR_ATTRIBUTES, return_new=True)
        return _from_dynamo(new) if new is not None else None

    def complete_url_list(self, doc_id: str, attributes: dict[str, Any]) -> bool:
        """A URL list goes from RECEIVED straight to DONE: its URLs become documents of their own."""
        stamp = now()
        values = {**_to_dynamo(attributes), "status": Status.DONE.value, "done_at": stamp, "updated_at": stamp}
        condition, condition_values = _ready_for(Stage.FETCH, Status.RECEIVED)
        return self._update_if(doc_id, values, condition, condition_values, remove=_ERROR_ATTRIBUTES) is not None

    def delete_failed(self, doc_id: str) -> bool:
        """Delete a FAILED record (a URL's failure superseded by a successful fetch); False when not FAILED."""
        try:
            self.table.delete_item(Key={"doc_id": doc_id}, ConditionExpression="#status = :failed",
                                   ExpressionAttributeNames={"#status": "status"},
                                   ExpressionAttributeValues={":failed": Status.FAILED.value})
            return True
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise

    def fail(self, doc_id: str, stage: Stage, reason: str, attributes: dict[str, Any] | None = None) -> bool:
        """Mark a document FAILED at ``stage`` with a readable reason, unless it is DONE already."""
        return self._update_if(doc_id, self._failure(stage, reason, attributes),
                               "attribute_not_exists(doc_id) OR #status <> :done", {":done": Status.DONE.value}) is not None

    def fail_if_ready(self, doc_id: str, stage: Stage, reason: str, attributes: dict[str, Any] | None = None) -> bool:
        """Mark a document FAILED at ``stage`` only if the stage may work on it (``advance``'s condition): for a
        stage that ran on the record its message carried. False when the document was elsewhere."""
        condition, condition_values = _ready_for(stage, expected_before(stage))
        return self._update_if(doc_id, self._failure(stage, reason, attributes), condition, condition_values) is not None

    @staticmethod
    def _failure(stage: Stage, reason: str, attributes: dict[str, Any] | None) -> dict[str, Any]:
        stamp = now()
        return {**_to_dynamo(attributes or {}), "status": Status.FAILED.value, "failed_stage": stage.value,
                "error": reason[:1000], "failed_at": stamp, "updated_at": stamp}

    def _update_if(self, doc_id: str, values: dict[str, Any], condition: str, condition_values: dict[str, Any],
                   remove: tuple[str, ...] = (), return_new: bool = False) -> dict[str, Any] | None:
        """SET ``values`` (and REMOVE ``remove``) when ``condition`` holds; None when it does not, else the item
        as it is now when ``return_new`` (an empty dict otherwise)."""
        names = {f"#a{i}": name for i, name in enumerate(values)}
        names.update({f"#r{i}": name for i, name in enumerate(remove)})
        names.update({"#status": "status", "#failed_stage": "failed_stage", "#error_kind": "error_kind"})
        expression = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values)))
        if remove:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        expression_values = {f":v{i}": value for i, value in enumerate(values.values())}
        expression_values.update(condition_values)
        used_names = {k: v for k, v in names.items() if k in expression or k in condition}
        try:
            response = self.table.update_item(
                Key={"doc_id": doc_id},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=used_names,
                ExpressionAttributeValues=expression_values,
                **({"ReturnValues": "ALL_NEW"} if return_new else {}),
            )
            return response.get("Attributes", {}) if return_new else {}
        except ClientError as error:
            if _is_conditional_failure(error):
                return None
            raise

    def list_by_status(self, status: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        yield from self._query(STATUS_INDEX, "status", status, limit)

    def list_by_language(self, language: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        yield from self._query(LANGUAGE_INDEX, "language", language, limit)

    def updated_since(self, status: str, since: str) -> list[dict[str, Any]]:
        """``doc_id`` and ``updated_at`` of the documents in ``status`` updated at or after ``since``."""
        kwargs: dict[str, Any] = {
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": Key("status").eq(status) & Key("updated_at").gte(since),
            "ProjectionExpression": "doc_id, updated_at",
        }
        items = []
        while True:
            page = self.table.query(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def count_by_status(self) -> dict[str, int]:
        counts = {}
        for status in Status:
            total, kwargs = 0, {}
            while True:
                page = self.table.query(IndexName=STATUS_INDEX, KeyConditionExpression=Key("status").eq(status.value), Select="COUNT", **kwargs)
                total += page["Count"]
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            counts[status.value] = total
        return counts

    def _query(self, index: str, attribute: str, value: str, limit: int | None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": Key(attribute).eq(value), "ScanIndexForward": False}
        seen = 0
        while True:
            page = self.table.query(**kwargs)
            for item in page["Items"]:
                yield _from_dynamo(item)
                seen += 1
                if limit and seen >= limit:
                    return
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def is_final(record: dict[str, Any] | None) -> bool:
    return bool(record) and record.get("status") in FINAL
