"""Hand-on between stages: one SQS message per document."""
from __future__ import annotations

import json
from typing import Any

from docingest.adapters.aws import client


class Queues:
    def __init__(self, sqs=None):
        self._sqs = sqs or client("sqs")

    def send(self, queue_url: str, message: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message, ensure_ascii=False))

    def send_many(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps(message, ensure_ascii=False)}
                for index, message in enumerate(messages[start : start + 10])
            ]
            response = self._sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"could not queue {len(response['Failed'])} messages: {response['Failed'][0]}")
