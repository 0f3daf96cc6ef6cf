"""The route map (infra/routes.py) covers exactly the service's route table, and says why not."""

from __future__ import annotations

import re
from typing import Any

import falcon
import falcon.inspect
import pytest
from infra_testing import alb_matches

from infra.routes import LISTENERS, ROUTE_MAP, NotRouted, Route, listener_routes
from service.app import create_app
from service.plumbing.settings import Settings

# Enough configuration to build the app; nothing here opens a database connection.
_ENV = {
    "DATABASE_URL": "postgres://scorer:unused@127.0.0.1:1/scorer",
    "SECRET_KEY": "route-map",
    "CGRANTS_API_TOKEN": "route-map",
}


def service_app() -> falcon.App[Any, Any]:
    return create_app(Settings.from_env(_ENV))


def served_routes(app: falcon.App[Any, Any]) -> set[tuple[str, str]]:
    """(method, template) of every responder the app registered; Falcon's defaults (OPTIONS,
    405) are internal."""
    return {
        (method.method, route.path)
        for route in falcon.inspect.inspect_routes(app)
        for method in route.methods
        if not method.internal
    }


def unmapped(app: falcon.App[Any, Any]) -> set[tuple[str, str]]:
    return served_routes(app) - set(ROUTE_MAP)


def test_every_served_route_is_in_the_map_and_nothing_else() -> None:
    served = served_routes(service_app())
    assert served - set(ROUTE_MAP) == set(), "served but not in infra/routes.py ROUTE_MAP"
    assert set(ROUTE_MAP) - served == set(), "in ROUTE_MAP but not served"


class _Anything:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {}


@pytest.mark.parametrize(
    "template",
    [
        "/v2/stamps/{scorer_id}/score/{address}/export",
        "/v2/models/score/{address}",
        "/internal/new",
    ],
)
def test_a_route_the_service_gains_fails_until_the_map_mentions_it(template: str) -> None:
    app = service_app()
    app.add_route(template, _Anything())
    assert unmapped(app) == {("GET", template)}


def test_every_unrouted_route_says_why() -> None:
    for key, entry in ROUTE_MAP.items():
        if isinstance(entry, NotRouted):
            assert len(entry.reason) > 40, key


def example_path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "0x" + "d3" * 20, template)


def test_each_rule_matches_its_route() -> None:
    for (method, template), entry in ROUTE_MAP.items():
        if isinstance(entry, Route):
            assert entry.method == method, template
            assert alb_matches(entry.path_pattern, example_path(template)), template


def test_rule_keys_are_unique() -> None:
    keys = [route.key for listener in LISTENERS for route in listener_routes(listener)]
    assert len(keys) == len(set(keys))
