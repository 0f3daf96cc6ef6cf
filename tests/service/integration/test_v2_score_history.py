"""GET /v2/stamps/{scorer_id}/score/{address}/history (ADR-0031, ADR-0032): answers and
analytics rows against the real database, as snapshots where the whole answer matters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.snapshots import normalize, rows
from tools import seed

HISTORY_KEY = "HistKey1.abcdefghijklmnopqrstuvwxyz012345"
T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)

# A `fields`-shape event as the score save writes it (Django's serializer output).
FIELDS_EVENT: dict[str, Any] = {
    "model": "registry.score",
    "pk": 7,
    "fields": {
        "passport": 3,
        "score": "1.000000000",
        "last_score_timestamp": "2025-02-01T12:00:00.123Z",
        "status": "DONE",
        "error": None,
        "evidence": {
            "type": "ThresholdScoreCheck",
            "success": True,
            "rawScore": "6.75",
            "threshold": "2.5",
        },
        "stamp_scores": {"Google": 1.0, "Github": 5.75},
        "stamps": {
            "Google": {
                "score": "1.00000",
                "dedup": False,
                "expiration_date": "2099-12-31T23:59:59+00:00",
            },
            "Github": {
                "score": "5.75000",
                "dedup": False,
                "expiration_date": "2099-12-31T23:59:59+00:00",
            },
        },
        "expiration_date": "2099-12-31T23:59:59Z",
    },
}


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json()}


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> sc.Scenario:
    world = sc.build(clean_db)
    world.client = falcon.testing.TestClient(create_app(settings, db))
    world.extra["history_key"] = seed.create_api_key(
        clean_db,
        account_id=world.account_id,
        name="history",
        key=HISTORY_KEY,
        salt=sc.API_KEY_SALT,
        pbkdf2_iterations=1000,
        with_sha256=True,
        historical_endpoint=True,
    )
    return world


def history(
    world: sc.Scenario,
    created_at: str | None = "2030-01-01",
    *,
    address: str = sc.ADDRESS,
    scorer_id: int | str | None = None,
    key: str | None = HISTORY_KEY,
    query: str | None = None,
    headers: dict[str, str] | None = None,
) -> falcon.testing.Result:
    assert world.client is not None
    sid = world.community_id if scorer_id is None else scorer_id
    sent = headers if headers is not None else ({"X-API-Key": key} if key else {})
    params = None if created_at is None else {"created_at": created_at}
    return world.client.simulate_get(
        f"/v2/stamps/{sid}/score/{address}/history",
        headers=sent,
        params=params if query is None else None,
        query_string=query,
    )


def event(
    world: sc.Scenario,
    data: Any,
    created_at: datetime = T0,
    *,
    address: str = sc.ADDRESS,
    community_id: int | None = None,
    action: str = "SCU",
) -> int:
    return seed.add_event(
        world.conn,
        address=address,
        community_id=world.community_id if community_id is None else community_id,
        data=data,
        created_at=created_at,
        action=action,
    )


def analytics(world: sc.Scenario) -> list[dict[str, Any]]:
    return rows(world.conn, "account_accountapikeyanalytics")


def outcome(result: falcon.testing.Result, world: sc.Scenario) -> dict[str, Any]:
    return {
        "status": result.status_code,
        "body": normalize(result.json),
        "analytics": analytics(world),
    }


def other_community(world: sc.Scenario, **kwargs: Any) -> int:
    return seed.create_community(
        world.conn, account_id=world.account_id, scorer_id=world.scorer_id, **kwargs
    )


# --- the answer -------------------------------------------------------------------------------


def test_fields_shape_event_answer(world: sc.Scenario, snapshot: SnapshotAssertion) -> None:
    event(world, FIELDS_EVENT)

    result = history(world, "2025-06-01T12:00:00Z")

    assert result.status_code == 200
    assert result.json["score"] == "6.75000"
    assert result.json["threshold"] == "2.50000"
    assert result.json["passing_score"] is True
    # Verbatim from the event, not re-formatted as the live route formats them.
    assert result.json["last_score_timestamp"] == "2025-02-01T12:00:00.123Z"
    assert result.json["expiration_timestamp"] == "2099-12-31T23:59:59Z"
    assert outcome(result, world) == snapshot


def test_top_level_shape_event_answer(world: sc.Scenario, snapshot: SnapshotAssertion) -> None:
    event(world, {"score": 1.0, "evidence": {"rawScore": 78.762, "threshold": 20}})

    result = history(world)

    assert result.json["score"] == "78.76200"
    assert result.json["threshold"] == "20.00000"
    assert result.json["passing_score"] is True
    assert result.json["stamps"] is None
    assert outcome(result, world) == snapshot


def test_history_of_a_real_scoring_reproduces_the_live_answer(world: sc.Scenario) -> None:
    for provider in ("Google", "Github"):
        world.cache(sc.stamp(provider))
    live = world.score().json

    result = history(world, (datetime.now(UTC) + timedelta(minutes=1)).isoformat())

    assert result.status_code == 200
    body = result.json
    for key in ("address", "score", "passing_score", "threshold", "error", "stamps"):
        assert body[key] == live[key], key
    # The event keeps Django's JSON dates (milliseconds, Z); the live route uses isoformat().
    assert body["last_score_timestamp"].endswith("Z")
    assert body["last_score_timestamp"][:23] == live["last_score_timestamp"][:23]


def test_keys_come_in_the_reference_order(world: sc.Scenario) -> None:
    event(world, FIELDS_EVENT)

    result = history(world)

    assert list(result.json) == [
        "address",
        "score",
        "passing_score",
        "last_score_timestamp",
        "expiration_timestamp",
        "threshold",
        "error",
        "stamps",
        "points_data",
        "possible_points_data",
        "linked_score",
    ]
    assert result.json["points_data"] is None
    assert result.json["linked_score"] is None


@pytest.mark.parametrize(
    ("data", "score", "threshold", "passing"),
    [
        ({"evidence": {"rawScore": "15"}}, "15.00000", "0.00000", True),
        # "0" is a truthy string: passing even with nothing in the event.
        ({"junk": True}, "0.00000", "0.00000", True),
        ({"score": "309.5190000000000054014570595"}, "309.51900", "0.00000", True),
        ({"score": "1", "evidence": {"threshold": "2.5"}}, "1.00000", "2.50000", False),
        ({"score": 0, "evidence": {"threshold": "2.5"}}, "0.00000", "2.50000", False),
    ],
)
def test_edge_events(
    world: sc.Scenario, data: dict[str, Any], score: str, threshold: str, passing: bool
) -> None:
    event(world, data)

    body = history(world).json

    assert (body["score"], body["threshold"], body["passing_score"]) == (
        score,
        threshold,
        passing,
    )


def test_address_is_echoed_as_sent_and_matched_lower_cased(world: sc.Scenario) -> None:
    event(world, FIELDS_EVENT)
    upper = "0x" + "AA" * 20

    result = history(world, address=upper)

    assert result.status_code == 200
    assert result.json["address"] == upper


# --- which event --------------------------------------------------------------------------------


def test_picks_the_latest_score_event_at_or_before_the_date(world: sc.Scenario) -> None:
    other = other_community(world, name="Other")
    event(world, {"score": "1"}, T0 - timedelta(days=2))
    event(world, {"score": "2"}, T0 - timedelta(days=1))
    event(world, {"score": "3"}, T0 + timedelta(seconds=1))  # after the date
    event(world, {"score": "4"}, T0 - timedelta(hours=1), community_id=other)
    event(world, {"score": "5"}, T0 - timedelta(hours=1), address=sc.OTHER_ADDRESS)
    event(world, {"score": "6"}, T0 - timedelta(hours=1), action="LDP")

    result = history(world, T0.isoformat())

    assert result.json["score"] == "2.00000"


def test_the_date_is_inclusive_and_compared_with_its_offset(world: sc.Scenario) -> None:
    event(world, {"score": "1"}, T0)

    at_the_moment = history(world, "2025-06-01T13:00:00+01:00")
    a_second_before = history(world, "2025-06-01T07:59:59-04:00")

    assert at_the_moment.json["score"] == "1.00000"
    assert a_second_before.status_code == 404


def test_events_tied_on_created_at_resolve_to_the_greatest_id(world: sc.Scenario) -> None:
    event(world, {"score": "2"}, T0)
    event(world, {"score": "3"}, T0)
    event(world, {"score": "1"}, T0)

    assert history(world).json["score"] == "1.00000"


@pytest.mark.parametrize(
    ("created_at", "found"),
    [
        ("2025-06-01", False),  # midnight UTC, before T0
        ("2025-06-02", True),
        ("20250602", True),
        ("2025-06-01 12:00:00", True),
        ("2025-06-01T11:59:59Z", False),
        ("2025-06-01T12:00:00Z", True),
        ("2025-06-01T12:00:00.000001+00:00", True),
        ("2025-06-01T11:59:59.999999Z", False),
        ("2025-06-01T14:00+02:00", True),
        ("2025-06-01T07:00:00-05:00", True),
        ("2025-06-01T12:00:00,5Z", True),  # Django's own pattern: a comma before the fraction
        ("2025-6-1 12:00", True),  # ... and one-digit months and days with a time
        ("  2025-06-02  ", True),
    ],
)
def test_accepted_date_forms(world: sc.Scenario, created_at: str, found: bool) -> None:
    event(world, {"score": "1"}, T0)

    result = history(world, created_at)

    assert result.status_code == (200 if found else 404), result.json


@pytest.mark.parametrize("created_at", ["invalid-date", "2025-1-1", "2025-13-01", "yesterday"])
def test_an_unparsable_date_is_400_not_the_latest_score(
    world: sc.Scenario, created_at: str
) -> None:
    event(world, {"score": "1"}, T0)

    result = history(world, created_at)

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid created_at."}
    assert [(row["status_code"], row["error"]) for row in analytics(world)] == [
        (400, "Invalid created_at.")
    ]


def test_an_unencoded_plus_before_the_offset_reads_as_plus(world: sc.Scenario) -> None:
    event(world, {"score": "1"}, T0)

    # `+` in a query string is a space: the client meant +02:00.
    found = history(world, None, query="created_at=2025-06-01T14:00:00+02:00")
    too_early = history(world, None, query="created_at=2025-06-01T13:59:59+02:00")

    assert found.status_code == 200
    assert found.json["score"] == "1.00000"
    assert too_early.status_code == 404
    assert too_early.json["detail"] == (
        f"No Score Found for {sc.ADDRESS} at 2025-06-01T13:59:59 02:00"
    )


# --- refusals -----------------------------------------------------------------------------------


def test_no_event_is_404_with_the_address(world: sc.Scenario, snapshot: SnapshotAssertion) -> None:
    event(world, {"score": "1"}, T0)

    result = history(world, "2025-01-01")

    assert result.status_code == 404
    assert result.json == {
        "detail": f"No Score Found for {sc.ADDRESS} at 2025-01-01",
        "address": sc.ADDRESS,
    }
    assert outcome(result, world) == snapshot


def test_an_address_that_is_not_one_is_404_not_400(world: sc.Scenario) -> None:
    result = history(world, "2025-01-01", address="0x123")

    assert result.status_code == 404
    assert result.json == {"detail": "No Score Found for 0x123 at 2025-01-01", "address": "0x123"}


def test_key_without_the_historical_flag_is_403_before_the_date_is_read(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    result = history(world, "", key=sc.API_KEY)

    assert result.status_code == 403
    assert result.json == {"detail": "Invalid permissions for action."}
    assert outcome(result, world) == snapshot


def test_empty_created_at_is_400(world: sc.Scenario) -> None:
    result = history(world, "")

    assert result.status_code == 400
    assert result.json == {"detail": "You must provide created_at as a query param."}
    assert [row["status_code"] for row in analytics(world)] == [400]


def test_missing_created_at_is_422_without_an_analytics_row(world: sc.Scenario) -> None:
    result = history(world, None)

    assert result.status_code == 422
    assert result.json == {
        "detail": [{"type": "missing", "loc": ["query", "created_at"], "msg": "Field required"}]
    }
    assert analytics(world) == []


def test_scorer_id_that_is_not_an_integer_is_422(world: sc.Scenario) -> None:
    result = history(world, None, scorer_id="abc")

    assert result.status_code == 422
    assert [error["loc"] for error in result.json["detail"]] == [
        ["path", "scorer_id"],
        ["query", "created_at"],
    ]
    assert result.json["detail"][0]["type"] == "int_parsing"
    assert analytics(world) == []


def test_another_accounts_community_is_404(world: sc.Scenario) -> None:
    stranger = seed.create_account(world.conn, address="0x" + "0e" * 20)
    theirs = seed.create_community(world.conn, account_id=stranger, scorer_id=world.scorer_id)
    event(world, {"score": "1"}, community_id=theirs)

    result = history(world, scorer_id=theirs)

    assert result.status_code == 404
    assert result.json == {"detail": "No Community matches the given query."}
    assert [row["status_code"] for row in analytics(world)] == [404]


def test_external_scorer_id_is_not_consulted(world: sc.Scenario) -> None:
    other_community(world, name="External", external_scorer_id="987654")

    result = history(world, scorer_id=987654)

    assert result.status_code == 404
    assert result.json == {"detail": "No Community matches the given query."}


def test_a_soft_deleted_community_still_answers(world: sc.Scenario) -> None:
    world.conn.run("UPDATE account_community SET deleted_at = now()")
    event(world, {"score": "1"}, T0)

    assert history(world).status_code == 200


def test_negative_scorer_id_without_a_demo_community_is_404(world: sc.Scenario) -> None:
    event(world, {"score": "1"}, T0)

    result = history(world, scorer_id=-5)

    assert result.status_code == 404
    assert result.json == {"detail": "No Community matches the given query."}


@pytest.mark.parametrize("owned", [True, False])
def test_negative_scorer_id_means_the_demo_community_if_the_key_owns_it(
    world: sc.Scenario, settings_env: dict[str, str], db: Database, owned: bool
) -> None:
    stranger = seed.create_account(world.conn, address="0x" + "0e" * 20)
    demo = seed.create_community(
        world.conn,
        account_id=world.account_id if owned else stranger,
        scorer_id=world.scorer_id,
        name="Demo",
    )
    event(world, {"score": "1"}, community_id=demo)
    settings = Settings.from_env({**settings_env, "DEMO_API_SCORER_ID": str(demo)})
    world.client = falcon.testing.TestClient(create_app(settings, db))

    result = history(world, scorer_id=-5)

    assert result.status_code == (200 if owned else 404)


@pytest.mark.parametrize(
    ("key_options", "recorded"),
    [
        ({"revoked": True}, True),
        ({"expiry_date": datetime(2020, 1, 1, tzinfo=UTC)}, True),
    ],
)
def test_revoked_and_expired_keys_are_refused_and_recorded(
    world: sc.Scenario, key_options: dict[str, Any], recorded: bool
) -> None:
    key = seed.create_api_key(
        world.conn,
        account_id=world.account_id,
        pbkdf2_iterations=1000,
        historical_endpoint=True,
        **key_options,
    )
    event(world, {"score": "1"}, T0)

    result = history(world, key=key.key)

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}
    assert [(row["api_key_id"], row["status_code"], row["error"]) for row in analytics(world)] == [
        (key.id, 401, "Invalid API Key.")
    ]


def test_unknown_or_missing_key_is_401_without_a_row(world: sc.Scenario) -> None:
    unknown = history(world, key="Nobody00.abcdefghijklmnopqrstuvwxyz012345")
    missing = history(world, key=None)

    assert (unknown.status_code, missing.status_code) == (401, 401)
    assert missing.json == {"detail": "Invalid API Key."}
    assert analytics(world) == []


def test_read_scores_is_not_needed_and_authorization_header_works(world: sc.Scenario) -> None:
    key = seed.create_api_key(
        world.conn,
        account_id=world.account_id,
        pbkdf2_iterations=1000,
        read_scores=False,
        historical_endpoint=True,
    )
    event(world, {"score": "1"}, T0)

    result = history(world, headers={"Authorization": f"Token {key.key}"})

    assert result.status_code == 200


def test_trailing_slash_is_a_json_404(world: sc.Scenario) -> None:
    assert world.client is not None
    result = world.client.simulate_get(
        f"/v2/stamps/{world.community_id}/score/{sc.ADDRESS}/history/",
        headers={"X-API-Key": HISTORY_KEY},
        params={"created_at": "2030-01-01"},
    )

    assert result.status_code == 404
    assert result.json == {"detail": "Not Found"}


# --- events the answer cannot represent ---------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"score": ""},
        {"score": None},  # an ERROR score's fields: no score to format
        {"score": "1", "stamps": {"Google": {"score": 1, "dedup": False, "expiration_date": None}}},
        {"score": "1", "stamps": {"Google": {"score": "1", "dedup": False}}},
        {"score": "abc"},
        {"fields": ["not", "an", "object"]},
        ["not", "an", "object"],
        {"score": "1", "evidence": ["not", "an", "object"]},
        {"score": "1", "error": 5},
    ],
)
def test_an_event_the_answer_cannot_represent_is_a_json_500(world: sc.Scenario, data: Any) -> None:
    event(world, data)

    result = history(world)

    assert result.status_code == 500
    assert result.json == {"detail": "Internal Server Error"}
    [row] = analytics(world)
    assert row["status_code"] == 500
    assert row["error"]


def test_analytics_row_of_a_served_request(world: sc.Scenario) -> None:
    event(world, {"score": "1"}, T0)

    history(world, "2030-01-01", headers={"X-API-Key": HISTORY_KEY, "Cookie": "c=1"})

    [row] = analytics(world)
    assert row["path"] == f"/v2/stamps/{world.community_id}/score/{sc.ADDRESS}/history"
    assert row["path_segments"] == [
        "v2",
        "stamps",
        str(world.community_id),
        "score",
        sc.ADDRESS,
        "history",
    ]
    assert row["query_params"] == {"created_at": ["2030-01-01"]}
    assert row["headers"]["X-Api-Key"] == "***"
    assert row["headers"]["Cookie"] == "***"
    assert (row["status_code"], row["error"], row["response"], row["payload"]) == (
        200,
        None,
        None,
        None,
    )
    assert row["response_skipped"] is True
    assert row["api_key_id"] == world.extra["history_key"].id


def test_nothing_is_written_but_the_analytics_row(world: sc.Scenario) -> None:
    event(world, FIELDS_EVENT)
    before = rows(world.conn, "registry_event")

    history(world)

    assert rows(world.conn, "registry_event") == before
    assert rows(world.conn, "registry_score") == []
    assert len(analytics(world)) == 1


def test_authentication_comes_before_parameter_parsing(world: sc.Scenario) -> None:
    result = history(world, None, scorer_id="abc", key=None)

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}
