"""moto's server in a process of its own, so the emulated services and the functions use two cores.

    python -m docingest_cli.moto_process PORT

The parent reads one line on this process's stdout: ``ready PORT`` once the port is bound (PORT 0 binds
a free one), or ``error MESSAGE``. This process lives as long as its stdin is open: the parent holds
the other end of that pipe, and the kernel closes it when the parent dies, even by ``kill -9``, so
the server never outlives ``ingest up`` and never keeps its port. (A pipe rather than Linux's
PR_SET_PDEATHSIG: that one fires when the *thread* that started the child ends, and works on Linux only.)
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading


def serve(port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from docingest_cli import moto_patches

    moto_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        server = make_server("127.0.0.1", port, DomainDispatcherApplication(create_backend_app), threaded=True)
    except (OSError, SystemExit):  # werkzeug prints its advice (to stderr: /dev/null here) and exits
        _report(f"error port {port} of 127.0.0.1 is in use: is another `ingest up` running? "
                "Stop it, or choose another port (--port)")
        sys.exit(1)
    stopping = threading.Event()

    def stop(*_: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=_exit_with_parent, args=(stop,), name="parent-watch", daemon=True).start()
    _report(f"ready {server.server_port}")
    server.serve_forever()


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
    serve(int(sys.argv[1]))
