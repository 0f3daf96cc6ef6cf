"""Scorer weights and the embed widget's configuration (ADR-0009).

Weights are the scorer's own, found through the community's `scorer_id` (ADR-0009), with no
customization overlay and no cache. A community that cannot be found is a 404 (the reference
answers 500); a community whose scorer has no usable weights keeps the reference's 500.
"""

from __future__ import annotations

from typing import Any

from service.db import communities, embed_sections
from service.db.communities import Community
from service.db.connection import Transaction
from service.domain.weights import community_id_of, float_weights
from service.plumbing.errors import InternalError, NotFound
from service.plumbing.settings import Settings
from service.use_cases.rescoring import NO_COMMUNITY


def scorer_weights(
    tx: Transaction, community_id: str | None, *, settings: Settings
) -> dict[str, float]:
    """A missing or empty id means the configured default, `CERAMIC_CACHE_SCORER_ID`."""
    community = _community(tx, community_id or settings.ceramic_cache_scorer_id)
    return _weights(tx, community, settings=settings)


def embed_config(tx: Transaction, community_id: str, *, settings: Settings) -> dict[str, Any]:
    """`{"weights": ..., "stamp_sections": [...]}`. The id is required here: an empty one
    fails the reference's customization lookup (a 500 there, a 404 here)."""
    if not community_id:
        raise NotFound(NO_COMMUNITY)
    community = _community(tx, community_id)
    weights = _weights(tx, community, settings=settings)
    return {"weights": weights, "stamp_sections": embed_sections.stamp_sections(tx, community.id)}


def _community(tx: Transaction, community_id: str | None) -> Community:
    numeric = community_id_of(community_id) if community_id else None
    community = communities.find_by_id(tx, numeric) if numeric is not None else None
    if community is None:
        raise NotFound(NO_COMMUNITY)
    return community


def _weights(tx: Transaction, community: Community, *, settings: Settings) -> dict[str, float]:
    config = communities.scorer_config(tx, community)
    weights = float_weights(config.weights) if config.scorer_type is not None else None
    if weights is None:
        raise InternalError(
            "Unable to retrieve configured scorer! "
            f"settings.CERAMIC_CACHE_SCORER_ID={settings.ceramic_cache_scorer_id}"
        )
    return weights
