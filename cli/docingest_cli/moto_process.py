"""moto's server in a process of its own, so the emulated services and the functions use two cores.

    python -m docingest_cli.moto_process PORT
"""
from __future__ import annotations

import logging
import sys


def serve(port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    from docingest_cli import moto_patches

    moto_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    run_simple("127.0.0.1", port, DomainDispatcherApplication(create_backend_app), threaded=True, use_reloader=False)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
