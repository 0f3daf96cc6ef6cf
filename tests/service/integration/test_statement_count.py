"""SQL statements per v2 score request: at most 9, whatever the stamp count, with every write on
(analytics, Human Points awards and reporting), for a first scoring and for a rescoring; and the
SAVEPOINTs travel with the statement after them, and the key, the passport upsert and the stamp
read travel together, so five fewer round trips than statements; BEGIN travels with the first
and COMMIT with the last (the analytics row), so that is every round trip of the request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import falcon.testing
import pg8000.native
import pytest

from service.app import create_app
from service.db.connection import Database, Transaction
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc

MAX_STATEMENTS = 9
SAVEPOINTS = 3  # before the upsert read ahead of authentication, the run's write, the analytics
TRAVELLING_TOGETHER = 2  # the passport upsert and the stamp read, sent with the key's read
PROVIDERS = [f"Provider{index:02d}" for index in range(12)]


class CountingDatabase(Database):
    """The real Database; it also keeps each finished transaction's statement count."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.database)
        # (statements, round trips, whether COMMIT went alone) per transaction
        self.counts: list[tuple[int, int, bool | None]] = []

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with super().transaction() as tx:
            yield tx
        self.counts.append((tx.statement_count, tx.round_trips, tx.committed_alone))


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json(),
        "FF_API_ANALYTICS": "on",
        "HUMAN_POINTS_ENABLED": "true",
        "HUMAN_POINTS_WRITE_ENABLED": "true",
        "HUMAN_POINTS_MTA_ENABLED": "true",
    }


@pytest.fixture
def counting_db(
    settings: Settings, clean_db: pg8000.native.Connection
) -> Iterator[CountingDatabase]:
    database = CountingDatabase(settings)
    yield database
    database.close()


@pytest.fixture
def world(
    clean_db: pg8000.native.Connection, settings: Settings, counting_db: CountingDatabase
) -> sc.Scenario:
    world = sc.build(clean_db, weights=dict.fromkeys(PROVIDERS, 1), threshold="1")
    clean_db.run(
        "UPDATE account_community SET human_points_program = true WHERE id = :id",
        id=world.community_id,
    )
    world.client = falcon.testing.TestClient(create_app(settings, counting_db))
    return world


def _statements_of_one_request(
    world: sc.Scenario, db: CountingDatabase, address: str, query: str | None
) -> tuple[int, int, bool | None]:
    db.counts.clear()
    result = world.score(address, query=query)
    assert result.status_code == 200
    assert result.json["error"] is None
    assert result.json["passing_score"] is True
    assert len(db.counts) == 1, "one transaction per request"
    return db.counts[0]


@pytest.mark.parametrize("query", [None, "include_human_points=true"])
def test_a_v2_score_request_runs_at_most_9_statements_whatever_the_stamp_count(
    world: sc.Scenario, counting_db: CountingDatabase, query: str | None
) -> None:
    # The connection's first request also prepares each statement once (a round trip each).
    world.cache(sc.stamp(PROVIDERS[0], address=sc.OTHER_ADDRESS), address=sc.OTHER_ADDRESS)
    _statements_of_one_request(world, counting_db, sc.OTHER_ADDRESS, query)
    counts: dict[tuple[int, str], tuple[int, int, bool | None]] = {}
    for index, stamp_count in enumerate((1, 3, 12)):
        address = "0x" + f"{index + 1:02x}" * 20
        for provider in PROVIDERS[:stamp_count]:
            world.cache(sc.stamp(provider, address=address), address=address)
        counts[stamp_count, "first"] = _statements_of_one_request(
            world, counting_db, address, query
        )
        counts[stamp_count, "again"] = _statements_of_one_request(
            world, counting_db, address, query
        )

    assert len(set(counts.values())) == 1, counts
    statements, round_trips, committed_alone = next(iter(counts.values()))
    assert statements <= MAX_STATEMENTS, counts
    assert round_trips == statements - SAVEPOINTS - TRAVELLING_TOGETHER, counts
    assert committed_alone is False, counts
    # Points were awarded and the analytics rows written by those very requests.
    assert world.conn.run("SELECT count(*) FROM registry_humanpoints")[0][0] > 0
    assert world.conn.run("SELECT count(*) FROM account_accountapikeyanalytics")[0][0] == 7
