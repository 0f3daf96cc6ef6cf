"""The scoring pipeline every scoring endpoint shares (ADR-0002, ADR-0017).

load stamps → verify → LIFO dedup → score → (human points) → write the run.

All of it runs inside the caller's transaction, in few round trips: the scorer configuration
with the passport upsert, the stamps with their hash links, then one statement writing links,
events, stamps, score and points. A failure the reference stores as an ERROR score (bad
credential dates, "Invalid rule", dedup that cannot settle, unusable weights, a failed write)
rolls back the pipeline's own writes to a savepoint and saves the ERROR score instead; an
infrastructure failure propagates and the caller's transaction rolls back whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pg8000.exceptions import DatabaseError

from service.db import ceramic_cache_queries, hash_links, passports, scoring_run
from service.db.ceramic_cache_queries import CachedStamp, LiveStamps
from service.db.communities import Community, ScorerConfig
from service.db.connection import Transaction, is_infrastructure_failure, sqlstate
from service.db.human_points_queries import PointsSnapshot
from service.domain.credentials import LoadedStamp, validate_stamps
from service.domain.lifo import Link, all_nullifiers, plan_dedup
from service.domain.scoring import StoredScore, compute_score, merge_weights
from service.plumbing import telemetry
from service.plumbing.errors import InternalError
from service.plumbing.settings import Settings
from service.use_cases import human_points_awards

log = logging.getLogger("service.pipeline")

# The reference retries a failed hash-link save up to 5 attempts in total, with no delay.
DEDUP_ATTEMPTS = 5
# Unique violation (a concurrent request claimed the nullifier first) and deadlock (two requests
# claiming overlapping nullifiers in opposite orders) both mean "read again and re-plan".
_RETRYABLE_SQLSTATES = frozenset({"23505", "40P01"})

UNEXPECTED_SCORING_ERROR = "Unexpected error while submitting passport"


class ScoringFailure(Exception):
    """A failure the reference records on the score (HTTP 200 with `error` set)."""


def score_passport(
    tx: Transaction,
    *,
    community: Community,
    address: str,
    settings: Settings,
    now: datetime,
    opened: tuple[ScorerConfig, int | None] | None = None,
    live: LiveStamps | None = None,
) -> StoredScore:
    """Scores the address in the community and saves the score; returns what was saved.

    `opened` is the scorer configuration and passport id when the caller has already read and
    upserted them, and `live` the stamps it read after that (`passports.open_in_account`)."""
    stored, _ = score_passport_with_points(
        tx,
        community=community,
        address=address,
        settings=settings,
        now=now,
        opened=opened,
        live=live,
        points_snapshot=False,
    )
    return stored


def score_passport_with_points(
    tx: Transaction,
    *,
    community: Community,
    address: str,
    settings: Settings,
    now: datetime,
    opened: tuple[ScorerConfig, int | None] | None,
    live: LiveStamps | None,
    points_snapshot: bool,
) -> tuple[StoredScore, PointsSnapshot | None]:
    """`score_passport`; with `points_snapshot`, also the address's Human Points as they stand
    after the run, read by the run's own write. None when no run was written (an ERROR score):
    the caller then reads them itself."""
    if opened is None:
        with telemetry.span("scoring.open"):
            opened = passports.open_for_scoring(tx, community, address)
    config, passport_id = opened
    if passport_id is None or config.threshold is None:
        # The reference fails before scoring when the scorer row or its child row is missing.
        raise InternalError(UNEXPECTED_SCORING_ERROR)
    with telemetry.span("scoring.load") as span:
        if live is None:
            live = ceramic_cache_queries.live_stamps(tx, address, community_id=community.id)
        stamps = latest_per_provider(live.rows)
        span.set_attribute("stamps.loaded", len(stamps))

    run = _Run(community, address, config, settings, now, passport_id, points_snapshot)
    try:
        return _score(tx, stamps, live, run)
    except Exception as exc:
        if is_infrastructure_failure(exc):
            raise
        message = _error_message(exc)
        log.info("scoring failed", extra={"error": message, "community_id": community.id})
        stored = StoredScore.failed(address, message)

    with telemetry.span("scoring.persist", outcome=stored.status):
        passports.save_failed_score(tx, passport_id=passport_id, stored=stored)
    return stored, None


def latest_per_provider(rows: Sequence[CachedStamp]) -> list[LoadedStamp]:
    """Per provider column, the row with the greatest updated_at; ties keep the first seen."""
    latest: dict[str, CachedStamp] = {}
    for row in rows:
        current = latest.get(row.provider)
        if current is None or row.updated_at > current.updated_at:
            latest[row.provider] = row
    return [
        LoadedStamp(
            provider=row.provider, credential=row.credential, cache_id=row.id, digest=row.digest
        )
        for row in latest.values()
    ]


@dataclass(frozen=True)
class _Run:
    """What every step of one scoring run works with."""

    community: Community
    address: str
    config: ScorerConfig
    settings: Settings
    now: datetime
    passport_id: int
    points_snapshot: bool  # also read the address's Human Points with the run's write


def _score(
    tx: Transaction, stamps: list[LoadedStamp], live: LiveStamps, run: _Run
) -> tuple[StoredScore, PointsSnapshot | None]:
    """Verifies, deduplicates, scores and writes the run (service/db/scoring_run.py).

    Every attempt runs in a savepoint: a nullifier claimed by a concurrent request (a unique
    violation, a deadlock, or a claim that did not land) undoes the attempt's writes, and the
    links are read again and the run re-planned, up to DEDUP_ATTEMPTS times; any other failure
    undoes them and propagates, to be recorded as an ERROR score (or to fail the request).
    """
    with telemetry.span("scoring.verify", **{"stamps.count": len(stamps)}) as span:
        valid = validate_stamps(
            stamps,
            address=run.address,
            trusted_issuers=run.settings.trusted_iam_issuers,
            now=run.now,
        )
        span.set_attribute("stamps.valid", len(valid))
    if run.community.rule != "LIFO":
        raise ScoringFailure("Invalid rule")
    hashes = all_nullifiers(valid, multi_nullifier=run.settings.ff_multi_nullifier)
    links = live.links_of(hashes)
    failure = "Failed to save HashScorerLinks"
    for _attempt in range(DEDUP_ATTEMPTS):
        try:
            with tx.savepoint():
                if links is None:
                    links = hash_links.find(tx, hashes, run.community.id)
                saved = _plan_and_save(tx, valid, links, run)
        except _OwnershipConflict:
            failure = "Unexpected number of HashScorerLinks"
            links = None
            continue
        except DatabaseError as exc:
            if sqlstate(exc) not in _RETRYABLE_SQLSTATES:
                raise
            failure = "Failed to save HashScorerLinks"
            links = None
            continue
        return saved
    raise ScoringFailure(failure)


def _plan_and_save(
    tx: Transaction, valid: list[LoadedStamp], links: Sequence[Link], run: _Run
) -> tuple[StoredScore, PointsSnapshot | None]:
    multi_nullifier = run.settings.ff_multi_nullifier
    with telemetry.span("scoring.dedup") as span:
        plan = plan_dedup(
            valid, links, address=run.address, now=run.now, multi_nullifier=multi_nullifier
        )
        span.set_attribute("stamps.kept", len(plan.kept))
        span.set_attribute("stamps.deduplicated", len(plan.clashing))
    with telemetry.span("scoring.score") as span:
        weights = merge_weights(run.config.weights, run.config.dynamic_weights)
        assert run.config.threshold is not None  # checked by the caller
        result = compute_score(
            plan.kept, plan.clashing, weights=weights, threshold=run.config.threshold, now=run.now
        )
        stored = StoredScore.done(run.address, result)
        span.set_attribute("score.passing", bool(result.score))
    point_rows = human_points_awards.awards_for_score(
        community=run.community, stored=stored, kept=plan.kept, settings=run.settings, now=run.now
    )
    with telemetry.span("scoring.persist", outcome=stored.status):
        claimed, snapshot = scoring_run.save_run(
            tx,
            community_id=run.community.id,
            passport_id=run.passport_id,
            address=run.address,
            now=run.now,
            plan=plan,
            stamps=plan.kept,
            dedup_events=[
                (event.provider, event.nullifiers)
                for event in plan.events(multi_nullifier=multi_nullifier)
            ],
            stored=stored,
            point_rows=point_rows,
            metamask_enabled=run.settings.human_points_mta_enabled,
            points_snapshot=run.points_snapshot,
        )
    if claimed != len(plan.updates):
        raise _OwnershipConflict()
    return stored, snapshot


class _OwnershipConflict(Exception):
    """Another request took one of our nullifiers between our read and our write."""


def _error_message(exc: Exception) -> str:
    if isinstance(exc, DatabaseError):
        fields = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        return str(fields.get("M", exc))
    return str(exc)
