"""What a Lambda execution environment gives a handler: its module loaded from the CodeUri, and a context.

Kept apart from the emulator so that a function worker imports only this (not the template machinery).
"""
from __future__ import annotations

import importlib.util
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


def load_handler(code_path: Path, handler: str, logical_id: str) -> Callable[[dict, Any], Any]:
    """Import ``handler`` (``module.attribute``, e.g. ``app.lambda_handler``) from ``code_path``, as Lambda would."""
    module_name, attribute = handler.rsplit(".", 1)
    path = Path(code_path) / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(f"docingest_functions.{logical_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)


@dataclass
class LambdaContext:
    function_name: str
    timeout: int
    region: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + self.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
