"""How many documents of each source contained each line (by fingerprint), on DynamoDB.

One item per (source, line fingerprint) with a ``documents`` count, one ``#documents`` item per source,
and one ``doc#<id>`` marker per counted document so a redelivered document is never counted twice.
The marker is read in the same BatchGetItem as the counts, and written in the same TransactWriteItems
as the increments: a document's lines are counted all at once or not at all. Requests go through the
low-level client with typed attribute values (see ``entity_index``).
"""
from __future__ import annotations

import time
from typing import Any, Iterable

from botocore.exceptions import ClientError

from docingest.adapters.aws import client as default_client

DOCUMENTS_SEEN = "#documents"
MAX_TRANSACTION_ACTIONS = 100  # DynamoDB's limit per TransactWriteItems
_CONFLICT_RETRIES = 5  # a transaction cancelled by a concurrent one on the same item (#documents) is tried again


def marker(doc_id: str) -> str:
    return f"doc#{doc_id}"


class SourceLineCounts:
    def __init__(self, table_name: str, client=None):
        """``client``: a low-level DynamoDB client (the process's own when not given)."""
        self.table_name = table_name
        self.client = client or default_client("dynamodb")

    def lookup(self, source: str, doc_id: str, fingerprints: Iterable[str]) -> tuple[dict[str, int], int, bool]:
        """Documents of ``source`` seen with each fingerprint, the documents of the source seen, and whether
        this document is counted already: one BatchGetItem per 100 keys."""
        keys = [marker(doc_id), DOCUMENTS_SEEN, *dict.fromkeys(fingerprints)]
        found: dict[str, int] = {}
        for start in range(0, len(keys), 100):
            request = {self.table_name: {"Keys": [{"source": {"S": source}, "line": {"S": key}} for key in keys[start:start + 100]],
                                         "ProjectionExpression": "line, documents"}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table_name, []):
                    found[item["line"]["S"]] = int(item.get("documents", {}).get("N", 0))
                request = response.get("UnprocessedKeys") or None
        counted = marker(doc_id) in found
        counts = {k: v for k, v in found.items() if k not in (DOCUMENTS_SEEN, marker(doc_id))}
        return counts, found.get(DOCUMENTS_SEEN, 0), counted

    def counts(self, source: str, fingerprints: Iterable[str]) -> tuple[dict[str, int], int]:
        """Documents of ``source`` seen with each fingerprint, and the documents of the source seen."""
        counts, documents_seen, _ = self.lookup(source, "", fingerprints)
        return counts, documents_seen

    def is_counted(self, source: str, doc_id: str) -> bool:
        return self.lookup(source, doc_id, ())[2]

    def add(self, source: str, doc_id: str, fingerprints: Iterable[str]) -> bool:
        """Count a document's lines once; False when it was counted already.

        The marker Put (only if absent) and the increments go in one TransactWriteItems (chunks of 100
        actions if ever more, the marker in the first); cancelled because the marker exists: counted already.
        """
        name, typed_source = self.table_name, {"S": source}
        actions: list[dict[str, Any]] = [
            {"Put": {"TableName": name, "Item": {"source": typed_source, "line": {"S": marker(doc_id)}},
                     "ConditionExpression": "attribute_not_exists(line)"}}]
        actions += [{"Update": {"TableName": name, "Key": {"source": typed_source, "line": {"S": key}},
                                "UpdateExpression": "ADD documents :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}
                    for key in [DOCUMENTS_SEEN, *dict.fromkeys(fingerprints)]]
        for start in range(0, len(actions), MAX_TRANSACTION_ACTIONS):
            if not self._transact(actions[start:start + MAX_TRANSACTION_ACTIONS]):
                return False  # only the first chunk has a condition: the marker exists
        return True

    def _transact(self, actions: list[dict[str, Any]]) -> bool:
        """False when a condition failed; a conflict with a concurrent transaction is tried again."""
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                self.client.transact_write_items(TransactItems=actions)
                return True
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = {reason.get("Code") for reason in error.response.get("CancellationReasons") or []}
                if "ConditionalCheckFailed" in codes:
                    return False
                if not codes & {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"} \
                        or attempt == _CONFLICT_RETRIES:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        return False
