"""Fixes for moto's speed as the emulator's engine (behaviour stays AWS's; nothing here reaches Lambda).

- moto's dispatcher lists its package folder on every request, under a lock (~15 ms each): the list
  never changes while it runs, so it is computed once.
- moto's TransactWriteItems deep-copies every table it touches, once per action, to roll back on
  failure: with the entity index that is quadratic in the table's size (minutes per document after a
  few hundred documents). The patched version snapshots only the items the transaction touches and
  restores them when moto cancels the transaction.
- moto's ReceiveMessage checks each message it returns against the queue's retention period by building
  all the queue's attributes, whose message counts walk every message: O(queue length) per message
  received. The patched check reads the retention period alone.
"""
from __future__ import annotations

import copy
import functools
import types
from typing import Any


def cache_module_list() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = functools.cache(lambda: modules)


def item_level_transaction_rollback() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "_item_level_rollback", False):
        return
    original = models.DynamoDBBackend.transact_write_items

    def deepcopy_except_tables(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy_except_tables, copy=copy.copy)

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        snapshots = [_snapshot(self, item) for item in transact_items]
        try:
            original(self, transact_items)
        except Exception:  # TransactionCanceledException and moto's validation errors: nothing may stay
            _restore(self, snapshots)
            raise

    transact_write_items._item_level_rollback = True
    models.DynamoDBBackend.transact_write_items = transact_write_items


def _snapshot(backend, item: dict[str, Any]):
    op_type, op = next(iter(item.items()))
    try:
        table = backend.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        current = backend.get_item(op["TableName"], key)
    except Exception:  # noqa: BLE001  (moto reports the bad request itself)
        return None
    return op["TableName"], key, copy.deepcopy(current.to_json()["Attributes"]) if current else None


def _restore(backend, snapshots) -> None:
    for snapshot in reversed(snapshots):
        if snapshot is None:
            continue
        table_name, key, attributes = snapshot
        if attributes is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)


def retention_check_without_queue_attributes() -> None:
    from moto.sqs import models

    def is_message_valid_based_on_retention_period(self, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > models.unix_time()

    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def apply() -> None:
    cache_module_list()
    item_level_transaction_rollback()
    retention_check_without_queue_attributes()
