"""moto's server in a process of its own, so the emulated services and the functions use two cores.

    python -m docingest_cli.moto_process PORT [--state DIR] [--snapshot-interval SECONDS] [--direct SOCKET]

The parent reads one line on this process's stdout: ``ready PORT`` once the port is bound (PORT 0 binds
a free one), or ``error MESSAGE``. This process lives as long as its stdin is open: the parent holds
the other end of that pipe, and the kernel closes it when the parent dies, even by ``kill -9``, so
the server never outlives ``ingest up`` and never keeps its port. (A pipe rather than Linux's
PR_SET_PDEATHSIG: that one fires when the *thread* that started the child ends, and works on Linux only.)
With ``--state`` the backends are restored from DIR and saved there (``moto_state``), last when the
server stops: on SIGTERM, or when the parent closes the pipe or dies. With ``--direct`` the emulator's
own processes also reach the same application over a Unix socket (``direct_transport``).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path


def serve(port: int, state: Path | None = None, snapshot_interval: float = 2.0, direct: Path | None = None) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from docingest_cli import direct_transport, moto_fast_lane, moto_patches, moto_state

    moto_patches.apply()
    emulator_gc()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    application = moto_fast_lane.serialised(DomainDispatcherApplication(create_backend_app))
    store, gate = None, moto_state.Gate()
    if state:
        try:
            store = moto_state.StateStore(state)
            store.restore()
        except moto_state.StateError as error:
            _report(f"error {error}")
            sys.exit(1)
        moto_state.long_polls_step_out(gate)
        application = moto_state.gated(application, gate)
    try:
        server = make_server("127.0.0.1", port, application, threaded=True)
    except (OSError, SystemExit):  # werkzeug prints its advice (to stderr: /dev/null here) and exits
        _report(f"error port {port} of 127.0.0.1 is in use: is another `ingest up` running? "
                "Stop it, or choose another port (--port)")
        sys.exit(1)
    listener = direct_transport.serve(application, str(direct), gate if store else None) if direct else None
    if store:
        store.close_in_copy.append(server.socket)
        if listener:
            store.close_in_copy.append(listener)
    stopping = threading.Event()

    def stop(*_: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=_exit_with_parent, args=(stop,), name="parent-watch", daemon=True).start()
    if store:
        threading.Thread(target=store.save_periodically, args=(gate, snapshot_interval, stopping), name="snapshots",
                         daemon=True).start()
    _report(f"ready {server.server_port}")
    server.serve_forever(poll_interval=0.1)
    if listener:
        listener.close()
    if store:
        store.save(gate)
    sys.stderr.flush()
    os._exit(0)  # saved: tearing down moto's modules and backends only costs time


def emulator_gc() -> None:
    """The emulator's processes hold many long-lived objects (moto's items, the loaded models): the
    modules imported so far leave the collector's view, and collections run 70 times less often
    (moto's item writes took a third less CPU)."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _exit_with_parent(stop) -> None:
    """Block on stdin until the parent closes it or dies; then stop serving."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    stop()


def _report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the parent reads one line only


if __name__ == "__main__":
    arguments = argparse.ArgumentParser()
    arguments.add_argument("port", type=int)
    arguments.add_argument("--state", type=Path)
    arguments.add_argument("--snapshot-interval", type=float, default=2.0)
    arguments.add_argument("--direct", type=Path)
    options = arguments.parse_args()
    serve(options.port, options.state, options.snapshot_interval, options.direct)
