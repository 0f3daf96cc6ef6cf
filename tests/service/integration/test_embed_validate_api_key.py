"""GET /internal/embed/validate-api-key: a partner's API key and its embed rate limit."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.snapshots import rows
from tools import seed

PATH = "/internal/embed/validate-api-key"
DEMO_ALIAS = "demo-alias-key"


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "DEMO_API_KEY": sc.API_KEY,
        "DEMO_API_KEY_ALIASES": f'["{DEMO_ALIAS}"]',
    }


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> sc.Scenario:
    world = sc.build(clean_db)
    world.client = falcon.testing.TestClient(create_app(settings, db))
    return world


def validate(world: sc.Scenario, headers: dict[str, str]) -> falcon.testing.Result:
    assert world.client is not None
    return world.client.simulate_get(PATH, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-API-Key": sc.API_KEY}, id="x-api-key"),
        pytest.param({"Authorization": f"Token {sc.API_KEY}"}, id="authorization-token"),
        pytest.param({"Authorization": f"Bearer {sc.API_KEY}"}, id="authorization-bearer"),
        pytest.param({"X-API-Key": DEMO_ALIAS}, id="demo-alias"),
        pytest.param(
            {"X-API-Key": "", "Authorization": f"Token {sc.API_KEY}"}, id="empty-x-api-key"
        ),
    ],
)
def test_a_valid_key_answers_its_embed_rate_limit(
    world: sc.Scenario, snapshot: SnapshotAssertion, headers: dict[str, str]
) -> None:
    result = validate(world, headers)

    assert result.status_code == 200
    assert result.json == snapshot


@pytest.mark.parametrize("value", ["2000/15m", "", None])
def test_the_stored_rate_limit_is_answered_as_is(world: sc.Scenario, value: str | None) -> None:
    world.conn.run("UPDATE account_accountapikey SET embed_rate_limit = :v", v=value)

    result = validate(world, {"X-API-Key": sc.API_KEY})

    assert result.json == {"embed_rate_limit": value}


def test_read_scores_is_not_required(world: sc.Scenario) -> None:
    world.conn.run("UPDATE account_accountapikey SET read_scores = false")

    result = validate(world, {"X-API-Key": sc.API_KEY})

    assert result.status_code == 200


def test_a_pbkdf2_only_key_is_accepted_and_migrated_to_sha256(world: sc.Scenario) -> None:
    world.conn.run("UPDATE account_accountapikey SET hashed_key_sha256 = NULL")

    result = validate(world, {"X-API-Key": sc.API_KEY})

    assert result.status_code == 200
    [[stored]] = world.conn.run("SELECT hashed_key_sha256 FROM account_accountapikey")
    assert stored == "sha256$" + hashlib.sha256(sc.API_KEY.encode()).hexdigest()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-key"),
        pytest.param({"Authorization": "Token"}, id="single-token-authorization"),
        pytest.param(
            {"X-API-Key": "Unknown0.abcdefghijklmnopqrstuvwxyz012345"}, id="unknown-prefix"
        ),
        pytest.param({"X-API-Key": sc.API_KEY.split(".")[0] + ".wrong-secret"}, id="wrong-secret"),
        pytest.param({"X-API-Key": "no-dot-at-all"}, id="no-prefix-separator"),
    ],
)
def test_a_missing_or_wrong_key_is_a_401(world: sc.Scenario, headers: dict[str, str]) -> None:
    result = validate(world, headers)

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"revoked": True}, id="revoked"),
        pytest.param({"expiry_date": datetime.now(UTC) - timedelta(days=1)}, id="expired"),
    ],
)
def test_an_unusable_key_is_a_401(world: sc.Scenario, change: dict[str, object]) -> None:
    [(column, value)] = change.items()
    world.conn.run(f"UPDATE account_accountapikey SET {column} = :v", v=value)

    result = validate(world, {"X-API-Key": sc.API_KEY})

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}


def test_no_analytics_row_is_written_on_success_or_failure(world: sc.Scenario) -> None:
    validate(world, {"X-API-Key": sc.API_KEY})
    validate(world, {"X-API-Key": sc.API_KEY.split(".")[0] + ".wrong-secret"})

    assert rows(world.conn, "account_accountapikeyanalytics") == []


def test_a_rejected_pbkdf2_key_is_not_migrated(world: sc.Scenario) -> None:
    world.conn.run("UPDATE account_accountapikey SET hashed_key_sha256 = NULL, revoked = true")

    validate(world, {"X-API-Key": sc.API_KEY})

    [[stored]] = world.conn.run("SELECT hashed_key_sha256 FROM account_accountapikey")
    assert stored is None


def test_the_internal_key_is_not_a_partner_key(world: sc.Scenario) -> None:
    result = validate(world, {"Authorization": "test-internal-token"})

    assert result.status_code == 401


def test_another_accounts_key_is_valid_too(world: sc.Scenario) -> None:
    other = seed.create_account(world.conn, address="0x" + "cc" * 20)
    key = seed.create_api_key(
        world.conn, account_id=other, pbkdf2_iterations=1000, with_sha256=True
    )

    result = validate(world, {"X-API-Key": key.key})

    assert result.json == {"embed_rate_limit": "125/15m"}
