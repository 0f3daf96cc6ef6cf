"""A world for the ceramic-cache routes: the configured scorer, cache rows, bearer tokens."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon.testing
import jwt
import pg8000.native

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.snapshots import SCORING_TABLES, normalize, rows, written
from tools import seed

# PyJWT warns about HMAC keys shorter than the hash (up to 64 bytes for HS512); Django's are 50+.
SECRET_KEY = "ceramic-cache-tests-secret-key-" + "0123456789abcdef" * 3
DID_PREFIX = "did:pkh:eip155:1:"

# CERAMIC_CACHE_SCORER_ID of these tests: the id of the world's community.
SCORER_ID = 335


def ceramic_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "SECRET_KEY": SECRET_KEY,
        "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json(),
        "CERAMIC_CACHE_SCORER_ID": str(SCORER_ID),
    }


@dataclass
class CeramicWorld:
    conn: pg8000.native.Connection
    client: falcon.testing.TestClient
    account_id: int
    scorer_id: int

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        query: str | None = None,
    ) -> falcon.testing.Result:
        """`body` is sent as JSON, `raw` as it is. Without `headers` the request carries `token`
        (by default a valid one for ADDRESS) as its bearer token."""
        sent = dict(bearer(token or hs256_token()) if headers is None else headers)
        if body is not None:
            raw = json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        return self.client.simulate_request(
            method, path, body=raw, headers=sent, query_string=query
        )

    def bulk(self, method: str, body: Any = None, **kwargs: Any) -> falcon.testing.Result:
        return self.request(method, "/ceramic-cache/stamps/bulk", body, **kwargs)

    def score(
        self, address: str = sc.ADDRESS, *, method: str = "GET", **kwargs: Any
    ) -> falcon.testing.Result:
        return self.request(method, f"/ceramic-cache/score/{address}", **kwargs)


def build_world(
    conn: pg8000.native.Connection,
    settings: Settings,
    db: Database,
    *,
    weights: dict[str, Any] | None = None,
    human_points_program: bool = False,
) -> CeramicWorld:
    """An account owning community SCORER_ID, scored by a binary scorer (threshold 2.5)."""
    account_id = seed.create_account(conn, address="0x" + "0f" * 20)
    scorer_id = seed.create_scorer(
        conn, weights=sc.DEFAULT_WEIGHTS if weights is None else weights, threshold="2.5"
    )
    seed.create_community(
        conn,
        account_id=account_id,
        scorer_id=scorer_id,
        community_id=SCORER_ID,
        human_points_program=human_points_program,
    )
    client = falcon.testing.TestClient(create_app(settings, db))
    return CeramicWorld(conn, client, account_id, scorer_id)


def item(provider: str, *, address: str = sc.ADDRESS, **stamp_kwargs: Any) -> dict[str, Any]:
    """One `CacheStampPayload` carrying a signed stamp."""
    return {"provider": provider, "stamp": sc.stamp(provider, address=address, **stamp_kwargs)}


def cache_row(
    conn: pg8000.native.Connection,
    provider: str,
    *,
    address: str = sc.ADDRESS,
    stamp_type: int = 1,
    deleted_at: datetime | None = None,
    source_app: int | None = 1,
    source_scorer_id: int | None = None,
) -> int:
    """A cache row as the reference writes it, holding a valid signed stamp."""
    return seed.add_cached_stamp(
        conn,
        address=address,
        credential=sc.stamp(provider, address=address),
        stamp_type=stamp_type,
        deleted_at=deleted_at,
        source_app=source_app,
        source_scorer_id=source_scorer_id,
    )


def access_claims(address: str = sc.ADDRESS, **overrides: Any) -> dict[str, Any]:
    """The reference's HS256 access-token claims (api/ceramic_cache/api/v1.py); `None` drops one."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "token_type": "access",
        "exp": int((now + timedelta(days=1)).timestamp()),
        "iat": int(now.timestamp()),
        "jti": uuid.uuid4().hex,
        "did": DID_PREFIX + address,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def hs256_token(address: str = sc.ADDRESS, *, key: str = SECRET_KEY, **overrides: Any) -> str:
    return jwt.encode(access_claims(address, **overrides), key, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cache_rows(conn: pg8000.native.Connection) -> list[dict[str, Any]]:
    """ceramic_cache_ceramiccache by id, each credential shortened to what identifies it."""
    return [_short(row) for row in rows(conn, "ceramic_cache_ceramiccache")]


def short_stamps(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A response's `stamps` list with each credential shortened the same way."""
    return [{**entry, "stamp": _short_credential(entry["stamp"])} for entry in entries]


def _short(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "stamp": _short_credential(row["stamp"]),
        "proof_value": _short_proof(row["proof_value"]),
    }


def _short_credential(credential: Any) -> Any:
    if not isinstance(credential, dict) or not isinstance(credential.get("proof"), dict):
        return credential
    subject = credential.get("credentialSubject") or {}
    return (
        f"<credential {subject.get('provider')} for {subject.get('id')},"
        f" proof {_short_proof(credential['proof'].get('proofValue'))}>"
    )


def _short_proof(value: Any) -> Any:
    return f"{value[:10]}…" if isinstance(value, str) and len(value) > 12 else value


def written_rows(conn: pg8000.native.Connection) -> dict[str, Any]:
    """The cache and every table a scoring run writes, credentials shortened."""
    tables = written(conn, SCORING_TABLES)
    tables["registry_stamp"] = [
        {**row, "credential": _short_credential(row["credential"])}
        for row in tables["registry_stamp"]
    ]
    return {"ceramic_cache_ceramiccache": cache_rows(conn), **tables}


def outcome(result: falcon.testing.Result, conn: pg8000.native.Connection) -> dict[str, Any]:
    """Status, body and rows of a request, ready for a snapshot."""
    body = result.json
    if isinstance(body, dict) and isinstance(body.get("stamps"), list):
        body = {**body, "stamps": short_stamps(body["stamps"])}
    return {"status": result.status_code, "body": normalize(body), "rows": written_rows(conn)}
