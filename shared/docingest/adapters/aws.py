"""boto3 clients, one per service and process. Endpoints come from boto3's own configuration
(``AWS_ENDPOINT_URL``), so the same code talks to AWS, the embedded emulator or LocalStack."""
from __future__ import annotations

import time
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"})


@cache
def client(service: str):
    return boto3.session.Session().client(service, config=_CONFIG)


@cache
def resource(service: str):
    return boto3.session.Session().resource(service, config=_CONFIG)


BATCH_WRITE_ITEMS = 25  # DynamoDB's limit per BatchWriteItem
_UNPROCESSED_RETRIES = 8


def put_items(dynamodb_client, table_name: str, items: list[dict[str, Any]], key_names: tuple[str, ...]) -> None:
    """Put typed items with BatchWriteItem, 25 per request, the last of each key only (a batch may not hold
    one key twice); unprocessed items (throttling) are sent again with backoff, and an error raised if
    they still are after ``_UNPROCESSED_RETRIES`` tries."""
    latest = {tuple(item[name]["S"] if "S" in item[name] else str(item[name]) for name in key_names): item for item in items}
    pending = [{"PutRequest": {"Item": item}} for item in latest.values()]
    for start in range(0, len(pending), BATCH_WRITE_ITEMS):
        request = {table_name: pending[start:start + BATCH_WRITE_ITEMS]}
        for attempt in range(_UNPROCESSED_RETRIES + 1):
            request = dynamodb_client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                break
            if attempt == _UNPROCESSED_RETRIES:
                raise RuntimeError(f"{table_name}: {len(request.get(table_name, []))} item(s) still unprocessed "
                                   f"after {_UNPROCESSED_RETRIES} retries (throttled)")
            time.sleep(min(0.05 * 2 ** attempt, 2.0))
