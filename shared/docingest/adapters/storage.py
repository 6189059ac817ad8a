"""The document bucket (raw, clean and enriched objects) and reads from the inbox, on S3."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from docingest.adapters.aws import client

RAW_PREFIX = "raw/"
CLEAN_PREFIX = "clean/"
ENRICHED_PREFIX = "enriched/"


def raw_key(doc_id: str) -> str:
    return f"{RAW_PREFIX}{doc_id}"


def clean_key(doc_id: str) -> str:
    return f"{CLEAN_PREFIX}{doc_id}.json"


def enriched_key(doc_id: str) -> str:
    return f"{ENRICHED_PREFIX}{doc_id}.json"


class ObjectExists(Exception):
    """A write with ``if_absent`` found the object there: an earlier attempt of the stage wrote it."""


@dataclass(frozen=True)
class InboxObject:
    """A dropped file opened with one GetObject: its size and type known, its body not read yet."""

    bucket: str
    key: str
    size: int
    content_type: str | None
    body: Any = field(default=None, compare=False, repr=False)  # botocore's StreamingBody

    def read(self) -> bytes:
        try:
            return self.body.read()
        finally:
            self.body.close()

    def sha256(self) -> str:
        """sha256 of the body streamed in chunks (for objects too large to load)."""
        digest = hashlib.sha256()
        try:
            for chunk in self.body.iter_chunks(1024 * 1024):
                digest.update(chunk)
        finally:
            self.body.close()
        return digest.hexdigest()

    def close(self) -> None:
        self.body.close()


class DocumentStore:
    """S3 objects of the pipeline. Writes are plain overwrites of content-addressed keys: idempotent."""

    def __init__(self, bucket: str, s3=None):
        self.bucket = bucket
        self._s3 = s3 or client("s3")

    def open_inbox(self, bucket: str, key: str) -> InboxObject:
        """One GetObject: the size decides what happens to the body (read, streamed for its hash, or closed)."""
        response = self._s3.get_object(Bucket=bucket, Key=key)
        return InboxObject(bucket, key, response["ContentLength"], response.get("ContentType"), response["Body"])

    def put_raw(self, doc_id: str, data: bytes, content_type: str | None = None) -> str:
        key = raw_key(doc_id)
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type or "application/octet-stream")
        return key

    def put_request(self, doc_id: str, request: dict[str, Any]) -> str:
        key = f"{raw_key(doc_id)}.request.json"
        self._put_json(key, request)
        return key

    def read_raw(self, doc_id: str) -> bytes:
        return self._s3.get_object(Bucket=self.bucket, Key=raw_key(doc_id))["Body"].read()

    def put_clean(self, doc_id: str, text: str, metadata: dict[str, Any], if_absent: bool = False) -> str:
        """The clean object: the text and what the page says of itself (title, author, date...).

        ``if_absent``: written only if no such object exists (S3's If-None-Match), else ObjectExists."""
        key = clean_key(doc_id)
        self._put_json(key, {"doc_id": doc_id, "text": text, **metadata}, if_absent)
        return key

    def read_clean_document(self, doc_id: str) -> dict[str, Any]:
        return json.loads(self._s3.get_object(Bucket=self.bucket, Key=clean_key(doc_id))["Body"].read())

    def read_clean(self, doc_id: str) -> str:
        return self.read_clean_document(doc_id)["text"]

    def put_enriched(self, doc_id: str, document: dict[str, Any], if_absent: bool = False) -> str:
        key = enriched_key(doc_id)
        self._put_json(key, document, if_absent)
        return key

    def read_enriched(self, doc_id: str) -> dict[str, Any]:
        body = self._s3.get_object(Bucket=self.bucket, Key=enriched_key(doc_id))["Body"].read()
        return json.loads(body)

    def _put_json(self, key: str, document: dict[str, Any], if_absent: bool = False) -> None:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        condition = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", **condition)
        except ClientError as error:
            # 412: the object exists; 409: a concurrent conditional write of the same key
            if if_absent and error.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise ObjectExists(key) from error
            raise
