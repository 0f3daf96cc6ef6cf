"""GET and POST /ceramic-cache/score/{address}: computed, stored and alternate-scorer scores."""

from __future__ import annotations

from datetime import UTC, datetime

import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.ceramic import (
    SCORER_ID,
    CeramicWorld,
    build_world,
    cache_row,
    ceramic_env,
    hs256_token,
    outcome,
    written_rows,
)
from tests.service.support.snapshots import normalize
from tools import seed


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return ceramic_env(settings_env)


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> CeramicWorld:
    return build_world(clean_db, settings, db)


def other_community(world: CeramicWorld, *, weights: dict[str, float]) -> int:
    """A second community of another account, scored with other weights and threshold 3."""
    account_id = seed.create_account(world.conn, address="0x" + "0e" * 20, username="other")
    scorer_id = seed.create_scorer(world.conn, weights=weights, threshold="3")
    return seed.create_community(
        world.conn, account_id=account_id, scorer_id=scorer_id, name="Other"
    )


def stored_score_row(world: CeramicWorld) -> list[object]:
    [row] = world.conn.run(
        "SELECT s.id, s.last_score_timestamp, s.expiration_date, s.evidence"
        " FROM registry_score s JOIN registry_passport p ON p.id = s.passport_id"
        " WHERE p.community_id = :community_id",
        community_id=SCORER_ID,
    )
    return list(row)


# --- GET: computed, then stored ---------------------------------------------------------------


def test_without_a_stored_score_the_address_is_scored_and_the_score_saved(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    cache_row(world.conn, "Google")
    cache_row(world.conn, "Github")

    result = world.score()

    assert result.status_code == 200
    assert result.json["score"] == "3.00000"
    assert outcome(result, world.conn) == snapshot


def test_a_stored_unexpired_score_is_served_as_stored(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    cache_row(world.conn, "Google")
    cache_row(world.conn, "Github")
    first = world.score()
    row_before = stored_score_row(world)
    cache_row(world.conn, "Twitter")

    second = world.score()

    assert second.status_code == 200
    assert second.json == first.json
    assert stored_score_row(world) == row_before
    assert normalize(second.json) == snapshot


def test_an_expired_stored_score_is_recomputed(world: CeramicWorld) -> None:
    cache_row(world.conn, "Google")
    world.score()
    world.conn.run(
        "UPDATE registry_score SET expiration_date = :past", past=datetime(2025, 1, 1, tzinfo=UTC)
    )
    cache_row(world.conn, "Github")

    result = world.score()

    assert result.json["score"] == "3.00000"
    assert result.json["expiration_timestamp"] == "2099-12-31T23:59:59+00:00"


def test_a_stored_score_is_rendered_from_its_evidence_and_utc_timestamps(
    world: CeramicWorld,
) -> None:
    passport_id = world.conn.run(
        "INSERT INTO registry_passport (address, community_id) VALUES (:a, :c) RETURNING id",
        a=sc.ADDRESS,
        c=SCORER_ID,
    )[0][0]
    world.conn.run(
        "INSERT INTO registry_score (passport_id, score, last_score_timestamp, status, error,"
        " evidence, stamp_scores, stamps, expiration_date) VALUES (:p, 1,"
        " '2026-01-05T12:00:00.123456+02:00', 'DONE', NULL,"
        " CAST(:evidence AS jsonb), '{}', NULL, '2099-12-31T23:59:59+00:00')",
        p=passport_id,
        evidence='{"type": "ThresholdScoreCheck", "success": true, "rawScore": "22.5"}',
    )

    result = world.score()

    assert result.json == {
        "address": sc.ADDRESS,
        "score": "22.50000",
        "passing_score": True,
        "last_score_timestamp": "2026-01-05T10:00:00.123456+00:00",
        "expiration_timestamp": "2099-12-31T23:59:59+00:00",
        "threshold": "20.00000",
        "error": None,
        "stamps": {},
        "points_data": None,
        "possible_points_data": None,
        "linked_score": None,
    }


# --- GET: the path address and the token ------------------------------------------------------


def test_a_path_address_other_than_the_tokens_is_refused(world: CeramicWorld) -> None:
    result = world.score(sc.OTHER_ADDRESS)

    assert (result.status_code, result.json) == (
        401,
        {"detail": "Address does not match the token."},
    )
    assert written_rows(world.conn)["registry_score"] == []


def test_the_path_address_is_compared_after_lower_casing(world: CeramicWorld) -> None:
    result = world.score(sc.ADDRESS.upper().replace("0X", "0x"))

    assert result.status_code == 200
    assert result.json["address"] == sc.ADDRESS


def test_an_invalid_path_address_is_a_400_whatever_the_token(world: CeramicWorld) -> None:
    result = world.score("0x1234")

    assert (result.status_code, result.json) == (400, {"detail": "Invalid address."})


# --- GET: alternate scorer --------------------------------------------------------------------


def test_an_alternate_scorer_scores_in_that_community(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    other = other_community(world, weights={"Google": 5.0})
    cache_row(world.conn, "Google")

    result = world.score(query=f"alternate_scorer_id={other}")

    assert result.json["score"] == "5.00000"
    assert result.json["threshold"] == "3.00000"
    assert outcome(result, world.conn) == snapshot


def test_an_alternate_scorer_of_zero_means_the_configured_one(world: CeramicWorld) -> None:
    world.score(query="alternate_scorer_id=0")

    [community_id] = world.conn.run("SELECT community_id FROM registry_passport")[0]
    assert community_id == SCORER_ID


def test_an_unknown_scorer_is_the_misconfiguration_404(world: CeramicWorld) -> None:
    result = world.score(query="alternate_scorer_id=999")

    assert (result.status_code, result.json) == (
        404,
        {
            "detail": "Community matching the configured scorer id does not exist!"
            " This is probably a misconfiguration!"
        },
    )


def test_a_community_without_a_usable_scorer_is_the_generic_400(world: CeramicWorld) -> None:
    scorer_id = world.conn.run(
        "INSERT INTO scorer_weighted_scorer (type, exclude_from_weight_updates)"
        " VALUES ('WEIGHTED', false) RETURNING id"
    )[0][0]
    broken = seed.create_community(
        world.conn, account_id=world.account_id, scorer_id=scorer_id, name="Broken"
    )

    result = world.score(query=f"alternate_scorer_id={broken}")

    assert (result.status_code, result.json) == (
        400,
        {"detail": "Unable to get score for provided scorer."},
    )
    assert written_rows(world.conn)["registry_passport"] == []


@pytest.mark.parametrize("value", ["x", "", "1.5"])
def test_a_non_integer_alternate_scorer_is_a_422(world: CeramicWorld, value: str) -> None:
    result = world.score(query=f"alternate_scorer_id={value}")

    assert result.status_code == 422
    assert result.json["detail"][0]["loc"] == ["query", "alternate_scorer_id"]


# --- GET: human points ------------------------------------------------------------------------


@pytest.fixture
def points_world(
    clean_db: pg8000.native.Connection, settings_env: dict[str, str], db: Database
) -> CeramicWorld:
    settings = Settings.from_env({**settings_env, "HUMAN_POINTS_ENABLED": "true"})
    world = build_world(clean_db, settings, db, human_points_program=True)
    for provider, action in (("Google", "HKY"), ("Github", "HKY"), ("", "ISB")):
        world.conn.run(
            "INSERT INTO registry_humanpoints (address, action, timestamp, tx_hash, chain_id,"
            " provider) VALUES (:a, :action, now(), '', 0, :provider)",
            a=sc.ADDRESS,
            action=action,
            provider=provider,
        )
    world.conn.run(
        "INSERT INTO registry_humanpointsmultiplier (address, multiplier) VALUES (:a, 2)",
        a=sc.ADDRESS,
    )
    world.conn.run(
        "INSERT INTO registry_humanpointscommunityqualifiedusers (address, community_id)"
        " VALUES (:a, :c)",
        a=sc.ADDRESS,
        c=SCORER_ID,
    )
    return world


def test_a_stored_score_carries_the_points_in_a_program_community(
    points_world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    cache_row(points_world.conn, "Google")
    computed = points_world.score()

    stored = points_world.score()

    assert computed.json["points_data"] is None
    assert computed.json["possible_points_data"] is None
    assert stored.json["points_data"]["total_points"] == 300
    assert list(stored.json["points_data"]) == [
        "total_points",
        "is_eligible",
        "multiplier",
        "breakdown",
    ]
    assert normalize(stored.json) == snapshot


# --- POST -------------------------------------------------------------------------------------


def test_post_scores_the_path_address_in_the_bodys_community(
    world: CeramicWorld, snapshot: SnapshotAssertion
) -> None:
    other = other_community(world, weights={"Google": 2.5, "Github": 1.0})
    cache_row(world.conn, "Google", address=sc.OTHER_ADDRESS)
    cache_row(world.conn, "Github", address=sc.OTHER_ADDRESS)

    result = world.score(sc.OTHER_ADDRESS, method="POST", body={"alternate_scorer_id": other})

    assert result.status_code == 200
    assert result.json["address"] == sc.OTHER_ADDRESS
    assert result.json["score"] == "3.50000"
    assert outcome(result, world.conn) == snapshot


def test_post_rescoring_replaces_a_stored_score(world: CeramicWorld) -> None:
    cache_row(world.conn, "Google")
    world.score()
    cache_row(world.conn, "Github")

    result = world.score(method="POST", body={"alternate_scorer_id": str(SCORER_ID)})

    assert result.json["score"] == "3.00000"
    assert len(written_rows(world.conn)["registry_score"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no alternate scorer"),
        pytest.param({"alternate_scorer_id": None}, id="null"),
        pytest.param({"alternate_scorer_id": 0}, id="zero"),
        pytest.param([], id="not an object"),
    ],
)
def test_post_without_a_scorer_is_the_references_500(world: CeramicWorld, body: object) -> None:
    result = world.score(method="POST", body=body)

    assert (result.status_code, result.json) == (500, {"detail": "Scorer ID not set"})
    assert written_rows(world.conn)["registry_passport"] == []


def test_post_with_a_scorer_no_account_owns_is_a_404(world: CeramicWorld) -> None:
    result = world.score(method="POST", body={"alternate_scorer_id": 999})

    assert (result.status_code, result.json) == (404, {"detail": "Not Found"})


@pytest.mark.parametrize(
    ("raw", "status", "body"),
    [
        pytest.param("{", 400, {"detail": "Cannot parse request body"}, id="not JSON"),
        pytest.param(
            "[" * 200_000 + "]" * 200_000,
            400,
            {"detail": "Cannot parse request body"},
            id="nested far too deep",
        ),
        pytest.param(
            "",
            422,
            {"detail": [{"type": "missing", "loc": ["body", "payload"], "msg": "Field required"}]},
            id="empty",
        ),
        pytest.param(
            '{"alternate_scorer_id": 1.5}',
            422,
            {
                "detail": [
                    {
                        "type": "int_from_float",
                        "loc": ["body", "payload", "alternate_scorer_id"],
                        "msg": "Input should be a valid integer, got a number with a fractional"
                        " part",
                    }
                ]
            },
            id="fractional",
        ),
    ],
)
def test_post_with_a_malformed_body_is_refused(
    world: CeramicWorld, raw: str, status: int, body: dict[str, object]
) -> None:
    result = world.score(method="POST", raw=raw)

    assert (result.status_code, result.json) == (status, body)


def test_post_scores_the_path_address_whatever_the_token_says(world: CeramicWorld) -> None:
    token = hs256_token(sc.OTHER_ADDRESS)

    result = world.score(method="POST", body={"alternate_scorer_id": SCORER_ID}, token=token)

    assert result.json["address"] == sc.ADDRESS
