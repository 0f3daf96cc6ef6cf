"""Refuses request bodies past a fixed size before anything reads them, and turns a chunked body
into one of known length, so every route reads a body the same way whatever its framing.

The largest legitimate body is a bulk write of 100 stamps (a few hundred KB); an ALB passes at
most 1 MB to a Lambda target anyway.
"""

from __future__ import annotations

import io
from typing import Protocol

import falcon

from service.plumbing.errors import BadRequest, LengthRequired, PayloadTooLarge, RequestTimeout
from service.resources.bodies_reader import CANNOT_PARSE_BODY

DEFAULT_MAX_BODY_BYTES = 1_048_576
_READ_SIZE = 65_536


class BodyLimitMiddleware:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self._max_bytes = max_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        length = req.content_length
        if length is not None:
            if length > self._max_bytes:
                raise self._too_large()
            return
        if req.get_header("Transfer-Encoding") is None:
            return
        # Without Content-Length the body ends where the server says the input ends: servers that
        # decode chunked bodies (gunicorn) set `wsgi.input_terminated`; on one that does not, the
        # read could hang, so the client is asked for a length instead.
        if not req.env.get("wsgi.input_terminated"):
            raise LengthRequired()
        body = read_body(req.stream, self._max_bytes + 1)
        if len(body) > self._max_bytes:
            raise self._too_large()
        # From here on the request is what a Content-Length request would be.
        req.stream = req.env["wsgi.input"] = io.BytesIO(body)
        req.env["CONTENT_LENGTH"] = str(len(body))

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"Request body too large (limit {self._max_bytes} bytes)")


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def read_body(stream: _Readable, limit: int) -> bytes:
    """At most `limit` bytes of the stream; 408 when the client stops sending before its end
    (the local server bounds every read from a client socket)."""
    chunks: list[bytes] = []
    received = 0
    try:
        while received < limit:
            chunk = stream.read(min(_READ_SIZE, limit - received))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    except OSError:
        raise RequestTimeout() from None
    except Exception:  # noqa: BLE001 - the server's input raises only on the client's framing
        # (gunicorn: a malformed chunk size, a missing chunk terminator)
        raise BadRequest(CANNOT_PARSE_BODY) from None
    return b"".join(chunks)
