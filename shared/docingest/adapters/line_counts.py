"""How many documents of each source contained each line (by fingerprint), on DynamoDB.

One item per (source, line fingerprint) with a ``documents`` count, one ``#documents`` item per source,
and one ``doc#<id>`` marker per counted document so a redelivered document is never counted twice.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

from botocore.exceptions import ClientError

from docingest.adapters.aws import resource

DOCUMENTS_SEEN = "#documents"


class SourceLineCounts:
    def __init__(self, table_name: str, dynamodb=None):
        self.table = (dynamodb or resource("dynamodb")).Table(table_name)

    def counts(self, source: str, fingerprints: Iterable[str]) -> tuple[dict[str, int], int]:
        """Documents of ``source`` seen with each fingerprint, and the documents of the source seen."""
        keys = [DOCUMENTS_SEEN, *dict.fromkeys(fingerprints)]
        found: dict[str, int] = {}
        for start in range(0, len(keys), 100):
            request = {self.table.name: {"Keys": [{"source": source, "line": key} for key in keys[start:start + 100]],
                                         "ProjectionExpression": "line, documents"}}
            while request:
                response = self.table.meta.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table.name, []):
                    found[item["line"]] = int(item["documents"])
                request = response.get("UnprocessedKeys") or None
        return {k: v for k, v in found.items() if k != DOCUMENTS_SEEN}, found.get(DOCUMENTS_SEEN, 0)

    def is_counted(self, source: str, doc_id: str) -> bool:
        return "Item" in self.table.get_item(Key={"source": source, "line": f"doc#{doc_id}"}, ProjectionExpression="line")

    def add(self, source: str, doc_id: str, fingerprints: Iterable[str]) -> bool:
        """Count a document's lines once; False when it was counted already."""
        try:
            self.table.put_item(Item={"source": source, "line": f"doc#{doc_id}"}, ConditionExpression="attribute_not_exists(line)")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        client, name = self.table.meta.client, self.table.name  # clients are thread-safe, resources are not

        def increment(key: str) -> None:
            client.update_item(TableName=name, Key={"source": source, "line": key},
                               UpdateExpression="ADD documents :one", ExpressionAttributeValues={":one": 1})

        with ThreadPoolExecutor(max_workers=8) as pool:  # one small write per line: overlap their latency
            list(pool.map(increment, [DOCUMENTS_SEEN, *dict.fromkeys(fingerprints)]))
        return True
