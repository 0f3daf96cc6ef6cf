"""The internal key (ADR-0007): required exactly where the reference requires it."""

from __future__ import annotations

import json

import falcon.testing
import pytest

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support.internal_rows import INTERNAL_TOKEN

ADDRESS = "0x" + "ab" * 20

PROTECTED: list[tuple[str, str, object]] = [
    ("GET", f"/internal/score/v2/1/{ADDRESS}", None),
    ("POST", "/internal/check-bans", []),
    ("POST", "/internal/check-revocations", {"proof_values": []}),
    ("GET", f"/internal/stake/gtc/{ADDRESS}", None),
    ("GET", f"/internal/stake/legacy-gtc/{ADDRESS}/1", None),
    ("GET", f"/internal/cgrants/contributor_statistics?address={ADDRESS}", None),
    ("GET", f"/internal/allow-list/OGs/{ADDRESS}", None),
    ("GET", "/internal/customization/credential/DeveloperList%23Devs%2300000000", None),
    ("POST", f"/internal/embed/stamps/{ADDRESS}", {"scorer_id": 1, "stamps": []}),
]

OPEN = [
    f"/internal/embed/score/1/{ADDRESS}",
    "/internal/embed/weights?community_id=1",
    "/internal/embed/config?community_id=1",
]


@pytest.fixture
def client(settings: Settings, db: Database) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


def call(
    client: falcon.testing.TestClient, method: str, url: str, body: object, headers: dict[str, str]
) -> falcon.testing.Result:
    path, _, query = url.partition("?")
    if method == "POST":
        return client.simulate_post(
            path,
            body=json.dumps(body),
            headers={"Content-Type": "application/json", **headers},
        )
    return client.simulate_get(path, query_string=query or None, headers=headers)


REJECTED_HEADERS = [
    pytest.param({}, id="no-header"),
    pytest.param({"Authorization": "wrong-token"}, id="wrong-token"),
    pytest.param({"Authorization": f"Bearer {INTERNAL_TOKEN}"}, id="bearer-prefixed"),
    pytest.param({"Authorization": INTERNAL_TOKEN.upper()}, id="other-case"),
    pytest.param({"Authorization": "tést-internal-token"}, id="non-ascii"),
    pytest.param({"X-API-Key": INTERNAL_TOKEN}, id="in-x-api-key"),
]


@pytest.mark.parametrize(("method", "url", "body"), PROTECTED, ids=[p[1] for p in PROTECTED])
@pytest.mark.parametrize("headers", REJECTED_HEADERS)
def test_a_protected_route_refuses_anything_but_the_exact_token(
    client: falcon.testing.TestClient,
    method: str,
    url: str,
    body: object,
    headers: dict[str, str],
) -> None:
    result = call(client, method, url, body, headers)

    assert result.status_code == 401
    assert result.json == {"detail": "Unauthorized"}


@pytest.mark.parametrize(("method", "url", "body"), PROTECTED, ids=[p[1] for p in PROTECTED])
def test_a_protected_route_accepts_the_exact_token(
    client: falcon.testing.TestClient, method: str, url: str, body: object
) -> None:
    result = call(client, method, url, body, {"Authorization": INTERNAL_TOKEN})

    assert result.status_code != 401


@pytest.mark.parametrize("url", OPEN)
def test_the_routes_the_reference_leaves_open_need_no_token(
    client: falcon.testing.TestClient, url: str
) -> None:
    result = call(client, "GET", url, None, {})

    assert result.status_code != 401


def test_the_key_is_checked_before_the_body(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(
        "/internal/check-bans", body="{", headers={"Content-Type": "application/json"}
    )

    assert result.status_code == 401


def test_an_unmatched_numeric_segment_is_a_404_before_the_key(
    client: falcon.testing.TestClient,
) -> None:
    result = client.simulate_get(f"/internal/score/v2/abc/{ADDRESS}")

    assert result.status_code == 404
