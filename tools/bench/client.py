"""A keep-alive HTTP client on `http.client`, one per client thread.

The server keeps connections alive between requests; the client reconnects when the server says
it will close (or has closed) and counts it. A failure to connect, send or read is an error, never
retried: the next request is a new attempt on a new connection.
"""

from __future__ import annotations

import http.client
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

SUCCESS_MARKER = b'"error": null'


@dataclass(frozen=True)
class Reply:
    status: int  # 0 when the connection failed
    body: bytes
    elapsed_ns: int
    failure: str | None = None

    @property
    def ok(self) -> bool:
        """200 with a score that is not an ERROR score."""
        return self.status == 200 and SUCCESS_MARKER in self.body


@dataclass
class Client:
    host: str
    port: int
    headers: Mapping[str, str]
    timeout_s: float = 30.0
    connects: int = 0
    connect_ns: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    _conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> Reply:
        started = time.perf_counter_ns()
        try:
            conn = self._connection()
            conn.request("GET", path, headers=dict(self.headers))
            response = conn.getresponse()
            body = response.read()
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            kind = type(exc).__name__
            self.failures[kind] += 1
            return Reply(0, b"", time.perf_counter_ns() - started, failure=kind)
        return Reply(response.status, body, time.perf_counter_ns() - started)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            started = time.perf_counter_ns()
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
            conn.connect()
            self.connect_ns += time.perf_counter_ns() - started
            self.connects += 1
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
