"""The scoring pipeline every scoring endpoint shares (ADR-0002, ADR-0017).

load stamps → verify → LIFO dedup → replace stamps → score → (human points) → save score.

All of it runs inside the caller's transaction. A failure the reference stores as an ERROR score
(bad credential dates, "Invalid rule", dedup that cannot settle, unusable weights) rolls back the
pipeline's own writes to a savepoint and saves the ERROR score instead; an infrastructure failure
propagates and the caller's transaction rolls back whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from pg8000.exceptions import DatabaseError

from service import human_points, telemetry
from service.db import ceramic_cache, communities, hash_links, passports
from service.db.ceramic_cache import CachedStamp
from service.db.communities import Community, ScorerConfig
from service.db.connection import Transaction, is_infrastructure_failure, sqlstate
from service.domain.credentials import LoadedStamp, validate_stamps
from service.domain.lifo import DedupPlan, all_nullifiers, plan_dedup
from service.domain.scoring import StoredScore, compute_score, merge_weights
from service.errors import InternalError
from service.settings import Settings

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
) -> StoredScore:
    """Scores the address in the community and saves the score; returns what was saved."""
    config = communities.scorer_config(tx, community)
    if config.scorer_type is None or config.threshold is None:
        # The reference fails before scoring when the scorer row or its child row is missing.
        raise InternalError(UNEXPECTED_SCORING_ERROR)
    passport_id = passports.upsert_passport(tx, address, community.id)
    with telemetry.span("scoring.load") as span:
        stamps = latest_per_provider(ceramic_cache.live_stamps(tx, address))
        span.set_attribute("stamps.loaded", len(stamps))

    try:
        with tx.savepoint():
            stored = _score(
                tx,
                stamps,
                community=community,
                address=address,
                config=config,
                settings=settings,
                now=now,
                passport_id=passport_id,
            )
    except Exception as exc:
        if is_infrastructure_failure(exc):
            raise
        message = _error_message(exc)
        log.info("scoring failed", extra={"error": message, "community_id": community.id})
        stored = StoredScore.failed(address, message)

    with telemetry.span("scoring.persist", outcome=stored.status):
        passports.save_score(tx, passport_id=passport_id, community_id=community.id, stored=stored)
    return stored


def latest_per_provider(rows: Sequence[CachedStamp]) -> list[LoadedStamp]:
    """Per provider column, the row with the greatest updated_at; ties keep the first seen."""
    latest: dict[str, CachedStamp] = {}
    for row in rows:
        current = latest.get(row.provider)
        if current is None or row.updated_at > current.updated_at:
            latest[row.provider] = row
    return [
        LoadedStamp(provider=row.provider, credential=row.credential) for row in latest.values()
    ]


def _score(
    tx: Transaction,
    stamps: list[LoadedStamp],
    *,
    community: Community,
    address: str,
    config: ScorerConfig,
    settings: Settings,
    now: datetime,
    passport_id: int,
) -> StoredScore:
    with telemetry.span("scoring.verify", **{"stamps.count": len(stamps)}) as span:
        valid = validate_stamps(
            stamps, address=address, trusted_issuers=settings.trusted_iam_issuers, now=now
        )
        span.set_attribute("stamps.valid", len(valid))
    if community.rule != "LIFO":
        raise ScoringFailure("Invalid rule")
    with telemetry.span("scoring.dedup") as span:
        plan = deduplicate(
            tx,
            valid,
            community_id=community.id,
            address=address,
            now=now,
            multi_nullifier=settings.ff_multi_nullifier,
        )
        span.set_attribute("stamps.kept", len(plan.kept))
        span.set_attribute("stamps.deduplicated", len(plan.clashing))
    passports.replace_stamps(tx, passport_id, plan.kept)
    with telemetry.span("scoring.score") as span:
        weights = merge_weights(config.weights, config.dynamic_weights)
        assert config.threshold is not None  # checked by the caller
        result = compute_score(
            plan.kept, plan.clashing, weights=weights, threshold=config.threshold, now=now
        )
        stored = StoredScore.done(address, result)
        span.set_attribute("score.passing", bool(result.score))
    human_points.record_for_score(
        tx, community=community, stored=stored, kept=plan.kept, settings=settings, now=now
    )
    return stored


def deduplicate(
    tx: Transaction,
    stamps: Sequence[LoadedStamp],
    *,
    community_id: int,
    address: str,
    now: datetime,
    multi_nullifier: bool,
) -> DedupPlan:
    hashes = all_nullifiers(stamps, multi_nullifier=multi_nullifier)
    if not hashes:
        return plan_dedup(stamps, [], address=address, now=now, multi_nullifier=multi_nullifier)
    failure = "Failed to save HashScorerLinks"
    for _attempt in range(DEDUP_ATTEMPTS):
        try:
            with tx.savepoint():
                plan = _attempt_dedup(
                    tx, stamps, hashes, community_id, address, now, multi_nullifier
                )
        except _OwnershipConflict:
            failure = "Unexpected number of HashScorerLinks"
            continue
        except DatabaseError as exc:
            if sqlstate(exc) not in _RETRYABLE_SQLSTATES:
                raise
            failure = "Failed to save HashScorerLinks"
            continue
        passports.record_dedup_events(
            tx,
            plan.events(multi_nullifier=multi_nullifier),
            address=address,
            community_id=community_id,
        )
        return plan
    raise ScoringFailure(failure)


class _OwnershipConflict(Exception):
    """Another request took one of our nullifiers between our read and our write."""


def _attempt_dedup(
    tx: Transaction,
    stamps: Sequence[LoadedStamp],
    hashes: list[str],
    community_id: int,
    address: str,
    now: datetime,
    multi_nullifier: bool,
) -> DedupPlan:
    links = hash_links.find(tx, hashes, community_id)
    plan = plan_dedup(stamps, links, address=address, now=now, multi_nullifier=multi_nullifier)
    hash_links.insert(tx, plan.creates, community_id)
    hash_links.claim(tx, plan.updates, address=address, now_iso=now.isoformat())
    if plan.claimed:
        owned = hash_links.count_owned(tx, plan.claimed, address=address, community_id=community_id)
        if owned != len(plan.claimed):
            raise _OwnershipConflict()
    return plan


def _error_message(exc: Exception) -> str:
    if isinstance(exc, DatabaseError):
        fields = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        return str(fields.get("M", exc))
    return str(exc)
