"""moto's server in a process of its own, so the emulated services and the functions use two cores.

    python -m docingest_cli.moto_process PORT
"""
from __future__ import annotations

import functools
import logging
import sys


def serve(port: int) -> None:
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    # moto's dispatcher lists its package folder on every request, under a lock (~15 ms each):
    # the list never changes while it runs, so compute it once.
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = functools.cache(lambda: modules)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    run_simple("127.0.0.1", port, DomainDispatcherApplication(create_backend_app), threaded=True, use_reloader=False)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
