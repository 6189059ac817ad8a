"""DynamoDB and SQS requests from the emulator's own processes, answered by moto's handlers without its web stack.

Every request through moto's WSGI application pays for Flask, werkzeug's request object and moto's
generic request set-up (about half of moto's time in the pipeline); DynamoDB requests are the most
numerous (about ten per document). A function worker's botocore client still validates and serialises
each request as usual, then (``direct_transport.DirectSender.fast_call``) hands the JSON body of the
operations below to moto's process, where the same ``DynamoHandler`` method moto's dispatcher would
call answers it, on the same backend, inside the same state gate. Errors are moto's own exceptions, so
botocore raises the same ``ClientError``. Requests with binary values or nulls take the usual path.
The queue operations (send, receive, delete, visibility) go to moto's SQS handler the same way, and
their results and errors through moto's own serialiser.
DynamoDB requests on either path run one at a time (``DYNAMODB_LOCK``): moto has no locking of its own.
tests/integration/test_fast_lane.py runs each operation both ways and compares answers and tables.
"""
from __future__ import annotations

import base64
import functools
import json
import re
import threading
from typing import Any, Callable

OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem",
                        "TransactWriteItems", "TransactGetItems", "Query"})
READS = frozenset({"GetItem", "BatchGetItem", "TransactGetItems", "Query"})
DYNAMODB_LOCK = threading.Lock()  # moto's DynamoDB has no locking: one request at a time, as one atomic step
_BINARY_OR_NULL = re.compile(rb'(?<!\\)"BS?"\s*:|:\s*null')  # a "B"/"BS" member (binary value), or a JSON null


def takes(operation: str, body: bytes) -> bool:
    """Whether the fast lane answers this request (the rest goes through moto's HTTP application)."""
    return operation in OPERATIONS and not _BINARY_OR_NULL.search(body)


def has_binary(body: bytes) -> bool:
    return bool(_BINARY_OR_NULL.search(body))


SQS_OPERATIONS = frozenset({"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
                            "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"})
SQS_READS = frozenset({"ReceiveMessage"})  # changes no state a snapshot keeps (in-flight messages come back on restore)


def takes_sqs(operation: str) -> bool:
    return operation in SQS_OPERATIONS


def answer_sqs(operation: str, body: bytes, region: str, access_key: str, endpoint: str) -> tuple[int, bytes, dict]:
    """``(status, JSON body, headers)`` as moto's server answers an SQS request (JSON protocol): moto's SQS
    handler method, then moto's own serialiser for the result or the error (whose query-compatible
    error code travels in a header)."""
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from moto.sqs.responses import SQSResponse
    from werkzeug.exceptions import HTTPException

    handler = SQSResponse()
    handler.params = json.loads(body) if body else {}
    handler.body, handler.uri_match = body.decode("utf-8"), {}
    handler.region, handler.partition = region, "aws"
    handler.current_account = _account(access_key)
    handler.headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{operation}"}
    handler.response_headers, handler.querystring, handler.method = {}, {}, "POST"
    handler.uri, handler.path = endpoint + "/", "/"
    try:
        result = getattr(handler, _snake(operation))()
    except ServiceException as error:
        result = ActionResult(error)
    except HTTPException as error:
        return error.code or 400, (error.description or "").encode(), dict(error.get_headers() or [])
    headers: dict[str, Any] = {}
    if isinstance(result, ActionResult):
        status, headers, answer = handler.serialized(result)
    else:
        status, answer = 200, result
    return status, answer.encode() if isinstance(answer, str) else answer, \
        {key: str(value) for key, value in headers.items() if key.lower().startswith("x-amzn")}


def answer(operation: str, body: bytes, region: str, access_key: str) -> tuple[int, bytes]:
    """``(status, JSON body)`` as moto's server would answer the request."""
    from moto.dynamodb.responses import DynamoHandler
    from werkzeug.exceptions import HTTPException

    handler = DynamoHandler()
    handler.params = handler.body = json.loads(body) if body else {}
    handler.region, handler.partition = region, "aws"
    handler.current_account = _account(access_key)
    handler.headers = {"X-Amz-Target": f"DynamoDB_20120810.{operation}"}
    handler.response_headers, handler.querystring, handler.method = {}, {}, "POST"
    try:
        with DYNAMODB_LOCK:
            result = getattr(handler, _snake(operation))()
    except HTTPException as error:  # moto's DynamoDB errors (JsonRESTError): the body botocore parses the code from
        return error.code or 400, error.get_body().encode()
    return 200, json.dumps(_without_none(result.result), separators=(",", ":"), default=_blob).encode()


@functools.cache
def _account(access_key: str) -> str:
    import os

    from moto.iam.models import get_account_id_from

    return os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(access_key)


@functools.cache
def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _without_none(value: Any) -> Any:
    """moto's serialiser leaves out members whose value is None."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value


def _blob(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON: {type(value).__name__}")


def serialised(application: Callable) -> Callable:
    """WSGI middleware: DynamoDB requests through moto's application take ``DYNAMODB_LOCK`` too, so a
    conditional update or a transaction is never interleaved with another request's writes."""

    def serialised_application(environ: dict[str, Any], start_response: Callable) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with DYNAMODB_LOCK:
                return list(application(environ, start_response))
        return application(environ, start_response)

    return serialised_application
