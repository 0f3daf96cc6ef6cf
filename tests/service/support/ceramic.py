"""Arranging ceramic-cache rows and minting the bearer tokens the ceramic-cache routes accept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pg8000.native

from tests.service.support import scenario as sc
from tests.service.support.snapshots import rows
from tools import seed

# PyJWT warns about HMAC keys shorter than the hash (up to 64 bytes for HS512); Django's are 50+.
SECRET_KEY = "ceramic-cache-tests-secret-key-" + "0123456789abcdef" * 3
DID_PREFIX = "did:pkh:eip155:1:"


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
    """The claims of the reference's HS256 access token (endpoints.md §2.7); `None` drops one."""
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
