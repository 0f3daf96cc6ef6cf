"""The real `python -m service` server, started by a test on a free port, and a raw HTTP/1.1
client that can send what well-behaved clients never do (half a request, chunked bodies, bytes
that are not HTTP)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.service.support.internal_rows import INTERNAL_TOKEN
from tools.bench.server import HOST, LocalServer


@dataclass
class ServiceProcess(LocalServer):
    """`python -m service` with extra command-line options."""

    options: tuple[str, ...] = field(default=())

    @property
    def command(self) -> list[str]:
        return [*super().command, *self.options]


def server_environment(database_url: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "CGRANTS_API_TOKEN": INTERNAL_TOKEN,
        "TRUSTED_IAM_ISSUERS": "[]",
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def running(database_url: str, log_path: Path, *options: str) -> Iterator[ServiceProcess]:
    server = ServiceProcess(
        env=server_environment(database_url), workers=2, log_path=log_path, options=options
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def parse_answer(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status, headers, body)


def exchange(port: int, request: bytes, *, timeout_s: float = 15) -> Answer:
    """Sends the request (from a thread, so a server that answers before reading it all is
    heard) and reads the answer until the server closes the connection."""
    with socket.create_connection((HOST, port), timeout=timeout_s) as sock:

        def send() -> None:
            # The server may answer and close before reading it all; its answer is read below.
            with suppress(OSError):
                sock.sendall(request)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        received = bytearray()
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received.extend(chunk)
        sender.join(timeout=timeout_s)
    return parse_answer(bytes(received))


def chunked(body: bytes, chunk_size: int = 4096) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + chunk_size]), body[i : i + chunk_size])
        for i in range(0, len(body), chunk_size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def request(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    chunked_body: bytes | None = None,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if chunked_body is not None:
        lines.append("Transfer-Encoding: chunked")
        payload = chunked(chunked_body)
    else:
        if body:
            lines.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
