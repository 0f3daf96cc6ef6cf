"""`python -m service`: serve the app with gunicorn, configured from the environment.

Each worker process runs a few request threads, each with its own database connection (the
database layer keeps one per thread), and gathers request heads in its main thread, so a client
that is slow to send its request holds no thread while it does, and one thread for at most the
read timeout while it sends a body (service/plumbing/gunicorn_worker.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from service.app import create_app
from service.plumbing import logs, memory, telemetry
from service.plumbing.gunicorn_worker import DEFAULT_READ_TIMEOUT_S, server_options
from service.plumbing.secrets import environment_with_secret
from service.plumbing.settings import Settings, SettingsError

DEFAULT_THREADS = 4


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], settings: Settings) -> None:
        self._options = options
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker builds its own app and so opens its own database connection.
        telemetry.configure_from_environment()
        app = telemetry.traced(create_app(self._settings))
        memory.freeze_startup_objects()
        return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=None, help="default: $PORT or 8000")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "2")),
        help="worker processes (default: $WEB_CONCURRENCY or 2)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"request threads per worker process (default: {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=DEFAULT_READ_TIMEOUT_S,
        help="seconds a client may leave a request (line, headers or body) unsent before the "
        f"connection is dropped (default: {DEFAULT_READ_TIMEOUT_S:g})",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(environment_with_secret(os.environ))
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    port = args.port or settings.port
    options = {
        "bind": f"{args.host}:{port}",
        "workers": args.workers,
        **server_options(args.read_timeout),
        "threads": args.threads,
        "accesslog": None,  # the request-log middleware writes one JSON line per request
        "loglevel": settings.log_level.lower(),
        "timeout": 30,
        "keepalive": 5,
    }
    _Server(options, settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
