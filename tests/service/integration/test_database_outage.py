"""With the database stopped, requests fail fast with 503 JSON; once it is back, the service
recovers by itself, without a restart."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import falcon
import falcon.testing
import pytest

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tools.pgcluster import EphemeralCluster, apply_schema

CONNECT_TIMEOUT_S = 2.0


class Counts:
    """A test-only route that reads through the request's transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self._db.transaction() as tx:
            resp.media = {"configs": tx.scalar("SELECT count(*) FROM registry_humanpointsconfig")}


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[EphemeralCluster]:
    """A cluster of this module's own: stopping the shared one would break other tests."""
    cluster = EphemeralCluster.in_temp_dir()
    url = cluster.start()
    conn = cluster.connect()
    apply_schema(conn)
    conn.close()
    assert url
    yield cluster
    cluster.destroy()


@pytest.fixture
def client(own_cluster: EphemeralCluster) -> falcon.testing.TestClient:
    settings = Settings.from_env(
        {
            "DATABASE_URL": own_cluster.url,
            "SECRET_KEY": "k",
            "CGRANTS_API_TOKEN": "t",
            "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S),
        }
    )
    app = create_app(settings)
    db = Database(settings.database, connect_timeout_s=CONNECT_TIMEOUT_S)
    app.add_route("/test-only/counts", Counts(db))
    return falcon.testing.TestClient(app)


@pytest.mark.slow
def test_outage_answers_503_fast_and_recovery_needs_no_restart(
    own_cluster: EphemeralCluster, client: falcon.testing.TestClient
) -> None:
    assert client.simulate_get("/test-only/counts").status_code == 200

    own_cluster.stop()
    try:
        during = client.simulate_get("/test-only/counts")
        assert during.status_code == 503
        assert during.json == {"detail": "Service temporarily unavailable, please retry"}
        assert during.headers["retry-after"] == "1"
        again = client.simulate_get("/test-only/counts")
        assert again.status_code == 503
    finally:
        own_cluster.start()

    after = client.simulate_get("/test-only/counts")
    assert after.status_code == 200
    assert after.json == {"configs": 10}


@pytest.mark.slow
def test_health_stays_up_during_an_outage(
    own_cluster: EphemeralCluster, client: falcon.testing.TestClient
) -> None:
    own_cluster.stop()
    try:
        assert client.simulate_get("/health").status_code == 200
    finally:
        own_cluster.start()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers, like a hung database host."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


def test_a_database_that_never_answers_gives_503_once_the_connect_timeout_passes(
    silent_server: int,
) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{silent_server}/scorer",
            "SECRET_KEY": "k",
            "CGRANTS_API_TOKEN": "t",
            "DB_CONNECT_TIMEOUT": "0.5",
        }
    )
    db = Database(settings.database, connect_timeout_s=settings.db_connect_timeout_s)
    app = create_app(settings, db)
    app.add_route("/test-only/counts", Counts(db))

    started = time.monotonic()
    result = falcon.testing.TestClient(app).simulate_get("/test-only/counts")

    assert result.status_code == 503
    # The guarantee under test is the bound itself: a hung host costs one connect timeout.
    assert time.monotonic() - started < 0.5 + 2.0
