"""One JSON log line per request, and a request id the caller can quote back to us."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import falcon

log = logging.getLogger("service.request")

_ID_HEADERS = ("X-Request-Id", "X-Amzn-Trace-Id")


class RequestLogMiddleware:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()
        lambda_context = req.env.get("apig_wsgi.context")
        request_id = getattr(lambda_context, "aws_request_id", None)
        if not request_id:
            request_id = (
                next(
                    (value for header in _ID_HEADERS if (value := req.get_header(header))),
                    None,
                )
                or uuid.uuid4().hex
            )
        req.context.request_id = request_id
        resp.set_header("X-Request-Id", request_id)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        started = getattr(req.context, "started", None)
        duration_ms = (time.perf_counter() - started) * 1000 if started is not None else None
        # Only the path: query strings and headers may carry keys and tokens.
        fields = {
            "method": req.method,
            "path": req.path,
            "status": int(resp.status_code),
            "duration_ms": round(duration_ms, 3) if duration_ms is not None else None,
            "request_id": getattr(req.context, "request_id", None),
        }
        # Set by the rate limiter on the routes it guards (allowed, limited, fail_open, ...).
        ratelimit = getattr(req.context, "ratelimit", None)
        if ratelimit is not None:
            fields["ratelimit"] = ratelimit
        log.info("request", extra=fields)
