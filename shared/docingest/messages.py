"""Messages on the queues, as pydantic models.

S3 notifications are parsed leniently: moto's lack fields that Powertools' strict ``S3Model``
requires, and keys arrive URL-encoded (``+`` for spaces) in both moto's and AWS's.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError


MAX_RECORD_MESSAGE_BYTES = 32 * 1024  # a message carries the record only while it stays within this
MAX_TEXT_MESSAGE_BYTES = 60 * 1024  # and the text the next stage reads only while the whole body stays under this


class DocumentMessage(BaseModel):
    """Between stages: which document to work on and, when small enough, its record as the sender left it
    (without ``sources``), so the stage need not read it. A message without a record (an older message, a
    hand-made event, a large record) makes the stage read the record, as before."""

    model_config = ConfigDict(extra="ignore")
    doc_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    record: dict[str, Any] | None = None
    text: str | None = None  # the text the stage reads (fetch -> clean: the decoded raw; then the clean text)


def message_bytes(message: dict[str, Any]) -> int:
    """The size of a message body as ``Queues.send`` writes it (UTF-8 JSON)."""
    return len(json.dumps(message, ensure_ascii=False).encode("utf-8"))


def document_message(doc_id: str, record: dict[str, Any] | None = None, text: str | None = None) -> dict[str, Any]:
    """The message handing a document on: its id, its record unless that makes it larger than 32 KB, and the
    text the next stage reads while the whole body stays under 60 KB (else the stage reads it from S3)."""
    message: dict[str, Any] = {"doc_id": doc_id}
    if record is not None:
        carried = {**message, "record": {k: v for k, v in record.items() if k != "sources"}}
        if message_bytes(carried) <= MAX_RECORD_MESSAGE_BYTES:
            message = carried
    if text is not None and len(text) < MAX_TEXT_MESSAGE_BYTES:  # (a character is at least one byte)
        with_text = {**message, "text": text}
        if message_bytes(with_text) < MAX_TEXT_MESSAGE_BYTES:
            message = with_text
    return message


class UrlMessage(BaseModel):
    """On the fetch queue: a URL to download."""

    model_config = ConfigDict(extra="ignore")
    url: str = Field(min_length=1, max_length=4096)
    source: str | None = None  # where the URL came from (a URL-list file)
    depth: int = Field(0, ge=0)  # how many URL lists it came through


class S3Bucket(BaseModel):
    name: str


class S3Object(BaseModel):
    key: str
    size: int | None = None


class S3Entity(BaseModel):
    bucket: S3Bucket
    object: S3Object


class S3NotificationRecord(BaseModel):
    eventSource: str = "aws:s3"
    eventName: str = "ObjectCreated:Put"
    eventTime: str | None = None
    s3: S3Entity

    @property
    def key(self) -> str:
        return unquote_plus(self.s3.object.key)


class S3Notification(BaseModel):
    Records: list[S3NotificationRecord]


class FetchRequest(BaseModel):
    """What one message on the fetch queue asks for: S3 objects, a URL, or nothing (a test event)."""

    objects: list[S3NotificationRecord] = []
    url: UrlMessage | None = None


def parse_fetch_message(body: str) -> FetchRequest:
    """Raises ValueError for a body that is none of the known shapes (a poison message)."""
    try:
        payload: Any = json.loads(body)
    except json.JSONDecodeError as error:
        raise ValueError(f"message body is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise ValueError("message body is not a JSON object")
    if payload.get("Event") == "s3:TestEvent":
        return FetchRequest()
    try:
        if "Records" in payload:
            notification = S3Notification.model_validate(payload)
            created = [r for r in notification.Records if r.eventSource == "aws:s3" and r.eventName.startswith("ObjectCreated")]
            return FetchRequest(objects=created)
        if "url" in payload:
            return FetchRequest(url=UrlMessage.model_validate(payload))
    except ValidationError as error:
        raise ValueError(f"malformed fetch message: {error.errors()[0]['msg']}") from error
    raise ValueError("unknown fetch message: expected an S3 notification or {\"url\": ...}")
