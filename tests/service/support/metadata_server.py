"""A real HTTP server standing in for the Passport app's public site (PASSPORT_PUBLIC_URL): it
serves stampMetadata.json with a status, body and delay the test sets, and counts requests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Two platforms in the shape of the real document, with keys the service must drop.
DOCUMENT: list[dict[str, Any]] = [
    {
        "id": "Google",
        "icon": "./assets/googleStampIcon.svg",
        "name": "Google",
        "description": "Connect your existing Google Account to verify.",
        "connectMessage": "Connect Account",
        "website": "https://www.google.com",
        "groups": [
            {
                "name": "Account Name",
                "stamps": [
                    {
                        "name": "Google",
                        "description": "Encrypted",
                        "hash": "0x11",
                    }
                ],
            }
        ],
    },
    {
        "id": "Github",
        "icon": "https://cdn.example.org/github.svg",
        "name": "Github",
        "description": "Connect your existing Github account to verify.",
        "connectMessage": "Connect Account",
        "isEVM": False,
        "groups": [
            {
                "name": "Contributions",
                "stamps": [
                    {"name": "Github", "description": "Account owner", "hash": "0x21"},
                    {"name": "GithubGuru", "description": "30+ commits", "hash": "0x22"},
                ],
            },
            {
                "name": "Activity",
                "stamps": [{"name": "GithubStar", "description": "10 stars", "hash": "0x23"}],
            },
        ],
    },
]


@dataclass
class MetadataServer:
    base_url: str
    status: int = 200
    body: bytes = field(default_factory=lambda: json.dumps(DOCUMENT).encode())
    delay_s: float = 0.0
    hits: int = 0

    def serve(self, document: Any) -> None:
        self.status, self.body = 200, json.dumps(document).encode()


@contextmanager
def running() -> Iterator[MetadataServer]:
    state = MetadataServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            if state.delay_s:
                time.sleep(state.delay_s)
            if self.path != "/stampMetadata.json":
                self.send_error(404)
                return
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    """A base URL where nothing listens (connection refused)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def stable(value: Any, base_url: str) -> Any:
    """`value` with the server's URL (its port changes every run) written as `<source>/`."""
    return json.loads(json.dumps(value).replace(base_url, "<source>/"))
