"""GET /internal/score/v2/{scorer_id}/{address}: the one scoring pipeline, community by id."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.internal_rows import INTERNAL
from tests.service.support.snapshots import normalize, rows, written
from tools import seed


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json()}


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> sc.Scenario:
    world = sc.build(clean_db)
    world.client = falcon.testing.TestClient(create_app(settings, db))
    return world


def score(
    world: sc.Scenario, scorer_id: int | str | None = None, address: str = sc.ADDRESS
) -> falcon.testing.Result:
    assert world.client is not None
    sid = world.community_id if scorer_id is None else scorer_id
    return world.client.simulate_get(f"/internal/score/v2/{sid}/{address}", headers=INTERNAL)


def outcome(result: falcon.testing.Result, conn: pg8000.native.Connection) -> dict[str, Any]:
    return {"status": result.status_code, "body": normalize(result.json), "rows": written(conn)}


def test_scores_and_persists_like_the_v2_endpoint_without_analytics(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    for provider in ("Google", "Github"):
        world.cache(sc.stamp(provider))

    result = score(world)

    assert result.status_code == 200
    assert result.json["score"] == "3.00000"
    assert result.json["points_data"] is None
    assert rows(world.conn, "account_accountapikeyanalytics") == []
    assert outcome(result, world.conn) == snapshot


def test_a_checksummed_address_is_scored_lower_case(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google"))

    result = score(world, address="0x" + "AA" * 20)

    assert result.json["address"] == sc.ADDRESS
    assert result.json["score"] == "1.00000"


def test_a_community_of_any_account_is_scored(world: sc.Scenario) -> None:
    stranger = seed.create_account(world.conn, address="0x" + "cc" * 20)
    theirs = seed.create_community(
        world.conn, account_id=stranger, scorer_id=world.scorer_id, name="Theirs"
    )

    result = score(world, scorer_id=theirs)

    assert result.status_code == 200


def test_an_unknown_community_is_a_404(world: sc.Scenario) -> None:
    result = score(world, scorer_id=999)

    assert result.status_code == 404
    assert result.json == {"detail": "No Community matches the given query."}


def test_an_invalid_address_is_a_400_with_nothing_written(world: sc.Scenario) -> None:
    result = score(world, address="0x123")

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid address."}
    assert rows(world.conn, "registry_passport") == []


@pytest.mark.parametrize("bad", ["abc", "-1", "1.0"])
def test_a_non_numeric_scorer_id_does_not_match_the_route(world: sc.Scenario, bad: str) -> None:
    result = score(world, scorer_id=bad)

    assert result.status_code == 404
    assert result.json == {"detail": "Not Found"}


def test_an_error_score_is_stored_and_answered_with_a_500(world: sc.Scenario) -> None:
    credential = sc.stamp("Google")
    credential["expirationDate"] = "not a date"
    world.cache(credential)

    result = score(world)

    assert result.status_code == 500
    assert result.json == {"detail": "Failed to calculate score."}
    [stored] = rows(world.conn, "registry_score")
    assert (stored["status"], stored["error"]) == (
        "ERROR",
        "Invalid isoformat string: 'not a date'",
    )
