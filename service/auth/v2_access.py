"""The one way into every v2 API-key route: the presented key, the route's own checks, and the
analytics row of each attempt.

The order is the reference's (ADR-0035): authenticate → the route's parameter and permission
checks → the work. Anything that must see every admitted request exactly once, such as a per-key
rate limit, belongs at the end of `authenticate_v2_request`, after `checks`: what the reference
never counts (401, 422, history's 403 and 400) has been refused by then.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import falcon

from service.auth import api_key
from service.auth.api_key import AuthenticatedKey
from service.clients.rate_limiter import RateLimiter
from service.db import analytics
from service.db.api_keys import ApiKeyRow
from service.db.connection import Transaction
from service.plumbing.errors import ApiError, InvalidApiKey, ValidationFailed
from service.plumbing.settings import Settings

# Headers whose values never reach the analytics table.
_MASKED_HEADERS = frozenset({"x-api-key", "cookie", "authorization"})


def authenticate_v2_request(
    tx: Transaction,
    req: falcon.Request,
    *,
    settings: Settings,
    now: datetime,
    response_skipped: bool,
    require_read_scores: bool = False,
    checks: Callable[[AuthenticatedKey], object] | None = None,
    limiter: RateLimiter | None = None,
    found: tuple[ApiKeyRow | None] | None = None,
    before_refusal: Callable[[], object] | None = None,
) -> AuthenticatedKey:
    """Authenticates the request's key (ADR-0003: revoked and expired keys are refused
    everywhere), then runs the route's `checks`. Raises the ApiError to answer; the attempt's
    analytics row is already written unless the reference writes none (an unknown key, a 422).

    `found` is the key's row when the caller read it already (`presented_key_of` gives the key
    it was read for); `before_refusal` runs before anything is written for a refusal (the
    caller undoes what it did ahead of the answer)."""
    key = presented_key_of(req, settings)
    try:
        auth = api_key.authenticate(
            tx, key, now=now, require_read_scores=require_read_scores, found=found
        )
    except InvalidApiKey as rejected:
        if before_refusal is not None:
            before_refusal()
        if isinstance(rejected, api_key.ApiKeyRejected):
            record_usage(
                tx,
                req,
                settings,
                rejected.key_id,
                error=rejected,
                response_skipped=response_skipped,
            )
        raise
    try:
        if checks is not None:
            checks(auth)
        # The reference's counting point: whatever was refused above is never counted, and
        # everything after it is, on one budget per key shared by every v2 route.
        if limiter is not None:
            limiter.check(req, auth)
    except ApiError as refused:
        if before_refusal is not None:
            before_refusal()
        # django-ninja refuses a ValidationFailed before the view runs: no analytics row.
        if not isinstance(refused, ValidationFailed):
            record_usage(
                tx, req, settings, auth.key_id, error=refused, response_skipped=response_skipped
            )
        raise
    return auth


def presented_key_of(req: falcon.Request, settings: Settings) -> str | None:
    """The API key the request presents (demo aliases mapped), as authentication reads it."""
    return api_key.presented_key(
        req.get_header,
        demo_key=settings.demo_api_key,
        demo_aliases=settings.demo_api_key_aliases,
    )


def record_usage(
    tx: Transaction,
    req: falcon.Request,
    settings: Settings,
    key_id: str,
    *,
    error: ApiError | None,
    response: dict[str, Any] | None = None,
    response_skipped: bool = False,
    error_text: str | None = None,
) -> None:
    """One `account_accountapikeyanalytics` row when FF_API_ANALYTICS is on. `error_text`
    replaces `str(error)` where the stored text differs from the answered detail."""
    if not settings.ff_api_analytics:
        return
    analytics.record(
        tx,
        analytics.AnalyticsRow(
            api_key_id=key_id,
            path=req.path,
            path_segments=req.path.split("/")[1:],
            query_params=parse_qs(req.query_string, keep_blank_values=True),
            headers=request_headers_for_analytics(req),
            # pydantic's model_dump_json: compact separators, non-ASCII kept as is.
            response=None
            if response is None
            else json.dumps(response, separators=(",", ":"), ensure_ascii=False),
            error=error_text if error_text is not None else (None if error is None else str(error)),
            status_code=200 if error is None else int(error.status.split()[0]),
            response_skipped=response_skipped,
        ),
    )


def request_headers_for_analytics(req: falcon.Request) -> dict[str, str]:
    """`dict(request.headers)` as Django builds it from the WSGI environ, secrets masked."""
    headers: dict[str, str] = {}
    for name, value in req.env.items():
        if name.startswith("HTTP_"):
            raw = name[5:]
        elif name in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            raw = name
        else:
            continue
        title = "-".join(part.capitalize() for part in raw.split("_"))
        headers[title] = "***" if title.lower() in _MASKED_HEADERS else str(value)
    return headers
