"""GET /ceramic-cache/stamp and GET /ceramic-cache/weights (no authentication)."""

from __future__ import annotations

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.ceramic import (
    CeramicWorld,
    build_world,
    cache_row,
    ceramic_env,
    outcome,
    written_rows,
)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return ceramic_env(settings_env)


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> CeramicWorld:
    return build_world(
        clean_db, settings, db, weights={"Google": "1.0", "Ens": "0.208", "Github": 2}
    )


def stamp_list(world: CeramicWorld, query: str | None) -> falcon.testing.Result:
    return world.request("GET", "/ceramic-cache/stamp", headers={}, query=query)


# --- stamp list -------------------------------------------------------------------------------


def test_the_stamp_list_holds_the_current_v1_stamps_by_id_and_scores_a_new_address(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    cache_row(world.conn, "Twitter")
    cache_row(world.conn, "Google")
    cache_row(world.conn, "Github", deleted_at=sc.ISSUED)
    cache_row(world.conn, "Ens", stamp_type=2)

    result = stamp_list(world, f"address={sc.ADDRESS}")

    assert result.status_code == 200
    assert list(result.json) == ["success", "stamps"]
    assert list(result.json["stamps"][0]) == ["id", "address", "provider", "stamp"]
    assert [stamp["provider"] for stamp in result.json["stamps"]] == ["Twitter", "Google"]
    assert outcome(result, world.conn) == snapshot


def test_an_address_with_a_score_is_not_scored_again(world: CeramicWorld) -> None:
    cache_row(world.conn, "Google")
    stamp_list(world, f"address={sc.ADDRESS}")
    before = written_rows(world.conn)
    cache_row(world.conn, "Github")

    stamp_list(world, f"address={sc.ADDRESS}")

    assert written_rows(world.conn)["registry_score"] == before["registry_score"]


def test_the_address_is_matched_lower_cased(world: CeramicWorld) -> None:
    cache_row(world.conn, "Google")

    result = stamp_list(world, f"address=0x{'AA' * 20}")

    assert [stamp["provider"] for stamp in result.json["stamps"]] == ["Google"]


def test_a_missing_address_is_a_422(world: CeramicWorld) -> None:
    result = stamp_list(world, None)

    assert (result.status_code, result.json) == (
        422,
        {"detail": [{"type": "missing", "loc": ["query", "address"], "msg": "Field required"}]},
    )


@pytest.mark.parametrize("address", ["0x1234", "", "aa" * 20, "0xaa%00"])
def test_an_invalid_address_without_a_score_fails_when_it_is_scored(
    world: CeramicWorld, address: str
) -> None:
    result = stamp_list(world, f"address={address}")

    assert (result.status_code, result.json) == (400, {"detail": "Invalid address."})
    assert written_rows(world.conn)["registry_passport"] == []


# --- weights ----------------------------------------------------------------------------------


def test_the_weights_are_the_configured_scorers_as_floats(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    result = world.request("GET", "/ceramic-cache/weights", headers={})

    assert result.status_code == 200
    assert result.json == {"Ens": 0.208, "Google": 1.0, "Github": 2.0}
    assert result.text == snapshot


def test_the_weights_follow_the_communitys_scorer_not_its_id(world: CeramicWorld) -> None:
    world.conn.run(
        "UPDATE scorer_weighted_binaryweightedscorer SET weights = '{\"Google\": 7}'"
        " WHERE scorer_ptr_id = :id",
        id=world.scorer_id,
    )

    result = world.request("GET", "/ceramic-cache/weights", headers={})

    assert result.json == {"Google": 7.0}


def test_without_the_configured_community_the_weights_are_the_references_500(
    clean_db: pg8000.native.Connection, settings_env: dict[str, str], db: Database
) -> None:
    settings = Settings.from_env({**settings_env, "CERAMIC_CACHE_SCORER_ID": "999"})
    world = build_world(clean_db, settings, db)

    result = world.request("GET", "/ceramic-cache/weights", headers={})

    assert (result.status_code, result.json) == (
        500,
        {"detail": "Unable to retrieve configured scorer! settings.CERAMIC_CACHE_SCORER_ID=999"},
    )
