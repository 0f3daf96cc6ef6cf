"""GET /v2/stamps/{scorer_id}/score/{address}: the public score endpoint (API-key auth)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import falcon

from service.auth import api_key
from service.auth.v2_access import authenticate_v2_request, presented_key_of, record_usage
from service.clients.rate_limiter import RateLimiter
from service.db import passports
from service.db.connection import Database, Transaction
from service.domain.addresses import is_valid_address, normalize_address
from service.domain.params import parse_int
from service.domain.scoring import v2_response
from service.plumbing import telemetry
from service.plumbing.errors import ApiError, InternalError, InvalidAddress, NotFound
from service.plumbing.settings import Settings
from service.use_cases import human_points_awards
from service.use_cases.score_passport import (
    UNEXPECTED_SCORING_ERROR,
    score_passport_with_points,
)

log = logging.getLogger("service.v2_score")

NO_SCORER = "No scorer matches the given criteria."


class V2ScoreResource:
    def __init__(self, *, settings: Settings, db: Database, limiter: RateLimiter) -> None:
        self._settings = settings
        self._db = db
        self._limiter = limiter

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, scorer_id: str, address: str
    ) -> None:
        now = datetime.now(UTC)
        try:
            body, failure = self._handle(req, scorer_id, address, now)
        except ApiError:
            raise
        except Exception as exc:
            # The reference's answer to any failure outside the scoring step; the transaction
            # has already rolled back, so nothing of the request was written.
            log.exception("scoring request failed", extra={"path": req.path})
            raise InternalError(UNEXPECTED_SCORING_ERROR) from exc
        if failure is not None:
            raise failure
        resp.media = body

    def _handle(
        self, req: falcon.Request, scorer_id: str, address: str, now: datetime
    ) -> tuple[dict[str, Any], ApiError | None]:
        """Runs the request in one transaction; a 4xx outcome is returned, not raised, so that
        its analytics row commits before the error is answered."""
        with self._db.transaction() as tx:
            # The community, the passport upsert and the stamps are read with the key, ahead of
            # authentication (ADR-0046); the upsert is undone if the request is refused.
            with telemetry.span("scoring.community"):
                ahead = self._open_ahead(tx, req, scorer_id, address, now)
            with telemetry.span("scoring.auth"):
                try:
                    auth = authenticate_v2_request(
                        tx,
                        req,
                        settings=self._settings,
                        now=now,
                        response_skipped=False,
                        require_read_scores=True,
                        # 422 comes before the view in the reference: never in analytics.
                        checks=lambda _: _scorer_id(scorer_id),
                        limiter=self._limiter,
                        found=None if ahead is None else (ahead.read.key_row,),
                        before_refusal=None if ahead is None else ahead.undo,
                    )
                except ApiError as refused:
                    return {}, refused
            read = None if ahead is None else ahead.read
            return self._score(tx, req, auth, _scorer_id(scorer_id), address, now, read)

    def _open_ahead(
        self, tx: Transaction, req: falcon.Request, scorer_id: str, address: str, now: datetime
    ) -> _OpenedAhead | None:
        """The key's row, read with the passport upsert and stamps of the key's account in the
        request's first round trip (`passports.open_for_key`), for a request that authentication
        will most likely admit: a well-formed key, scorer id and address. The upsert is undone
        if the request is refused after all; None when nothing was read ahead."""
        key = presented_key_of(req, self._settings)
        normalized = normalize_address(address) if is_valid_address(address) else None
        try:
            numeric_id = _scorer_id(scorer_id)
        except ApiError:
            return None
        if key is None or normalized is None:
            return None
        mark = tx.mark()
        read = passports.open_for_key(
            tx,
            prefix=api_key.key_prefix(key),
            key_sha256=api_key.sha256_form(key),
            now=now,
            scorer_id=self._lookup_id(numeric_id),
            address=normalized,
        )
        wrote = read.opened is not None and read.opened.passport_id is not None
        return _OpenedAhead(read, (lambda: tx.undo_to(mark)) if wrote else None)

    def _lookup_id(self, numeric_id: int) -> str:
        # Negative ids are the public demo's; an unset demo id is looked up as "None".
        return str(self._settings.demo_api_scorer_id if numeric_id < 0 else numeric_id)

    def _score(
        self,
        tx: Transaction,
        req: falcon.Request,
        auth: api_key.AuthenticatedKey,
        numeric_id: int,
        address: str,
        now: datetime,
        ahead: passports.KeyAndPassport | None = None,
    ) -> tuple[dict[str, Any], ApiError | None]:
        try:
            normalized = normalize_address(address) if is_valid_address(address) else None
            opened: passports.OpenedPassport | None
            if ahead is not None and ahead.opened is not None:
                opened, live = ahead.opened, ahead.live
            else:
                # The community, its scorer, the passport upsert and the stamps in one round
                # trip; an invalid address is refused after the community lookup, as the
                # reference does.
                with telemetry.span("scoring.community"):
                    opened, live = passports.open_in_account(
                        tx, self._lookup_id(numeric_id), auth.account_id, normalized
                    )
            if opened is None:
                raise NotFound(NO_SCORER)
            if normalized is None:
                raise InvalidAddress()
            community = opened.community
            # ADR-0006: points only on request (exactly "true"), when reporting is on and the
            # community is in the program; otherwise both members are null.
            report_points = req.get_param(
                "include_human_points"
            ) == "true" and human_points_awards.reported(community, self._settings)
            stored, snapshot = score_passport_with_points(
                tx,
                community=community,
                address=normalized,
                settings=self._settings,
                now=now,
                opened=(opened.config, opened.passport_id),
                live=live,
                points_snapshot=report_points,
            )
            points, possible = (None, None)
            if report_points:
                with telemetry.span("scoring.points_report"):
                    points, possible = human_points_awards.points_payload(
                        tx,
                        address=normalized,
                        community=community,
                        settings=self._settings,
                        snapshot=snapshot,
                    )
            body = v2_response(stored, points_data=points, possible_points_data=possible)
        except ApiError as exc:
            self._record(tx, req, auth.key_id, response=None, error=exc)
            return {}, exc
        self._record(tx, req, auth.key_id, response=body, error=None)
        return body, None

    def _record(
        self,
        tx: Transaction,
        req: falcon.Request,
        key_id: str,
        *,
        response: dict[str, Any] | None,
        error: ApiError | None,
    ) -> None:
        if not self._settings.ff_api_analytics:
            return
        with telemetry.span("scoring.analytics"):
            record_usage(tx, req, self._settings, key_id, error=error, response=response)


@dataclass(frozen=True)
class _OpenedAhead:
    read: passports.KeyAndPassport
    # Undoes the passport upsert read ahead; None when it wrote nothing.
    undo: Callable[[], None] | None


def _scorer_id(scorer_id: str) -> int:
    return parse_int(scorer_id, loc=["path", "scorer_id"])
