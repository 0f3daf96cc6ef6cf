"""POST /internal/embed/stamps/{address}: write the stamps as the embed app, then rescore."""

from __future__ import annotations

import json
from datetime import UTC, datetime
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
from tests.service.support.snapshots import SCORING_TABLES, normalize, rows, written
from tools import seed

CACHE = "ceramic_cache_ceramiccache"


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json()}


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> sc.Scenario:
    world = sc.build(clean_db)
    world.client = falcon.testing.TestClient(create_app(settings, db))
    return world


def post(
    world: sc.Scenario,
    body: Any,
    *,
    address: str = sc.ADDRESS,
    headers: dict[str, str] | None = None,
) -> falcon.testing.Result:
    assert world.client is not None
    return world.client.simulate_post(
        f"/internal/embed/stamps/{address}",
        body=json.dumps(body),
        headers={"Content-Type": "application/json", **(INTERNAL if headers is None else headers)},
    )


def stamps_body(world: sc.Scenario, *credentials: dict[str, Any]) -> dict[str, Any]:
    return {"scorer_id": world.community_id, "stamps": list(credentials)}


def everything(conn: pg8000.native.Connection) -> dict[str, Any]:
    return written(conn, (CACHE, *SCORING_TABLES))


def nothing_written(conn: pg8000.native.Connection) -> bool:
    return all(not table_rows for table_rows in everything(conn).values())


# --- writes and scores ------------------------------------------------------------------------


def test_first_write_caches_the_stamps_as_embed_and_scores(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    result = post(world, stamps_body(world, sc.stamp("Google"), sc.stamp("Github")))

    assert result.status_code == 200
    assert result.json["score"]["score"] == "3.00000"
    assert [s["provider"] for s in result.json["stamps"]] == ["Google", "Github"]
    cached = rows(world.conn, CACHE)
    assert {(r["source_app"], r["source_scorer_id"]) for r in cached} == {(2, world.community_id)}
    assert {"body": normalize(result.json), "rows": everything(world.conn)} == snapshot


def test_a_second_write_replaces_the_providers_it_names(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    post(world, stamps_body(world, sc.stamp("Google"), sc.stamp("Github")))
    replacement = sc.stamp("Google", expires=datetime(2098, 1, 1, tzinfo=UTC))

    result = post(world, stamps_body(world, replacement))

    assert result.status_code == 200
    cached = rows(world.conn, CACHE)
    assert [(r["id"], r["provider"], r["deleted_at"]) for r in cached] == [
        (1, "Google", "<now>"),
        (2, "Github", None),
        (3, "Google", None),
    ]
    assert [s["id"] for s in result.json["stamps"]] == [2, 3]
    assert (
        result.json["score"]["stamps"]["Google"]["expiration_date"] == "2098-01-01T00:00:00+00:00"
    )
    assert {"body": normalize(result.json), "rows": everything(world.conn)} == snapshot


def test_rows_of_the_passport_app_are_replaced_too(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google"))

    post(world, stamps_body(world, sc.stamp("Google")))

    cached = rows(world.conn, CACHE)
    assert [(r["source_app"], r["deleted_at"] is None) for r in cached] == [(1, False), (2, True)]


def test_the_response_keys_come_in_the_reference_order(world: sc.Scenario) -> None:
    result = post(world, stamps_body(world, sc.stamp("Google")))

    assert list(result.json) == ["success", "stamps", "score"]
    assert list(result.json["stamps"][0]) == ["id", "address", "provider", "stamp"]
    assert result.json["score"]["points_data"] is None


def test_a_checksummed_address_is_written_and_scored_lower_case(world: sc.Scenario) -> None:
    result = post(world, stamps_body(world, sc.stamp("Google")), address="0x" + "AA" * 20)

    assert result.json["score"]["address"] == sc.ADDRESS
    assert [r["address"] for r in rows(world.conn, CACHE)] == [sc.ADDRESS]


def test_a_numeric_string_scorer_id_is_accepted(world: sc.Scenario) -> None:
    result = post(world, {"scorer_id": str(world.community_id), "stamps": [sc.stamp("Google")]})

    assert result.status_code == 200


def test_an_empty_list_only_rescores(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google"))

    result = post(world, stamps_body(world))

    assert result.status_code == 200
    assert result.json["score"]["score"] == "1.00000"
    assert len(rows(world.conn, CACHE)) == 1


def test_the_external_scorer_id_of_the_same_account_is_looked_up_first(world: sc.Scenario) -> None:
    heavy = seed.create_scorer(world.conn, weights={"Google": 7}, threshold="1")
    other = seed.create_community(
        world.conn,
        account_id=world.account_id,
        scorer_id=heavy,
        name="Other",
        external_scorer_id=str(world.community_id),
    )

    result = post(world, stamps_body(world, sc.stamp("Google")))

    assert result.json["score"]["score"] == "7.00000"
    [score] = rows(world.conn, "registry_passport")
    assert score["community_id"] == other


# --- refusals: nothing is written -------------------------------------------------------------


def test_an_invalid_address_is_a_400(world: sc.Scenario) -> None:
    result = post(world, stamps_body(world, sc.stamp("Google")), address="0x123")

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid address."}
    assert nothing_written(world.conn)


def test_an_unknown_scorer_is_a_400(world: sc.Scenario) -> None:
    result = post(world, {"scorer_id": 999, "stamps": [sc.stamp("Google")]})

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid scorer_id"}
    assert nothing_written(world.conn)


def test_one_hundred_stamps_are_accepted(world: sc.Scenario) -> None:
    credentials = [
        {**sc.stamp("Google"), "credentialSubject": {"provider": f"P{i}"}} for i in range(100)
    ]

    result = post(world, stamps_body(world, *credentials))

    assert result.status_code == 200
    assert len(rows(world.conn, CACHE)) == 100


def test_more_than_one_hundred_stamps_are_a_422(world: sc.Scenario) -> None:
    credentials = [
        {**sc.stamp("Google"), "credentialSubject": {"provider": f"P{i}"}} for i in range(101)
    ]

    result = post(world, stamps_body(world, *credentials))

    assert result.status_code == 422
    assert result.json == {"detail": "You have submitted too many stamps."}
    assert nothing_written(world.conn)


@pytest.mark.parametrize(
    "make_stamp",
    [
        pytest.param(lambda: "a string", id="not-an-object"),
        pytest.param(lambda: {**sc.stamp("Google"), "credentialSubject": {}}, id="no-provider"),
        pytest.param(lambda: {**sc.stamp("Google"), "credentialSubject": None}, id="null-subject"),
        pytest.param(
            lambda: {**sc.stamp("Google"), "credentialSubject": {"provider": 5}},
            id="number-provider",
        ),
        pytest.param(
            lambda: {**sc.stamp("Google"), "credentialSubject": {"provider": "P" * 257}},
            id="provider-too-long",
        ),
        pytest.param(lambda: {**sc.stamp("Google"), "proof": {}}, id="no-proof-value"),
        pytest.param(
            lambda: {**sc.stamp("Google"), "proof": {"proofValue": "0x" + "a" * 300}},
            id="proof-value-too-long",
        ),
        pytest.param(lambda: {**sc.stamp("Google"), "issuanceDate": "yesterday"}, id="bad-date"),
        pytest.param(lambda: {**sc.stamp("Google"), "note": "\x00"}, id="nul-character"),
    ],
)
def test_a_stamp_that_cannot_be_cached_is_a_422(
    world: sc.Scenario, snapshot: SnapshotAssertion, make_stamp: Any
) -> None:
    result = post(world, stamps_body(world, sc.stamp("Github"), make_stamp()))

    assert result.status_code == 422
    assert result.json == snapshot
    assert nothing_written(world.conn)


def test_two_stamps_of_one_provider_are_a_422(world: sc.Scenario) -> None:
    result = post(world, stamps_body(world, sc.stamp("Google"), sc.stamp("Google")))

    assert result.status_code == 422
    assert nothing_written(world.conn)


def test_a_previous_stamp_survives_a_refused_write(world: sc.Scenario) -> None:
    post(world, stamps_body(world, sc.stamp("Google")))

    post(world, stamps_body(world, sc.stamp("Google"), {**sc.stamp("Github"), "proof": {}}))

    assert [r["deleted_at"] for r in rows(world.conn, CACHE)] == [None]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"stamps": []}, id="no-scorer-id"),
        pytest.param({"scorer_id": "abc", "stamps": []}, id="text-scorer-id"),
        pytest.param({"scorer_id": 1.5, "stamps": []}, id="fractional-scorer-id"),
        pytest.param({"scorer_id": 1, "stamps": {}}, id="stamps-not-a-list"),
        pytest.param([], id="list-body"),
        pytest.param(None, id="null-body"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_422_in_ninjas_shape(
    world: sc.Scenario, snapshot: SnapshotAssertion, body: Any
) -> None:
    result = post(world, body)

    assert result.status_code == 422
    assert result.json == snapshot


def test_an_empty_body_is_a_missing_payload(world: sc.Scenario) -> None:
    assert world.client is not None
    result = world.client.simulate_post(f"/internal/embed/stamps/{sc.ADDRESS}", headers=INTERNAL)

    assert result.status_code == 422
    assert result.json == {
        "detail": [{"type": "missing", "loc": ["body", "payload"], "msg": "Field required"}]
    }


def test_a_date_whose_utc_offset_postgres_refuses_is_a_422_and_nothing_is_written(
    world: sc.Scenario,
) -> None:
    credential = {**sc.stamp("Google"), "expirationDate": "2099-01-01T00:00:00+21:00"}

    result = post(world, stamps_body(world, credential))

    assert result.status_code == 422
    assert "UTC offset" in result.json["detail"]
    assert nothing_written(world.conn)


def test_a_json_body_is_read_whatever_its_content_type(world: sc.Scenario) -> None:
    # django-ninja parses the raw body as JSON; the Content-Type is never consulted.
    assert world.client is not None
    result = world.client.simulate_post(
        f"/internal/embed/stamps/{sc.ADDRESS}",
        body=json.dumps(stamps_body(world, sc.stamp("Google"))),
        headers={**INTERNAL, "Content-Type": "text/plain"},
    )

    assert result.status_code == 200
    assert [s["provider"] for s in result.json["stamps"]] == ["Google"]


def test_malformed_json_is_a_400(world: sc.Scenario) -> None:
    assert world.client is not None
    result = world.client.simulate_post(
        f"/internal/embed/stamps/{sc.ADDRESS}",
        body="{",
        headers={**INTERNAL, "Content-Type": "application/json"},
    )

    assert result.status_code == 400
    assert result.json == {"detail": "Cannot parse request body"}
