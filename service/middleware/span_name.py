"""Names the request's span after the route template, not the raw path."""

from __future__ import annotations

from typing import Any

import falcon
from opentelemetry import trace


class SpanNameMiddleware:
    """The WSGI middleware (``telemetry.traced``) opens the request span before Falcon routes the
    request, so it can only name it after the path, which holds addresses and ids: one name per
    address. Once Falcon has found the resource, the span takes the route template instead; a
    request no route matches keeps only its method."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            span.update_name(req.method)

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        span = trace.get_current_span()
        if span.is_recording() and req.uri_template:
            span.update_name(f"{req.method} {req.uri_template}")
            span.set_attribute("http.route", req.uri_template)
