"""v2 scoring under concurrency and database failures: one owner per nullifier, no partial rows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import falcon.testing
import pg8000.native
import pytest

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.snapshots import SCORING_TABLES

ROUNDS = 8


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json()}


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> sc.Scenario:
    world = sc.build(clean_db)
    world.client = falcon.testing.TestClient(create_app(settings, db))
    return world


def _score_together(world: sc.Scenario, addresses: list[str]) -> list[falcon.testing.Result]:
    barrier = threading.Barrier(len(addresses))
    results: dict[str, falcon.testing.Result] = {}
    errors: list[BaseException] = []

    def run(address: str) -> None:
        try:
            barrier.wait(timeout=10)
            results[address] = world.score(address)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return [results[a] for a in addresses]


@pytest.mark.slow
def test_two_addresses_sharing_a_nullifier_scored_at_once_end_with_one_owner(
    world: sc.Scenario,
) -> None:
    for round_ in range(ROUNDS):
        shared = f"v0:Google:shared-{round_}"
        provider = f"Google{round_}"
        for address in (sc.ADDRESS, sc.OTHER_ADDRESS):
            world.cache(sc.stamp(provider, address=address, nullifiers=[shared]), address=address)

        first, second = _score_together(world, [sc.ADDRESS, sc.OTHER_ADDRESS])

        assert (first.status_code, second.status_code) == (200, 200)
        assert first.json["error"] is None and second.json["error"] is None
        dedup_flags = sorted(r.json["stamps"][provider]["dedup"] for r in (first, second))
        assert dedup_flags == [False, True]
        owners = world.conn.run(
            "SELECT address FROM registry_hashscorerlink WHERE hash = :h", h=shared
        )
        assert len(owners) == 1
        winner = first if not first.json["stamps"][provider]["dedup"] else second
        assert owners[0][0] == winner.json["address"]


def _counts(conn: pg8000.native.Connection) -> dict[str, int]:
    return {t: conn.run(f"SELECT count(*) FROM {t}")[0][0] for t in SCORING_TABLES}


@pytest.fixture
def failing_score_writes(clean_db: pg8000.native.Connection) -> Iterator[None]:
    """A trigger that fails the score write: the last write of the pipeline."""
    clean_db.run(
        "CREATE FUNCTION fail_score_write() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$"
    )
    clean_db.run(
        "CREATE TRIGGER fail_score_write BEFORE INSERT OR UPDATE ON registry_score"
        " FOR EACH ROW EXECUTE FUNCTION fail_score_write()"
    )
    yield
    clean_db.run("DROP TRIGGER fail_score_write ON registry_score")
    clean_db.run("DROP FUNCTION fail_score_write()")


def test_a_database_error_at_the_last_write_leaves_no_rows(
    world: sc.Scenario, failing_score_writes: None
) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:n1"]))
    before = _counts(world.conn)

    result = world.score()

    assert result.status_code == 500
    assert result.json == {"detail": "Unexpected error while submitting passport"}
    assert _counts(world.conn) == before


@pytest.fixture
def connection_killed_at_score_write(clean_db: pg8000.native.Connection) -> Iterator[None]:
    """The server drops the connection in the middle of the request's transaction."""
    clean_db.run(
        "CREATE FUNCTION kill_own_backend() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$"
    )
    clean_db.run(
        "CREATE TRIGGER kill_own_backend BEFORE INSERT OR UPDATE ON registry_score"
        " FOR EACH ROW EXECUTE FUNCTION kill_own_backend()"
    )
    yield
    clean_db.run("DROP TRIGGER kill_own_backend ON registry_score")
    clean_db.run("DROP FUNCTION kill_own_backend()")


def test_a_connection_lost_mid_request_answers_503_and_leaves_no_rows(
    world: sc.Scenario, connection_killed_at_score_write: Any
) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:n1"]))
    before = _counts(world.conn)

    result = world.score()

    assert result.status_code == 503
    assert "detail" in result.json
    assert _counts(world.conn) == before


def test_the_next_request_after_a_lost_connection_succeeds(
    world: sc.Scenario, clean_db: pg8000.native.Connection
) -> None:
    world.cache(sc.stamp("Google"))
    assert world.score().status_code == 200
    clean_db.run(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'passport-scorer'"
    )

    result = world.score()

    assert result.status_code == 200
    assert result.json["score"] == "1.00000"


@pytest.fixture
def link_writes_refused(clean_db: pg8000.native.Connection) -> Iterator[Any]:
    """Installs a trigger that refuses the first `times` link writes of a kind: an INSERT fails
    with a unique violation, an UPDATE silently does not happen, as when another request claimed
    the nullifier first. A sequence counts the attempts: it is not rolled back with them."""

    def install(operation: str, times: int) -> None:
        refusal = (
            "RAISE unique_violation USING MESSAGE = 'duplicate key (simulated)'"
            if operation == "INSERT"
            else "RETURN NULL"
        )
        clean_db.run("CREATE SEQUENCE link_write_attempts")
        clean_db.run(
            "CREATE FUNCTION refuse_link_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF nextval('link_write_attempts') <= {times} THEN {refusal}; END IF;"
            " RETURN NEW; END $$"
        )
        clean_db.run(
            f"CREATE TRIGGER refuse_link_write BEFORE {operation} ON registry_hashscorerlink"
            " FOR EACH ROW EXECUTE FUNCTION refuse_link_write()"
        )

    yield install
    clean_db.run("DROP TRIGGER IF EXISTS refuse_link_write ON registry_hashscorerlink")
    clean_db.run("DROP FUNCTION IF EXISTS refuse_link_write()")
    clean_db.run("DROP SEQUENCE IF EXISTS link_write_attempts")


def _attempts(conn: pg8000.native.Connection) -> int:
    return int(conn.run("SELECT last_value FROM link_write_attempts")[0][0])


def test_a_link_insert_lost_to_another_request_is_planned_and_written_again(
    world: sc.Scenario, link_writes_refused: Any
) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:n1"]))
    link_writes_refused("INSERT", 1)

    result = world.score()

    assert result.status_code == 200
    assert result.json["error"] is None
    assert result.json["score"] == "1.00000"
    assert _attempts(world.conn) == 2
    assert world.conn.run("SELECT hash, address FROM registry_hashscorerlink") == [
        ["v0:n1", sc.ADDRESS]
    ]
    assert world.conn.run("SELECT count(*) FROM registry_stamp") == [[1]]
    assert world.conn.run("SELECT action FROM registry_event") == [["SCU"]]


def test_link_inserts_lost_on_every_attempt_store_the_references_error_and_nothing_else(
    world: sc.Scenario, link_writes_refused: Any
) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:n1"]))
    link_writes_refused("INSERT", 100)

    result = world.score()

    assert result.status_code == 200
    assert result.json["error"] == "Failed to save HashScorerLinks"
    assert _attempts(world.conn) == 5
    assert world.conn.run("SELECT count(*) FROM registry_hashscorerlink") == [[0]]
    assert world.conn.run("SELECT count(*) FROM registry_stamp") == [[0]]
    assert world.conn.run("SELECT count(*) FROM registry_event") == [[0]]
    assert world.conn.run("SELECT status, error FROM registry_score") == [
        ["ERROR", "Failed to save HashScorerLinks"]
    ]


def test_a_claim_that_did_not_land_is_planned_and_written_again(
    world: sc.Scenario, link_writes_refused: Any
) -> None:
    # The skipped UPDATE is what PostgreSQL does when the link no longer matches the claim's
    # condition because another address has taken it meanwhile.
    world.cache(sc.stamp("Google", nullifiers=["v0:n1"]))
    assert world.score().json["error"] is None
    link_writes_refused("UPDATE", 1)

    result = world.score()

    assert result.status_code == 200
    assert result.json["error"] is None
    assert result.json["score"] == "1.00000"
    assert _attempts(world.conn) == 2
    assert world.conn.run("SELECT count(*) FROM registry_stamp") == [[1]]
    assert world.conn.run("SELECT action FROM registry_event ORDER BY id") == [["SCU"], ["SCU"]]
