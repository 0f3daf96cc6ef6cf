"""GET /internal/embed/score/{scorer_id}/{address}: rescore, then list the cached stamps."""

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
from tests.service.support.internal_rows import add_revocation
from tests.service.support.snapshots import normalize, rows, written


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
    return world.client.simulate_get(f"/internal/embed/score/{sid}/{address}")


def outcome(result: falcon.testing.Result, conn: pg8000.native.Connection) -> dict[str, Any]:
    return {"status": result.status_code, "body": normalize(result.json), "rows": written(conn)}


def test_scores_and_lists_the_current_stamps_without_a_key(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    world.cache(sc.stamp("Twitter"))
    world.cache(sc.stamp("Google"))

    result = score(world)

    assert result.status_code == 200
    assert list(result.json) == ["success", "stamps", "score"]
    assert [s["provider"] for s in result.json["stamps"]] == ["Twitter", "Google"]
    assert result.json["score"]["score"] == "2.00000"
    assert result.json["score"]["points_data"] is None
    assert outcome(result, world.conn) == snapshot


def test_deleted_revoked_and_other_type_rows_are_not_listed(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google"))
    revoked = world.cache(sc.stamp("Github"))
    add_revocation(world.conn, proof_value="x", cache_id=revoked)
    world.cache(sc.stamp("Twitter"), stamp_type=2)

    result = score(world)

    assert [s["provider"] for s in result.json["stamps"]] == ["Google"]


def test_an_unknown_scorer_is_a_400(world: sc.Scenario) -> None:
    result = score(world, scorer_id=999)

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid scorer_id"}


def test_an_unknown_scorer_wins_over_an_invalid_address(world: sc.Scenario) -> None:
    result = score(world, scorer_id=999, address="nonsense")

    assert result.json == {"detail": "Invalid scorer_id"}


def test_an_invalid_address_is_a_400_with_nothing_written(world: sc.Scenario) -> None:
    result = score(world, address="0x123")

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid address."}
    assert rows(world.conn, "registry_passport") == []


@pytest.mark.parametrize("bad", ["abc", "-1", "1e3"])
def test_a_non_numeric_scorer_id_does_not_match_the_route(world: sc.Scenario, bad: str) -> None:
    result = score(world, scorer_id=bad)

    assert result.status_code == 404
    assert result.json == {"detail": "Not Found"}


def test_an_error_score_is_answered_with_a_200(world: sc.Scenario) -> None:
    credential = sc.stamp("Google")
    credential["expirationDate"] = "not a date"
    world.cache(credential)

    result = score(world)

    assert result.status_code == 200
    assert result.json["score"]["error"] == "Invalid isoformat string: 'not a date'"
