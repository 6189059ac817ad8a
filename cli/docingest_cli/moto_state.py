"""The emulator's state on disk: moto's S3, SQS and DynamoDB backends, pickled in moto's own process.

A snapshot is one consistent moment: requests pass a gate, and a snapshot closes it, waits for the
requests inside to finish (a long poll steps out while it waits), forks, and reopens it; the forked
copy pickles the backends to a temporary file that replaces the last snapshot by rename, so a
``kill -9`` mid-write leaves the previous snapshot whole. Snapshots are taken every 2 s while requests
change something (less often for a large state), and when the server stops; ``snapshot.json`` tells
the last one's size and cost. On restore every message in flight comes
back visible: its consumer died with the emulator.

One file, ``moto-state.pickle`` in the state folder; a ``lock`` file there keeps a second server out.
"""
from __future__ import annotations

import contextlib
import copyreg
import fcntl
import json
import os
import pickle
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from moto.s3.utils import _VersionedKeyStore

FORMAT = 1
SERVICES = ("s3", "sqs", "dynamodb")
STATE_FILE = "moto-state.pickle"
# Calls that change nothing worth a snapshot (a receive only hides a message for a while).
READ_ACTIONS = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Receive", "Head")


class StateError(RuntimeError):
    """A state folder that cannot be used: in use, or saved by another moto."""


class Gate:
    """Requests pass concurrently; ``closed()`` waits for those inside and holds new ones back."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._inside = 0
        self._closed = False
        self._local = threading.local()
        self.changes = 0  # requests that may have changed the state

    @contextlib.contextmanager
    def request(self, changes: bool) -> Iterator[None]:
        self._enter()
        if changes:
            self.changes += 1
        try:
            yield
        finally:
            self._leave()

    @contextlib.contextmanager
    def stepped_out(self) -> Iterator[None]:
        """Inside a request that waits (a long poll): a snapshot need not wait for it meanwhile."""
        if not getattr(self._local, "inside", False):
            yield
            return
        self._leave()
        try:
            yield
        finally:
            self._enter()

    @contextlib.contextmanager
    def closed(self) -> Iterator[None]:
        with self._condition:
            while self._closed:
                self._condition.wait()
            self._closed = True
            while self._inside:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._closed = False
                self._condition.notify_all()

    def _enter(self) -> None:
        with self._condition:
            while self._closed:
                self._condition.wait()
            self._inside += 1
        self._local.inside = True

    def _leave(self) -> None:
        self._local.inside = False
        with self._condition:
            self._inside -= 1
            self._condition.notify_all()


def gated(app: Callable, gate: Gate) -> Callable:
    """WSGI middleware: every request passes ``gate``; those that may change state are counted."""

    def application(environ: dict[str, Any], start_response: Callable) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            changes = not target.rsplit(".", 1)[-1].startswith(READ_ACTIONS)
        else:
            changes = environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
        with gate.request(changes):
            return list(app(environ, start_response))

    return application


def long_polls_step_out(gate: Gate) -> None:
    """A ReceiveMessage long poll waits outside the gate (else every snapshot would wait for it)."""
    from moto.sqs.models import Queue

    original = Queue.wait_for_messages

    def wait_for_messages(self, timeout: int) -> None:
        with gate.stepped_out():
            original(self, timeout)

    Queue.wait_for_messages = wait_for_messages


class StateStore:
    """Saves and restores the backends of SERVICES in ``folder``, which it locks while it lives."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / STATE_FILE
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(folder / "lock", "a")  # noqa: SIM115  (held until the process ends)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StateError(f"the state folder {folder} is in use by another `ingest up`") from None
        self.saved_changes = 0
        self.last_save: dict[str, Any] = {}
        self.close_in_copy: list[Any] = []  # sockets a forked copy must not keep open (the server's port)

    def restore(self) -> bool:
        """Load the last snapshot into moto's backends; False when there is none."""
        import moto

        if not self.path.exists():
            return False
        try:
            with open(self.path, "rb") as file:
                state = pickle.load(file)
        except Exception as error:  # noqa: BLE001
            raise StateError(f"{self.path} cannot be read ({error.__class__.__name__}: {error}): "
                             "remove it, or start with --state none") from None
        if state.get("format") != FORMAT or state.get("moto") != moto.__version__:
            raise StateError(f"{self.path} was saved by moto {state.get('moto')}, this is moto {moto.__version__}: "
                             "remove it, or start with --state none")
        _load_backends(state["services"])
        return True

    def save(self, gate: Gate) -> None:
        """One snapshot: the gate is closed only while this process forks; the copy pickles and writes.

        Pickling 3,000 documents' state takes about 3 s: in a forked copy the server keeps serving.
        """
        started = time.perf_counter()
        with gate.closed():
            changes = gate.changes
            pid = os.fork()
            if pid == 0:  # the copy: only this thread, and the state as the gate left it
                status = 1
                try:
                    for sock in self.close_in_copy:
                        sock.close()
                    self._write()
                    status = 0
                finally:
                    os._exit(status)
        paused = time.perf_counter() - started
        _, status = os.waitpid(pid, 0)
        if status == 0:
            self.saved_changes = changes
        self.last_save = {"ok": status == 0, "bytes": self.path.stat().st_size if self.path.exists() else 0,
                          "paused_s": round(paused, 4), "total_s": round(time.perf_counter() - started, 3)}
        with contextlib.suppress(OSError):
            (self.folder / "snapshot.json").write_text(json.dumps({**self.last_save, "saved_at": time.time()}) + "\n")

    def _write(self) -> None:
        import moto

        temporary = self.folder / f".{STATE_FILE}.{os.getpid()}.tmp"
        with open(temporary, "wb") as file:
            _pickler(file).dump({"format": FORMAT, "moto": moto.__version__, "saved_at": time.time(), "services": _backends()})
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)  # atomic: a kill mid-write leaves the previous snapshot whole
        with contextlib.suppress(OSError):  # the rename itself, durable
            directory = os.open(self.folder, os.O_RDONLY)
            os.fsync(directory)
            os.close(directory)

    def save_periodically(self, gate: Gate, interval: float, stop: threading.Event) -> None:
        """Save while requests change something: every ``interval`` seconds, or five times as long as the
        last snapshot took (a large state is saved less often rather than all the time)."""
        while not stop.wait(max(interval, 5 * self.last_save.get("total_s", 0))):
            if gate.changes != self.saved_changes:
                self.save(gate)


def _backends() -> dict[str, dict[str, dict[str, Any]]]:
    from moto.backends import get_backend

    return {service: {account: dict(regions) for account, regions in get_backend(service).items()} for service in SERVICES}


def _load_backends(services: dict[str, dict[str, dict[str, Any]]]) -> None:
    from moto.backends import get_backend

    for service, accounts in services.items():
        backends = get_backend(service)
        for account, regions in accounts.items():
            for region, backend in regions.items():
                dict.__setitem__(backends[account], region, backend)
                if service == "sqs":
                    _messages_visible(backend)
                if service == "s3":  # moto's global bucket-name registry, beside the backends
                    for name, bucket in backend.buckets.items():
                        backends.bucket_accounts[name] = (bucket.partition, account)


def _messages_visible(backend: Any) -> None:
    """Messages in flight when the emulator died: their consumer is gone, so they are visible again."""
    for queue in backend.queues.values():
        queue.pending_messages.clear()
        for message in queue._messages:
            message.visible_at = 0.0


def _pickler(buffer: Any) -> pickle.Pickler:
    """A pickler that stores moto's locks and conditions as new, unlocked ones."""
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    table = copyreg.dispatch_table.copy()
    table[type(threading.Lock())] = lambda lock: (threading.Lock, ())
    table[type(threading.RLock())] = lambda lock: (threading.RLock, ())
    table[threading.Condition] = lambda condition: (threading.Condition, ())
    table[_VersionedKeyStore] = lambda store: (_versioned_key_store, ([(key, store.getlist(key)) for key in store.keys()],))
    pickler.dispatch_table = table
    return pickler


def _versioned_key_store(lists: list[tuple[str, list[Any]]]) -> Any:
    """An S3 bucket's keys with every version (pickling the dict would keep only the latest of each)."""
    store = _VersionedKeyStore()
    for key, versions in lists:
        store.setlist(key, versions)
    return store
