"""The gunicorn worker of `python -m service`.

gunicorn's threaded worker, with three changes a server facing clients directly needs:

- A slow client cannot hold a thread while it sends its request head. The worker's poller (its
  main thread, which never blocks) gathers each request line and headers as they arrive, and a
  thread is taken only once they are complete; a head not complete `read_timeout_s` after it
  began is dropped. Every later read from (and write to) a client socket, a body for instance,
  is bounded by the same timeout, so a stalled body ties up one thread for that long at most.
- Requests that never reach the app (a request line or header over the limits, bytes that are
  not HTTP) are answered with the service's `{"detail": ...}` JSON envelope instead of gunicorn's
  HTML page.
- The limits are the load balancer's where the load balancer's are larger (an ALB passes request
  lines and single headers up to 16 KB), so a request the deployed service accepts is accepted
  locally too.
"""

from __future__ import annotations

import enum
import errno
import json
import logging
import re
import selectors
import socket
import struct
import time
import uuid
from collections import deque
from contextlib import suppress
from functools import partial
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.http import message
from gunicorn.workers.gthread import TConn, ThreadWorker

# The ALB's limits (Elastic Load Balancing quotas: request line 16 KB, each header 16 KB).
MAX_REQUEST_LINE_BYTES = 16 * 1024
MAX_HEADER_FIELD_BYTES = 16 * 1024
DEFAULT_READ_TIMEOUT_S = 10.0
# A head still growing past this size is handed to gunicorn's parser, which enforces the limits.
HEAD_BUFFER_BYTES = 64 * 1024
# The end of a request head; a bare LF is handed over too, for the parser to refuse.
_HEAD_END = re.compile(rb"\r\n\r\n|(?<!\r)\n")

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


class _HeadState(enum.Enum):
    INCOMPLETE = "incomplete"  # more bytes to come
    COMPLETE = "complete"  # the whole head, or as much as the parser needs to refuse it
    GONE = "gone"  # the client closed the connection


class ScorerWorker(ThreadWorker):  # type: ignore[misc]
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S

    # The server is plain HTTP/1.x (python -m service sets no certificate and no HTTP/2), so the
    # bytes the poller gathers are the request itself.

    def init_process(self) -> None:
        self.log.error_log.addFilter(_ClientTimeoutsInOneLine())
        self._heads: deque[Any] = deque()  # connections whose head is arriving, oldest first
        super().init_process()  # runs the worker until it exits

    def accept(self, listener: Any) -> None:
        try:
            sock, addr = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        self.nr_conns += 1
        # Most clients send their request with or right after the connection: read it now.
        self._gather_head(TConn(self.cfg, sock, addr, listener.getsockname()), readable=True)

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        # The next request on a kept-alive connection is gathered the same way; its first
        # bytes are there already, and usually all of its head.
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._gather_head(conn, readable=True)

    def _gather_head(self, conn: Any, *, readable: bool = False) -> None:
        conn.sock.setblocking(False)
        conn.head = bytearray()
        conn.head_deadline = time.monotonic() + self.read_timeout_s
        self._heads.append(conn)
        if readable:
            state = self._receive_head(conn)
            if state is not _HeadState.INCOMPLETE:
                self._hand_over(conn, state)
                return
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_readable, conn))

    def _on_head_readable(self, conn: Any, _sock: Any) -> None:
        state = self._receive_head(conn)
        if state is _HeadState.INCOMPLETE:
            return
        self.poller.unregister(conn.sock)
        self._hand_over(conn, state)

    def _receive_head(self, conn: Any) -> _HeadState:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return _HeadState.INCOMPLETE
        except OSError:
            data = b""
        if not data:
            return _HeadState.GONE
        conn.head += data
        if len(conn.head) < HEAD_BUFFER_BYTES and not _HEAD_END.search(conn.head):
            return _HeadState.INCOMPLETE
        return _HeadState.COMPLETE

    def _hand_over(self, conn: Any, state: _HeadState) -> None:
        self._heads.remove(conn)
        if state is _HeadState.GONE:  # the client went away
            self.nr_conns -= 1
            conn.close()
            return
        conn.data_ready = True
        self.enqueue_req(conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self._heads and self._heads[0].head_deadline <= now:
            conn = self._heads.popleft()
            with suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            self.log.info("Client too slow: connection closed after the read timeout")
            conn.close()

    def handle(self, conn: Any) -> Any:
        # Kernel-level timeouts: gunicorn switches the socket between blocking and non-blocking
        # modes as a connection moves between its threads and its poller, which would reset a
        # Python-level `settimeout`; SO_RCVTIMEO and SO_SNDTIMEO survive that. A read that times
        # out raises, and the connection is closed (or, while the app reads a body, answered 408).
        timeval = _timeval(self.read_timeout_s)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        head = getattr(conn, "head", None)
        if head is not None:
            # The parser reads the gathered head first, then the socket (for the body).
            conn.head = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(bytes(head))
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
