"""Demo data for local runs: a community with weights, an API key, and signed stamps."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pg8000.native

from tools import seed
from tools.credential_signer import issuer_did, sign_stamp

DEMO_ADDRESS = "0xd3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3"
DEMO_WEIGHTS = {
    "Google": 1.0,
    "Github": 2.0,
    "Twitter": 1.0,
    "Discord": 0.5,
    "SelfStakingBronze": 1.25,
    "HolonymPhone": 1.5,
}
DEMO_THRESHOLD = "2.5"
DEMO_PROVIDERS = ("Google", "Github", "Twitter", "SelfStakingBronze", "HolonymPhone")


@dataclass(frozen=True)
class Demo:
    api_key: str
    community_id: int
    address: str
    issuer_did: str


def seed_demo(conn: pg8000.native.Connection) -> Demo:
    """A fresh issuer key each run: the local run trusts exactly this issuer."""
    issuer_key = "0x" + secrets.token_hex(32)
    account_id = seed.create_account(conn, address="0x" + "0d" * 20, username="demo")
    scorer_id = seed.create_scorer(conn, weights=DEMO_WEIGHTS, threshold=DEMO_THRESHOLD)
    community_id = seed.create_community(
        conn,
        account_id=account_id,
        scorer_id=scorer_id,
        name="Demo community",
        human_points_program=True,
    )
    key = seed.create_api_key(conn, account_id=account_id, name="demo", historical_endpoint=True)
    now = datetime.now(UTC).replace(microsecond=0)
    for provider in DEMO_PROVIDERS:
        credential = sign_stamp(
            issuer_key=issuer_key,
            address=DEMO_ADDRESS,
            provider=provider,
            nullifiers=[f"v0:{provider}:{secrets.token_hex(8)}"],
            issuance=now - timedelta(days=1),
            expiration=now + timedelta(days=90),
            created=now - timedelta(days=1),
        )
        seed.add_cached_stamp(
            conn, address=DEMO_ADDRESS, credential=credential, source_scorer_id=community_id
        )
    return Demo(
        api_key=key.key,
        community_id=community_id,
        address=DEMO_ADDRESS,
        issuer_did=issuer_did(issuer_key),
    )
