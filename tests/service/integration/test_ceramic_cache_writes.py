"""POST, PATCH and DELETE /ceramic-cache/stamps/bulk: responses and every row written."""

from __future__ import annotations

from typing import Any

import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.ceramic import (
    SCORER_ID,
    CeramicWorld,
    bearer,
    build_world,
    cache_row,
    cache_rows,
    ceramic_env,
    hs256_token,
    item,
    outcome,
    written_rows,
)

TOO_MANY = {"detail": "You have submitted too many stamps."}


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return ceramic_env(settings_env)


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> CeramicWorld:
    return build_world(clean_db, settings, db)


def unsigned_items(count: int) -> list[dict[str, Any]]:
    """Items the write accepts but verification does not (the score ignores them)."""
    return [
        {
            "provider": f"Provider{index}",
            "stamp": {"proof": {"proofValue": f"0x{index:04x}"}, "credentialSubject": {}},
        }
        for index in range(count)
    ]


# --- POST -------------------------------------------------------------------------------------


def test_first_write_inserts_the_rows_and_answers_201_with_stamps_and_score(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    result = world.bulk("POST", [item("Google"), item("Github")])

    assert result.status_code == 201
    assert list(result.json) == ["success", "stamps", "score"]
    assert list(result.json["stamps"][0]) == ["id", "address", "provider", "stamp"]
    assert result.json["score"]["score"] == "3.00000"
    assert [stamp["provider"] for stamp in result.json["stamps"]] == ["Google", "Github"]
    assert outcome(result, world.conn) == snapshot


def test_writing_a_provider_again_replaces_its_row(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    world.bulk("POST", [item("Google"), item("Github")])

    result = world.bulk("POST", [item("Google", expires=sc.EXPIRES.replace(year=2098))])

    assert result.status_code == 201
    assert [stamp["id"] for stamp in result.json["stamps"]] == [2, 3]
    assert outcome(result, world.conn) == snapshot


def test_post_leaves_other_type_rows_of_the_provider_alone(world: CeramicWorld) -> None:
    v2 = cache_row(world.conn, "Google", stamp_type=2)

    world.bulk("POST", [item("Google")])

    [v2_row] = [row for row in cache_rows(world.conn) if row["id"] == v2]
    assert v2_row["deleted_at"] is None


def test_the_address_written_is_the_tokens_not_the_items(world: CeramicWorld) -> None:
    body = [{**item("Google"), "address": sc.OTHER_ADDRESS}]

    world.bulk("POST", body)

    assert {row["address"] for row in cache_rows(world.conn)} == {sc.ADDRESS}


def test_a_body_is_read_as_json_whatever_its_content_type(world: CeramicWorld) -> None:
    headers = {"Content-Type": "text/plain", **bearer(hs256_token())}

    result = world.bulk("POST", [item("Google")], headers=headers)

    assert result.status_code == 201


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_body_nested_far_too_deep_is_unparsable_not_a_crash(
    world: CeramicWorld, method: str
) -> None:
    # The C JSON decoder overflowed the stack on this (the process died) before the nesting
    # limit applied to these routes.
    depth = 200_000

    result = world.bulk(method, raw="[" * depth + "]" * depth)

    assert (result.status_code, result.json) == (400, {"detail": "Cannot parse request body"})


def test_exactly_100_stamps_are_accepted(world: CeramicWorld) -> None:
    result = world.bulk("POST", unsigned_items(100))

    assert result.status_code == 201
    assert len(result.json["stamps"]) == 100


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_101_stamps_are_refused_and_nothing_is_written(world: CeramicWorld, method: str) -> None:
    cache_row(world.conn, "Provider0")
    before = written_rows(world.conn)

    result = world.bulk(method, unsigned_items(101))

    assert (result.status_code, result.json) == (422, TOO_MANY)
    assert written_rows(world.conn) == before


def test_deleting_101_providers_is_refused(world: CeramicWorld) -> None:
    cache_row(world.conn, "Provider0")
    before = written_rows(world.conn)

    result = world.bulk("DELETE", [{"provider": f"Provider{i}"} for i in range(101)])

    assert (result.status_code, result.json) == (422, TOO_MANY)
    assert written_rows(world.conn) == before


# --- malformed bodies -------------------------------------------------------------------------

# Bodies and the reference's answers, as django-ninja 1.3.0 gives them.
MALFORMED = [
    pytest.param("not json", 400, {"detail": "Cannot parse request body"}, id="not JSON"),
    pytest.param(
        "",
        422,
        {"detail": [{"type": "missing", "loc": ["body", "payload"], "msg": "Field required"}]},
        id="empty body",
    ),
    pytest.param(
        '{"provider": "Google"}',
        422,
        {
            "detail": [
                {
                    "type": "list_type",
                    "loc": ["body", "payload"],
                    "msg": "Input should be a valid list",
                }
            ]
        },
        id="not a list",
    ),
    pytest.param(
        '[{"stamp": {}}]',
        422,
        {
            "detail": [
                {
                    "type": "missing",
                    "loc": ["body", "payload", 0, "provider"],
                    "msg": "Field required",
                }
            ]
        },
        id="missing provider",
    ),
    pytest.param(
        '["Google"]',
        422,
        {
            "detail": [
                {
                    "type": "missing",
                    "loc": ["body", "payload", 0, "provider"],
                    "msg": "Field required",
                }
            ]
        },
        id="item not an object",
    ),
    pytest.param(
        '[{"provider": "Google"}, {"provider": 5, "address": 7}]',
        422,
        {
            "detail": [
                {
                    "type": "string_type",
                    "loc": ["body", "payload", 1, "address"],
                    "msg": "Input should be a valid string",
                },
                {
                    "type": "string_type",
                    "loc": ["body", "payload", 1, "provider"],
                    "msg": "Input should be a valid string",
                },
            ]
        },
        id="wrong types",
    ),
]


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
@pytest.mark.parametrize(("raw", "status", "body"), MALFORMED)
def test_a_malformed_body_is_refused_and_nothing_is_written(
    world: CeramicWorld, method: str, raw: str, status: int, body: dict[str, Any]
) -> None:
    cache_row(world.conn, "Google")
    before = written_rows(world.conn)

    result = world.bulk(method, raw=raw)

    assert (result.status_code, result.json) == (status, body)
    assert written_rows(world.conn) == before


@pytest.mark.parametrize(
    "stamp",
    [
        pytest.param(None, id="no stamp"),
        pytest.param("a string", id="stamp not an object"),
        pytest.param({"proof": {}}, id="no proofValue"),
        pytest.param(
            {"proof": {"proofValue": "0x1"}, "issuanceDate": "yesterday"}, id="unparseable date"
        ),
    ],
)
def test_a_stamp_the_cache_cannot_store_is_a_422_and_nothing_is_written(
    world: CeramicWorld, stamp: Any
) -> None:
    # The reference answers 500 after its soft delete has committed; a bad stamp is the
    # client's mistake, so it is a 422 here, found before anything is written.
    cache_row(world.conn, "Google")
    before = written_rows(world.conn)

    result = world.bulk("POST", [item("Github"), {"provider": "Google", "stamp": stamp}])

    assert result.status_code == 422
    assert "Google" in result.json["detail"]
    assert written_rows(world.conn) == before


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_date_whose_utc_offset_postgres_refuses_is_a_422_and_nothing_is_written(
    world: CeramicWorld, method: str
) -> None:
    # Python parses offsets up to ±23:59, PostgreSQL's timestamptz only up to ±15:59:59: the
    # insert failed (a 500 on POST, PATCH's wrapped 500) after the soft delete.
    cache_row(world.conn, "Google")
    before = written_rows(world.conn)
    stamp = {"proof": {"proofValue": "0x1"}, "issuanceDate": "2026-01-01T04:00:30-21:29"}

    result = world.bulk(method, [item("Github"), {"provider": "Google", "stamp": stamp}])

    assert result.status_code == 422
    assert result.json == {
        "detail": "the stamp for 'Google' has an issuanceDate whose UTC offset cannot be stored"
    }
    assert written_rows(world.conn) == before


@pytest.mark.parametrize(
    "bad_item",
    [
        pytest.param({"provider": "P" * 257, "stamp": None}, id="provider-over-256"),
        pytest.param({"provider": "Google\x00", "stamp": None}, id="provider-with-nul"),
        pytest.param(
            {"provider": "Google", "stamp": {"proof": {"proofValue": "0x" + "a" * 300}}},
            id="proof-value-over-256",
        ),
    ],
)
def test_a_value_postgres_would_refuse_is_a_422_and_nothing_is_written(
    world: CeramicWorld, bad_item: dict[str, Any]
) -> None:
    before = written_rows(world.conn)

    result = world.bulk("POST", [bad_item])

    assert result.status_code == 422
    assert written_rows(world.conn) == before


def test_two_stamps_for_one_provider_are_a_422_and_nothing_is_written(world: CeramicWorld) -> None:
    cache_row(world.conn, "Google")
    before = written_rows(world.conn)

    result = world.bulk("POST", [item("Google"), item("Google")])

    assert (result.status_code, result.json) == (
        422,
        {"detail": "two stamps for provider 'Google'"},
    )
    assert written_rows(world.conn) == before


# --- one transaction --------------------------------------------------------------------------


def test_when_rescoring_fails_the_cache_writes_are_rolled_back(
    clean_db: pg8000.native.Connection,
    settings_env: dict[str, str],
    db: Database,
) -> None:
    settings = Settings.from_env({**settings_env, "CERAMIC_CACHE_SCORER_ID": "999"})
    world = build_world(clean_db, settings, db)
    cache_row(world.conn, "Google")
    before = written_rows(world.conn)

    result = world.bulk("POST", [item("Google")])

    assert (result.status_code, result.json) == (404, {"detail": "Not Found"})
    assert written_rows(world.conn) == before


# --- PATCH ------------------------------------------------------------------------------------


def test_patch_deletes_every_listed_provider_and_reinserts_those_with_a_stamp(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    cache_row(world.conn, "Google")
    cache_row(world.conn, "Github")
    cache_row(world.conn, "Twitter", stamp_type=2)
    cache_row(world.conn, "Discord")

    result = world.bulk(
        "PATCH", [item("Google"), {"provider": "Github"}, {"provider": "Twitter", "stamp": {}}]
    )

    assert result.status_code == 200
    assert [stamp["provider"] for stamp in result.json["stamps"]] == ["Discord", "Google"]
    assert outcome(result, world.conn) == snapshot


def test_a_patch_stamp_the_cache_cannot_store_is_a_422_and_nothing_is_written(
    world: CeramicWorld,
) -> None:
    cache_row(world.conn, "Google")
    before = written_rows(world.conn)

    result = world.bulk("PATCH", [{"provider": "Google", "stamp": {"proof": {}}}])

    assert (result.status_code, result.json) == (
        422,
        {"detail": "the stamp for 'Google' has no proof.proofValue"},
    )
    assert written_rows(world.conn) == before


# --- DELETE -----------------------------------------------------------------------------------


def test_delete_soft_deletes_the_providers_rows_of_every_type_and_rescores(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    cache_row(world.conn, "Google")
    cache_row(world.conn, "Google", stamp_type=2)
    cache_row(world.conn, "Github")
    cache_row(world.conn, "Twitter", stamp_type=2)

    result = world.bulk("DELETE", [{"provider": "Google"}, {"provider": "Discord"}])

    assert result.status_code == 200
    assert list(result.json) == ["success", "stamps"]
    assert [stamp["provider"] for stamp in result.json["stamps"]] == ["Github", "Twitter"]
    assert outcome(result, world.conn) == snapshot


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([{"provider": "Discord"}], id="provider without a live row"),
        pytest.param([], id="empty list"),
        pytest.param([{"provider": "Google\x00"}], id="provider with a NUL character"),
    ],
)
def test_deleting_nothing_is_a_404_and_nothing_is_written(
    world: CeramicWorld, body: list[dict[str, str]]
) -> None:
    cache_row(world.conn, "Google")
    cache_row(world.conn, "Discord", deleted_at=sc.ISSUED)
    before = written_rows(world.conn)

    result = world.bulk("DELETE", body)

    assert (result.status_code, result.json) == (404, {"detail": "Unable to find stamp to delete."})
    assert written_rows(world.conn) == before


def test_another_addresss_rows_are_never_touched(world: CeramicWorld) -> None:
    other = cache_row(world.conn, "Google", address=sc.OTHER_ADDRESS)

    world.bulk("POST", [item("Google")])
    world.bulk("PATCH", [{"provider": "Google"}])

    [row] = [row for row in cache_rows(world.conn) if row["id"] == other]
    assert row["deleted_at"] is None


def test_the_score_is_saved_on_the_configured_scorer(world: CeramicWorld) -> None:
    world.bulk("POST", [item("Google")])

    [passport] = world.conn.run("SELECT community_id, address FROM registry_passport")
    assert passport == [SCORER_ID, sc.ADDRESS]
