"""The gunicorn worker of `python -m service`.

gunicorn's threaded worker, with every read from (and write to) a client socket bounded by a
timeout, so a client that sends half a request and waits ties up one thread for that long, never
a whole process: the worker's other threads, and its other connections, keep being served.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from gunicorn.workers.gthread import _DEFER, ThreadWorker

DEFAULT_READ_TIMEOUT_S = 10.0
# How long a thread waits for the first bytes of a new connection before handing it back to the
# worker's poller (gunicorn waits 5 s, so a few idle connections would hold every thread).
FIRST_BYTES_WAIT_S = 0.1


def server_options(read_timeout_s: float = DEFAULT_READ_TIMEOUT_S) -> dict[str, Any]:
    """The gunicorn settings that go with this worker."""
    return {
        "worker_class": worker_class(read_timeout_s),
    }


def worker_class(read_timeout_s: float) -> type[ThreadWorker]:
    return type("ScorerWorker", (ScorerWorker,), {"read_timeout_s": read_timeout_s})


class ScorerWorker(ThreadWorker):  # type: ignore[misc]
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S

    def handle(self, conn: Any) -> Any:
        # Kernel-level timeouts: gunicorn switches the socket between blocking and non-blocking
        # modes as a connection moves between its threads and its poller, which would reset a
        # Python-level `settimeout`; SO_RCVTIMEO and SO_SNDTIMEO survive that. A read that times
        # out raises, and the connection is closed (or, while the app reads a body, answered 408).
        timeval = _timeval(self.read_timeout_s)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        if not conn.initialized and not conn.wait_for_data(FIRST_BYTES_WAIT_S):
            # Connected but silent: the poller watches it (and closes it after the keep-alive
            # time) without holding a thread.
            return _DEFER
        return super().handle(conn)


def _timeval(seconds: float) -> bytes:
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
