"""Database.transaction(): all or nothing, savepoints, reconnects, and an unreachable server."""

from __future__ import annotations

import socket
from typing import Any

import falcon
import falcon.testing
import pg8000.native
import pytest
from pg8000.exceptions import DatabaseError

from service.app import create_app
from service.db.connection import Database, Transaction
from service.plumbing.errors import DatabaseUnavailable
from service.plumbing.settings import Settings, parse_database_url

INSERT_LIST = "INSERT INTO account_addresslist (name) VALUES (:name) RETURNING id"


class Boom(Exception):
    pass


def list_names(admin_conn: pg8000.native.Connection) -> set[str]:
    return {row[0] for row in admin_conn.run("SELECT name FROM account_addresslist")}


def insert_member_of_a_missing_list(tx: Transaction) -> None:
    """A row whose deferred foreign key fails only at COMMIT."""
    tx.run(
        "INSERT INTO account_addresslistmember (address, list_id) VALUES (:a, :l)",
        a="0xabc",
        l=987_654,
    )


def assert_the_next_transaction_works(db: Database) -> None:
    with db.transaction() as tx:
        assert tx.scalar("SELECT 1") == 1


def closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens there once the probe socket is closed.
    return f"postgresql://postgres@127.0.0.1:{port}/scorer"


def test_a_transaction_that_fails_midway_leaves_no_rows(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with pytest.raises(Boom), db.transaction() as tx:
        tx.run(INSERT_LIST, name="half-done")
        raise Boom

    assert list_names(clean_db) == set()


def test_a_committed_transaction_persists_its_rows(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with db.transaction() as tx:
        tx.run(INSERT_LIST, name="first")
        tx.run(INSERT_LIST, name="second")

    assert list_names(clean_db) == {"first", "second"}


def test_a_commit_refused_by_a_deferred_foreign_key_leaves_no_rows(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with pytest.raises(DatabaseError), db.transaction() as tx:
        tx.run(INSERT_LIST, name="orphan-parent")
        insert_member_of_a_missing_list(tx)

    assert list_names(clean_db) == set()


def test_the_next_transaction_works_after_a_refused_commit(db: Database) -> None:
    with pytest.raises(DatabaseError), db.transaction() as tx:
        insert_member_of_a_missing_list(tx)

    assert_the_next_transaction_works(db)


def test_a_statement_error_inside_a_savepoint_rolls_back_only_to_the_savepoint(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with db.transaction() as tx:
        tx.run(INSERT_LIST, name="before")
        with pytest.raises(DatabaseError), tx.savepoint():
            tx.run(INSERT_LIST, name="inside")
            tx.run(INSERT_LIST, name="before")  # unique violation
        tx.run(INSERT_LIST, name="after")

    assert list_names(clean_db) == {"before", "after"}


def test_a_savepoint_that_succeeds_keeps_its_rows(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with db.transaction() as tx, tx.savepoint():
        tx.run(INSERT_LIST, name="inside")

    assert list_names(clean_db) == {"inside"}


def test_the_connection_is_reopened_after_the_server_dropped_it(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with db.transaction() as tx:
        first_backend = tx.scalar("SELECT pg_backend_pid()")
    # The second argument waits (up to 5 s) until the backend has really gone.
    assert clean_db.run("SELECT pg_terminate_backend(:pid, 5000)", pid=first_backend) == [[True]]

    with db.transaction() as tx:
        tx.run(INSERT_LIST, name="after-reconnect")
        second_backend = tx.scalar("SELECT pg_backend_pid()")

    assert second_backend != first_backend
    assert list_names(clean_db) == {"after-reconnect"}


def test_a_prepared_first_statement_starts_again_on_a_new_connection_after_a_drop(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    # The statement is prepared on the first connection, so the next transaction sends
    # START TRANSACTION in the same write as its execution, into the dead socket.
    with db.transaction() as tx:
        tx.run(INSERT_LIST, name="before")
        first_backend = tx.scalar("SELECT pg_backend_pid()")
    assert clean_db.run("SELECT pg_terminate_backend(:pid, 5000)", pid=first_backend) == [[True]]

    with db.transaction() as tx:
        tx.run(INSERT_LIST, name="after")
        second_backend = tx.scalar("SELECT pg_backend_pid()")
        # Still one transaction: START TRANSACTION reached the new connection too.
        assert tx.scalar("SELECT txid_current()") == tx.scalar("SELECT txid_current()")

    assert second_backend != first_backend
    assert list_names(clean_db) == {"before", "after"}


def test_a_transaction_that_sends_nothing_costs_no_round_trip(db: Database) -> None:
    with db.transaction() as tx:
        pass

    assert (tx.statement_count, tx.round_trips, tx.began) == (0, 0, False)


def test_a_connection_lost_midway_is_unavailable_and_leaves_no_rows(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with pytest.raises(DatabaseUnavailable), db.transaction() as tx:
        tx.run(INSERT_LIST, name="lost")
        backend = tx.scalar("SELECT pg_backend_pid()")
        clean_db.run("SELECT pg_terminate_backend(:pid, 5000)", pid=backend)
        tx.run(INSERT_LIST, name="never")

    assert list_names(clean_db) == set()


def test_the_next_transaction_works_after_a_connection_lost_midway(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with pytest.raises(DatabaseUnavailable), db.transaction() as tx:
        backend = tx.scalar("SELECT pg_backend_pid()")
        clean_db.run("SELECT pg_terminate_backend(:pid, 5000)", pid=backend)
        tx.run("SELECT 1")

    assert_the_next_transaction_works(db)


def test_an_unreachable_database_raises_database_unavailable() -> None:
    database = Database(parse_database_url(closed_port_url()), connect_timeout_s=2)

    with pytest.raises(DatabaseUnavailable), database.transaction():
        pass


class OpensATransaction:
    """A test-only resource: the smallest handler that needs the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self._db.transaction() as tx:
            resp.media = {"one": tx.scalar("SELECT 1")}


def test_the_app_answers_503_json_when_the_database_is_unavailable(
    settings_env: dict[str, str],
) -> None:
    settings = Settings.from_env({**settings_env, "DATABASE_URL": closed_port_url()})
    database = Database(settings.database, connect_timeout_s=2)
    app = create_app(settings, database)
    app.add_route("/test-only/transaction", OpensATransaction(database))

    result = falcon.testing.TestClient(app).simulate_get("/test-only/transaction")

    assert result.status_code == 503
    assert result.headers["content-type"].startswith("application/json")
    assert result.json == {"detail": "Service temporarily unavailable, please retry"}
    assert result.headers["retry-after"] == "1"


def test_a_database_url_naming_a_socket_directory_connects_over_the_unix_socket(
    database_url: str, admin_conn: pg8000.native.Connection
) -> None:
    socket_dir = admin_conn.run("SHOW unix_socket_directories")[0][0].split(",")[0].strip()
    tcp = parse_database_url(database_url)
    url = f"postgresql://{tcp.user}@:{tcp.port}/{tcp.database}?host={socket_dir}"
    database = Database(parse_database_url(url))

    try:
        with database.transaction() as tx:
            # A Unix-socket session has no server address.
            server_address = tx.scalar("SELECT inet_server_addr()")
    finally:
        database.close()

    assert server_address is None


def test_sessions_plan_prepared_statements_once(db: Database) -> None:
    with db.transaction() as tx:
        assert tx.scalar("SHOW plan_cache_mode") == "force_generic_plan"


COUNT_LISTS = "SELECT count(*) FROM account_addresslist WHERE name = :name"


def test_statements_run_together_in_order_in_one_round_trip(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    def together(tx: Transaction, name: str) -> list[list[list[object]]]:
        return tx.run_together((INSERT_LIST, {"name": name}), (COUNT_LISTS, {"name": name}))

    with db.transaction() as tx:
        together(tx, "first")  # prepares both statements on this connection
    with db.transaction() as tx:
        inserted, counted = together(tx, "second")

    # BEGIN, the insert and the count in one exchange.
    assert (tx.round_trips, tx.statement_count) == (1, 2)
    assert len(inserted) == 1
    # The second statement saw the first one's row.
    assert counted == [[1]]
    assert list_names(clean_db) == {"first", "second"}


def test_statements_run_together_each_get_their_own_rows(db: Database) -> None:
    series = "SELECT generate_series(1, CAST(:n AS integer))"
    with db.transaction() as tx:
        for _ in range(2):  # the first time prepares them; the second sends them together
            many, empty, counted = tx.run_together(
                (series, {"n": 3}),
                (series, {"n": 0}),
                (COUNT_LISTS, {"name": "nothing"}),
            )

    assert (many, empty, counted) == ([[1], [2], [3]], [], [[0]])


def test_running_no_statements_together_sends_nothing_and_the_transaction_goes_on(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with db.transaction() as tx:
        assert tx.run_together() == []  # START TRANSACTION still queued
        tx.run(INSERT_LIST, name="kept")
        before = tx.round_trips
        assert tx.run_together() == []  # nothing queued at all
        assert tx.round_trips == before
        assert tx.run_together((COUNT_LISTS, {"name": "kept"})) == [[[1]]]

    assert list_names(clean_db) == {"kept"}


def test_the_first_failure_of_statements_run_together_is_raised_and_nothing_is_kept(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with pytest.raises(DatabaseError) as raised, db.transaction() as tx:
        tx.run_together(
            (INSERT_LIST, {"name": "kept?"}),
            ("SELECT 1 / CAST(:zero AS integer)", {"zero": 0}),
            (INSERT_LIST, {"name": "after the failure"}),
        )

    assert raised.value.args[0]["C"] == "22012"  # division_by_zero, not "transaction aborted"
    assert list_names(clean_db) == set()
    assert_the_next_transaction_works(db)


def test_statements_run_together_first_start_again_on_a_new_connection_after_a_drop(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    with db.transaction() as tx:
        tx.run_together((INSERT_LIST, {"name": "before"}), (COUNT_LISTS, {"name": "before"}))
        first_backend = tx.scalar("SELECT pg_backend_pid()")
    assert clean_db.run("SELECT pg_terminate_backend(:pid, 5000)", pid=first_backend) == [[True]]

    with db.transaction() as tx:
        _, counted = tx.run_together(
            (INSERT_LIST, {"name": "after"}), (COUNT_LISTS, {"name": "after"})
        )
        assert tx.scalar("SELECT txid_current()") == tx.scalar("SELECT txid_current()")

    assert counted == [[1]]
    assert list_names(clean_db) == {"before", "after"}


class RecordingStream:
    """A connection's buffered stream that keeps every byte the client writes to the server."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.written = bytearray()

    def write(self, data: bytes) -> int:
        self.written += data
        return self._stream.write(data)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class RecordingDatabase(Database):
    """The real Database; its connections' outgoing messages are recorded once they are open."""

    stream: RecordingStream

    def _connect(self) -> pg8000.native.Connection:
        conn = super()._connect()
        self.stream = RecordingStream(conn._sock)
        conn._sock = self.stream
        return conn


def message_types(written: bytes) -> list[str]:
    """The type of every frontend message in `written` (each: type, length, body)."""
    types, offset = [], 0
    while offset < len(written):
        types.append(chr(written[offset]))
        offset += 1 + int.from_bytes(written[offset + 1 : offset + 5], "big")
    return types


def test_a_round_trip_asks_for_answers_only_at_its_sync(
    settings: Settings, clean_db: pg8000.native.Connection
) -> None:
    db = RecordingDatabase(settings.database)

    def work(tx: Transaction, name: str) -> None:
        tx.run_together((INSERT_LIST, {"name": name}), (COUNT_LISTS, {"name": name}))
        tx.run_at_commit(INSERT_LIST_QUIETLY, pytest.fail, name=f"{name}, at commit")

    try:
        with db.transaction() as tx:
            work(tx, "first")  # prepares the statements on this connection
        db.stream.written.clear()
        with db.transaction() as tx:
            work(tx, "second")
        sent = message_types(db.stream.written)
    finally:
        db.close()

    # BEGIN (Parse, Bind, Execute) and the two statements (Bind, Execute) under one Sync; the
    # savepoint, the queued insert and COMMIT under another. No Flush (H) and no simple query
    # (Q), on either of which the server would send answers ahead of the Sync.
    assert sent == [
        *("P", "B", "E", "B", "E", "B", "E", "S"),
        *("P", "B", "E", "B", "E", "P", "B", "E", "S"),
    ]
    assert tx.round_trips == 2
    assert list_names(clean_db) >= {"second", "second, at commit"}


# --- writes that travel with COMMIT ------------------------------------------------------------

INSERT_LIST_QUIETLY = "INSERT INTO account_addresslist (name) VALUES (:name)"
# account_addresslist.name is a varchar(100): a longer name is refused by the INSERT itself.
TOO_LONG = "x" * 101


def _commit_writes(
    db: Database, *, queued: str, failures: list[DatabaseError] | None = None
) -> Transaction:
    with db.transaction() as tx:
        tx.run(INSERT_LIST, name=f"the work before {queued[:20]}")
        on_failure = failures.append if failures is not None else pytest.fail
        tx.run_at_commit(INSERT_LIST_QUIETLY, on_failure, name=queued)
    return tx


def test_a_write_queued_for_commit_travels_with_commit_in_one_round_trip(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    _commit_writes(db, queued="warm-up")  # prepares both statements on this connection

    tx = _commit_writes(db, queued="usage")

    # BEGIN with the first insert; the savepoint, the queued insert and COMMIT in the second.
    assert (tx.round_trips, tx.committed_alone, tx.statement_count) == (2, False, 3)
    assert list_names(clean_db) == {
        "the work before warm-up",
        "warm-up",
        "the work before usage",
        "usage",
    }


def test_a_transaction_without_queued_writes_commits_alone(db: Database) -> None:
    with db.transaction() as tx:
        tx.run(INSERT_LIST, name="alone")

    assert tx.committed_alone is True


def test_a_queued_write_that_fails_is_undone_alone_and_the_rest_commits(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    failures: list[DatabaseError] = []

    tx = _commit_writes(db, queued=TOO_LONG, failures=failures)

    [failure] = failures
    assert failure.args[0]["C"] == "22001"  # string_data_right_truncation
    assert list_names(clean_db) == {f"the work before {TOO_LONG[:20]}"}
    # The connection is back to idle: the next transaction runs normally.
    assert_the_next_transaction_works(db)
    assert tx.committed_alone is False


def test_a_transaction_that_rolls_back_never_sends_its_queued_writes(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    failures: list[DatabaseError] = []
    with pytest.raises(Boom), db.transaction() as tx:
        tx.run(INSERT_LIST, name="the work")
        tx.run_at_commit(INSERT_LIST_QUIETLY, failures.append, name="queued")
        raise Boom

    assert list_names(clean_db) == set()
    assert failures == []


def test_a_commit_refused_by_a_deferred_foreign_key_with_a_queued_write_is_raised(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    failures: list[DatabaseError] = []
    with pytest.raises(DatabaseError) as raised, db.transaction() as tx:
        tx.run(INSERT_LIST, name="orphan-parent")
        insert_member_of_a_missing_list(tx)
        tx.run_at_commit(INSERT_LIST_QUIETLY, failures.append, name="queued")

    assert raised.value.args[0]["C"] == "23503"  # foreign_key_violation, at COMMIT
    assert failures == []
    assert list_names(clean_db) == set()
    assert_the_next_transaction_works(db)


def test_a_queued_write_as_the_first_statement_starts_again_on_a_new_connection_after_a_drop(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    # The queued insert is prepared on the first connection, so the next transaction sends
    # START TRANSACTION, its savepoint, the insert and COMMIT in one write, into the dead socket.
    with db.transaction() as tx:
        first_backend = tx.scalar("SELECT pg_backend_pid()")
        tx.run_at_commit(INSERT_LIST_QUIETLY, pytest.fail, name="before the drop")
    assert clean_db.run("SELECT pg_terminate_backend(:pid, 5000)", pid=first_backend) == [[True]]

    with db.transaction() as tx:
        tx.run_at_commit(INSERT_LIST_QUIETLY, pytest.fail, name="after the drop")

    assert list_names(clean_db) == {"before the drop", "after the drop"}


def test_a_transaction_left_failed_drops_its_queued_writes_and_fails_at_commit_as_before(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    failures: list[DatabaseError] = []
    with pytest.raises(DatabaseUnavailable), db.transaction() as tx:
        tx.run(INSERT_LIST, name="the work")
        with pytest.raises(DatabaseError):
            tx.run("SELECT 1 / CAST(:zero AS integer)", zero=0)
        tx.run_at_commit(INSERT_LIST_QUIETLY, failures.append, name="queued")

    assert list_names(clean_db) == set()
    assert failures == []
    assert_the_next_transaction_works(db)


def test_a_failure_callback_that_raises_finds_the_rest_committed_and_the_connection_idle(
    db: Database, clean_db: pg8000.native.Connection
) -> None:
    def raises(exc: DatabaseError) -> None:
        raise Boom

    with pytest.raises(Boom), db.transaction() as tx:
        tx.run(INSERT_LIST, name="the work")
        tx.run_at_commit(INSERT_LIST_QUIETLY, raises, name=TOO_LONG)

    assert list_names(clean_db) == {"the work"}
    assert_the_next_transaction_works(db)
