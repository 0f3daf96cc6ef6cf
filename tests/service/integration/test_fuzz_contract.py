"""Every route fuzzed against service/openapi.json, in process, with a fixed seed.

Schemathesis generates valid and invalid requests from the document (with a valid API key,
bearer token and internal token, and the world's community and address half of the time) and
checks that nothing answers 5xx and that every answer is documented: status, content type,
headers and body. `make fuzz` runs the same module against the local gunicorn server, longer.

The schema is loaded at import time rather than through `schemathesis.pytest.from_fixture`:
that loader sets `request.node._nodeid`, which pytest 9 no longer has. The app, which needs the
test database, is passed to each call instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pg8000.native
import pytest
import schemathesis

from service.app import create_app
from service.clients.stamp_metadata_source import StampMetadataSource
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import ceramic, fuzz, metadata_server
from tests.service.support import scenario as sc
from tools import seed
from tools.openapi_document import DOCUMENT_PATH

# Small and fixed for CI; `make fuzz` raises them and points the module at a live server.
MAX_EXAMPLES = int(os.environ.get("SCORER_FUZZ_MAX_EXAMPLES", "12"))
SEED = int(os.environ.get("SCORER_FUZZ_SEED", "20260101"))
LIVE_URL = os.environ.get("SCORER_FUZZ_BASE_URL")
INTERNAL_TOKEN = "test-internal-token"  # the harness's CGRANTS_API_TOKEN (conftest.py)


def _world() -> fuzz.FuzzWorld:
    if LIVE_URL:
        return fuzz.FuzzWorld(
            api_key=os.environ["SCORER_FUZZ_API_KEY"],
            bearer_token=os.environ["SCORER_FUZZ_BEARER_TOKEN"],
            internal_token=os.environ["SCORER_FUZZ_INTERNAL_TOKEN"],
            community_id=int(os.environ["SCORER_FUZZ_COMMUNITY_ID"]),
            address=os.environ["SCORER_FUZZ_ADDRESS"],
        )
    return fuzz.FuzzWorld(
        api_key=sc.API_KEY,
        bearer_token=ceramic.hs256_token(),
        internal_token=INTERNAL_TOKEN,
        community_id=ceramic.SCORER_ID,
        address=sc.ADDRESS,
    )


schema = schemathesis.openapi.from_path(
    DOCUMENT_PATH,
    config=fuzz.config(_world(), max_examples=MAX_EXAMPLES, seed=SEED, base_url=LIVE_URL),
)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return ceramic.ceramic_env(
        {
            **settings_env,
            "CGRANTS_API_TOKEN": INTERNAL_TOKEN,
            "HUMAN_POINTS_ENABLED": "true",
            "HUMAN_POINTS_WRITE_ENABLED": "true",
        }
    )


@pytest.fixture
def transport(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """How each case is sent: to the live server, or to the app built on the test database with
    the ceramic-cache community (CERAMIC_CACHE_SCORER_ID), its key (history included), signed
    stamps cached for the address the bearer token names, a score event for the history, and a
    stamp metadata source."""
    if LIVE_URL:
        yield {"base_url": LIVE_URL}
        return
    conn: pg8000.native.Connection = request.getfixturevalue("clean_db")
    settings: Settings = request.getfixturevalue("settings")
    db: Database = request.getfixturevalue("db")
    world = ceramic.build_world(conn, settings, db)
    seed.create_api_key(
        conn,
        account_id=world.account_id,
        key=sc.API_KEY,
        salt=sc.API_KEY_SALT,
        pbkdf2_iterations=1000,
        with_sha256=True,
        historical_endpoint=True,
    )
    for provider in ("Google", "Github", "Twitter"):
        ceramic.cache_row(conn, provider)
    seed.add_event(
        conn,
        address=sc.ADDRESS,
        community_id=ceramic.SCORER_ID,
        data={"score": "1", "evidence": {"rawScore": "3.5", "threshold": "2.5"}},
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    with metadata_server.running() as source:
        metadata = StampMetadataSource(source.base_url)
        yield {"app": create_app(settings, db, metadata=metadata)}


@schema.parametrize()
def test_every_operation_answers_as_documented(
    case: schemathesis.Case[Any], transport: dict[str, Any]
) -> None:
    # Checks that send requests of their own (ignored_auth) use the schema's transport.
    case.operation.schema.app = transport.get("app")
    case.call_and_validate(checks=fuzz.CHECKS, **transport)
