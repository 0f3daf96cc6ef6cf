"""The benchmark's data: one community with a trusted issuer and an API key, and addresses whose
cached stamps are signed here, so the whole pipeline (verification included) runs on every request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pg8000.native

from service.db.connection import open_connection
from service.plumbing.settings import parse_database_url
from tools import seed
from tools.credential_signer import issuer_did, sign_stamp

STAMP_COUNTS = (1, 5, 10, 25)
THROUGHPUT_STAMPS = 5
CLIENT_COUNTS = (1, 4, 16)
STATEMENT_STAMP_COUNTS = (1, 25)
# Passports scored once each over HTTP: stamps the server has never verified.
FIRST_SCORE_PASSPORTS = {5: 20, 25: 20}
PROVIDERS = tuple(f"BenchProvider{index:02d}" for index in range(max(STAMP_COUNTS)))
# Every provider weighs 1, so an N-stamp passport scores N; 5 and more pass.
THRESHOLD = "4.5"
# Cached stamps of the address whose first stamps-list page is measured: a full page.
STAMPS_PAGE_ITEMS = 1000


@dataclass(frozen=True)
class World:
    database_url: str
    api_key: str
    community_id: int
    issuer_key: str
    # stamp count -> the address rescored by the latency runs
    latency_addresses: Mapping[int, str]
    # one 5-stamp address per concurrent client, so clients do not queue on one passport's locks
    client_addresses: tuple[str, ...]
    # stamp count -> an address no request has scored yet (its first request is a first scoring)
    statement_addresses: Mapping[int, str]
    # stamp count -> addresses that are each scored once, by the first-scoring latency run
    first_score_addresses: Mapping[int, tuple[str, ...]]
    credentials: Mapping[str, list[dict[str, Any]]]
    # an address with STAMPS_PAGE_ITEMS cached stamps, for the stamps list
    stamps_page_address: str

    @property
    def issuer_did(self) -> str:
        return issuer_did(self.issuer_key)

    def score_path(self, address: str) -> str:
        # Human Points reported as well as awarded: every write and read of a v2 request on.
        return f"/v2/stamps/{self.community_id}/score/{address}?include_human_points=true"

    def history_path(self, address: str) -> str:
        # Any later moment answers from the newest event, like a client asking about "now".
        return f"{self.score_path(address)}/history?created_at=2999-01-01T00:00:00Z"

    def stamps_path(self, address: str) -> str:
        return f"/v2/stamps/{address}?limit={STAMPS_PAGE_ITEMS}"

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    def server_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """The service's configuration for the benchmark: analytics on, Human Points awarded
        and reported (the community is in the program), this world's issuer trusted, nothing
        from the caller's environment that changes what a request does (tracing, other
        feature flags)."""
        env = {
            name: value
            for name, value in base.items()
            if not name.startswith(("OTEL_", "HUMAN_POINTS_", "FF_", "DEMO_API_", "RATELIMIT_"))
            and name not in _SERVICE_VARIABLES
        }
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "SECRET_KEY": secrets.token_urlsafe(32),
                "CGRANTS_API_TOKEN": secrets.token_urlsafe(24),
                "TRUSTED_IAM_ISSUERS": json.dumps([self.issuer_did]),
                "FF_API_ANALYTICS": "on",
                "HUMAN_POINTS_ENABLED": "true",
                "HUMAN_POINTS_WRITE_ENABLED": "true",
                "HUMAN_POINTS_MTA_ENABLED": "true",
                "LOG_LEVEL": "INFO",
            }
        )
        return env


# Variables the service reads that the benchmark sets itself or wants unset.
_SERVICE_VARIABLES = frozenset(
    {
        "DATABASE_URL",
        "SECRET_KEY",
        "CGRANTS_API_TOKEN",
        "TRUSTED_IAM_ISSUERS",
        "CERAMIC_CACHE_SCORER_ID",
        "SETTINGS_SECRET_ARN",
        "LOG_LEVEL",
        "WEB_CONCURRENCY",
        "DB_CONNECT_TIMEOUT",
        "DB_STATEMENT_TIMEOUT_MS",
        "CELERY_BROKER_URL",
        "PASSPORT_PUBLIC_URL",
    }
)


def connect(database_url: str) -> pg8000.native.Connection:
    return open_connection(parse_database_url(database_url))


def build_world(conn: pg8000.native.Connection, database_url: str) -> World:
    """Seeds fresh rows. Addresses carry a per-run token, so runs against a shared DATABASE_URL
    never load each other's stamps."""
    run_token = secrets.token_hex(4)
    issuer_key = "0x" + secrets.token_hex(32)
    now = datetime.now(UTC).replace(microsecond=0)

    conn.run("START TRANSACTION")
    try:
        account_id = seed.create_account(
            conn, address=_address(run_token, "account"), username=f"bench-{run_token}"
        )
        scorer_id = seed.create_scorer(
            conn, weights=dict.fromkeys(PROVIDERS, 1.0), threshold=THRESHOLD
        )
        community_id = seed.create_community(
            conn,
            account_id=account_id,
            scorer_id=scorer_id,
            name=f"Bench {run_token}",
            human_points_program=True,
        )
        # Production keys have been migrated to the SHA-256 fast path by their first request.
        key = seed.create_api_key(
            conn, account_id=account_id, name="bench", with_sha256=True, historical_endpoint=True
        )

        credentials: dict[str, list[dict[str, Any]]] = {}

        def passport(label: str, count: int) -> str:
            address = _address(run_token, label)
            credentials[address] = _cache_stamps(
                conn,
                address=address,
                count=count,
                issuer_key=issuer_key,
                now=now,
                community_id=community_id,
            )
            return address

        latency = {count: passport(f"latency-{count}", count) for count in STAMP_COUNTS}
        clients = tuple(
            passport(f"client-{index}", THROUGHPUT_STAMPS) for index in range(max(CLIENT_COUNTS))
        )
        statements = {
            count: passport(f"statements-{count}", count) for count in STATEMENT_STAMP_COUNTS
        }
        first_scores = {
            count: tuple(passport(f"first-{count}-{index}", count) for index in range(passports))
            for count, passports in FIRST_SCORE_PASSPORTS.items()
        }
        stamps_page = _address(run_token, "stamps-page")
        _cache_copies(conn, address=stamps_page, issuer_key=issuer_key, now=now)
        conn.run("COMMIT")
    except BaseException:
        conn.run("ROLLBACK")
        raise
    # Statistics, as autovacuum keeps them on a live database: without them the planner takes
    # every freshly seeded table for empty and plans the service's statements for that.
    conn.run("ANALYZE")
    return World(
        database_url=database_url,
        api_key=key.key,
        community_id=community_id,
        issuer_key=issuer_key,
        latency_addresses=latency,
        client_addresses=clients,
        statement_addresses=statements,
        first_score_addresses=first_scores,
        credentials=credentials,
        stamps_page_address=stamps_page,
    )


def _address(run_token: str, label: str) -> str:
    return "0x" + hashlib.sha256(f"bench:{run_token}:{label}".encode()).hexdigest()[:40]


def _cache_stamps(
    conn: pg8000.native.Connection,
    *,
    address: str,
    count: int,
    issuer_key: str,
    now: datetime,
    community_id: int,
) -> list[dict[str, Any]]:
    signed = sign_stamps(issuer_key=issuer_key, address=address, count=count, now=now)
    for credential in signed:
        seed.add_cached_stamp(
            conn, address=address, credential=credential, source_scorer_id=community_id
        )
    return signed


def _cache_copies(
    conn: pg8000.native.Connection, *, address: str, issuer_key: str, now: datetime
) -> None:
    """STAMPS_PAGE_ITEMS rows carrying one real signed credential (the stamps list only reads
    them back), each under its own provider name as the one-live-row-per-provider index needs."""
    [credential] = sign_stamps(issuer_key=issuer_key, address=address, count=1, now=now)
    conn.run(
        "INSERT INTO ceramic_cache_ceramiccache (address, provider, stamp, created_at, updated_at,"
        " type, deleted_at, compose_db_save_status, compose_db_stream_id, proof_value)"
        " SELECT :address, 'BenchListed' || n, CAST(:stamp AS jsonb), now(), now(), 1, NULL,"
        " 'pending', '', 'bench-listed-' || n FROM generate_series(1, :count) AS n",
        address=address,
        stamp=json.dumps(credential),
        count=STAMPS_PAGE_ITEMS,
    )


def sign_stamps(
    *, issuer_key: str, address: str, count: int, now: datetime, tag: str = ""
) -> list[dict[str, Any]]:
    """`count` stamps of distinct providers; a different `tag` gives different credentials
    (nullifiers, hence signatures) for the same address."""
    return [
        sign_stamp(
            issuer_key=issuer_key,
            address=address,
            provider=provider,
            nullifiers=[f"v0:{provider}:{address}{tag}"],
            issuance=now - timedelta(days=1),
            expiration=now + timedelta(days=90),
        )
        for provider in PROVIDERS[:count]
    ]
