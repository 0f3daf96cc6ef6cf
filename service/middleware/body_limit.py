"""Refuses request bodies past a fixed size before anything reads them.

The largest legitimate body is a bulk write of 100 stamps (a few hundred KB); an ALB passes at
most 1 MB to a Lambda target anyway.
"""

from __future__ import annotations

import falcon

from service.errors import PayloadTooLarge

DEFAULT_MAX_BODY_BYTES = 1_048_576


class BodyLimitMiddleware:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self._max_bytes = max_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        length = req.content_length
        if length is not None and length > self._max_bytes:
            raise PayloadTooLarge(f"Request body too large (limit {self._max_bytes} bytes)")
