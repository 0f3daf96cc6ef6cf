"""Everything a DONE scoring run writes, in one statement: the hash links it creates and claims,
its dedup (LDP) events, the passport's stamps, the score with its SCU event, and the Human Points
awards.

Data-modifying CTEs share one snapshot, so each part only reads rows that existed before the
statement, exactly what the separate statements it replaces read: none of them read another's
writes. The caller runs it in a savepoint: a unique violation on a link (another request claimed
a nullifier first) rolls all of it back, and the run is planned and written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from service.db import human_points_queries as points_db
from service.db.connection import Transaction
from service.db.human_points_queries import PointsSnapshot
from service.db.jsonb import dumps
from service.db.passports import SCORE_UPSERT, score_columns
from service.domain.credentials import LoadedStamp
from service.domain.events_rules import dedup_data, score_update_data
from service.domain.human_points_rules import ActionRow
from service.domain.lifo import DedupPlan
from service.domain.scoring import StoredScore

# The SCU event follows the run's LDP events, as it did when it was written after them.
_SCU_ORDER = 2_000_000_000

_SAVE_RUN_SQL = f"""
WITH new_links AS (
    INSERT INTO registry_hashscorerlink (hash, address, expires_at, community_id)
    SELECT e.v->>'hash', e.v->>'address', CAST(e.v->>'expires_at' AS timestamptz), :community_id
    FROM jsonb_array_elements(CAST(:new_links AS jsonb)) WITH ORDINALITY AS e(v, ord)
    ORDER BY e.ord
), claimed_links AS (
    -- Own or expired links only: one another request claimed meanwhile is left alone, and the
    -- count returned below tells the caller.
    UPDATE registry_hashscorerlink l SET address = :address, expires_at = u.expires_at
    FROM (SELECT CAST(e.v->>'id' AS bigint) AS id,
                 CAST(e.v->>'expires_at' AS timestamptz) AS expires_at
          FROM jsonb_array_elements(CAST(:claimed_links AS jsonb)) AS e(v)) u
    WHERE l.id = u.id AND (l.address = :address OR l.expires_at <= CAST(:now AS timestamptz))
    RETURNING 1
), old_stamps AS (
    DELETE FROM registry_stamp WHERE passport_id = :passport_id
), new_stamps AS (
    -- A credential read from the cache is copied from its row (rows are never changed, only
    -- soft-deleted) rather than sent back: the same JSON value, without encoding it again.
    -- Each row is fetched by its primary key in a subquery: as a join, the prepared statement's
    -- generic plan (which cannot know how many stamps come) hashes the whole cache table.
    INSERT INTO registry_stamp (provider, credential, passport_id)
    SELECT e.v->>'provider',
           COALESCE(e.v->'credential', (SELECT cc.stamp FROM ceramic_cache_ceramiccache cc
                                        WHERE cc.id = CAST(e.v->>'cache_id' AS bigint))),
           :passport_id
    FROM jsonb_array_elements(CAST(:stamps AS jsonb)) WITH ORDINALITY AS e(v, ord)
    ORDER BY e.ord
), score AS ({SCORE_UPSERT}
), events AS (
    INSERT INTO registry_event (action, address, created_at, data, community_id)
    SELECT ev.action, :address, now(), ev.data, :community_id FROM (
        SELECT e.ord, 'LDP' AS action, e.v AS data
        FROM jsonb_array_elements(CAST(:dedup_events AS jsonb)) WITH ORDINALITY AS e(v, ord)
        UNION ALL
        -- The event's `pk` is the score's id, which only the upsert knows.
        SELECT {_SCU_ORDER}, 'SCU', jsonb_set(CAST(:score_event AS jsonb), '{{pk}}', to_jsonb(s.id))
        FROM score s
    ) ev ORDER BY ev.ord
), {points_db.AWARD_CTES.strip()}
SELECT (SELECT count(*) FROM claimed_links), {points_db.SNAPSHOT_AFTER_AWARDS_COLUMNS}
"""


def save_run(
    tx: Transaction,
    *,
    community_id: int,
    passport_id: int,
    address: str,
    now: datetime,
    plan: DedupPlan,
    stamps: Sequence[LoadedStamp],
    dedup_events: Sequence[tuple[str, list[str]]],
    stored: StoredScore,
    point_rows: Sequence[ActionRow] | None,
    metamask_enabled: bool,
    points_snapshot: bool = False,
) -> tuple[int, PointsSnapshot | None]:
    """Writes the run; returns how many of `plan.updates` were claimed (all, unless another
    request took one of those links since they were read), and with `points_snapshot` the
    address's points after the run's awards (`human_points_queries.points_snapshot`)."""
    event = score_update_data(score_id=0, passport_id=passport_id, stored=stored)
    row = tx.one(
        _SAVE_RUN_SQL,
        community_id=community_id,
        address=address,
        now=now.isoformat(),
        new_links=dumps(
            [
                {
                    "hash": link.hash,
                    "address": link.address,
                    "expires_at": link.expires_at.isoformat(),
                }
                for link in plan.creates
            ]
        ),
        claimed_links=dumps(
            [{"id": u.link_id, "expires_at": u.expires_at.isoformat()} for u in plan.updates]
        ),
        stamps=dumps(
            [
                {"provider": s.provider, "credential": s.credential}
                if s.cache_id is None
                else {"provider": s.provider, "cache_id": s.cache_id}
                for s in stamps
            ]
        ),
        dedup_events=dumps(
            [
                dedup_data(nullifiers=nullifiers, provider=provider, community_id=community_id)
                for provider, nullifiers in dedup_events
            ]
        ),
        score_event=dumps(event),
        **score_columns(passport_id, stored),
        **points_db.award_params(point_rows, metamask_enabled=metamask_enabled),
        points_snapshot=points_snapshot,
    )
    assert row is not None
    snapshot = points_db.snapshot_from_columns(row[1:]) if points_snapshot else None
    return int(row[0]), snapshot
