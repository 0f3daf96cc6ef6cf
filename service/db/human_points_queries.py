"""registry_humanpoints*, plus the address lists the bonuses read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.db.connection import Transaction
from service.db.jsonb import dumps
from service.domain.human_points_rules import (
    LIST_BONUSES,
    METAMASK_OG_ACTION,
    METAMASK_OG_CAP,
    METAMASK_OG_LIST,
    SCORING_BONUS_COMMUNITIES,
    ActionRow,
    PointsGroup,
)

# Bonus rows follow the stamp rows, in the reference's order: SCB, MM2, SOG, TCO.
_BONUS_ORDER_BASE = 1_000_000

# The awards of a passing scoring run, as data-modifying CTEs of the run's one write statement
# (service/db/scoring_run.py): qualified user, stamp actions, scoring bonus and list bonuses.
# Nothing is written unless :award_points is true. Every award is insert-if-absent on the unique
# (address, action, chain_id, provider, tx_hash) tuple, so rescoring never duplicates or loses a
# row; a holder of the capped MetaMask award keeps it (its row conflicts), whatever the count.
AWARD_CTES = f"""
hp_qualified AS (
    INSERT INTO registry_humanpointscommunityqualifiedusers (address, community_id)
    SELECT :address, :community_id WHERE CAST(:award_points AS boolean)
    ON CONFLICT (address, community_id) DO NOTHING
    RETURNING 1
), hp_qualified_count AS (
    -- The statement's snapshot does not see the row inserted above; add it back.
    SELECT (SELECT count(*) FROM registry_humanpointscommunityqualifiedusers
            WHERE address = :address) + (SELECT count(*) FROM hp_qualified) AS n
), hp_candidates AS (
    SELECT e.ord, e.v->>'action' AS action, e.v->>'tx_hash' AS tx_hash,
           e.v->>'provider' AS provider
    FROM jsonb_array_elements(CAST(:stamp_rows AS jsonb)) WITH ORDINALITY AS e(v, ord)
    -- One Human Key per provider per address, whatever nullifier it was first seen with.
    WHERE e.v->>'action' <> 'HKY' OR NOT EXISTS (
        SELECT 1 FROM registry_humanpoints h
        WHERE h.address = :address AND h.action = 'HKY' AND h.provider = e.v->>'provider')
    UNION ALL
    SELECT {_BONUS_ORDER_BASE} + 1, 'SCB', '', '' FROM hp_qualified_count
    WHERE n >= {SCORING_BONUS_COMMUNITIES}
    UNION ALL
    SELECT {_BONUS_ORDER_BASE} + 2, '{METAMASK_OG_ACTION}', '', ''
    WHERE CAST(:metamask_enabled AS boolean)
      AND EXISTS (SELECT 1 FROM account_addresslistmember m
                  JOIN account_addresslist l ON l.id = m.list_id
                  WHERE l.name = '{METAMASK_OG_LIST}' AND m.address = :address)
      AND (SELECT count(*) FROM registry_humanpoints
           WHERE action = '{METAMASK_OG_ACTION}') < {METAMASK_OG_CAP}
    UNION ALL
    SELECT {_BONUS_ORDER_BASE} + 2 + b.ord, b.v->>'action', '', ''
    FROM jsonb_array_elements(CAST(:list_bonuses AS jsonb)) WITH ORDINALITY AS b(v, ord)
    WHERE EXISTS (SELECT 1 FROM account_addresslistmember m
                  JOIN account_addresslist l ON l.id = m.list_id
                  WHERE l.name = b.v->>'list_name' AND m.address = :address)
), hp_awarded AS (
    INSERT INTO registry_humanpoints (address, action, "timestamp", tx_hash, chain_id, provider)
    SELECT :address, action, now(), tx_hash, 0, provider FROM hp_candidates
    WHERE CAST(:award_points AS boolean)
    ORDER BY ord
    ON CONFLICT DO NOTHING
    RETURNING id, address, action, chain_id
)"""

_LIST_BONUSES_JSON = dumps([{"list_name": name, "action": action} for name, action in LIST_BONUSES])


def award_params(
    stamp_rows: Sequence[ActionRow] | None, *, metamask_enabled: bool
) -> dict[str, Any]:
    """The parameters of AWARD_CTES; `stamp_rows` None writes nothing."""
    return {
        "award_points": stamp_rows is not None,
        "stamp_rows": dumps(
            [
                {"action": r.action, "tx_hash": r.tx_hash, "provider": r.provider}
                for r in stamp_rows or ()
            ]
        ),
        "metamask_enabled": metamask_enabled,
        "list_bonuses": _LIST_BONUSES_JSON,
    }


@dataclass(frozen=True)
class PointsSnapshot:
    groups: list[PointsGroup]
    is_eligible: bool
    catalogue: list[tuple[str, int]]


def _snapshot_columns(awarded: str, qualified: str) -> list[str]:
    """The three columns of a PointsSnapshot, for the address's points rows (`awarded`: the
    table, or the table and the rows a statement inserted, which its own snapshot does not
    see) and qualified-user rows (`qualified`, likewise)."""
    return [
        "(SELECT COALESCE(jsonb_agg(jsonb_build_array(g.action, g.chain_id, g.points,"
        "  g.multiplier) ORDER BY g.first_id), '[]'::jsonb) FROM ("
        "  SELECT h.action, h.chain_id, sum(c.points) AS points,"
        "   max(COALESCE(m.multiplier, 1)) AS multiplier, min(h.id) AS first_id"
        f"  FROM ({awarded}) h"
        "  JOIN registry_humanpointsconfig c ON c.action = h.action AND c.active"
        "  LEFT JOIN registry_humanpointsmultiplier m ON m.address = h.address"
        "  WHERE h.action <> 'HIM'"
        "  GROUP BY h.address, h.action, h.chain_id) g)",
        f"EXISTS ({qualified})",
        "(SELECT COALESCE(jsonb_agg(jsonb_build_array(action, points) ORDER BY id),"
        "  '[]'::jsonb) FROM registry_humanpointsconfig WHERE active)",
    ]


_ADDRESS_POINTS = (
    "SELECT id, address, action, chain_id FROM registry_humanpoints WHERE address = :address"
)
_ADDRESS_QUALIFIED = (
    "SELECT 1 FROM registry_humanpointscommunityqualifiedusers WHERE address = :address"
)

# The snapshot as it stands after AWARD_CTES, as three columns of the final SELECT of the
# statement they are part of (NULLs unless :points_snapshot): the rows the statement found
# plus those it inserted. One round trip less than reading them with `points_snapshot` after.
SNAPSHOT_AFTER_AWARDS_COLUMNS = ", ".join(
    f"CASE WHEN CAST(:points_snapshot AS boolean) THEN {column} END"
    for column in _snapshot_columns(
        f"{_ADDRESS_POINTS} UNION ALL SELECT id, address, action, chain_id FROM hp_awarded",
        f"{_ADDRESS_QUALIFIED} UNION ALL SELECT 1 FROM hp_qualified",
    )
)

_SNAPSHOT_SQL = "SELECT " + ", ".join(_snapshot_columns(_ADDRESS_POINTS, _ADDRESS_QUALIFIED))


def points_snapshot(tx: Transaction, address: str) -> PointsSnapshot:
    """Everything both points objects need, in one round trip."""
    row = tx.one(_SNAPSHOT_SQL, address=address)
    assert row is not None
    return snapshot_from_columns(row)


def snapshot_from_columns(columns: Sequence[Any]) -> PointsSnapshot:
    groups_json, eligible, catalogue_json = columns
    return PointsSnapshot(
        groups=[PointsGroup(str(a), int(c), int(p), int(m)) for a, c, p, m in groups_json],
        is_eligible=bool(eligible),
        catalogue=[(str(action), int(points)) for action, points in catalogue_json],
    )
