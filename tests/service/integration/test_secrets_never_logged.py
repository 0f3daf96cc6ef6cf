"""API keys, tokens and cookies never reach the logs, whatever the request does."""

from __future__ import annotations

import logging

import falcon.testing
import pg8000.native
import pytest

from service.app import create_app
from service.db.connection import Database
from service.plumbing.logs import JsonFormatter
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc

SECRETS = (
    sc.API_KEY,
    sc.API_KEY.split(".", 1)[1],
    "Tst0Key1.wrong-secret-value-0000000000000",
    "session-cookie-value",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
)


@pytest.fixture
def client(
    clean_db: pg8000.native.Connection, settings: Settings, db: Database
) -> falcon.testing.TestClient:
    sc.build(clean_db)
    return falcon.testing.TestClient(create_app(settings, db))


def _all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = JsonFormatter()
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_auth_failures_and_successes_log_no_secret(
    client: falcon.testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = f"/v2/stamps/1/score/{sc.ADDRESS}"

    client.simulate_get(path, headers={"X-API-Key": SECRETS[2], "Cookie": f"s={SECRETS[3]}"})
    client.simulate_get(path, headers={"Authorization": f"Bearer {SECRETS[4]}"})
    client.simulate_get(path, headers={"X-API-Key": sc.API_KEY})
    client.simulate_get(
        path, query_string=f"api_key={sc.API_KEY}", headers={"X-API-Key": sc.API_KEY}
    )
    client.simulate_get("/internal/check-bans", headers={"Authorization": SECRETS[4]})
    client.simulate_get("/ceramic-cache/stamp", headers={"Authorization": f"Bearer {SECRETS[4]}"})

    text = _all_log_text(caplog)
    assert text, "the requests must have been logged"
    for secret in SECRETS:
        assert secret not in text
