"""The gunicorn worker of `python -m service`.

gunicorn's threaded worker, with three changes a server facing clients directly needs:

- Every read from (and write to) a client socket is bounded by a timeout, so a client that sends
  half a request and waits ties up one thread for that long, never a whole process: the worker's
  other threads, and its other connections, keep being served.
- Requests that never reach the app (a request line or header over the limits, bytes that are
  not HTTP) are answered with the service's `{"detail": ...}` JSON envelope instead of gunicorn's
  HTML page.
- The limits are the load balancer's where the load balancer's are larger (an ALB passes request
  lines and single headers up to 16 KB), so a request the deployed service accepts is accepted
  locally too.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import uuid
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.http import message
from gunicorn.workers.gthread import _DEFER, ThreadWorker

# The ALB's limits (Elastic Load Balancing quotas: request line 16 KB, each header 16 KB).
MAX_REQUEST_LINE_BYTES = 16 * 1024
MAX_HEADER_FIELD_BYTES = 16 * 1024
DEFAULT_READ_TIMEOUT_S = 10.0
# How long a thread waits for the first bytes of a new connection before handing it back to the
# worker's poller (gunicorn waits 5 s, so a few idle connections would hold every thread).
FIRST_BYTES_WAIT_S = 0.1

# gunicorn caps `limit_request_line` at this module constant (8190) whatever the setting says;
# raising the cap is the only way to accept what the load balancer passes.
message.MAX_REQUEST_LINE = max(message.MAX_REQUEST_LINE, MAX_REQUEST_LINE_BYTES)


def server_options(read_timeout_s: float = DEFAULT_READ_TIMEOUT_S) -> dict[str, Any]:
    """The gunicorn settings that go with this worker."""
    return {
        "worker_class": worker_class(read_timeout_s),
        "limit_request_line": MAX_REQUEST_LINE_BYTES,
        "limit_request_field_size": MAX_HEADER_FIELD_BYTES,
    }


def worker_class(read_timeout_s: float) -> type[ThreadWorker]:
    return type("ScorerWorker", (ScorerWorker,), {"read_timeout_s": read_timeout_s})


class ScorerWorker(ThreadWorker):  # type: ignore[misc]
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S

    def init_process(self) -> None:
        self.log.error_log.addFilter(_ClientTimeoutsInOneLine())
        super().init_process()  # runs the worker until it exits

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

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        status, detail = error_answer(exc)
        peer = addr[0] if addr else ""
        if status >= 500:
            self.log.exception("Error handling request")
        else:
            self.log.warning("Invalid request from ip=%s: %s", peer, exc)
        try:
            util.write_nonblock(client, error_response(status, detail))
        except Exception:  # noqa: BLE001 - the client may be gone already
            self.log.debug("Failed to send error message.")


class _ClientTimeoutsInOneLine(logging.Filter):
    """gunicorn logs any socket error of a connection as an ERROR with its traceback; a client
    that was too slow is expected, and one line says all there is to say."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BlockingIOError | TimeoutError):
            record.msg, record.args = (
                "Client too slow: connection closed after the read timeout",
                (),
            )
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def error_answer(exc: BaseException) -> tuple[int, str]:
    """The status gunicorn gives a request it could not hand to the app, and our detail text."""
    if isinstance(exc, http_errors.InvalidResponseHeader | http_errors.InvalidResponseHeaderName):
        return 500, "Internal Server Error"  # a header the app tried to send: our fault
    if isinstance(exc, http_errors.LimitRequestLine):
        return 414, f"Request line too long (limit {MAX_REQUEST_LINE_BYTES} bytes)"
    if isinstance(exc, http_errors.LimitRequestHeaders):
        return 431, f"Request header fields too large (limit {MAX_HEADER_FIELD_BYTES} bytes each)"
    if isinstance(exc, http_errors.UnsupportedTransferCoding):
        return 501, "Transfer-Encoding not supported"
    if isinstance(exc, http_errors.ExpectationFailed):
        return 417, "Expectation failed"
    if isinstance(exc, http_errors.ForbiddenProxyRequest):
        return 403, "Request forbidden"
    if isinstance(exc, http_errors.ConfigurationProblem) or not isinstance(
        exc, http_errors.ParseException
    ):
        return 500, "Internal Server Error"
    return 400, "Bad request"


def error_response(status: int, detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {uuid.uuid4().hex}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def _timeval(seconds: float) -> bytes:
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
