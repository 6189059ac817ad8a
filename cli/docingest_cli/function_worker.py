"""One Lambda execution environment of the emulator: a process that imports one function's handler
and runs the events its poller sends, one at a time, as Lambda runs one invocation per environment.

Workers are forked from a server process that has imported the libraries every handler imports
(boto3, botocore, Powertools, pydantic: ``PRELOADED``) and read botocore's data files
(``warm_botocore``), so a cold start pays only for the function's own modules; the project's code and numpy (whose BLAS reads the function's environment when it loads)
are imported by each worker, after its environment is set.

Protocol on a ``multiprocessing`` pipe, one JSON document per message: ``{"ready": true}`` once the
handler is imported, then ``{"event": ..., "timeout": seconds}`` in, ``{"response": ...}`` or
``{"error": "Type: message"}`` out. The handler's own prints (its logs) go to stderr, without
Powertools' metric blobs. The process ends when the pipe closes (its parent stopped it or died).
"""
from __future__ import annotations

import io
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

PRELOADED = ["json", "boto3", "boto3.session", "boto3.dynamodb.conditions", "boto3.dynamodb.types", "botocore.session",
             "botocore.handlers", "botocore.client", "botocore.parsers", "botocore.awsrequest",
             "aws_lambda_powertools", "aws_lambda_powertools.logging", "aws_lambda_powertools.metrics",
             "aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.utilities.data_classes.sqs_event",
             "pydantic", "docingest_cli.lambda_runtime", "docingest_cli.direct_transport", "docingest_cli.warm_botocore"]


class LogOutput(io.TextIOBase):
    """The handler's stdout: stderr, metric blobs left out (they are one JSON line each)."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._skipping = False

    def write(self, text: str) -> int:
        if text.startswith('{"_aws"'):
            self._skipping = True
        elif not (self._skipping and text == "\n"):
            self._skipping = False
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def run(connection: Any, code_path: str, handler_name: str, function_name: str, memory_mb: int,
        environment: dict[str, str]) -> None:
    """The worker's life: take the function's environment, import its handler, answer invocations."""
    os.environ.clear()
    os.environ.update(environment)
    from docingest_cli import direct_transport
    from docingest_cli.lambda_runtime import LambdaContext, load_handler

    direct_socket, endpoint = os.environ.get(direct_transport.SOCKET_VARIABLE), os.environ.get("AWS_ENDPOINT_URL")
    if direct_socket and endpoint:  # before the handler makes its clients
        direct_transport.install(endpoint, direct_socket)
    sys.stdout.flush()
    os.dup2(2, 1)  # anything written to fd 1, from C code too, lands in stderr
    sys.stdout = LogOutput(sys.stderr)
    handler = load_handler(Path(code_path), handler_name, function_name)
    from docingest_cli.moto_process import emulator_gc

    emulator_gc()
    region = os.environ.get("AWS_REGION", "us-east-1")
    connection.send_bytes(json.dumps({"ready": True}).encode())
    while True:
        try:
            request = json.loads(connection.recv_bytes())
        except (EOFError, OSError):  # the emulator closed the pipe, or died
            break
        context = LambdaContext(function_name, request["timeout"], region, memory_limit_in_mb=memory_mb)
        try:
            reply = {"response": handler(request["event"], context)}
        except Exception as error:  # the whole batch fails, as when a Lambda handler raises
            traceback.print_exc(file=sys.stderr)
            reply = {"error": f"{error.__class__.__name__}: {error}"}
        try:
            connection.send_bytes(json.dumps(reply, default=str).encode())
        except (BrokenPipeError, OSError):
            break
    sys.stderr.flush()
    os._exit(0)  # nothing to clean up, and tearing down the loaded models takes seconds
