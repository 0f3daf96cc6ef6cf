"""The one error hierarchy. Each class knows its status and its JSON body; `install` maps them.

Bodies follow the reference's envelope, ``{"detail": ...}``; nothing else builds error responses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import falcon

log = logging.getLogger("service.errors")


class ApiError(Exception):
    status: str = falcon.HTTP_500
    detail: Any = "Internal Server Error"

    def __init__(self, detail: Any = None) -> None:
        if detail is not None:
            self.detail = detail
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail}

    def headers(self) -> dict[str, str]:
        return {}

    def __str__(self) -> str:
        # The reference stores str(exc.detail) in analytics rows and ERROR scores.
        return str(self.detail)


class BadRequest(ApiError):
    status = falcon.HTTP_400
    detail = "Bad request"


class InvalidAddress(BadRequest):
    detail = "Invalid address."


class Unauthorized(ApiError):
    status = falcon.HTTP_401
    detail = "Unauthorized"


class InvalidApiKey(Unauthorized):
    detail = "Invalid API Key."


class InvalidToken(Unauthorized):
    """A bearer token no token class accepts (ADR-0001: the reference's body).

    The reference renders ninja-jwt's dict detail with `str()`, so the body's detail is the
    Python repr of that dict with every string wrapped in `ErrorDetail`; clients see exactly
    that text. `messages` are (token class, reason) pairs in the order the classes were tried.
    """

    def __init__(self, messages: Sequence[tuple[str, str]]) -> None:
        super().__init__(_invalid_token_detail(messages))


def _invalid_token_detail(messages: Sequence[tuple[str, str]]) -> str:
    def detail(text: str) -> str:
        return f"ErrorDetail(string={text!r}, code='token_not_valid')"

    rendered = ", ".join(
        f"{{'token_class': {detail(token_class)}, 'token_type': {detail('access')},"
        f" 'message': {detail(message)}}}"
        for token_class, message in messages
    )
    return (
        f"{{'detail': {detail('Given token not valid for any token type')},"
        f" 'code': {detail('token_not_valid')}, 'messages': [{rendered}]}}"
    )


class NotFound(ApiError):
    status = falcon.HTTP_404
    detail = "Not Found"


class RequestTimeout(ApiError):
    status = falcon.HTTP_408
    detail = "Request body not received in time"


class LengthRequired(ApiError):
    status = falcon.HTTP_411
    detail = "Length Required"


class PayloadTooLarge(ApiError):
    status = falcon.HTTP_413
    detail = "Request body too large"


class ValidationFailed(ApiError):
    """422 with ninja's list shape: ``{"detail": [{"type", "loc", "msg"}, ...]}``."""

    status = falcon.HTTP_422

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)

    @classmethod
    def single(cls, *, type_: str, loc: list[str | int], msg: str) -> ValidationFailed:
        return cls([{"type": type_, "loc": loc, "msg": msg}])


class UnprocessableEntity(ApiError):
    """422 whose detail is a plain message (e.g. too many stamps)."""

    status = falcon.HTTP_422


class RateLimited(ApiError):
    """429 once a key has used its window's budget (ADR-0013)."""

    status = falcon.HTTP_429
    detail = "You have been rate limited!"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__()
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}

    def __str__(self) -> str:
        # The reference's analytics `error` is str(Ratelimited()): empty.
        return ""


class InternalError(ApiError):
    status = falcon.HTTP_500
    detail = "Internal Server Error"


class DatabaseUnavailable(ApiError):
    status = falcon.HTTP_503
    detail = "Service temporarily unavailable, please retry"


def install(app: falcon.App[Any, Any]) -> None:
    app.add_error_handler(Exception, _handle_unexpected)
    app.add_error_handler(falcon.HTTPError, _handle_falcon_http_error)
    app.add_error_handler(ApiError, _handle_api_error)


def _handle_api_error(
    req: falcon.Request, resp: falcon.Response, ex: ApiError, params: Any
) -> None:
    resp.status = ex.status
    resp.media = ex.body()
    resp.set_headers(ex.headers())
    if isinstance(ex, DatabaseUnavailable):
        log.error("database unavailable", exc_info=ex.__cause__ or ex)
        resp.set_header("Retry-After", "1")


def _handle_falcon_http_error(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any
) -> None:
    """Falcon's own errors (routing, media parsing) get the same envelope."""
    resp.status = ex.status
    if ex.status == falcon.HTTP_404:
        detail: str = "Not Found"
    elif ex.status == falcon.HTTP_405:
        detail = "Method not allowed"
    elif ex.status == falcon.HTTP_400 and isinstance(ex, falcon.MediaMalformedError):
        detail = "Cannot parse request body"
    else:
        detail = ex.title or "Error"
    resp.media = {"detail": detail}
    if ex.headers:
        # Falcon accepts error headers as a mapping or as (name, value) pairs.
        resp.set_headers(ex.headers)


def _handle_unexpected(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any
) -> None:
    log.exception("unhandled error", extra={"path": req.path})
    resp.status = falcon.HTTP_500
    resp.media = {"detail": "Internal Server Error"}
