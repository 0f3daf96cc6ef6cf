"""GET /v2/stamps/{scorer_id}/score/{address}: responses and every row written, as snapshots."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.auth.api_key import sha256_form
from service.db import api_keys
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
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


def outcome(result: falcon.testing.Result, conn: pg8000.native.Connection) -> dict[str, Any]:
    return {"status": result.status_code, "body": normalize(result.json), "rows": written(conn)}


# --- scoring outcomes -------------------------------------------------------------------------


def test_passing_score(world: sc.Scenario, snapshot: SnapshotAssertion) -> None:
    for provider in ("Google", "Github", "Twitter"):
        world.cache(sc.stamp(provider))

    result = world.score()

    assert result.status_code == 200
    assert result.json["score"] == "4.00000"
    assert result.json["passing_score"] is True
    assert outcome(result, world.conn) == snapshot


def test_failing_score(world: sc.Scenario, snapshot: SnapshotAssertion) -> None:
    world.cache(sc.stamp("Discord"))

    result = world.score()

    assert result.json["score"] == "0.50000"
    assert result.json["passing_score"] is False
    assert outcome(result, world.conn) == snapshot


def test_no_stamps_scores_zero(world: sc.Scenario, snapshot: SnapshotAssertion) -> None:
    result = world.score()

    assert result.json["score"] == "0.00000"
    assert result.json["stamps"] == {}
    assert result.json["expiration_timestamp"] is None
    assert outcome(result, world.conn) == snapshot


def test_rescoring_updates_the_existing_score_row(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    world.cache(sc.stamp("Google"))
    world.score()
    world.cache(sc.stamp("Github"))

    result = world.score()

    assert result.json["score"] == "3.00000"
    assert len(rows(world.conn, "registry_score")) == 1
    assert len(rows(world.conn, "registry_passport")) == 1
    assert outcome(result, world.conn) == snapshot


def test_response_keys_come_in_the_reference_order(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google"))

    result = world.score()

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
    assert list(result.json["stamps"]["Google"]) == ["score", "dedup", "expiration_date"]


def test_stamps_are_processed_in_provider_order_whatever_the_insert_order(
    world: sc.Scenario,
) -> None:
    for provider in ("Twitter", "Google", "Github"):
        world.cache(sc.stamp(provider))

    result = world.score()

    assert list(result.json["stamps"]) == ["Github", "Google", "Twitter"]
    providers = [row["provider"] for row in rows(world.conn, "registry_stamp")]
    assert providers == ["Github", "Google", "Twitter"]


# --- dedup ------------------------------------------------------------------------------------


def test_stamp_whose_nullifier_another_address_holds_is_deduplicated(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    shared = "v0:Google:shared-account"
    world.cache(
        sc.stamp("Google", address=sc.OTHER_ADDRESS, nullifiers=[shared]), address=sc.OTHER_ADDRESS
    )
    world.score(sc.OTHER_ADDRESS)
    world.cache(sc.stamp("Google", nullifiers=[shared]))
    world.cache(sc.stamp("Github"))

    result = world.score()

    assert result.json["stamps"]["Google"] == {
        "score": "0.00000",
        "dedup": True,
        "expiration_date": "2099-12-31T23:59:59Z",
    }
    assert result.json["score"] == "2.00000"
    assert outcome(result, world.conn) == snapshot


def test_two_request_sequence_first_claimant_keeps_the_stamp(world: sc.Scenario) -> None:
    shared = "v0:Github:shared"
    world.cache(sc.stamp("Github", nullifiers=[shared]))
    world.cache(
        sc.stamp("Github", address=sc.OTHER_ADDRESS, nullifiers=[shared]), address=sc.OTHER_ADDRESS
    )

    first = world.score()
    second = world.score(sc.OTHER_ADDRESS)
    again = world.score()

    assert first.json["stamps"]["Github"]["dedup"] is False
    assert second.json["stamps"]["Github"]["dedup"] is True
    assert again.json["stamps"]["Github"]["dedup"] is False
    links = rows(world.conn, "registry_hashscorerlink")
    assert [(link["hash"], link["address"]) for link in links] == [(shared, sc.ADDRESS)]


def test_expired_link_of_another_address_is_taken_over(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    shared = "v0:Google:shared"
    world.conn.run(
        "INSERT INTO registry_hashscorerlink (hash, address, expires_at, community_id)"
        " VALUES (:h, :a, :e, :c)",
        h=shared,
        a=sc.OTHER_ADDRESS,
        e=datetime(2025, 1, 1, tzinfo=UTC),
        c=world.community_id,
    )
    world.cache(sc.stamp("Google", nullifiers=[shared]))

    result = world.score()

    assert result.json["stamps"]["Google"]["dedup"] is False
    assert outcome(result, world.conn) == snapshot


def test_own_link_is_refreshed_with_the_stamps_expiry(world: sc.Scenario) -> None:
    nullifier = "v0:Google:mine"
    world.conn.run(
        "INSERT INTO registry_hashscorerlink (hash, address, expires_at, community_id)"
        " VALUES (:h, :a, :e, :c)",
        h=nullifier,
        a=sc.ADDRESS,
        e=datetime(2030, 1, 1, tzinfo=UTC),
        c=world.community_id,
    )
    world.cache(sc.stamp("Google", nullifiers=[nullifier]))

    world.score()

    [link] = world.conn.run("SELECT id, address, expires_at FROM registry_hashscorerlink")
    assert link[0] == 1
    assert link[1] == sc.ADDRESS
    assert link[2] == sc.EXPIRES


def test_a_link_in_another_community_does_not_clash(world: sc.Scenario) -> None:
    other_community = seed.create_community(
        world.conn, account_id=world.account_id, scorer_id=world.scorer_id, name="Other"
    )
    shared = "v0:Google:shared"
    world.conn.run(
        "INSERT INTO registry_hashscorerlink (hash, address, expires_at, community_id)"
        " VALUES (:h, :a, :e, :c)",
        h=shared,
        a=sc.OTHER_ADDRESS,
        e=sc.EXPIRES,
        c=other_community,
    )
    world.cache(sc.stamp("Google", nullifiers=[shared]))

    result = world.score()

    assert result.json["stamps"]["Google"]["dedup"] is False
    assert result.json["score"] == "1.00000"


def test_deduplicated_stamp_backfills_its_other_nullifiers_to_the_owner(world: sc.Scenario) -> None:
    world.conn.run(
        "INSERT INTO registry_hashscorerlink (hash, address, expires_at, community_id)"
        " VALUES ('v0:a', :a, :e, :c)",
        a=sc.OTHER_ADDRESS,
        e=sc.EXPIRES,
        c=world.community_id,
    )
    world.cache(sc.stamp("Google", nullifiers=["v0:a", "v0:b"]))

    result = world.score()

    assert result.json["stamps"]["Google"]["dedup"] is True
    links = {r["hash"]: r["address"] for r in rows(world.conn, "registry_hashscorerlink")}
    assert links == {"v0:a": sc.OTHER_ADDRESS, "v0:b": sc.OTHER_ADDRESS}
    events = rows(world.conn, "registry_event")
    assert [e["action"] for e in events] == ["LDP", "SCU"]
    assert events[0]["data"] == {
        "nullifiers": ["v0:a", "v0:b"],
        "provider": "Google",
        "community_id": world.community_id,
    }


def test_backfill_skips_a_nullifier_that_already_has_an_own_link(world: sc.Scenario) -> None:
    world.conn.run(
        "INSERT INTO registry_hashscorerlink (hash, address, expires_at, community_id)"
        " VALUES ('v0:theirs', :o, :e, :c), ('v0:mine', :me, :e, :c)",
        o=sc.OTHER_ADDRESS,
        me=sc.ADDRESS,
        e=sc.EXPIRES,
        c=world.community_id,
    )
    world.cache(sc.stamp("Google", nullifiers=["v0:theirs", "v0:mine"]))

    result = world.score()

    assert result.json["error"] is None
    assert result.json["stamps"]["Google"]["dedup"] is True


def test_a_nullifier_listed_twice_in_one_request_is_claimed_once(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:same", "v0:same"]))
    world.cache(sc.stamp("Github", nullifiers=["v0:same"]))

    result = world.score()

    assert result.json["error"] is None
    assert result.json["score"] == "3.00000"
    assert len(rows(world.conn, "registry_hashscorerlink")) == 1


# --- credential checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_credential",
    [
        pytest.param(
            lambda: sc.stamp("Google", expires=datetime(2025, 1, 1, tzinfo=UTC)), id="expired"
        ),
        pytest.param(lambda: sc.stamp("Google", address=sc.OTHER_ADDRESS), id="did-mismatch"),
        pytest.param(
            lambda: sc.stamp("Google", issuer_key=sc.OTHER_ISSUER_KEY), id="untrusted-issuer"
        ),
        pytest.param(
            lambda: sc.stamp("Google", created=datetime.now(UTC) + timedelta(days=1)),
            id="future-created",
        ),
    ],
)
def test_invalid_credential_is_dropped_and_scores_nothing(
    world: sc.Scenario, snapshot: SnapshotAssertion, make_credential: Any
) -> None:
    world.cache(make_credential(), address=sc.ADDRESS)

    result = world.score()

    assert result.json["stamps"] == {}
    assert result.json["error"] is None
    assert rows(world.conn, "registry_stamp") == []
    assert normalize(result.json) == snapshot


def test_tampered_signature_is_dropped(world: sc.Scenario) -> None:
    credential = sc.stamp("Google")
    credential["credentialSubject"]["provider"] = "Github"
    world.cache(credential, provider="Github")

    result = world.score()

    assert result.json["stamps"] == {}


def test_undeclared_property_is_dropped(world: sc.Scenario) -> None:
    credential = sc.stamp("Google")
    credential["credentialSubject"]["extra"] = "not in the signed types"
    world.cache(credential)

    result = world.score()

    assert result.json["stamps"] == {}


def test_unparsable_expiration_date_stores_an_error_score(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    credential = sc.stamp("Google")
    credential["expirationDate"] = "not a date"
    world.cache(credential)

    result = world.score()

    assert result.status_code == 200
    assert result.json["error"] == "Invalid isoformat string: 'not a date'"
    assert result.json["threshold"] == "20.00000"
    assert outcome(result, world.conn) == snapshot


def test_latest_row_per_provider_wins(world: sc.Scenario) -> None:
    world.cache(
        sc.stamp("Google"),
        deleted_at=datetime(2026, 1, 2, tzinfo=UTC),
        updated_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    world.cache(sc.stamp("Google", expires=datetime(2098, 1, 1, tzinfo=UTC)))

    result = world.score()

    assert result.json["stamps"]["Google"]["expiration_date"] == "2098-01-01T00:00:00+00:00"


def test_revoked_and_deleted_cache_rows_are_ignored(world: sc.Scenario) -> None:
    revoked = world.cache(sc.stamp("Google"))
    world.conn.run(
        "INSERT INTO ceramic_cache_revocation (proof_value, ceramic_cache_id, revocation_list_id)"
        " VALUES ('x', :id, NULL)",
        id=revoked,
    )
    world.cache(sc.stamp("Github"), deleted_at=datetime(2026, 1, 1, tzinfo=UTC))

    result = world.score()

    assert result.json["stamps"] == {}


# --- weights ----------------------------------------------------------------------------------


def test_float_weights_keep_the_references_binary_expansion(
    clean_db: pg8000.native.Connection, settings: Settings, db: Database
) -> None:
    world = sc.build(clean_db, weights={"Ens": 0.208, "Google": 0.525}, threshold="20")
    world.client = falcon.testing.TestClient(create_app(settings, db))
    world.cache(sc.stamp("Ens"))
    world.cache(sc.stamp("Google"))

    result = world.score()

    assert result.json["score"] == "0.73300"
    [score] = rows(clean_db, "registry_score")
    assert score["evidence"]["rawScore"] == "0.7330000000000000126565424807"
    assert score["stamp_scores"] == {"Ens": 0.208, "Google": 0.525}


def test_customization_weights_override_the_scorers(world: sc.Scenario) -> None:
    customization = world.conn.run(
        "INSERT INTO account_customization (path, scorer_id, use_custom_dashboard_panel,"
        " body_display_info_tooltip, button_action_type, show_explanation_panel, partner_name,"
        " nav_order, show_in_top_nav) VALUES ('p', :c, false, false, 'Simple Link', true,"
        " 'Partner', 0, false) RETURNING id",
        c=world.community_id,
    )[0][0]
    list_id = world.conn.run("INSERT INTO account_addresslist (name) VALUES ('VIP') RETURNING id")[
        0
    ][0]
    world.conn.run(
        "INSERT INTO account_allowlist (weight, address_list_id, customization_id)"
        " VALUES (10, :l, :c)",
        l=list_id,
        c=customization,
    )
    world.cache(sc.stamp("AllowList#VIP"))

    result = world.score()

    assert result.json["score"] == "10.00000"
    [score] = rows(world.conn, "registry_score")
    assert score["evidence"]["rawScore"] == "10.0000"


def test_null_weights_store_the_references_error(
    clean_db: pg8000.native.Connection, settings: Settings, db: Database
) -> None:
    world = sc.build(clean_db)
    clean_db.run("UPDATE scorer_weighted_binaryweightedscorer SET weights = NULL")
    world.client = falcon.testing.TestClient(create_app(settings, db))
    world.cache(sc.stamp("Google"))

    result = world.score()

    assert result.json["error"] == "'NoneType' object has no attribute 'get'"


# --- request validation -----------------------------------------------------------------------


def test_checksummed_address_is_lower_cased(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google"))

    result = world.score("0x" + "AA" * 20)

    assert result.json["address"] == sc.ADDRESS
    assert result.json["score"] == "1.00000"


@pytest.mark.parametrize("bad", ["0x123", "aa" * 20, "0x" + "zz" * 20, "0x" + "a" * 41])
def test_invalid_address_is_a_400(world: sc.Scenario, bad: str) -> None:
    result = world.score(bad)

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid address."}
    assert world.conn.run("SELECT count(*) FROM registry_passport") == [[0]]


def test_unknown_scorer_wins_over_a_bad_address(world: sc.Scenario) -> None:
    result = world.score("nonsense", scorer_id=999)

    assert result.status_code == 404
    assert result.json == {"detail": "No scorer matches the given criteria."}


def test_external_scorer_id_is_looked_up_first(world: sc.Scenario) -> None:
    world.conn.run(
        "UPDATE account_community SET external_scorer_id = '4242' WHERE id = :id",
        id=world.community_id,
    )
    world.cache(sc.stamp("Google"))

    result = world.score(scorer_id=4242)

    assert result.status_code == 200
    assert result.json["score"] == "1.00000"


def test_another_accounts_scorer_is_not_found(world: sc.Scenario) -> None:
    stranger = seed.create_account(world.conn, address="0x" + "cc" * 20)
    their_community = seed.create_community(
        world.conn, account_id=stranger, scorer_id=world.scorer_id, name="Theirs"
    )

    result = world.score(scorer_id=their_community)

    assert result.status_code == 404


@pytest.mark.parametrize("bad", ["abc", "1.5", "1e3"])
def test_non_integer_scorer_id_is_a_422_in_ninjas_shape(world: sc.Scenario, bad: str) -> None:
    result = world.score(scorer_id=bad)

    assert result.status_code == 422
    assert result.json == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "scorer_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
            }
        ]
    }
    assert rows(world.conn, "account_accountapikeyanalytics") == []


def test_lax_integer_scorer_ids_are_accepted(world: sc.Scenario) -> None:
    result = world.score(scorer_id=f"00{world.community_id}")

    assert result.status_code == 200


# --- API keys ---------------------------------------------------------------------------------


def _key_rows(conn: pg8000.native.Connection) -> list[dict[str, Any]]:
    return rows(conn, "account_accountapikeyanalytics")


def test_key_via_authorization_header_is_accepted(world: sc.Scenario) -> None:
    result = world.score(headers={"Authorization": f"Token {world.api_key.key}"})

    assert result.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param(
            {"X-API-Key": "Unknown0.abcdefghijklmnopqrstuvwxyz012345"}, id="unknown-prefix"
        ),
        pytest.param({"Authorization": "Token"}, id="single-token-authorization"),
    ],
)
def test_missing_or_unknown_key_is_a_401_without_analytics(
    world: sc.Scenario, headers: dict[str, str]
) -> None:
    result = world.score(headers=headers)

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}
    assert _key_rows(world.conn) == []


def test_wrong_secret_is_a_401_recorded_against_the_key(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    result = world.score(headers={"X-API-Key": world.api_key.prefix + ".wrong-secret"})

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}
    assert outcome(result, world.conn) == snapshot


@pytest.mark.parametrize(
    "change",
    [
        pytest.param("revoked = true", id="revoked"),
        pytest.param("expiry_date = now() - interval '1 day'", id="expired"),
        pytest.param("read_scores = false", id="without-read-scores"),
    ],
)
def test_unusable_key_is_a_401_recorded_against_the_key(world: sc.Scenario, change: str) -> None:
    world.conn.run(f"UPDATE account_accountapikey SET {change}")

    result = world.score()

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}
    [row] = _key_rows(world.conn)
    assert (row["api_key_id"], row["status_code"], row["error"], row["response"]) == (
        world.api_key.id,
        401,
        "Invalid API Key.",
        None,
    )
    # The passport is opened in the same round trip as the key is read, and only for a key
    # that passes: a refused request leaves no row behind.
    assert rows(world.conn, "registry_passport") == []


def test_pbkdf2_only_key_is_accepted_then_migrated_to_sha256(world: sc.Scenario) -> None:
    world.conn.run("UPDATE account_accountapikey SET hashed_key_sha256 = NULL")

    first = world.score()

    assert first.status_code == 200
    [[stored]] = world.conn.run("SELECT hashed_key_sha256 FROM account_accountapikey")
    import hashlib

    assert stored == "sha256$" + hashlib.sha256(world.api_key.key.encode()).hexdigest()
    assert world.score().status_code == 200


class _RolledBack(Exception):
    pass


def test_a_key_migration_in_flight_is_not_waited_for_nor_holds_up_the_analytics_row(
    world: sc.Scenario, settings: Settings
) -> None:
    """The same key's first requests arriving together: one migrates the key, and the others
    must not wait for its row, whether to migrate it themselves or to check their analytics
    row's reference to it. Waiting while holding its passport, a request could deadlock with
    the migrating one if that one scores the same address next."""
    world.conn.run("UPDATE account_accountapikey SET hashed_key_sha256 = NULL")
    migrating = Database(settings.database)
    answered: list[int] = []
    request = threading.Thread(target=lambda: answered.append(world.score().status_code))
    try:
        with pytest.raises(_RolledBack), migrating.transaction() as tx:
            api_keys.store_sha256(tx, world.api_key.id, sha256_form(world.api_key.key))
            request.start()
            request.join(timeout=60)
            waited = request.is_alive()
            raise _RolledBack
    finally:
        if request.ident is not None:
            request.join()
        migrating.close()

    assert not waited, "the request waited for the migrating transaction's lock on the key"
    assert answered == [200]
    assert [row["status_code"] for row in _key_rows(world.conn)] == [200]
    # The migrating transaction rolled back, so the key is still unmigrated; the next request,
    # with no one else on the row, migrates it.
    assert world.conn.run("SELECT hashed_key_sha256 FROM account_accountapikey") == [[None]]
    assert world.score().status_code == 200
    assert world.conn.run("SELECT hashed_key_sha256 FROM account_accountapikey") == [
        [sha256_form(world.api_key.key)]
    ]


def test_stored_sha256_mismatch_does_not_fall_back_to_pbkdf2(world: sc.Scenario) -> None:
    world.conn.run(
        "UPDATE account_accountapikey SET hashed_key_sha256 = 'sha256$' || repeat('0', 64)"
    )

    result = world.score()

    assert result.status_code == 401


def test_analytics_row_of_a_successful_request(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    world.cache(sc.stamp("Google"))

    world.score(
        "0x" + "AA" * 20,
        headers={"X-API-Key": world.api_key.key, "Cookie": "session=1", "User-Agent": "tests"},
        query="foo=bar&foo=baz&empty=",
    )

    [row] = _key_rows(world.conn)
    assert row["path"] == "/v2/stamps/1/score/0x" + "AA" * 20
    assert row["query_params"] == {"foo": ["bar", "baz"], "empty": [""]}
    assert row["headers"]["X-Api-Key"] == "***"
    assert row["headers"]["Cookie"] == "***"
    assert isinstance(row["response"], str)
    assert row == snapshot


def test_an_analytics_row_the_database_refuses_costs_the_request_nothing_else(
    world: sc.Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    world.cache(sc.stamp("Google"))

    # jsonb cannot hold U+0000: the analytics insert (its query_params) is refused, at COMMIT.
    result = world.score(query="note=%00")

    assert result.status_code == 200
    assert result.json["error"] is None
    assert _key_rows(world.conn) == []
    [score] = rows(world.conn, "registry_score")
    assert score["status"] == "DONE"
    assert len(rows(world.conn, "registry_stamp")) == 1
    [logged] = [r for r in caplog.records if r.name == "service.analytics"]
    assert (logged.levelname, logged.getMessage()) == (
        "ERROR",
        "could not record API-key analytics",
    )
    # The connection is usable afterwards, and records the next request.
    assert world.score().status_code == 200
    assert len(_key_rows(world.conn)) == 1


def test_analytics_off_writes_no_row(
    clean_db: pg8000.native.Connection, settings_env: dict[str, str], db: Database
) -> None:
    world = sc.build(clean_db)
    settings = Settings.from_env({**settings_env, "FF_API_ANALYTICS": "Off"})
    world.client = falcon.testing.TestClient(create_app(settings, db))

    assert world.score().status_code == 200
    assert _key_rows(clean_db) == []


def test_not_found_is_recorded_in_analytics_with_its_error(world: sc.Scenario) -> None:
    world.score(scorer_id=999)

    [row] = _key_rows(world.conn)
    assert (row["status_code"], row["error"], row["response"]) == (
        404,
        "No scorer matches the given criteria.",
        None,
    )


def test_a_scorer_without_its_weighted_row_is_a_500_and_writes_no_passport(
    world: sc.Scenario,
) -> None:
    world.cache(sc.stamp("Google"))
    world.conn.run(
        "DELETE FROM scorer_weighted_binaryweightedscorer WHERE scorer_ptr_id = :id",
        id=world.scorer_id,
    )

    result = world.score()

    assert result.status_code == 500
    assert result.json == {"detail": "Unexpected error while submitting passport"}
    assert world.conn.run("SELECT count(*) FROM registry_passport") == [[0]]
