"""One PostgreSQL connection per thread, one transaction per request.

A Lambda container runs one thread, so this is one connection per container there; the request
threads of `python -m service` (and of tests) get one each. Connections open lazily,
are reopened when the server has dropped them, and never sit idle inside a transaction: every
`transaction()` ends in COMMIT or ROLLBACK before it returns.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from ssl import SSLContext
from typing import Any, TypeVar

import pg8000.native
from opentelemetry import trace
from pg8000.converters import make_params
from pg8000.converters import timestamptz_in as pg8000_timestamptz_in
from pg8000.core import (
    BIND,
    COMMAND_COMPLETE,
    EMPTY_QUERY_RESPONSE,
    EXECUTE_MSG,
    IDLE,
    IN_FAILED_TRANSACTION,
    NULL_BYTE,
    PARSE,
    READY_FOR_QUERY,
    SYNC_MSG,
    Context,
    H_pack,
    ci_unpack,
    i_pack,
)
from pg8000.core import _create_message as pg8000_message
from pg8000.core import _flush as pg8000_flush
from pg8000.core import _read as pg8000_read
from pg8000.core import _write as pg8000_write
from pg8000.exceptions import DatabaseError, InterfaceError
from pg8000.native import TIMESTAMPTZ

from service.plumbing import telemetry
from service.plumbing.errors import DatabaseUnavailable
from service.plumbing.settings import DatabaseTarget

_tracer = trace.get_tracer("service.db")

# SQLSTATEs that mean "the database cannot serve this request now", whatever was asked of it:
# the link or the server is gone (08, 57P01-05), a statement ran past `statement_timeout` or was
# cancelled (57014), a lock could not be had (55P03 lock_not_available), the transaction lost a
# serialization race or a deadlock (40001, 40P01), the server ran out of disk, memory or
# connections (53), or failed underneath (58: I/O errors). None of them says anything about the
# passport being scored, so the request answers 503 with Retry-After and writes nothing.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "40001", "40P01", "53", "55P03", "57", "58")


# Transaction control is sent as it is; everything else is prepared once per connection.
_UNPREPARED_PREFIXES = ("SAVEPOINT", "RELEASE", "ROLLBACK", "START", "COMMIT")
_BEGIN = "START TRANSACTION"
# What pg8000 raises when it was given an SSL context and the server answers that it has no TLS.
_NO_TLS_OFFERED = "Server refuses SSL"
_T = TypeVar("_T")

Statements = dict[str, pg8000.native.PreparedStatement]
# A write queued with `Transaction.run_at_commit`: SQL, parameters, failure callback.
_Queued = tuple[str, dict[str, Any], Callable[[DatabaseError], None]]


class Transaction:
    """The only door to SQL: bound parameters only, one span per round trip.

    `statement_count` counts the SQL commands sent (SAVEPOINTs included, BEGIN and COMMIT not),
    `round_trips` the times this transaction waited for the server.

    With `reopen` (how `Database.transaction` builds it), START TRANSACTION is not sent on its
    own: it travels with the first statement, saving a round trip per request. If the link
    turns out to be dead at that first exchange (a server restart or an idle timeout since the
    connection's last request), nothing of the transaction can have taken effect, so it starts
    again once on the connection `reopen` returns.
    """

    def __init__(
        self,
        conn: pg8000.native.Connection,
        statements: Statements | None = None,
        *,
        reopen: Callable[[], tuple[pg8000.native.Connection, Statements]] | None = None,
    ) -> None:
        self._conn = conn
        self._statements = statements
        self._savepoints = 0
        self._reopen = reopen
        # Commands not sent yet (START TRANSACTION, SAVEPOINTs): they travel with the next
        # statement.
        self._pending: list[str] = [_BEGIN] if reopen is not None else []
        # Writes that travel with COMMIT (`run_at_commit`).
        self._at_commit: list[_Queued] = []
        self.statement_count = 0
        self.round_trips = 0
        # Whether COMMIT took a round trip of its own (None until `commit`).
        self.committed_alone: bool | None = None

    @property
    def began(self) -> bool:
        """Whether START TRANSACTION has reached the server: until then there is nothing to
        commit or roll back."""
        return not self._pending or self._pending[0] != _BEGIN

    def run(self, sql: str, **params: Any) -> list[list[Any]]:
        self.statement_count += 1
        with self._span(_span_name(sql), sql):
            rows = self._execute(sql, params)
        return rows if rows is not None else []

    def _span(
        self, name: str, statement: str, count: int = 1, followed_by: str | None = None
    ) -> AbstractContextManager[None]:
        """The client span of one round trip; nothing while tracing is not configured."""
        if not telemetry.is_configured():
            return nullcontext()
        return self._recorded_span(name, statement, count, followed_by)

    @contextmanager
    def _recorded_span(
        self, name: str, statement: str, count: int, followed_by: str | None
    ) -> Iterator[None]:
        with _tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT) as span:
            if span.is_recording():
                span.set_attribute("db.system", "postgresql")
                span.set_attribute("db.statement", statement)
                if count != 1:
                    span.set_attribute("db.statement_count", count)
                if self._pending:
                    span.set_attribute("db.preceded_by", "; ".join(self._pending))
                if followed_by:
                    span.set_attribute("db.followed_by", followed_by)
            yield

    def _execute(self, sql: str, params: dict[str, Any]) -> list[list[Any]] | None:
        return self._with_reopen(lambda: self._execute_now(sql, params))

    def _with_reopen(self, exchange: Callable[[], _T]) -> _T:
        """Runs `exchange`; if it is the transaction's first and finds the link dead, runs it
        again once on a new connection (see the class's docstring)."""
        if self.began or self._reopen is None:
            return exchange()
        pending = list(self._pending)
        try:
            return exchange()
        except (InterfaceError, OSError):
            self._pending[:] = pending
            self._conn, self._statements = self._reopen()
            return exchange()

    def _execute_now(self, sql: str, params: dict[str, Any]) -> list[list[Any]] | None:
        if self._statements is None or sql.startswith(_UNPREPARED_PREFIXES):
            self.round_trips += 1
            if self._pending:
                self._send_pending()
            return self._conn.run(sql, **params)  # type: ignore[no-any-return]
        return self._execute_together(((sql, params),))[0]

    def _prepared(self, sql: str) -> pg8000.native.PreparedStatement:
        """The statement, parsed and planned once per connection instead of every time; the
        server infers parameter types from the SQL, which casts where it is ambiguous."""
        assert self._statements is not None
        statement = self._statements.get(sql)
        if statement is None:
            if self._pending:
                self._send_pending()
            self.round_trips += 1
            statement = self._conn.prepare(sql)
            self._statements[sql] = statement
        return statement

    def _send_pending(self) -> None:
        prefix = "; ".join(self._pending)
        self._pending.clear()
        # `round_trips` leaves BEGIN and COMMIT out, also when BEGIN goes alone (it does when
        # the transaction's first statement is prepared on this connection first).
        if prefix != _BEGIN:
            self.round_trips += 1
        self._conn.execute_simple(prefix)

    def run_together(self, *statements: tuple[str, dict[str, Any]]) -> list[list[list[Any]]]:
        """Runs statements one after the other, as `run` would, in one round trip; returns
        each one's rows. Each still sees what the ones before it did (its own snapshot, taken
        when it starts); when one fails, the transaction is aborted and that error is raised.
        """
        if not statements:  # nothing to wait for: queued transaction control stays queued
            return []
        if self._statements is None or any(
            sql.startswith(_UNPREPARED_PREFIXES) for sql, _ in statements
        ):
            return [self.run(sql, **params) for sql, params in statements]
        self.statement_count += len(statements)
        with self._span("db.batch", ";\n".join(sql for sql, _ in statements), len(statements)):
            return self._with_reopen(lambda: self._execute_together(statements))

    def _execute_together(
        self, statements: tuple[tuple[str, dict[str, Any]], ...]
    ) -> list[list[list[Any]]]:
        prepared = [(self._prepared(sql), params) for sql, params in statements]
        self.round_trips += 1
        commands = list(self._pending)
        self._pending.clear()
        return _run_pipelined(self._conn, commands, prepared)

    def run_at_commit(
        self, sql: str, on_failure: Callable[[DatabaseError], None], **params: Any
    ) -> None:
        """Queues a write that must never cost the transaction the rest of its work (a usage
        record): it is sent with COMMIT, in the same round trip, after a savepoint of its own.

        If it fails, the server skips the COMMIT sent after it; the write alone is then undone,
        the transaction commits without it, one round trip later, and `on_failure` is told why.
        A transaction that rolls back never sends it. Its rows are not read.
        """
        self.statement_count += 1  # its SAVEPOINT is counted when `commit` sets it
        self._at_commit.append((sql, params, on_failure))

    def commit(self) -> None:
        """COMMIT, carrying the writes queued with `run_at_commit`. Raises what COMMIT raises
        (a refused deferred constraint, a lost link); a queued write's failure is not raised."""
        queued, self._at_commit = self._at_commit, []
        if self._conn._transaction_status == IN_FAILED_TRANSACTION:
            # A statement failed and nothing rolled back to a savepoint: COMMIT can only roll
            # back, which the driver reports as a failure; the queued writes could not run.
            queued = []
        if not queued:
            if self.began:  # otherwise nothing was sent, and there is nothing to commit
                self.committed_alone = True
                self._conn.run("COMMIT")
            return
        self.committed_alone = False
        mark = self.mark()
        name = _span_name(queued[0][0]) if len(queued) == 1 else "db.batch"
        statement = ";\n".join(sql for sql, _, _ in queued)
        with self._span(name, statement, len(queued), followed_by="COMMIT"):
            failure = self._with_reopen(lambda: self._commit_with(queued))
        if failure is None:
            return
        try:
            self._conn.execute_simple(f"ROLLBACK TO {mark}; COMMIT")
        except DatabaseError:
            if self._conn._transaction_status != IDLE:
                # Still open (the ROLLBACK TO failed): nothing of it may be left to the next
                # request's transaction.
                with suppress(Exception):
                    self._conn.run("ROLLBACK")
            raise
        # Told once the transaction is over, so that nothing they do can leave it open.
        for _sql, _params, on_failure in queued:
            on_failure(failure)

    def _commit_with(self, queued: list[_Queued]) -> DatabaseError | None:
        """The queued writes and COMMIT in one round trip; the queued writes' error if one of
        them failed (the transaction is then still open, failed, at their savepoint)."""
        prepared = [(self._prepared(sql), params) for sql, params, _ in queued]
        self.round_trips += 1
        commands = list(self._pending)
        self._pending.clear()
        try:
            _run_then_commit(self._conn, commands, prepared)
        except DatabaseError as exc:
            if self._conn._transaction_status == IN_FAILED_TRANSACTION:
                return exc
            raise
        return None

    def one(self, sql: str, **params: Any) -> list[Any] | None:
        rows = self.run(sql, **params)
        return rows[0] if rows else None

    def scalar(self, sql: str, **params: Any) -> Any:
        row = self.one(sql, **params)
        return row[0] if row else None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undoes only the enclosed writes when the block raises, so the request can go on
        (retry after a constraint violation, or record an ERROR score instead).

        The SAVEPOINT goes to the server in the same round trip as the block's first statement
        (a block that sends none has nothing to undo). A savepoint that succeeded is not
        released: COMMIT keeps its writes and ROLLBACK undoes them exactly as if it had been, a
        later ROLLBACK TO an outer savepoint still undoes them, and names never repeat within a
        transaction. RELEASE would only cost a round trip.
        """
        mark = self.mark()
        try:
            yield
        except BaseException:
            self.undo_to(mark)
            raise

    def mark(self) -> str:
        """A savepoint that `undo_to` can go back to, for writes that may have to be undone
        after the block that made them (`savepoint` is the block form). Like every SAVEPOINT,
        it travels with the next statement."""
        self._savepoints += 1
        command = f"SAVEPOINT sp_{self._savepoints}"
        self.statement_count += 1
        self._pending.append(command)
        return command

    def undo_to(self, mark: str) -> None:
        """Undoes every write since `mark`; savepoints set since then go with them."""
        if mark in self._pending:
            # Nothing reached the server since the savepoint was asked for.
            self.statement_count -= len(self._pending) - self._pending.index(mark)
            del self._pending[self._pending.index(mark) :]
            return
        # Whatever is still pending was asked for after the mark: it goes too.
        self.statement_count -= len(self._pending)
        self._pending.clear()
        # If the link is gone there is nothing to roll back; the caller's error says why.
        with suppress(InterfaceError, OSError):
            self.run(f"ROLLBACK TO {mark}")


def _run_pipelined(
    conn: pg8000.native.Connection,
    commands: list[str],
    statements: list[tuple[pg8000.native.PreparedStatement, dict[str, Any]]],
    *,
    then: tuple[str, ...] = (),
) -> list[list[list[Any]]]:
    """Sends `commands` (transaction control: START TRANSACTION, SAVEPOINTs; may be empty), the
    prepared statements and the commands `then` in one write under one Sync, then reads every
    answer and returns the statements' rows: one round trip instead of several, which the
    server answers in one send (see `_send_execution`). Each statement still runs after the one
    before it; after an error the server skips everything up to the Sync, so the first error is
    the one raised.

    pg8000 has no pipelining of its own; this is its PreparedStatement.run, once per statement,
    built from the same pinned pg8000's protocol helpers (the service's tests run every scoring
    request through it).
    """
    contexts = _send_commands(conn, commands)
    for statement, params in statements:
        _send_execution(conn, statement, params)
        contexts.append(
            Context(statement.statement, columns=statement.cols, input_funcs=statement.input_funcs)
        )
    contexts += _send_commands(conn, then)
    pg8000_write(conn._sock, SYNC_MSG)
    pg8000_flush(conn._sock)
    _read_answers(conn, contexts)
    return [context.rows for context in contexts[len(commands) : len(commands) + len(statements)]]


def _run_then_commit(
    conn: pg8000.native.Connection,
    commands: list[str],
    statements: list[tuple[pg8000.native.PreparedStatement, dict[str, Any]]],
) -> None:
    """`_run_pipelined` with COMMIT under the same Sync: after an error the server skips COMMIT
    too, and an explicit transaction stays open in the failed state. Raises the first error."""
    _run_pipelined(conn, commands, statements, then=("COMMIT",))


# A Bind of the unnamed portal to the unnamed statement, without parameters.
_BIND_UNNAMED = pg8000_message(BIND, NULL_BYTE + NULL_BYTE + H_pack(0) + H_pack(0) + H_pack(0))


def _send_commands(conn: pg8000.native.Connection, commands: Sequence[str]) -> list[Context]:
    """Parse, Bind and Execute of each command as the unnamed statement. A simple query would
    end with a ReadyForQuery of its own, which the server sends at once, ahead of the answers
    to the statements after it."""
    for command in commands:
        parse = NULL_BYTE + command.encode(conn._client_encoding) + NULL_BYTE + H_pack(0)
        conn._send_message(PARSE, parse)
        pg8000_write(conn._sock, _BIND_UNNAMED + EXECUTE_MSG)
    return [Context(command) for command in commands]


# pg8000's `send_BIND` and `send_EXECUTE` each add a Flush message, on which the server sends
# what it has so far: three sends per statement instead of one at the Sync, and as many
# wake-ups of a reader already waiting. The pipelines here build Bind and Execute without it.
def _send_execution(
    conn: pg8000.native.Connection,
    statement: pg8000.native.PreparedStatement,
    params: dict[str, Any],
) -> None:
    """Bind and Execute of a prepared statement, as its `run` sends them, without the Sync or
    the Flush messages (above)."""
    values = make_params(conn.py_types, statement.make_vals(params))
    conn._send_message(BIND, _bind_body(statement.name_bin, values, conn._client_encoding))
    pg8000_write(conn._sock, EXECUTE_MSG)


def _bind_body(name_bin: bytes, values: Sequence[str | None], encoding: str) -> bytearray:
    """A Bind of the unnamed portal to a prepared statement: parameters and results in text."""
    body = bytearray(NULL_BYTE + name_bin + H_pack(0) + H_pack(len(values)))
    for value in values:
        if value is None:
            body += i_pack(-1)
        else:
            data = value.encode(encoding)
            body += i_pack(len(data))
            body += data
    body += H_pack(0)
    return body


# What ends the answer to one command or statement of a pipeline.
_ANSWER_ENDS = frozenset((COMMAND_COMPLETE, EMPTY_QUERY_RESPONSE))


def _read_answers(conn: pg8000.native.Connection, contexts: list[Context]) -> None:
    """Reads the answers to one Sync, each to its context, up to ReadyForQuery, and only then
    raises the first error, so the connection stays in step with the server. pg8000's
    `handle_messages` reads one context's; here the contexts follow one another."""
    handlers = conn.message_types
    index, last = 0, len(contexts) - 1
    code = None
    while code != READY_FOR_QUERY:
        code, length = ci_unpack(pg8000_read(conn._sock, 5))
        handlers[code](pg8000_read(conn._sock, length - 4), contexts[min(index, last)])
        if code in _ANSWER_ENDS:
            index += 1
    for context in contexts:
        if context.error is not None:
            raise context.error


def open_connection(
    target: DatabaseTarget, *, database: str | None = None, **options: Any
) -> pg8000.native.Connection:
    """A pg8000 connection to a DATABASE_URL's server (or another database on it)."""

    def connect(ssl_context: SSLContext | bool) -> pg8000.native.Connection:
        return pg8000.native.Connection(
            user=target.user,
            host=target.host,
            port=target.port,
            database=database or target.database,
            password=target.password,
            unix_sock=target.unix_sock,
            ssl_context=ssl_context,
            **options,
        )

    try:
        return connect(target.ssl_context())
    except InterfaceError as exc:
        # Given a context, pg8000 closes the socket of a server that offers no TLS; `allow` and
        # `prefer` then speak plain text to it, as libpq does.
        if target.plaintext_fallback and exc.args == (_NO_TLS_OFFERED,):
            return connect(False)
        raise


class Database:
    def __init__(
        self,
        target: DatabaseTarget,
        *,
        connect_timeout_s: float = 5.0,
        statement_timeout_ms: int = 10_000,
        application_name: str = "passport-scorer",
    ) -> None:
        self._target = target
        self._connect_timeout_s = connect_timeout_s
        self._statement_timeout_ms = statement_timeout_ms
        self._application_name = application_name
        self._local = threading.local()

    def _connect(self) -> pg8000.native.Connection:
        try:
            conn = open_connection(
                self._target,
                timeout=self._connect_timeout_s,
                application_name=self._application_name,
                startup_params={"statement_timeout": str(self._statement_timeout_ms)},
            )
        except (InterfaceError, OSError) as exc:
            raise DatabaseUnavailable() from exc
        except DatabaseError as exc:
            # Authentication failures and "database does not exist" land here too.
            raise DatabaseUnavailable() from exc
        # The connect timeout must not cap statements; statement_timeout does that server-side,
        # and the socket timeout only catches a link that went silent.
        read_timeout = self._statement_timeout_ms / 1000 + 5 if self._statement_timeout_ms else None
        conn._usock.settimeout(read_timeout)
        conn.register_in_adapter(TIMESTAMPTZ, timestamptz_in)
        if conn._usock.family in (socket.AF_INET, socket.AF_INET6):
            # As libpq does: without it, a statement whose parameters span several TCP segments
            # waits for the server's delayed ACK (Nagle's algorithm), about 40 ms each time.
            conn._usock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            _prefer_generic_plans(conn)
        except (InterfaceError, OSError, DatabaseError) as exc:
            with suppress(Exception):
                conn.close()
            raise DatabaseUnavailable() from exc
        return conn

    def _connection(self) -> pg8000.native.Connection:
        conn: pg8000.native.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            self._local.statements = {}
        return conn

    def _discard(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with suppress(Exception):  # the socket may already be unusable
                conn.close()

    def _reopen(self) -> tuple[pg8000.native.Connection, Statements]:
        """A new connection in place of one whose socket died between requests."""
        self._discard()
        conn = self._connection()
        return conn, self._local.statements

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        self._connection()
        tx = Transaction(self._local.conn, self._local.statements, reopen=self._reopen)
        try:
            yield tx
        except BaseException as exc:
            if tx.began:
                self._rollback(self._local.conn)
            if isinstance(exc, (InterfaceError, OSError)) or is_unavailable(exc):
                if not tx.began:
                    self._discard()
                raise DatabaseUnavailable() from exc
            raise
        else:
            try:
                tx.commit()
            except (InterfaceError, OSError) as exc:
                self._discard()
                raise DatabaseUnavailable() from exc
            except DatabaseError as exc:
                # A failed COMMIT (a serialization failure, a full disk) has rolled back already.
                if is_unavailable(exc):
                    raise DatabaseUnavailable() from exc
                raise

    def _rollback(self, conn: pg8000.native.Connection) -> None:
        try:
            conn.run("ROLLBACK")
        except Exception:  # noqa: BLE001 - a dead link has nothing left to roll back
            self._discard()

    def close(self) -> None:
        self._discard()


def _prefer_generic_plans(conn: pg8000.native.Connection) -> None:
    """Every statement is prepared once per connection; by default PostgreSQL still plans one
    afresh on each execution while its plan for the actual parameters looks cheaper than the
    generic one. The scoring run's write is such a statement whenever it awards no points (the
    parameter that switches the Human Points CTEs off lets a fresh plan drop them): re-planning
    its dozen CTEs cost ~0.6 ms of server CPU a request, more than running it. Every statement
    here is a lookup or write by key, which a generic plan serves as well. Servers before
    PostgreSQL 12 do not know the setting, and keep planning as before."""
    try:
        conn.run("SET plan_cache_mode = force_generic_plan")
    except DatabaseError as exc:
        if sqlstate(exc) != "42704":  # undefined_object: an unknown setting
            raise


def timestamptz_in(text: str) -> Any:
    """A timestamptz column as pg8000 reads it, several times faster for the UTC values the server
    sends a UTC session: pg8000 parses every one with strptime, about 10 µs each, and a
    rescoring reads a dozen (cache rows, links, the key's expiry). The same datetime, with the
    same `timezone.utc`; anything else (other offsets, BC dates, infinity) goes to pg8000."""
    if text.endswith("+00") and text[4:5] == "-":
        try:
            return datetime.fromisoformat(text[:-3]).replace(tzinfo=UTC)
        except ValueError:
            pass
    return pg8000_timestamptz_in(text)


def sqlstate(exc: BaseException) -> str | None:
    if isinstance(exc, DatabaseError) and exc.args and isinstance(exc.args[0], dict):
        code = exc.args[0].get("C")
        return str(code) if code else None
    return None


def is_unavailable(exc: BaseException) -> bool:
    code = sqlstate(exc)
    return code is not None and code.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES)


def is_infrastructure_failure(exc: BaseException) -> bool:
    """Failures that must fail the whole request instead of being recorded as a domain outcome
    (an ERROR score, a route's own 4xx): the database is unreachable or failing (timeouts, locks,
    resources; answered 503), or a statement of ours is malformed (SQLSTATE class 42), a bug to
    surface as a 500."""
    if isinstance(exc, DatabaseUnavailable | InterfaceError | OSError) or is_unavailable(exc):
        return True
    return (sqlstate(exc) or "").startswith("42")


def _span_name(sql: str) -> str:
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
    return f"db.{verb}"
