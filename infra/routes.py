"""The route map: for every route of the service, how the load balancers reach it, or why not.

These are facts about the service, not about an environment: every environment routes the same
paths, methods and hosts, and only chooses priorities and legacy target groups in ``cdk.json``
(``routing.<listener>.routes.<key>``). ``ROUTE_MAP`` is keyed by the service's own route table
(method and Falcon path template); ``tests/infra/test_infra_route_map.py`` fails when the service
serves a route this table does not mention.

Each ALB rule mirrors the live rule it shadows (same path pattern, method and host), so in
weighted mode the split applies to exactly the requests the legacy rule took.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ListenerName = Literal["public", "internal"]
LISTENERS: tuple[ListenerName, ...] = ("public", "internal")


@dataclass(frozen=True, kw_only=True)
class Route:
    """One ALB rule: a path pattern (ALB wildcards ``*`` and ``?``) and a method on a listener.

    ``host_scoped`` rules also carry the listener's ``hosts`` from ``cdk.json``.
    """

    key: str
    listener: ListenerName
    path_pattern: str
    method: str
    host_scoped: bool = False


@dataclass(frozen=True)
class NotRouted:
    """A route the service serves that no listener rule sends to it, and why."""

    reason: str


def _public(key: str, path_pattern: str, method: str, *, host_scoped: bool = False) -> Route:
    return Route(
        key=key, listener="public", path_pattern=path_pattern, method=method,
        host_scoped=host_scoped,
    )  # fmt: skip


def _internal(key: str, path_pattern: str, method: str) -> Route:
    return Route(key=key, listener="internal", path_pattern=path_pattern, method=method)


_HEALTH = NotRouted(
    "a liveness probe for local servers and containers; Lambda target groups have no health "
    "check, and the listeners keep /health on the legacy service"
)

# (method, Falcon path template) -> the rule that sends it here, or why none does.
ROUTE_MAP: Mapping[tuple[str, str], Route | NotRouted] = {
    # Public API: the platform scopes every /v2 rule to its passport.xyz hosts and answers /v2 on
    # other hosts with a fixed 400 of its own.
    # '*' matches '/', so the score rule also matches the history's paths: the history's rule
    # comes first (a lower priority number), and the stamps list's catch-all comes after both.
    ("GET", "/v2/stamps/{scorer_id}/score/{address}/history"): _public(
        "v2_stamps_score_history", "/v2/stamps/*/score/*/history", "GET", host_scoped=True
    ),
    ("GET", "/v2/stamps/{scorer_id}/score/{address}"): _public(
        "v2_stamps_score", "/v2/stamps/*/score/*", "GET", host_scoped=True
    ),
    ("GET", "/v2/stamps/metadata"): _public(
        "v2_stamps_metadata", "/v2/stamps/metadata", "GET", host_scoped=True
    ),
    # The stamps list (`/v2/stamps/{address}`; the service's router names the field scorer_id).
    ("GET", "/v2/stamps/{scorer_id}"): _public(
        "v2_stamps_list", "/v2/stamps/*", "GET", host_scoped=True
    ),
    # Ceramic cache (the Passport app).
    ("POST", "/ceramic-cache/stamps/bulk"): _public(
        "ceramic_cache_stamps_bulk", "/ceramic-cache/stamps/bulk", "POST"
    ),
    ("PATCH", "/ceramic-cache/stamps/bulk"): _public(
        "ceramic_cache_stamps_bulk_patch", "/ceramic-cache/stamps/bulk", "PATCH"
    ),
    ("DELETE", "/ceramic-cache/stamps/bulk"): _public(
        "ceramic_cache_stamps_bulk_delete", "/ceramic-cache/stamps/bulk", "DELETE"
    ),
    # The live rule matches addresses only (0x*), so other /ceramic-cache/score/... paths keep
    # going where they go today.
    ("GET", "/ceramic-cache/score/{address}"): _public(
        "ceramic_cache_score", "/ceramic-cache/score/0x*", "GET"
    ),
    ("POST", "/ceramic-cache/score/{address}"): _public(
        "ceramic_cache_score_post", "/ceramic-cache/score/*", "POST"
    ),
    ("GET", "/ceramic-cache/weights"): _public(
        "ceramic_cache_weights", "/ceramic-cache/weights", "GET"
    ),
    ("GET", "/ceramic-cache/stamp"): _public("ceramic_cache_stamp", "/ceramic-cache/stamp", "GET"),
    # Embed (internal load balancer).
    ("POST", "/internal/embed/stamps/{address}"): _internal(
        "embed_stamps", "/internal/embed/stamps/*", "POST"
    ),
    ("GET", "/internal/embed/validate-api-key"): _internal(
        "embed_validate_api_key", "/internal/embed/validate-api-key", "GET"
    ),
    ("GET", "/internal/embed/score/{scorer_id}/{address}"): _internal(
        "embed_score", "/internal/embed/score/*/*", "GET"
    ),
    ("GET", "/internal/embed/weights"): _internal(
        "embed_weights", "/internal/embed/weights", "GET"
    ),
    ("GET", "/internal/embed/config"): _internal("embed_config", "/internal/embed/config", "GET"),
    # Internal API: the platform sends these through its /internal/* catch-all; one rule per
    # route here, so a path this service does not serve never reaches it.
    ("GET", "/internal/score/v2/{scorer_id}/{address}"): _internal(
        "internal_score_v2", "/internal/score/v2/*", "GET"
    ),
    ("POST", "/internal/check-bans"): _internal(
        "internal_check_bans", "/internal/check-bans", "POST"
    ),
    ("POST", "/internal/check-revocations"): _internal(
        "internal_check_revocations", "/internal/check-revocations", "POST"
    ),
    ("GET", "/internal/stake/gtc/{address}"): _internal(
        "internal_stake_gtc", "/internal/stake/gtc/*", "GET"
    ),
    ("GET", "/internal/stake/legacy-gtc/{address}/{round_id}"): _internal(
        "internal_stake_legacy_gtc", "/internal/stake/legacy-gtc/*/*", "GET"
    ),
    ("GET", "/internal/cgrants/contributor_statistics"): _internal(
        "internal_cgrants_statistics", "/internal/cgrants/contributor_statistics", "GET"
    ),
    ("GET", "/internal/allow-list/{list_name}/{address}"): _internal(
        "internal_allow_list", "/internal/allow-list/*/*", "GET"
    ),
    ("GET", "/internal/customization/credential/{provider_id}"): _internal(
        "internal_customization_credential", "/internal/customization/credential/*", "GET"
    ),
    # Not routed.
    ("GET", "/health"): _HEALTH,
    ("GET", "/health/"): _HEALTH,
    ("GET", "/openapi.json"): NotRouted(
        "this service's own API description, for its developers and contract tests; the "
        "public API's documentation stays with the legacy service"
    ),
}


def listener_routes(listener: ListenerName) -> tuple[Route, ...]:
    """The rules one listener needs, in map order."""
    return tuple(
        entry
        for entry in ROUTE_MAP.values()
        if isinstance(entry, Route) and entry.listener == listener
    )
