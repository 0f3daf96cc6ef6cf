"""Weighted-sum scoring and the score's stored and returned shapes (ADR-0001). Pure.

The arithmetic copies the reference exactly: each weight goes through `Decimal(value)`, so a
JSON float keeps its full binary expansion (0.525 → 0.52500000000000002220...), sums use the
default 28-digit context, and the 5-decimal strings round half-even.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from service.domain.credentials import LoadedStamp, parse_iso_datetime

# The response's threshold when the score has no evidence (an ERROR score), whatever the scorer.
DEFAULT_THRESHOLD = Decimal(20)


@dataclass(frozen=True)
class ScoreResult:
    """A DONE score: every column of registry_score the pipeline writes."""

    score: Decimal  # binary: 1 or 0
    last_score_timestamp: datetime
    evidence: dict[str, Any]
    stamp_scores: dict[str, float]
    stamps: dict[str, dict[str, Any]]
    expiration_date: datetime | None


def merge_weights(
    base: Mapping[str, Any] | None, dynamic: Mapping[str, str] | None
) -> Mapping[str, Any] | None:
    """Customization weights (allow lists, custom credentials) override the scorer's."""
    if dynamic is None:
        return base
    if base is None:
        # The reference calls `weights.update(...)` on the scorer's NULL weights.
        raise AttributeError("'NoneType' object has no attribute 'update'")
    return {**base, **dynamic}


def compute_score(
    kept: Sequence[LoadedStamp],
    clashing: Mapping[str, LoadedStamp],
    *,
    weights: Mapping[str, Any] | None,
    threshold: Decimal,
    now: datetime,
) -> ScoreResult:
    """Raises what the reference raises (stored as the ERROR message by the caller)."""
    with decimal.localcontext(decimal.Context()):
        total = Decimal(0)
        stamp_scores: dict[str, float] = {}
        expirations: dict[str, datetime] = {}
        earliest: datetime | None = None
        for stamp in kept:
            if stamp.provider in stamp_scores:
                continue
            if weights is None:
                raise AttributeError("'NoneType' object has no attribute 'get'")
            weight = Decimal(weights.get(stamp.provider, 0))
            total += weight
            stamp_scores[stamp.provider] = float(weight)
            expires = parse_iso_datetime(stamp.credential["expirationDate"])
            expirations[stamp.provider] = expires
            if earliest is None or expires < earliest:
                earliest = expires

        threshold_text = str(Decimal(str(threshold)))
        passing = total >= threshold
        stamps: dict[str, dict[str, Any]] = {
            provider: {
                "score": format(Decimal(value), ".5f"),
                "dedup": provider in clashing,
                "expiration_date": expirations[provider].isoformat(),
            }
            for provider, value in stamp_scores.items()
        }
        for provider, stamp in clashing.items():
            if provider not in stamps:
                stamps[provider] = {
                    "score": "0.00000",
                    "dedup": True,
                    # Verbatim: the reference does not re-format a deduplicated stamp's date.
                    "expiration_date": stamp.credential.get("expirationDate"),
                }

        return ScoreResult(
            score=Decimal(1) if passing else Decimal(0),
            last_score_timestamp=now,
            evidence={
                "type": "ThresholdScoreCheck",
                "success": passing,
                "rawScore": str(total),
                "threshold": threshold_text,
            },
            stamp_scores=stamp_scores,
            stamps=stamps,
            expiration_date=earliest,
        )


@dataclass(frozen=True)
class StoredScore:
    """What a score row holds, DONE or ERROR; the response is built from it."""

    address: str
    score: Decimal | None
    status: str
    last_score_timestamp: datetime | None
    error: str | None
    evidence: dict[str, Any] | None
    stamp_scores: dict[str, float] | None
    stamps: dict[str, dict[str, Any]] | None
    expiration_date: datetime | None

    @classmethod
    def done(cls, address: str, result: ScoreResult) -> StoredScore:
        return cls(
            address=address,
            score=result.score,
            status="DONE",
            last_score_timestamp=result.last_score_timestamp,
            error=None,
            evidence=result.evidence,
            stamp_scores=result.stamp_scores,
            stamps=result.stamps,
            expiration_date=result.expiration_date,
        )

    @classmethod
    def failed(cls, address: str, message: str) -> StoredScore:
        return cls(address, None, "ERROR", None, message, None, None, None, None)


def v2_response(
    stored: StoredScore,
    *,
    points_data: dict[str, Any] | None = None,
    possible_points_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`V2ScoreResponse`, keys in the reference's order."""
    evidence = stored.evidence
    with decimal.localcontext(decimal.Context()):
        if evidence is not None:
            raw = Decimal(evidence["rawScore"])
            threshold = Decimal(evidence["threshold"])
            score_text = format(raw, ".5f")
            passing = raw >= threshold
        else:
            threshold = DEFAULT_THRESHOLD
            score_text = format(Decimal(0), ".5f")
            passing = False
        return {
            "address": stored.address,
            "score": score_text,
            "passing_score": passing,
            "last_score_timestamp": _iso(stored.last_score_timestamp),
            "expiration_timestamp": _iso(stored.expiration_date),
            "threshold": format(threshold, ".5f"),
            "error": stored.error,
            "stamps": stored.stamps or {},
            "points_data": points_data,
            "possible_points_data": possible_points_data,
            "linked_score": None,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
