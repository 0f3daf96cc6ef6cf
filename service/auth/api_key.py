"""API-key authentication as the reference does it (ADR-0003).

Keys look like `<prefix>.<secret>`. The stored row is found by prefix; the secret is checked
against `hashed_key_sha256` (fast path) or Django's `pbkdf2_sha256$...` hash, after which the
SHA-256 form is stored so the next request takes the fast path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from service.db import api_keys
from service.db.api_keys import ApiKeyRow
from service.db.connection import Transaction
from service.plumbing.errors import InvalidApiKey

SHA256_PREFIX = "sha256$"
PBKDF2_PREFIX = "pbkdf2_sha256$"


@dataclass(frozen=True)
class AuthenticatedKey:
    key_id: str
    account_id: int
    prefix: str
    # The key's `rate_limit` ("125/15m", ...; "" and NULL mean unlimited), for the limiter.
    rate_limit: str | None = None
    historical_endpoint: bool = False


class ApiKeyRejected(InvalidApiKey):
    """401 for a key whose prefix matched a stored row, so the attempt can be attributed to it."""

    def __init__(self, key_id: str) -> None:
        super().__init__()
        self.key_id = key_id


def presented_key(
    get_header: Callable[[str], str | None], *, demo_key: str | None, demo_aliases: tuple[str, ...]
) -> str | None:
    """X-API-Key first (with the demo alias mapping), else the second token of Authorization."""
    key = get_header("X-API-Key") or ""
    if key and key in demo_aliases and demo_key:
        key = demo_key
    if not key:
        authorization = get_header("Authorization") or ""
        parts = authorization.split()
        # Any scheme is accepted ("Token K", "Bearer K"): only the second token matters.
        key = parts[1] if len(parts) >= 2 else ""
    return key or None


def key_prefix(key: str) -> str:
    return key.split(".", 1)[0]


def sha256_form(key: str) -> str:
    return SHA256_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def pbkdf2_matches(key: str, encoded: str) -> bool:
    """Django's check_password for `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`."""
    try:
        algorithm, iterations, salt, expected = encoded.split("$", 3)
        rounds = int(iterations)
    except ValueError:
        return False
    if algorithm != "pbkdf2_sha256" or rounds <= 0:
        return False
    derived = hashlib.pbkdf2_hmac("sha256", key.encode(), salt.encode(), rounds, dklen=32)
    return hmac.compare_digest(base64.b64encode(derived).decode("ascii"), expected)


def verify_secret(key: str, row: ApiKeyRow) -> tuple[bool, bool]:
    """Returns (valid, needs_sha256_migration)."""
    if row.hashed_key_sha256:
        # A stored fast-path hash is authoritative: a mismatch never falls back to PBKDF2.
        return hmac.compare_digest(row.hashed_key_sha256, sha256_form(key)), False
    if row.hashed_key.startswith(SHA256_PREFIX):
        return hmac.compare_digest(row.hashed_key, sha256_form(key)), False
    if row.hashed_key.startswith(PBKDF2_PREFIX):
        valid = pbkdf2_matches(key, row.hashed_key)
        return valid, valid
    return False, False


def authenticate(
    tx: Transaction,
    key: str | None,
    *,
    now: datetime,
    require_read_scores: bool = False,
    reject_revoked: bool = True,
    found: tuple[ApiKeyRow | None] | None = None,
) -> AuthenticatedKey:
    """Raises InvalidApiKey (or ApiKeyRejected when the prefix resolved) on any failure.

    `found` is the key's row (or None) when the caller has already read it by the key's
    prefix (`api_keys.BY_PREFIX_SQL`)."""
    if not key:
        raise InvalidApiKey()
    row = api_keys.find_by_prefix(tx, key_prefix(key)) if found is None else found[0]
    if row is None:
        raise InvalidApiKey()
    valid, needs_migration = verify_secret(key, row)
    if not valid:
        raise ApiKeyRejected(row.id)
    if reject_revoked and row.revoked:
        raise ApiKeyRejected(row.id)
    if row.expiry_date is not None and row.expiry_date <= now:
        raise ApiKeyRejected(row.id)
    if require_read_scores and not row.read_scores:
        raise ApiKeyRejected(row.id)
    if needs_migration:
        api_keys.store_sha256(tx, row.id, sha256_form(key))
    return AuthenticatedKey(
        key_id=row.id,
        account_id=row.account_id,
        prefix=row.prefix,
        rate_limit=row.rate_limit,
        historical_endpoint=row.historical_endpoint,
    )
