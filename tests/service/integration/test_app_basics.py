"""The app shell: health, JSON errors for unknown routes and methods, CORS."""

from __future__ import annotations

import falcon.testing
import pytest

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings


@pytest.fixture
def client(settings: Settings, db: Database) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


def test_health_answers_ok_as_plain_text(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/health")

    assert result.status_code == 200
    assert result.text == "OK"
    assert result.headers["content-type"].startswith("text/plain")


def test_health_with_trailing_slash_answers_like_the_django_route(
    client: falcon.testing.TestClient,
) -> None:
    result = client.simulate_get("/health/")

    assert result.status_code == 200
    assert result.text == "Ok"


def test_unknown_route_is_a_json_404(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/no/such/route")

    assert result.status_code == 404
    assert result.json == {"detail": "Not Found"}
    assert result.headers["content-type"].startswith("application/json")


def test_wrong_method_is_a_json_405_naming_the_allowed_methods(
    client: falcon.testing.TestClient,
) -> None:
    result = client.simulate_delete("/health")

    assert result.status_code == 405
    assert result.json == {"detail": "Method not allowed"}
    assert "GET" in result.headers["allow"]


def test_cors_preflight_is_answered_before_routing_with_the_reference_headers(
    client: falcon.testing.TestClient,
) -> None:
    result = client.simulate_options(
        "/v2/stamps/1/score/0x0000000000000000000000000000000000000000",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )

    assert result.status_code == 200
    assert result.text == ""
    assert result.headers["access-control-allow-origin"] == "*"
    assert (
        result.headers["access-control-allow-methods"] == "DELETE, GET, OPTIONS, PATCH, POST, PUT"
    )
    assert result.headers["access-control-allow-headers"] == (
        "accept, accept-encoding, authorization, content-type, dnt, origin, user-agent, "
        "x-csrftoken, x-requested-with, x-api-key"
    )
    assert result.headers["access-control-max-age"] == "86400"


def test_a_request_with_an_origin_gets_the_allow_origin_header(
    client: falcon.testing.TestClient,
) -> None:
    result = client.simulate_get("/health", headers={"Origin": "https://app.example"})

    assert result.headers["access-control-allow-origin"] == "*"
    assert result.headers["vary"].lower() == "origin"


def test_a_request_without_an_origin_gets_no_cors_header_but_vary(
    client: falcon.testing.TestClient,
) -> None:
    result = client.simulate_get("/health")

    assert "access-control-allow-origin" not in result.headers
    assert result.headers["vary"].lower() == "origin"


def test_every_response_carries_a_request_id(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/health", headers={"X-Request-Id": "abc-123"})

    assert result.headers["x-request-id"] == "abc-123"


class RaisesWithHeaderPairs:
    """A test-only resource: Falcon lets an HTTPError carry its headers as (name, value) pairs."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise falcon.HTTPError(falcon.HTTP_429, headers=[("Retry-After", "5")])


def test_a_falcon_error_with_header_pairs_keeps_its_headers_and_the_json_envelope(
    settings: Settings, db: Database
) -> None:
    app = create_app(settings, db)
    app.add_route("/test-only/header-pairs", RaisesWithHeaderPairs())

    result = falcon.testing.TestClient(app).simulate_get("/test-only/header-pairs")

    assert result.status_code == 429
    assert result.headers["retry-after"] == "5"
    assert set(result.json) == {"detail"}


def test_a_body_past_the_limit_is_refused_with_413_json(
    settings_env: dict[str, str], db: Database
) -> None:
    small = falcon.testing.TestClient(
        create_app(Settings.from_env({**settings_env, "MAX_REQUEST_BODY_BYTES": "64"}), db)
    )

    result = small.simulate_post("/health", body="x" * 65)

    assert result.status_code == 413
    assert result.json == {"detail": "Request body too large (limit 64 bytes)"}


def test_a_body_within_the_limit_reaches_routing(
    settings_env: dict[str, str], db: Database
) -> None:
    small = falcon.testing.TestClient(
        create_app(Settings.from_env({**settings_env, "MAX_REQUEST_BODY_BYTES": "64"}), db)
    )

    result = small.simulate_post("/health", body="x" * 64)

    assert result.status_code == 405


def test_options_without_a_preflight_header_is_a_json_405(
    client: falcon.testing.TestClient,
) -> None:
    result = client.simulate_options("/health")

    assert result.status_code == 405
    assert result.json == {"detail": "Method not allowed"}
    assert result.headers["allow"] == "GET"
