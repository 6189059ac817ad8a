"""Time limits for the work on one document, so a stage ends FAILED instead of being killed by Lambda.

Two parts, both set up by the handler from ``context.get_remaining_time_in_millis()``:

- a cooperative deadline: the stages call ``check("what they are about to do")`` between steps, and
  ``OutOfTime`` is raised once the time is up;
- a watchdog thread: if a step that cannot be interrupted (a C parser, a model call) still runs when
  the function is about to time out, it records that on the document while the process still lives.

Usage::

    with work_deadline(seconds=25):
        check("scoring blocks")
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

_deadline: ContextVar[float | None] = ContextVar("docingest_deadline", default=None)


class OutOfTime(RuntimeError):
    """The work on a document used up the time the function had for it."""


@contextmanager
def work_deadline(seconds: float | None) -> Iterator[None]:
    """Within this block, ``check`` raises OutOfTime after ``seconds`` (None: no deadline)."""
    token = _deadline.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def check(step: str) -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime(f"the function's time ran out before {step}")


def seconds_left() -> float | None:
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


class Watchdog:
    """Calls ``on_timeout()`` from a thread of its own unless the block ends within ``seconds``.

    Usage: ``with Watchdog(seconds, on_timeout): work()``.
    """

    def __init__(self, seconds: float, on_timeout: Callable[[], None]):
        self.fired = False
        self._on_timeout = on_timeout
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        self._on_timeout()
