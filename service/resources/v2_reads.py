"""The public v2 read routes (API key): score history, an address's stamps, stamp metadata."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import falcon

from service.auth.api_key import AuthenticatedKey
from service.auth.v2_access import authenticate_v2_request, record_usage
from service.clients.rate_limiter import RateLimiter
from service.clients.stamp_metadata_source import StampMetadataSource
from service.db import ceramic_cache_queries, communities, events_queries
from service.db.connection import Database, Transaction, is_infrastructure_failure
from service.domain import score_history, stamp_pages
from service.domain.addresses import normalize_address
from service.domain.params import parse_bool, parse_int
from service.domain.stamp_metadata import MetadataUnavailable, ProviderMetadataUnavailable
from service.plumbing.errors import ApiError, InternalError, NotFound, ValidationFailed
from service.plumbing.settings import Settings
from service.resources.query import required_param

log = logging.getLogger("service.v2_reads")

Work = Callable[[Transaction, AuthenticatedKey], Any]
Checks = Callable[[AuthenticatedKey], None]


class _ReadResource:
    """One transaction per request. A refusal is returned out of it rather than raised, so the
    analytics row of every request that reached the route's work commits (response_skipped, as
    the reference's `track_apikey_usage(track_response=False)`)."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        metadata: StampMetadataSource,
        limiter: RateLimiter,
    ) -> None:
        self._settings = settings
        self._db = db
        self._metadata = metadata
        self._limiter = limiter

    def _serve(
        self, req: falcon.Request, resp: falcon.Response, work: Work, checks: Checks | None = None
    ) -> None:
        now = datetime.now(UTC)
        with self._db.transaction() as tx:
            outcome = self._run(tx, req, now, work, checks)
        if isinstance(outcome, ApiError):
            raise outcome
        if isinstance(outcome, stamp_pages.PageJson):
            resp.content_type = falcon.MEDIA_JSON
            resp.text = outcome.text
        else:
            resp.media = outcome

    def _run(
        self, tx: Transaction, req: falcon.Request, now: datetime, work: Work, checks: Checks | None
    ) -> Any:
        try:
            auth = authenticate_v2_request(
                tx,
                req,
                settings=self._settings,
                now=now,
                response_skipped=True,
                checks=checks,
                limiter=self._limiter,
            )
        except ApiError as refused:
            return refused
        try:
            body = work(tx, auth)
        except ApiError as failure:
            reason = None
            if isinstance(failure, score_history.UnreadableScoreEvent):
                reason = failure.reason
            if isinstance(failure, InternalError):
                log.error("read route failed: %s", reason or failure, extra={"path": req.path})
            self._record(tx, req, auth, failure, error_text=reason)
            return failure
        except Exception as exc:
            if is_infrastructure_failure(exc):
                raise
            log.exception("read route failed", extra={"path": req.path})
            unexpected = InternalError()
            self._record(tx, req, auth, unexpected, error_text=str(exc))
            return unexpected
        self._record(tx, req, auth, None)
        return body

    def _record(
        self,
        tx: Transaction,
        req: falcon.Request,
        auth: AuthenticatedKey,
        error: ApiError | None,
        *,
        error_text: str | None = None,
    ) -> None:
        record_usage(
            tx,
            req,
            self._settings,
            auth.key_id,
            error=error,
            response_skipped=True,
            error_text=error_text,
        )


class ScoreHistoryResource(_ReadResource):
    """GET /v2/stamps/{scorer_id}/score/{address}/history?created_at=…"""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, scorer_id: str, address: str
    ) -> None:
        def checks(auth: AuthenticatedKey) -> None:
            _validated(lambda: _scorer_id(scorer_id), lambda: required_param(req, "created_at"))
            if not auth.historical_endpoint:
                raise score_history.Forbidden()
            if not req.get_param("created_at"):
                raise score_history.CreatedAtRequired()

        def work(tx: Transaction, auth: AuthenticatedKey) -> dict[str, Any]:
            community_id = self._history_community_id(_scorer_id(scorer_id))
            community = (
                None
                if community_id is None
                else communities.find_owned_by_id(tx, community_id, auth.account_id)
            )
            if community is None:
                raise NotFound(score_history.NO_COMMUNITY)
            raw_created_at = req.get_param("created_at") or ""
            event = events_queries.latest_score_event(
                tx,
                community_id=community.id,
                # As the reference's address field, the lookup is lower-cased; the answer
                # echoes the address as sent.
                address=address.lower(),
                at_or_before=score_history.parse_created_at(raw_created_at),
            )
            if event is None:
                raise score_history.NoScoreFound(address, raw_created_at)
            return score_history.history_answer(address, event.data)

        self._serve(req, resp, work, checks)

    def _history_community_id(self, scorer_id: int) -> int | None:
        """A negative id means DEMO_API_SCORER_ID; unset (or not a number), it matches nothing."""
        if scorer_id >= 0:
            return scorer_id
        demo = self._settings.demo_api_scorer_id
        try:
            return int(demo) if demo is not None else None
        except ValueError:
            return None


def _scorer_id(scorer_id: str) -> int:
    return parse_int(scorer_id, loc=["path", "scorer_id"])


class StampsResource(_ReadResource):
    """GET /v2/stamps/{address}?token=…&limit=…&include_metadata=…"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, scorer_id: str) -> None:
        address = scorer_id  # the path's one field; see routes.STAMPS_LIST_TEMPLATE

        def checks(_: AuthenticatedKey) -> None:
            _validated(
                lambda: _limit(req),
                lambda: _include_metadata(req),
            )

        def work(tx: Transaction, _: AuthenticatedKey) -> stamp_pages.PageJson:
            limit = _limit(req)
            stamp_pages.check_limit(limit)
            normalized = normalize_address(address)
            cursor = stamp_pages.decode_cursor(req.get_param("token") or "")
            page = ceramic_cache_queries.stamp_page(
                tx,
                normalized,
                older_than=cursor.id if cursor.direction == stamp_pages.NEXT else None,
                newer_than=cursor.id if cursor.direction == stamp_pages.PREV else None,
                limit=limit,
            )
            by_provider: dict[str, dict[str, Any]] | None = None
            if _include_metadata(req) and page.rows:
                metadata = self._metadata.current()
                if metadata is None:
                    raise ProviderMetadataUnavailable(page.rows[0].provider)
                by_provider = metadata.by_provider
            base = stamp_pages.request_base_url(
                req.get_header("X-Forwarded-Proto"),
                req.scheme,
                req.get_header("Host") or req.netloc,
            )
            return stamp_pages.page_json(
                stamp_pages.page_link(base, normalized, stamp_pages.NEXT, page.rows[-1].id, limit)
                if page.has_more
                else None,
                stamp_pages.page_link(base, normalized, stamp_pages.PREV, page.rows[0].id, limit)
                if page.has_prev
                else None,
                [
                    (
                        row.stamp_json,
                        None if by_provider is None else by_provider.get(row.provider),
                    )
                    for row in page.rows
                ],
            )

        self._serve(req, resp, work, checks)


class StampMetadataResource(_ReadResource):
    """GET /v2/stamps/metadata"""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        def work(tx: Transaction, _: AuthenticatedKey) -> list[dict[str, Any]]:
            metadata = self._metadata.current()
            if metadata is None:
                raise MetadataUnavailable()
            return metadata.platforms

        self._serve(req, resp, work)


def _limit(req: falcon.Request) -> int:
    raw = req.get_param("limit")
    return stamp_pages.MAX_LIMIT if raw is None else parse_int(raw, loc=["query", "limit"])


def _include_metadata(req: falcon.Request) -> bool:
    raw = req.get_param("include_metadata")
    return False if raw is None else parse_bool(raw, loc=["query", "include_metadata"])


def _validated(*parsers: Callable[[], Any]) -> None:
    """Runs every parser and reports all their errors together, as django-ninja does."""
    errors: list[dict[str, Any]] = []
    for parse in parsers:
        try:
            parse()
        except ValidationFailed as failed:
            errors.extend(failed.detail)
    if errors:
        raise ValidationFailed(errors)
