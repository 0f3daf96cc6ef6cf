"""The scorer routes the load balancers send to the new service.

These are facts about the service, not about an environment: every environment routes the same
paths and methods and only chooses priorities and legacy target groups (see ``settings.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Route:
    """One ALB-routable endpoint: a path pattern (ALB wildcards ``*`` and ``?``) and a method."""

    key: str
    path_pattern: str
    method: str


# The internal ALB's embed and internal-score endpoints, in the order of their priorities
# (2090-2093 header rules ahead of the 2100-2103 legacy rules).
INTERNAL_ROUTES: tuple[Route, ...] = (
    Route(key="embed_stamps", path_pattern="/internal/embed/stamps/*", method="POST"),
    Route(
        key="embed_validate_api_key",
        path_pattern="/internal/embed/validate-api-key",
        method="GET",
    ),
    Route(key="internal_score_v2", path_pattern="/internal/score/v2/*", method="GET"),
    Route(key="embed_score", path_pattern="/internal/embed/score/*", method="GET"),
)

PUBLIC_ROUTES: tuple[Route, ...] = (
    Route(key="v2_stamps_score", path_pattern="/v2/stamps/*/score/*", method="GET"),
    Route(
        key="ceramic_cache_stamps_bulk",
        path_pattern="/ceramic-cache/stamps/bulk",
        method="POST",
    ),
    Route(key="ceramic_cache_score", path_pattern="/ceramic-cache/score/*", method="GET"),
)
