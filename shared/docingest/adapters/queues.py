"""Hand-on between stages: one SQS message per document, sent together at the end of an invocation.

Inside ``held()`` (the Lambda handler wraps each invocation in it) a stage's messages wait in an
outbox and go out at the end in SendMessageBatch requests, 10 messages and at most 256 KiB each, instead
of one SendMessage per document. A message that could not be sent is reported by the tag it was sent
under (its SQS record's message id), so the handler can fail that record: redelivered, the stage finds
the document already advanced and hands it on again. Outside ``held()`` a message is sent at once.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from docingest.adapters.aws import client

log = logging.getLogger(__name__)
MAX_BATCH_MESSAGES = 10  # SendMessageBatch's limits
MAX_BATCH_BYTES = 256 * 1024


@dataclass
class Outbox:
    messages: list[tuple[str, str, str | None]] = field(default_factory=list)  # (queue URL, body, tag)
    tag: str | None = None  # what the messages queued from now on are reported under
    failed: set[str] = field(default_factory=set)  # tags of messages that were not sent


class Queues:
    def __init__(self, sqs=None):
        self._sqs = sqs or client("sqs")
        self._outbox: Outbox | None = None

    def send(self, queue_url: str, message: dict[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False)
        if self._outbox is not None:
            self._outbox.messages.append((queue_url, body, self._outbox.tag))
        else:
            self._sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    def send_many(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        """Sent at once, even inside ``held()``: a failure fails the caller."""
        failed = self._send_batches(queue_url, [(json.dumps(m, ensure_ascii=False), None) for m in messages])
        if failed:
            raise RuntimeError(f"could not queue {len(failed)} messages: {failed[0]}")

    def tag(self, tag: str | None) -> None:
        """Messages queued from now on in the outbox belong to ``tag`` (an SQS record's message id)."""
        if self._outbox is not None:
            self._outbox.tag = tag

    @contextmanager
    def held(self) -> Iterator[Outbox]:
        """Hold messages until the block ends, then send them in batches; ``Outbox.failed`` names the tags
        of those that could not be sent (read it after the block)."""
        outbox = self._outbox = Outbox()
        try:
            yield outbox
        finally:
            self._outbox = None
            by_queue: dict[str, list[tuple[str, str | None]]] = {}
            for queue_url, body, tag in outbox.messages:
                by_queue.setdefault(queue_url, []).append((body, tag))
            for queue_url, entries in by_queue.items():
                outbox.failed.update(tag for tag in self._send_batches(queue_url, entries, raise_errors=False) if tag)

    def _send_batches(self, queue_url: str, entries: list[tuple[str, str | None]], raise_errors: bool = True) -> list[Any]:
        """SendMessageBatch requests within SQS's limits; returns the tags (or errors) of the messages not sent."""
        failed: list[Any] = []
        for chunk in _chunks(entries):
            try:
                response = self._sqs.send_message_batch(
                    QueueUrl=queue_url, Entries=[{"Id": str(index), "MessageBody": body} for index, (body, _) in enumerate(chunk)])
            except (BotoCoreError, ClientError) as error:
                if raise_errors:
                    raise
                log.warning("could not queue %d messages to %s: %s", len(chunk), queue_url, error)
                failed.extend(tag for _, tag in chunk)
                continue
            for entry in response.get("Failed", []):
                log.warning("could not queue a message to %s: %s", queue_url, entry)
                failed.append(chunk[int(entry["Id"])][1] if not raise_errors else entry)
        return failed


def _chunks(entries: list[tuple[str, str | None]]) -> Iterator[list[tuple[str, str | None]]]:
    chunk: list[tuple[str, str | None]] = []
    size = 0
    for entry in entries:
        body_size = len(entry[0].encode("utf-8"))
        if chunk and (len(chunk) == MAX_BATCH_MESSAGES or size + body_size > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += body_size
    if chunk:
        yield chunk
