"""CORS as django-cors-headers answers it for the reference (CORS_ALLOW_ALL_ORIGINS = True)."""

from __future__ import annotations

from typing import Any

import falcon

ALLOWED_HEADERS = (
    "accept, accept-encoding, authorization, content-type, dnt, origin, user-agent, "
    "x-csrftoken, x-requested-with, x-api-key"
)
ALLOWED_METHODS = "DELETE, GET, OPTIONS, PATCH, POST, PUT"
MAX_AGE = "86400"
_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


class CorsMiddleware:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        # A preflight is answered before routing and authentication, on any path.
        if req.method == "OPTIONS" and req.get_header("Access-Control-Request-Method"):
            resp.status = falcon.HTTP_200
            resp.content_type = "text/html; charset=utf-8"
            resp.text = ""
            resp.set_header("Access-Control-Allow-Methods", ALLOWED_METHODS)
            resp.set_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            resp.set_header("Access-Control-Max-Age", MAX_AGE)
            resp.complete = True

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        # Without a preflight header OPTIONS is just another method, which the reference's
        # routes do not serve (405), where Falcon would answer 200 with an Allow header.
        if req.method == "OPTIONS" and resource is not None:
            allowed = [m for m in _METHODS if hasattr(resource, f"on_{m.lower()}")]
            raise falcon.HTTPMethodNotAllowed(allowed_methods=allowed)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        if req.get_header("Origin"):
            resp.set_header("Access-Control-Allow-Origin", "*")
        resp.append_header("Vary", "origin")
