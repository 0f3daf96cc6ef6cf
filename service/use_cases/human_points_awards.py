"""Human Points: the writes of a passing scoring run and the points objects of responses.

Switched by HUMAN_POINTS_WRITE_ENABLED (writes, with HUMAN_POINTS_START_TIMESTAMP and
HUMAN_POINTS_MTA_ENABLED) and HUMAN_POINTS_ENABLED (reporting), and per community by
`account_community.human_points_program`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.db import human_points_queries as points_db
from service.db.communities import Community
from service.db.connection import Transaction
from service.domain import human_points_rules as rules
from service.domain.credentials import LoadedStamp
from service.domain.human_points_rules import ActionRow
from service.domain.scoring import StoredScore
from service.plumbing import telemetry
from service.plumbing.settings import Settings


def awards_for_score(
    *,
    community: Community,
    stored: StoredScore,
    kept: Sequence[LoadedStamp],
    settings: Settings,
    now: datetime,
) -> list[ActionRow] | None:
    """The stamp actions a scoring run awards (written with the run, inside its savepoint, so a
    failure there turns the score into an ERROR score); None when no points are written."""
    if not rules.writes_apply(
        write_enabled=settings.human_points_write_enabled,
        program_community=community.human_points_program,
        binary_score=stored.score,
        start_timestamp=settings.human_points_start_timestamp,
        now=now,
    ):
        return None
    with telemetry.span("scoring.human_points"):
        return rules.stamp_actions(kept)


def reported(community: Community, settings: Settings) -> bool:
    """Whether responses carry the community's points objects (when asked for)."""
    return settings.human_points_enabled and community.human_points_program


def points_payload(
    tx: Transaction,
    *,
    address: str,
    community: Community,
    settings: Settings,
    snapshot: points_db.PointsSnapshot | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(points_data, possible_points_data), or (None, None) where points are not reported.
    `snapshot` is the address's points when the caller already has them (read with the
    scoring run's write)."""
    if not reported(community, settings):
        return None, None
    if snapshot is None:
        snapshot = points_db.points_snapshot(tx, address)
    earned = rules.points_data(snapshot.groups, is_eligible=snapshot.is_eligible)
    possible = rules.possible_points_data(snapshot.catalogue, multiplier=earned["multiplier"])
    return earned, possible
