"""The embed and internal routes that score an address through the one scoring pipeline
(api/embed/api.py, api/internal/api.py).

Each runs inside the caller's transaction: the embed write and the score it triggers commit
together or not at all. Points are never reported on these routes (S3 of the reference leaves
`points_data` and `possible_points_data` null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.db import ceramic_cache_queries, communities
from service.db.connection import Transaction
from service.domain.addresses import normalize_address
from service.domain.bodies_rules import AddStampsPayload
from service.domain.ceramic_cache_rules import SOURCE_APP_EMBED
from service.domain.embed_rules import embed_rows
from service.domain.scoring import v2_response
from service.plumbing.errors import BadRequest, NotFound
from service.plumbing.settings import Settings
from service.use_cases.ceramic_cache_stamps import stamp_listing
from service.use_cases.score_passport import score_passport

INVALID_SCORER_ID = "Invalid scorer_id"
NO_COMMUNITY = "No Community matches the given query."
NO_SCORER = "No scorer matches the given criteria."
FAILED_TO_CALCULATE = "Failed to calculate score."


def add_embed_stamps(
    tx: Transaction,
    *,
    address: str,
    payload: AddStampsPayload,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """POST /internal/embed/stamps/{address}: replace the address's stamps of the submitted
    providers (source app EMBED, source scorer = the payload's), then rescore.

    The reference writes the stamps before it finds out that the scorer does not exist (and
    answers 500 with the rows kept); here an unknown scorer is refused before any write.
    """
    normalized = normalize_address(address)
    rows = embed_rows(payload.stamps)
    owner = communities.find_by_id(tx, payload.scorer_id)
    if owner is None:
        raise BadRequest(INVALID_SCORER_ID)
    ceramic_cache_queries.replace(
        tx,
        normalized,
        rows,
        now=now,
        source_app=SOURCE_APP_EMBED,
        source_scorer_id=payload.scorer_id,
    )
    stamps = stamp_listing(tx, normalized)
    score = _score_for_owner(tx, owner, normalized, settings=settings, now=now)
    return {"success": True, "stamps": stamps, "score": score}


def embed_score(
    tx: Transaction, *, scorer_id: int, address: str, settings: Settings, now: datetime
) -> dict[str, Any]:
    """GET /internal/embed/score/{scorer_id}/{address}: rescore, then list the stamps."""
    owner = communities.find_by_id(tx, scorer_id)
    if owner is None:
        raise BadRequest(INVALID_SCORER_ID)
    normalized = normalize_address(address)
    score = _score_for_owner(tx, owner, normalized, settings=settings, now=now)
    return {"success": True, "stamps": stamp_listing(tx, normalized), "score": score}


def internal_score(
    tx: Transaction, *, scorer_id: int, address: str, settings: Settings, now: datetime
) -> dict[str, Any]:
    """GET /internal/score/v2/{scorer_id}/{address}: the community by id, no account check.

    An ERROR score is stored and returned like any other; the caller turns it into the
    reference's 500 once it has committed.
    """
    community = communities.find_by_id(tx, scorer_id)
    if community is None:
        raise NotFound(NO_COMMUNITY)
    normalized = normalize_address(address)
    stored = score_passport(tx, community=community, address=normalized, settings=settings, now=now)
    return v2_response(stored)


def _score_for_owner(
    tx: Transaction,
    owner: communities.Community,
    address: str,
    *,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """The reference's `handle_scoring(address, scorer_id, community.account)`: the scorer id
    is looked up again within the owner's account, `external_scorer_id` first."""
    community = communities.find_for_account(tx, str(owner.id), owner.account_id)
    if community is None:
        raise NotFound(NO_SCORER)
    stored = score_passport(tx, community=community, address=address, settings=settings, now=now)
    return v2_response(stored)
