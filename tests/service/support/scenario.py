"""A small world for scoring tests: an account, a scorer, a community, a key, an issuer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import falcon.testing
import pg8000.native

from tools import seed
from tools.credential_signer import issuer_did, sign_stamp

# Fixed keys and dates keep signatures, ids and snapshots identical from run to run.
ISSUER_KEY = "0x" + "11" * 32
OTHER_ISSUER_KEY = "0x" + "22" * 32
API_KEY = "Tst0Key1.abcdefghijklmnopqrstuvwxyz012345"
API_KEY_SALT = "fixedsaltfortests00001"
ISSUED = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
EXPIRES = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)
ADDRESS = "0x" + "aa" * 20
OTHER_ADDRESS = "0x" + "bb" * 20
DEFAULT_WEIGHTS: dict[str, Any] = {"Google": 1.0, "Github": 2.0, "Twitter": 1.0, "Discord": 0.5}


def stamp(
    provider: str,
    *,
    address: str = ADDRESS,
    nullifiers: list[str] | None = None,
    expires: datetime = EXPIRES,
    issuer_key: str = ISSUER_KEY,
    created: datetime | None = None,
) -> dict[str, Any]:
    return sign_stamp(
        issuer_key=issuer_key,
        address=address,
        provider=provider,
        nullifiers=nullifiers if nullifiers is not None else [f"v0:{provider}:{address}"],
        issuance=ISSUED,
        expiration=expires,
        created=created or ISSUED,
    )


@dataclass
class Scenario:
    conn: pg8000.native.Connection
    account_id: int
    community_id: int
    scorer_id: int
    api_key: seed.ApiKey
    client: falcon.testing.TestClient | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def cache(self, credential: dict[str, Any], *, address: str = ADDRESS, **kwargs: Any) -> int:
        return seed.add_cached_stamp(self.conn, address=address, credential=credential, **kwargs)

    def score(
        self,
        address: str = ADDRESS,
        *,
        scorer_id: int | str | None = None,
        headers: dict[str, str] | None = None,
        query: str | None = None,
    ) -> falcon.testing.Result:
        assert self.client is not None
        sid = self.community_id if scorer_id is None else scorer_id
        return self.client.simulate_get(
            f"/v2/stamps/{sid}/score/{address}",
            headers={"X-API-Key": self.api_key.key} if headers is None else headers,
            query_string=query,
        )


def build(
    conn: pg8000.native.Connection,
    *,
    weights: dict[str, Any] | None = None,
    threshold: str = "2.5",
    scorer_type: str = "WEIGHTED_BINARY",
) -> Scenario:
    account_id = seed.create_account(conn, address="0x" + "0f" * 20)
    scorer_id = seed.create_scorer(
        conn,
        weights=DEFAULT_WEIGHTS if weights is None else weights,
        threshold=threshold,
        scorer_type=scorer_type,
    )
    community_id = seed.create_community(conn, account_id=account_id, scorer_id=scorer_id)
    key = seed.create_api_key(
        conn,
        account_id=account_id,
        key=API_KEY,
        salt=API_KEY_SALT,
        pbkdf2_iterations=1000,
        with_sha256=True,
    )
    return Scenario(conn, account_id, community_id, scorer_id, key)


def trusted_issuers_json() -> str:
    return f'["{issuer_did(ISSUER_KEY)}"]'
