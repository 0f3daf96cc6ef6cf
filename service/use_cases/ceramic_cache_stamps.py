"""The ceramic-cache routes' work (ADR-0008, ADR-0016): stamp writes and the rescoring they trigger,
the stored-score read, the stamp list and the weights.

Every function runs inside the caller's transaction, so a request's cache writes and the score
they trigger commit together or not at all (ADR-0002); the reference commits each statement
on its own, so its soft deletes survive a failure that follows them, and ours do not.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from service.db import ceramic_cache_queries, communities, passports
from service.db.connection import Transaction, is_infrastructure_failure
from service.domain.addresses import normalize_address
from service.domain.ceramic_cache_rules import (
    SOURCE_APP_PASSPORT,
    NewCacheRow,
    StampItem,
    UnusableStamp,
    check_storable,
    is_expired,
    rows_to_insert,
    too_many,
    with_response_defaults,
)
from service.domain.scoring import StoredScore, v2_response
from service.domain.text import storable_text
from service.domain.weights import community_id_of, float_weights
from service.plumbing.errors import (
    BadRequest,
    InternalError,
    NotFound,
    Unauthorized,
    UnprocessableEntity,
)
from service.plumbing.settings import Settings
from service.use_cases import human_points_awards
from service.use_cases.score_passport import score_passport

log = logging.getLogger("service.ceramic_cache")

TOO_MANY_STAMPS = "You have submitted too many stamps."
NOTHING_TO_DELETE = "Unable to find stamp to delete."
SCORER_ID_NOT_SET = "Scorer ID not set"
NO_SCORER = "No scorer matches the given criteria."
ADDRESS_MISMATCH = "Address does not match the token."
MISCONFIGURED_SCORER = (
    "Community matching the configured scorer id does not exist! "
    "This is probably a misconfiguration!"
)
SCORE_REQUEST_FAILED = "Unable to get score for provided scorer."
PATCH_FAILED = "An internal server error has occurred."


def add_stamps(
    tx: Transaction, *, address: str, items: list[StampItem], settings: Settings, now: datetime
) -> dict[str, Any]:
    """POST /ceramic-cache/stamps/bulk: replace the address's type-1 rows of the submitted
    providers (source app PASSPORT, source scorer CERAMIC_CACHE_SCORER_ID), list, rescore."""
    _check_size(items)
    rows = _storable_rows(items, only_with_stamp=False)
    scorer_id = configured_scorer_id(settings)
    ceramic_cache_queries.replace(
        tx, address, rows, now=now, source_app=SOURCE_APP_PASSPORT, source_scorer_id=scorer_id
    )
    stamps = stamp_listing(tx, address)
    score = score_on_scorer(tx, address, scorer_id, settings=settings, now=now)
    return {"success": True, "stamps": stamps, "score": v2_response(score)}


def patch_stamps(
    tx: Transaction, *, address: str, items: list[StampItem], settings: Settings, now: datetime
) -> dict[str, Any]:
    """PATCH /ceramic-cache/stamps/bulk: every submitted provider is soft-deleted (any type);
    the items with a stamp are inserted again, with no source app or scorer; list, rescore.

    The reference turns any failure of this route into one 500 (even its own 422 for too many
    stamps, which ADR-0008 keeps as a 422 here).
    """
    _check_size(items)
    rows = _storable_rows(items, only_with_stamp=True)
    try:
        ceramic_cache_queries.soft_delete(
            tx, address, [item.provider for item in items], now=now, v1_only=False
        )
        ceramic_cache_queries.insert(
            tx, address, rows, now=now, source_app=None, source_scorer_id=None
        )
        stamps = stamp_listing(tx, address)
        score = score_on_scorer(
            tx, address, configured_scorer_id(settings), settings=settings, now=now
        )
    except Exception as exc:
        if is_infrastructure_failure(exc):
            raise
        log.warning("stamp patch failed", exc_info=exc)
        raise InternalError(PATCH_FAILED) from exc
    return {"success": True, "stamps": stamps, "score": v2_response(score)}


def delete_stamps(
    tx: Transaction, *, address: str, providers: list[str], settings: Settings, now: datetime
) -> dict[str, Any]:
    """DELETE /ceramic-cache/stamps/bulk: soft-delete the providers' live rows (any type), 404
    when there are none; the address is rescored and the score saved, but the response
    (`GetStampResponse`) carries only the listing, of every type."""
    _check_size(providers)
    # A provider PostgreSQL cannot compare (a NUL character, an unpaired surrogate) names no row.
    searchable = [provider for provider in providers if storable_text(provider)]
    if not ceramic_cache_queries.soft_delete(tx, address, searchable, now=now, v1_only=False):
        raise NotFound(NOTHING_TO_DELETE)
    stamps = stamp_listing(tx, address, v1_only=False)
    score_on_scorer(tx, address, configured_scorer_id(settings), settings=settings, now=now)
    return {"success": True, "stamps": stamps}


def ui_score(
    tx: Transaction,
    *,
    address: str,
    token_address: str,
    alternate_scorer_id: int | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """GET /ceramic-cache/score/{address}: the stored score unless it is missing or expired, in
    which case the address is rescored (ADR-0008). Points are reported only for a stored
    score (ADR-0006)."""
    scorer_id = alternate_scorer_id or configured_scorer_id(settings)
    normalized = normalize_address(address)
    if normalized != token_address:
        raise Unauthorized(ADDRESS_MISMATCH)
    community = communities.find_by_id(tx, scorer_id) if scorer_id is not None else None
    if community is None:
        raise NotFound(MISCONFIGURED_SCORER)
    try:
        if communities.scorer_config(tx, community).scorer_type is None:
            raise BadRequest(SCORE_REQUEST_FAILED)
        stored = passports.find_score(tx, normalized, community.id)
        if stored is None or is_expired(stored, now=now):
            return v2_response(score_on_scorer(tx, address, scorer_id, settings=settings, now=now))
        points, possible = human_points_awards.points_payload(
            tx, address=normalized, community=community, settings=settings
        )
        return v2_response(
            with_response_defaults(stored), points_data=points, possible_points_data=possible
        )
    except Exception as exc:
        # The reference answers this one 400 for anything that goes wrong past the community
        # lookup, a scorer the account does not own included.
        if is_infrastructure_failure(exc):
            raise
        log.warning("ui score failed", exc_info=exc)
        raise BadRequest(SCORE_REQUEST_FAILED) from exc


def calc_score(
    tx: Transaction,
    *,
    address: str,
    alternate_scorer_id: int | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """POST /ceramic-cache/score/{address}: rescore the path address in the body's community;
    without one the reference fails (it does not fall back to CERAMIC_CACHE_SCORER_ID)."""
    return v2_response(
        score_on_scorer(tx, address, alternate_scorer_id, settings=settings, now=now)
    )


def stamps_of(
    tx: Transaction, *, address: str, settings: Settings, now: datetime
) -> dict[str, Any]:
    """GET /ceramic-cache/stamp?address=: the current stamps. An address with no score yet on
    CERAMIC_CACHE_SCORER_ID is scored first (and its score saved), as in the reference, so an
    invalid address is only refused then."""
    lowered = address.lower()
    # PostgreSQL cannot compare text holding a NUL character or an unpaired surrogate; no row
    # holds such an address, so it has no stamps and no score (and scoring refuses it).
    searchable = storable_text(lowered)
    stamps = stamp_listing(tx, lowered) if searchable else []
    scorer_id = configured_scorer_id(settings)
    if scorer_id and (not searchable or passports.find_score(tx, lowered, scorer_id) is None):
        score_on_scorer(tx, address, scorer_id, settings=settings, now=now)
    return {"success": True, "stamps": stamps}


def configured_weights(tx: Transaction, *, settings: Settings) -> dict[str, float]:
    """GET /ceramic-cache/weights: the weights of CERAMIC_CACHE_SCORER_ID's scorer, found through
    the community's `scorer_id` (ADR-0009), as floats; read afresh on every request (the
    reference keeps them 60 s in Redis)."""
    failure = InternalError(
        "Unable to retrieve configured scorer! "
        f"settings.CERAMIC_CACHE_SCORER_ID={settings.ceramic_cache_scorer_id}"
    )
    scorer_id = configured_scorer_id(settings)
    community = communities.find_by_id(tx, scorer_id) if scorer_id is not None else None
    if community is None:
        raise failure
    config = communities.scorer_config(tx, community)
    weights = float_weights(config.weights) if config.scorer_type is not None else None
    if weights is None:
        raise failure
    return weights


def score_on_scorer(
    tx: Transaction, address: str, scorer_id: int | None, *, settings: Settings, now: datetime
) -> StoredScore:
    """The reference's `get_detailed_score_response_for_address` (api/ceramic_cache/api/v1.py): the
    account owning community `scorer_id`, the scorer looked up within that account
    (`external_scorer_id` first), then the address, validated last, through the pipeline."""
    if not scorer_id:
        raise InternalError(SCORER_ID_NOT_SET)
    owner = communities.find_by_id(tx, scorer_id)
    if owner is None:
        raise NotFound()
    community = communities.find_for_account(tx, str(scorer_id), owner.account_id)
    if community is None:
        raise NotFound(NO_SCORER)
    normalized = normalize_address(address)
    return score_passport(tx, community=community, address=normalized, settings=settings, now=now)


def stamp_listing(tx: Transaction, address: str, *, v1_only: bool = True) -> list[dict[str, Any]]:
    """`CachedStampResponse` items of the current stamps, by id (ADR-0015)."""
    return [
        {"id": entry.id, "address": entry.address, "provider": entry.provider, "stamp": entry.stamp}
        for entry in ceramic_cache_queries.current_stamps(tx, address, v1_only=v1_only)
    ]


def configured_scorer_id(settings: Settings) -> int | None:
    """CERAMIC_CACHE_SCORER_ID as the id Django makes of it (`int()`); None when unset or not
    a number."""
    value = settings.ceramic_cache_scorer_id
    return community_id_of(value) if value else None


def _storable_rows(items: list[StampItem], *, only_with_stamp: bool) -> list[NewCacheRow]:
    """The rows to insert; a stamp that cannot be stored is the client's 422, as on the embed
    route, and is found before anything is written."""
    try:
        rows = rows_to_insert(items, only_with_stamp=only_with_stamp)
        check_storable(items, rows)
    except UnusableStamp as unusable:
        raise UnprocessableEntity(str(unusable)) from None
    return rows


def _check_size(items: list[Any]) -> None:
    if too_many(items):
        raise UnprocessableEntity(TOO_MANY_STAMPS)
