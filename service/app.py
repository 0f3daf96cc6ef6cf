"""The application factory: every entry point (Lambda, local server, tests) builds the app here."""

from __future__ import annotations

from typing import Any

import falcon

from service.clients.rate_limiter import RateLimiter
from service.clients.stamp_metadata_source import StampMetadataSource
from service.db.connection import Database
from service.middleware.body_limit import BodyLimitMiddleware
from service.middleware.cors import CorsMiddleware
from service.middleware.request_log import RequestLogMiddleware
from service.middleware.span_name import SpanNameMiddleware
from service.plumbing import errors, json_depth
from service.plumbing.settings import Settings
from service.resources.health import HealthResource
from service.routes import add_routes


def create_app(
    settings: Settings,
    db: Database | None = None,
    *,
    metadata: StampMetadataSource | None = None,
    limiter: RateLimiter | None = None,
) -> falcon.App[Any, Any]:
    """`metadata` is the process's stampMetadata.json cache and `limiter` its rate limiter, with
    its one Redis connection (one of each per app unless given)."""
    if metadata is None:
        metadata = StampMetadataSource(settings.passport_public_url)
    if limiter is None:
        limiter = RateLimiter(settings)
    if db is None:
        db = Database(
            settings.database,
            connect_timeout_s=settings.db_connect_timeout_s,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )
    # `falcon.App` is looked up at call time so OpenTelemetry's Falcon instrumentor,
    # which replaces that attribute, sees every app we build.
    middleware: list[Any] = [
        RequestLogMiddleware(),
        SpanNameMiddleware(),
        CorsMiddleware(),
        BodyLimitMiddleware(settings.max_request_body_bytes),
    ]
    app = falcon.App(middleware=middleware, cors_enable=False)
    app.req_options.strip_url_path_trailing_slash = False
    app.resp_options.default_media_type = falcon.MEDIA_JSON
    app.req_options.default_media_type = falcon.MEDIA_JSON
    _use_reference_json(app)
    errors.install(app)

    # The Rust port's probe path and the Django path (with its slash) both answer.
    app.add_route("/health", HealthResource("OK"))
    app.add_route("/health/", HealthResource("Ok"))
    add_routes(app, settings=settings, db=db, metadata=metadata, limiter=limiter)
    return app


def _use_reference_json(app: falcon.App[Any, Any]) -> None:
    """Django-ninja renders with json.dumps defaults (", " and ": " separators, ASCII escapes).

    Request bodies are parsed with a nesting limit (`json_depth`).
    """
    import json

    handler = falcon.media.JSONHandler(dumps=json.dumps, loads=json_depth.loads)
    app.resp_options.media_handlers.update({falcon.MEDIA_JSON: handler})
    app.req_options.media_handlers.update({falcon.MEDIA_JSON: handler})
