"""Service test harness: a real PostgreSQL for every test.

The database is an ephemeral cluster started here, or the one in DATABASE_URL when given (it must
be a throwaway database: every test starts by emptying every table).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pg8000.native
import pytest
from hypothesis import settings as hypothesis_settings

from service.db.connection import Database, open_connection
from service.plumbing.settings import Settings, parse_database_url
from tests.service.support.database import TableReset
from tests.service.support.redis_store import own_redis, redis_client, redis_url  # noqa: F401
from tools.pgcluster import EphemeralCluster, apply_schema

# Property tests: no per-example deadline (a loaded 2-core CI machine makes timings meaningless;
# speed is measured by `make bench`), and in CI a fixed example sequence, so a run is repeatable.
hypothesis_settings.register_profile("scorer", deadline=None)
hypothesis_settings.register_profile("scorer-ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile("scorer-ci" if os.environ.get("CI") else "scorer")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    cluster = EphemeralCluster.in_temp_dir()
    try:
        yield cluster.start()
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def admin_conn(database_url: str) -> Iterator[pg8000.native.Connection]:
    """A connection of the tests' own, for arranging rows and reading back what was written."""
    conn = open_connection(parse_database_url(database_url))
    apply_schema(conn)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def _table_reset(admin_conn: pg8000.native.Connection) -> TableReset:
    return TableReset.capture(admin_conn)


@pytest.fixture
def clean_db(
    admin_conn: pg8000.native.Connection, _table_reset: TableReset
) -> pg8000.native.Connection:
    _table_reset.reset(admin_conn)
    return admin_conn


@pytest.fixture
def settings_env(database_url: str) -> dict[str, str]:
    """The environment a test app is configured from; tests adjust it before building the app."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "CGRANTS_API_TOKEN": "test-internal-token",
        "TRUSTED_IAM_ISSUERS": "[]",
        "FF_API_ANALYTICS": "on",
        "FF_MULTI_NULLIFIER": "on",
    }


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    return Settings.from_env(settings_env)


@pytest.fixture
def db(settings: Settings, clean_db: pg8000.native.Connection) -> Iterator[Database]:
    database = Database(settings.database)
    yield database
    database.close()
