"""account_community and its scorer configuration (weights, threshold, customization overlay)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from service.db.connection import Transaction
from service.domain.params import fits_bigint


@dataclass(frozen=True)
class Community:
    id: int
    account_id: int
    scorer_id: int
    rule: str
    human_points_program: bool


@dataclass(frozen=True)
class ScorerConfig:
    """`weights` is the scorer's JSON as stored (None when NULL); `scorer_type` None = no scorer."""

    scorer_type: str | None
    weights: dict[str, Any] | None
    threshold: Decimal | None
    dynamic_weights: dict[str, str] | None  # None when the community has no customization


_COMMUNITY_COLUMNS = "id, account_id, scorer_id, rule, human_points_program"


# The reference tries `external_scorer_id` first, then the primary key; soft-deleted
# communities still match (`aget_scorer_by_id` in the reference).
def for_account_select(account: str) -> str:
    """The community lookup, with `account` the SQL expression of the account id."""
    return (
        f"SELECT {_COMMUNITY_COLUMNS} FROM account_community"
        f" WHERE account_id = {account}"
        " AND (external_scorer_id = :scorer_id OR id = CAST(:numeric_id AS bigint))"
        " ORDER BY (external_scorer_id = :scorer_id) IS TRUE DESC LIMIT 1"
    )


FOR_ACCOUNT_SELECT = for_account_select(":account_id")


def for_account_params(scorer_id: str, account_id: int | None) -> dict[str, Any]:
    """The parameters of FOR_ACCOUNT_SELECT (without `account_id` when it is None)."""
    params = {"scorer_id": scorer_id, "numeric_id": _as_bigint(scorer_id)}
    return params if account_id is None else {**params, "account_id": account_id}


def find_for_account(tx: Transaction, scorer_id: str, account_id: int) -> Community | None:
    row = tx.one(FOR_ACCOUNT_SELECT, **for_account_params(scorer_id, account_id))
    return Community(*row) if row else None


def find_by_id(tx: Transaction, community_id: int) -> Community | None:
    if not fits_bigint(community_id):
        return None
    row = tx.one(
        f"SELECT {_COMMUNITY_COLUMNS} FROM account_community WHERE id = :id", id=community_id
    )
    return Community(*row) if row else None


def find_owned_by_id(tx: Transaction, community_id: int, account_id: int) -> Community | None:
    """By primary key only (the history route never consults `external_scorer_id`); soft-deleted
    communities still match."""
    if not fits_bigint(community_id):
        return None
    row = tx.one(
        f"SELECT {_COMMUNITY_COLUMNS} FROM account_community"
        " WHERE id = :id AND account_id = :account_id",
        id=community_id,
        account_id=account_id,
    )
    return Community(*row) if row else None


# The scorer's type picks the child table; customization weights ride along. One row, or none
# when the scorer row is missing: (type, weights, threshold, has_child, customization).
def scorer_config_select(scorer_id: str, community_id: str) -> str:
    """The query for a scorer and community given as SQL expressions (a parameter such as
    `:scorer_id`, or a column of another part of the statement), never as values."""
    return (
        "SELECT s.type AS scorer_type,"
        " CASE s.type WHEN 'WEIGHTED' THEN w.weights WHEN 'WEIGHTED_BINARY' THEN b.weights END"
        "  AS weights,"
        " CASE s.type WHEN 'WEIGHTED' THEN w.threshold"
        "  WHEN 'WEIGHTED_BINARY' THEN b.threshold END AS threshold,"
        " CASE s.type WHEN 'WEIGHTED' THEN w.scorer_ptr_id IS NOT NULL"
        "  WHEN 'WEIGHTED_BINARY' THEN b.scorer_ptr_id IS NOT NULL ELSE false END AS has_child,"
        " (SELECT jsonb_build_object('present', true, 'weights', COALESCE((SELECT"
        "    jsonb_object_agg(k, v) FROM ("
        "      SELECT 'AllowList#' || l.name AS k, a.weight::text AS v, 0 AS src, a.id AS ord"
        "      FROM account_allowlist a JOIN account_addresslist l ON l.id = a.address_list_id"
        "      WHERE a.customization_id = c.id"
        "      UNION ALL"
        "      SELECT r.provider_id, cc.weight::text, 1, cc.id"
        "      FROM account_customcredential cc"
        "      JOIN account_customcredentialruleset r ON r.id = cc.ruleset_id"
        "      WHERE cc.customization_id = c.id ORDER BY 3, 4) d), '{}'::jsonb))"
        "  FROM account_customization c WHERE c.scorer_id = " + community_id + ") AS customization"
        " FROM scorer_weighted_scorer s"
        " LEFT JOIN scorer_weighted_weightedscorer w ON w.scorer_ptr_id = s.id"
        " LEFT JOIN scorer_weighted_binaryweightedscorer b ON b.scorer_ptr_id = s.id"
        " WHERE s.id = " + scorer_id
    )


SCORER_CONFIG_SELECT = scorer_config_select(":scorer_id", ":community_id")


def scorer_config(tx: Transaction, community: Community) -> ScorerConfig:
    """One round trip: the scorer, its child row and the customization's weights."""
    row = tx.one(SCORER_CONFIG_SELECT, scorer_id=community.scorer_id, community_id=community.id)
    return config_from_row(row)


def config_from_row(row: Sequence[Any] | None) -> ScorerConfig:
    """A ScorerConfig from the first five columns of SCORER_CONFIG_SELECT's row."""
    if row is None:
        return ScorerConfig(None, None, None, None)
    scorer_type, weights, threshold, has_child, customization = row[:5]
    if not has_child:
        return ScorerConfig(None, None, None, None)
    dynamic = customization["weights"] if customization else None
    return ScorerConfig(scorer_type, weights, threshold, dynamic)


def _as_bigint(value: str) -> int | None:
    try:
        number = int(value)
    except ValueError:
        return None
    return number if fits_bigint(number) else None
