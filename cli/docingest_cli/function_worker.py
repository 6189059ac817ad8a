"""One Lambda execution environment of the emulator: a process that imports one function's handler
and runs the events its poller sends, one at a time, as Lambda runs one invocation per environment.

    python -m docingest_cli.function_worker CODE_PATH HANDLER FUNCTION_NAME MEMORY_MB

Protocol on stdin/stdout, one JSON object per line: ``{"event": ..., "timeout": seconds}`` in,
``{"response": ...}`` or ``{"error": "Type: message"}`` out. The handler's own prints (its logs) go
to stderr, without Powertools' metric blobs. The process ends when stdin closes (its parent died).
"""
from __future__ import annotations

import io
import json
import os
import sys
import traceback
from pathlib import Path


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


def serve(code_path: str, handler_name: str, function_name: str, memory_mb: int) -> None:
    from docingest_cli import direct_transport
    from docingest_cli.lambda_runtime import LambdaContext, load_handler

    direct_socket, endpoint = os.environ.get(direct_transport.SOCKET_VARIABLE), os.environ.get("AWS_ENDPOINT_URL")
    if direct_socket and endpoint:  # before the handler makes its clients
        direct_transport.install(endpoint, direct_socket)

    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything written to fd 1 from C code lands in stderr too
    sys.stdout = LogOutput(sys.stderr)
    handler = load_handler(Path(code_path), handler_name, function_name)
    region = os.environ.get("AWS_REGION", "us-east-1")
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(function_name, request["timeout"], region, memory_limit_in_mb=memory_mb)
        try:
            reply = {"response": handler(request["event"], context)}
        except Exception as error:  # the whole batch fails, as when a Lambda handler raises
            traceback.print_exc(file=sys.stderr)
            reply = {"error": f"{error.__class__.__name__}: {error}"}
        protocol.write(json.dumps(reply, default=str) + "\n")
    sys.stderr.flush()
    os._exit(0)  # stdin closed: nothing to clean up, and tearing down the loaded models takes seconds


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
