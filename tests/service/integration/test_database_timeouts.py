"""A database that cannot answer in time is an outage, not a score: a statement cancelled by
`statement_timeout` (or any other failure of the database itself) answers 503 with Retry-After
and writes nothing, and the stored score stays what it was."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import falcon.testing
import pg8000.native
import pytest
from pg8000.exceptions import DatabaseError
from pg8000.native import identifier

from service.app import create_app
from service.db.connection import Database, is_infrastructure_failure, open_connection
from service.plumbing.settings import Settings, parse_database_url
from tests.service.support import scenario as sc
from tests.service.support.internal_rows import INTERNAL
from tests.service.support.snapshots import rows

STATEMENT_TIMEOUT_MS = 1000
UNAVAILABLE = {"detail": "Service temporarily unavailable, please retry"}


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json(),
        "DB_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_MS),
    }


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings) -> Iterator[sc.Scenario]:
    # The app's own database layer, configured as the service configures it from the settings.
    db = Database(settings.database, statement_timeout_ms=settings.db_statement_timeout_ms)
    world = sc.build(clean_db)
    world.client = falcon.testing.TestClient(create_app(settings, db))
    yield world
    db.close()


@pytest.fixture
def second_connection(database_url: str) -> Iterator[pg8000.native.Connection]:
    """Another session on the test cluster, as an operator's psql would be."""
    conn = open_connection(parse_database_url(database_url))
    yield conn
    conn.run("ROLLBACK")
    conn.close()


def everything(conn: pg8000.native.Connection) -> dict[str, Any]:
    tables = [
        row[0]
        for row in conn.run(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    return {table: rows(conn, table, order_by="1") for table in tables}


def hold_lock(conn: pg8000.native.Connection, table: str) -> None:
    conn.run("START TRANSACTION")
    conn.run(f"LOCK TABLE {identifier(table)} IN ACCESS EXCLUSIVE MODE")


def internal_score(world: sc.Scenario) -> falcon.testing.Result:
    assert world.client is not None
    return world.client.simulate_get(
        f"/internal/score/v2/{world.community_id}/{sc.ADDRESS}", headers=INTERNAL
    )


ROUTES = {"v2": sc.Scenario.score, "internal": internal_score}


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize(
    "table", ["registry_hashscorerlink", "account_community", "registry_score", "registry_stamp"]
)
def test_a_lock_held_past_the_statement_timeout_answers_503_and_changes_nothing(
    world: sc.Scenario, second_connection: pg8000.native.Connection, table: str, route: str
) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:n1"]))
    first = ROUTES[route](world)
    assert first.status_code == 200
    assert first.json["error"] is None
    before = everything(world.conn)

    hold_lock(second_connection, table)
    started = time.monotonic()
    result = ROUTES[route](world)
    elapsed = time.monotonic() - started

    assert result.status_code == 503
    assert result.json == UNAVAILABLE
    assert result.headers["retry-after"] == "1"
    assert elapsed < STATEMENT_TIMEOUT_MS / 1000 + 1
    second_connection.run("ROLLBACK")
    assert everything(world.conn) == before
    stored = world.conn.run("SELECT status, error FROM registry_score")
    assert stored == [["DONE", None]]


def test_the_next_request_after_a_timeout_scores_normally(
    world: sc.Scenario, second_connection: pg8000.native.Connection
) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:n1"]))
    hold_lock(second_connection, "registry_hashscorerlink")
    assert world.score().status_code == 503
    second_connection.run("ROLLBACK")

    after = world.score()

    assert after.status_code == 200
    assert after.json["error"] is None
    assert world.conn.run("SELECT status FROM registry_score") == [["DONE"]]


@pytest.mark.parametrize(
    "code",
    [
        "57014",  # query_canceled: statement_timeout
        "55P03",  # lock_not_available: lock_timeout
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "57P01",  # admin_shutdown
        "53200",  # out_of_memory
        "53300",  # too_many_connections
        "53100",  # disk_full
        "58030",  # io_error
        "08006",  # connection_failure
    ],
)
def test_database_side_failures_are_never_recorded_as_a_score(code: str) -> None:
    assert is_infrastructure_failure(DatabaseError({"C": code, "M": "from the server"}))


@pytest.mark.parametrize(
    "code",
    [
        "23505",  # unique_violation: retried, then recorded as the reference records it
        "22007",  # invalid_datetime_format: the passport's own data
        "P0001",  # raise_exception
    ],
)
def test_failures_about_the_data_stay_domain_outcomes(code: str) -> None:
    assert not is_infrastructure_failure(DatabaseError({"C": code, "M": "from the server"}))
