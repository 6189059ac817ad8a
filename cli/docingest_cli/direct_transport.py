"""A short cut from the emulator's function workers to moto, beside its HTTP port.

moto's HTTP server (werkzeug's threaded server, one parse of every request and response) cost more
than the emulated services themselves. The emulator's own processes (function workers, pollers)
hand botocore's prepared request to moto's process over a Unix socket instead; there it goes to the
same WSGI application the HTTP port serves, with the environ werkzeug's server would build. Same
routing, same backends, same state gate: only the HTTP round trip is left out. Anything else (the
AWS CLI, a user's scripts, `invoke --endpoint-url`) keeps using the HTTP port.

- moto's side: ``serve(application, path)`` in ``moto_process``.
- a client's side: ``install(endpoint, path)`` before any boto3 session exists (function workers);
  ``attach(client, endpoint, path)`` for a client made already, ``attach_session`` for a session's.

Only requests whose URL starts with the embedded emulator's endpoint take the short cut.
"""
from __future__ import annotations

import io
import json
import logging
import os
import socket
import sys
import threading
import uuid
from multiprocessing.connection import Connection
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

log = logging.getLogger("docingest.emulator")
SOCKET_VARIABLE = "DOCINGEST_EMULATOR_SOCKET"  # set for function workers: where moto's process listens


# moto's side ---------------------------------------------------------------------------------


def serve(application: Callable, path: str, gate: Any = None) -> socket.socket:
    """Accept connections on ``path`` and answer each one's requests in a thread of its own.

    ``gate``: the state snapshots' request gate (``moto_state.Gate``), which the WSGI application
    passes already; fast-lane requests pass it here."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)

    def accept() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:  # the listener was closed: the server stops
                return
            connection = Connection(sock.detach())
            threading.Thread(target=_answer, args=(application, connection, gate), name="direct-connection",
                             daemon=True).start()

    threading.Thread(target=accept, name="direct-accept", daemon=True).start()
    return listener


def _answer(application: Callable, connection: Connection, gate: Any = None) -> None:
    with connection:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):  # the worker ended (or was killed on a timeout)
                return
            try:
                if message[0] == FAST:
                    reply = _answer_fast(*message[1:], gate=gate)
                elif _is_s3_object_request(*message[:3]):
                    reply = _answer_s3_object(*message, gate=gate)
                else:
                    reply = call_application(application, *message)
            except Exception as error:  # noqa: BLE001  (an HTTP server would answer 500 too)
                log.exception("direct request failed")
                reply = (500, [("Content-Type", "text/plain")], f"{error.__class__.__name__}: {error}".encode())
            try:
                connection.send(reply)
            except OSError:
                return


FAST = "fast"  # a fast-lane message: (FAST, service, operation, body, region, access key, endpoint)
_S3_SCOPE = "/s3/aws4_request"


def _is_s3_object_request(method: str, url: str, headers: list[tuple[str, str]]) -> bool:
    """A GetObject, HeadObject or PutObject in path style (``/bucket/key``, no sub-resource query)."""
    if method not in ("GET", "PUT", "HEAD"):
        return False
    parts = urlsplit(url)
    if parts.query and not all(item.startswith("x-id=") for item in parts.query.split("&")):
        return False
    bucket, _, key = parts.path.lstrip("/").partition("/")
    if not bucket or not key:
        return False
    authorization = next((value for name, value in headers if name.lower() == "authorization"), "")
    return _S3_SCOPE in authorization


def _answer_s3_object(method: str, url: str, headers: list[tuple[str, str]], body: bytes, gate: Any = None) -> tuple:
    """The S3 object request as moto's server answers it, without its Flask app: the request moto's app
    would build (``BackendRequest``), moto's own S3 key handler, and the Flask response moto's app would
    send (its headers and body)."""
    from flask import Response
    from moto.moto_server.werkzeug_app import BackendRequest
    from moto.s3.responses import S3Response

    environ = wsgi_environ(method, url, headers, body)
    request = BackendRequest(environ)
    if gate is None:
        result = S3Response.key_dispatch(request, request.raw_url, dict(request.headers))
    else:
        with gate.request(changes=method not in ("GET", "HEAD")):
            result = S3Response.key_dispatch(request, request.raw_url, dict(request.headers))
    status, response_headers, content = result if len(result) == 3 else (200, {}, result)
    response = Response(response=content, status=status, headers=response_headers)
    if method == "HEAD" and "content-length" in response_headers:
        response.headers["Content-Length"] = response_headers["content-length"]
    response.headers.setdefault("Access-Control-Allow-Origin", "*")  # what moto's app adds (flask-cors) to every answer
    app_iter, status_line, wsgi_headers = response.get_wsgi_response(environ)
    return int(status_line.split(" ", 1)[0]), list(wsgi_headers), b"".join(app_iter)


def _answer_fast(service: str, operation: str, body: bytes, region: str, access_key: str, endpoint: str = "",
                 gate: Any = None) -> tuple:
    from docingest_cli import moto_fast_lane

    if service == "sqs":
        call = lambda: moto_fast_lane.answer_sqs(operation, body, region, access_key, endpoint)  # noqa: E731
        reads = moto_fast_lane.SQS_READS
    else:
        call = lambda: moto_fast_lane.answer(operation, body, region, access_key)  # noqa: E731
        reads = moto_fast_lane.READS
    if gate is None:
        return call()
    with gate.request(changes=operation not in reads):
        return call()


def call_application(application: Callable, method: str, url: str, headers: list[tuple[str, str]],
                     body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request through a WSGI application, with the environ werkzeug's server builds for it."""
    environ = wsgi_environ(method, url, headers, body)
    status_line: list[str] = []
    response_headers: list[tuple[str, str]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
        status_line[:] = [status]
        response_headers[:] = headers
        return lambda data: None

    chunks = application(environ, start_response)
    try:
        data = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return int(status_line[0].split(" ", 1)[0]), response_headers, data


def wsgi_environ(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """As ``werkzeug.serving.WSGIRequestHandler.make_environ`` for a request of ``url`` (the raw URI)."""
    parts = urlsplit(url)
    raw_uri = parts.path + (f"?{parts.query}" if parts.query else "")
    host, _, port = parts.netloc.partition(":")
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "docingest-direct",
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _latin1(unquote(parts.path)),
        "QUERY_STRING": _latin1(parts.query),
        "REQUEST_URI": _latin1(raw_uri),
        "RAW_URI": _latin1(raw_uri),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": 0,
        "SERVER_NAME": host,
        "SERVER_PORT": port or "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": parts.netloc,
    }
    for key, value in headers:
        if "_" in key:
            continue
        key = key.upper().replace("-", "_")
        value = value.replace("\r\n", "")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
            if key in environ and key != "HTTP_HOST":
                value = f"{environ[key]},{value}"
        environ[key] = value
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body arrives whole
    environ.pop("HTTP_EXPECT", None)
    return environ


def _latin1(text: str) -> str:
    return text.encode().decode("latin1")


# a client's side -----------------------------------------------------------------------------


class RawResponse(io.BytesIO):
    """What botocore reads a response body from (``read`` for streams, ``stream`` for the rest)."""

    def stream(self, **_: Any):
        data = self.read()
        if data:
            yield data


class DirectSender:
    """A botocore ``before-send`` handler: requests to ``endpoint`` go to moto's process over ``path``."""

    def __init__(self, endpoint: str, path: str):
        self.endpoint = endpoint.rstrip("/")
        self.path = path
        self.sent = 0  # requests that took the short cut
        self.fast = 0  # of which the fast lane's (``fast_call``)
        self._local = threading.local()

    def __call__(self, request: Any, **_: Any) -> Any:
        url = request.url
        if not (url == self.endpoint or url.startswith(self.endpoint + "/") or url.startswith(self.endpoint + "?")):
            return None
        from botocore.awsrequest import AWSResponse
        from botocore.compat import HTTPHeaders

        headers = [(str(key), value.decode("latin1") if isinstance(value, bytes) else str(value))
                   for key, value in request.headers.items()]
        status, response_headers, body = self._exchange((request.method, url, headers, _body_bytes(request.body)))
        self.sent += 1
        http_headers = HTTPHeaders()
        for key, value in response_headers:
            http_headers[key] = value
        return AWSResponse(url, status, http_headers, RawResponse(body))

    def fast_call(self, model: Any, params: dict[str, Any], request_signer: Any, context: dict[str, Any], **_: Any) -> Any:
        """A botocore ``before-call`` handler: the DynamoDB and SQS operations ``moto_fast_lane`` answers go to
        moto's handlers directly, their request validated and serialised by botocore as usual; returns
        ``(http response, parsed response)``, or None for the usual path."""
        from docingest_cli import moto_fast_lane

        url, body = params.get("url", ""), _body_bytes(params.get("body"))
        service = model.service_model.endpoint_prefix
        if not (url == self.endpoint or url.startswith(self.endpoint + "/")):
            return None
        if not (moto_fast_lane.takes_sqs(model.name) if service == "sqs" else moto_fast_lane.takes(model.name, body)):
            return None
        from botocore.awsrequest import AWSResponse
        from botocore.compat import HTTPHeaders

        region = context.get("client_region") or request_signer.region_name
        credentials = getattr(request_signer, "_credentials", None)
        access_key = getattr(credentials, "access_key", None) or "testing"
        status, answer, *extra = self._exchange((FAST, service, model.name, body, region, access_key, self.endpoint))
        self.sent += 1
        self.fast += 1
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        for key, value in (extra[0] if extra else {}).items():
            headers[key] = value
        headers["x-amzn-RequestId"] = request_id = uuid.uuid4().hex
        http = AWSResponse(url, status, headers, RawResponse(answer))
        if service == "dynamodb" and status < 300 and not moto_fast_lane.has_binary(answer):
            members = model.output_shape.members if model.output_shape is not None else {}
            parsed = {key: value for key, value in (json.loads(answer) if answer else {}).items() if key in members}
            parsed["ResponseMetadata"] = {"RequestId": request_id, "HTTPStatusCode": status,
                                          "HTTPHeaders": {"content-type": "application/x-amz-json-1.0",
                                                          "x-amzn-requestid": request_id}, "RetryAttempts": 0}
        else:  # errors and binary values: botocore's own parser, and for an error its modeled fields as
            from botocore.parsers import create_parser  # botocore's endpoint adds them (CancellationReasons)

            parser, response = create_parser("json"), {"status_code": status, "headers": headers, "body": answer}
            parsed = parser.parse(response, model.output_shape)
            error_shape = model.service_model.shape_for_error_code(parsed.get("Error", {}).get("Code")) if status >= 300 else None
            if error_shape is not None:
                parsed.update(parser.parse(response, error_shape))
        return http, parsed

    def _exchange(self, message: tuple) -> tuple:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.path)
            connection = self._local.connection = Connection(sock.detach())
        try:
            connection.send(message)
            return connection.recv()
        except (EOFError, OSError):
            self._local.connection = None
            connection.close()
            raise


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    position = body.tell() if hasattr(body, "tell") else None
    data = body.read()
    if position is not None and hasattr(body, "seek"):
        body.seek(position)  # botocore may send it again on a retry
    return data if isinstance(data, bytes) else data.encode("utf-8")


def _unsigned(signature_version: Any, **_: Any) -> Any:
    """choose-signer: no SigV4 for standard requests (presigned URLs keep theirs)."""
    import botocore

    if isinstance(signature_version, str) and signature_version in ("v4", "s3v4"):
        return botocore.UNSIGNED
    return None


def _scope_header(request: Any, signing_name: str, region_name: str, signature_version: Any, request_signer: Any,
                  **_: Any) -> None:
    """before-sign: an unsigned request gets the Authorization header's credential scope without a signature,
    which is all moto reads of it (service, region and the access key that names the account)."""
    import botocore

    if signature_version is not botocore.UNSIGNED or "Authorization" in request.headers:
        return
    credentials = getattr(request_signer, "_credentials", None)
    access_key = getattr(credentials, "access_key", None) or "testing"
    request.headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region_name}/{signing_name}/"
                                        "aws4_request, SignedHeaders=host, Signature=0")


def _plain(value: Any) -> bool:
    """Made only of strings, integers, booleans, lists and maps: botocore's JSON serializer writes these as
    ``json.dumps`` does (it converts bytes, timestamps and floats, and drops None members)."""
    if isinstance(value, (str, int)):  # bool is an int
        return True
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return False


def plain_json_serializer():
    """botocore's JSON serializer class, writing a DynamoDB request made only of plain values (nearly every
    request of the pipeline) with ``json.dumps`` instead of walking the service model (2 ms for an
    entity-index transaction). Validation, where the client has it, still runs first; any other request,
    service or protocol feature takes botocore's way. tests/integration/test_transport.py compares the two."""
    from botocore import serialize

    class PlainJSONSerializer(serialize.JSONSerializer):
        def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> dict[str, Any]:
            metadata = operation_model.metadata
            if metadata.get("endpointPrefix") != "dynamodb" or operation_model.service_model.is_query_compatible \
                    or operation_model.endpoint is not None or not _plain(parameters):
                return super().serialize_to_request(parameters, operation_model)
            serialized = self._create_default_request()
            serialized["method"] = operation_model.http.get("method", self.DEFAULT_METHOD)
            serialized["headers"] = {"X-Amz-Target": f"{metadata['targetPrefix']}.{operation_model.name}",
                                     "Content-Type": f"application/x-amz-json-{metadata['jsonVersion']}"}
            serialized["body"] = json.dumps(parameters).encode(self.DEFAULT_ENCODING)
            return serialized

    return PlainJSONSerializer


def cache_user_agent_sanitising() -> None:
    """botocore builds the User-Agent header twice per request, cleaning each of its ~25 parts character
    by character (a sixth of an S3 request's client time): the cleaning, a pure function of the part,
    is remembered."""
    import functools

    from botocore import useragent

    if not hasattr(useragent.sanitize_user_agent_string_component, "cache_info"):
        useragent.sanitize_user_agent_string_component = functools.lru_cache(maxsize=4096)(
            useragent.sanitize_user_agent_string_component)


def install(endpoint: str, path: str) -> DirectSender:
    """Every botocore session made from now on in this process sends ``endpoint``'s requests directly,
    without computing SigV4 signatures (moto checks none; computing them was a tenth of a worker's time),
    writes plain DynamoDB requests with ``json.dumps`` (``plain_json_serializer``) and cleans the parts of
    the User-Agent header once each (``cache_user_agent_sanitising``)."""
    from botocore import handlers, serialize

    serialize.SERIALIZERS["json"] = plain_json_serializer()
    cache_user_agent_sanitising()
    sender = DirectSender(endpoint, path)
    handlers.BUILTIN_HANDLERS.append(("choose-signer", _unsigned, handlers.REGISTER_FIRST))
    handlers.BUILTIN_HANDLERS.append(("before-sign", _scope_header))
    handlers.BUILTIN_HANDLERS.append(("before-send", sender))
    handlers.BUILTIN_HANDLERS.append(("before-call.dynamodb", sender.fast_call))
    handlers.BUILTIN_HANDLERS.append(("before-call.sqs", sender.fast_call))
    return sender


def attach_session(session: Any, endpoint: str, path: str) -> Any:
    """As ``attach``, for every client a boto3 session makes from now on; returns the session."""
    sender = DirectSender(endpoint, path)
    session.events.register_first("choose-signer", _unsigned)
    session.events.register("before-sign", _scope_header)
    session.events.register("before-send", sender)
    session.events.register("before-call.dynamodb", sender.fast_call)
    session.events.register("before-call.sqs", sender.fast_call)
    return session


def attach(client: Any, endpoint: str, path: str, sender: DirectSender | None = None) -> Any:
    """``client``'s requests to ``endpoint`` go directly to moto's process, unsigned; returns the client."""
    cache_user_agent_sanitising()
    client.meta.events.register_first("choose-signer", _unsigned)
    client.meta.events.register("before-sign", _scope_header)
    sender = sender or DirectSender(endpoint, path)
    client.meta.events.register("before-send", sender)
    client.meta.events.register("before-call.dynamodb", sender.fast_call)
    client.meta.events.register("before-call.sqs", sender.fast_call)
    return client
