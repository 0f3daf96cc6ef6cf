"""Row builders for the Django-owned tables: demo data, tests and benchmarks arrange rows with them.

They write what the Django ORM would write (every NOT NULL column, Django-side defaults), so the
service sees the same rows it would see in production.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pg8000.native

_ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True)
class ApiKey:
    key: str  # the full `prefix.secret`, shown to the user once
    id: str
    prefix: str


def _json(value: Any) -> str:
    return json.dumps(value)


def _timestamp_or_none(value: Any) -> str | None:
    """The cache's date columns, for credentials whose dates a test made unparseable on purpose."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.isoformat() if parsed.tzinfo else None


def create_account(
    conn: pg8000.native.Connection, *, address: str, username: str | None = None
) -> int:
    now = datetime.now(UTC)
    user_id = conn.run(
        "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name,"
        " last_name, email, is_staff, is_active, date_joined) VALUES ('!', NULL, false, :username,"
        " '', '', '', false, true, :now) RETURNING id",
        username=username or address,
        now=now,
    )[0][0]
    return int(
        conn.run(
            "INSERT INTO account_account (address, user_id) VALUES (:address, :user_id)"
            " RETURNING id",
            address=address.lower(),
            user_id=user_id,
        )[0][0]
    )


def create_scorer(
    conn: pg8000.native.Connection,
    *,
    weights: dict[str, Any] | None,
    threshold: str = "20",
    scorer_type: str = "WEIGHTED_BINARY",
) -> int:
    scorer_id = conn.run(
        "INSERT INTO scorer_weighted_scorer (type, exclude_from_weight_updates)"
        " VALUES (:type, false) RETURNING id",
        type=scorer_type,
    )[0][0]
    table = (
        "scorer_weighted_binaryweightedscorer"
        if scorer_type == "WEIGHTED_BINARY"
        else "scorer_weighted_weightedscorer"
    )
    conn.run(
        f"INSERT INTO {table} (scorer_ptr_id, weights, threshold)"
        " VALUES (:id, CAST(:weights AS jsonb), CAST(:threshold AS numeric))",
        id=scorer_id,
        weights=None if weights is None else _json(weights),
        threshold=threshold,
    )
    return int(scorer_id)


def create_community(
    conn: pg8000.native.Connection,
    *,
    account_id: int,
    scorer_id: int,
    name: str = "Community",
    rule: str = "LIFO",
    external_scorer_id: str | None = None,
    human_points_program: bool = False,
    community_id: int | None = None,
) -> int:
    columns = (
        "name, description, account_id, scorer_id, created_at, rule, use_case, deleted_at,"
        " external_scorer_id, human_points_program"
    )
    values = (
        ":name, 'My community', :account_id, :scorer_id, now(), :rule, NULL, NULL,"
        " :external_scorer_id, :human_points_program"
    )
    if community_id is not None:
        columns = "id, " + columns
        values = ":id, " + values
    return int(
        conn.run(
            f"INSERT INTO account_community ({columns}) VALUES ({values}) RETURNING id",
            id=community_id,
            name=name,
            account_id=account_id,
            scorer_id=scorer_id,
            rule=rule,
            external_scorer_id=external_scorer_id,
            human_points_program=human_points_program,
        )[0][0]
    )


def django_pbkdf2(key: str, *, iterations: int = 600_000, salt: str | None = None) -> str:
    """Django's `make_password` for the pbkdf2_sha256 hasher."""
    salt = salt or "".join(secrets.choice(_ALPHANUMERIC) for _ in range(22))
    digest = hashlib.pbkdf2_hmac("sha256", key.encode(), salt.encode(), iterations, dklen=32)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode('ascii')}"


def create_api_key(
    conn: pg8000.native.Connection,
    *,
    account_id: int,
    name: str = "key",
    key: str | None = None,
    pbkdf2_iterations: int = 600_000,
    salt: str | None = None,
    with_sha256: bool = False,
    revoked: bool = False,
    expiry_date: datetime | None = None,
    read_scores: bool = True,
    historical_endpoint: bool = False,
) -> ApiKey:
    """A djangorestframework-api-key style key: 8-char prefix, '.', 32-char secret."""
    if key is None:
        prefix = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(8))
        key = prefix + "." + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(32))
    prefix = key.split(".", 1)[0]
    hashed_key = django_pbkdf2(key, iterations=pbkdf2_iterations, salt=salt)
    key_id = f"{prefix}.{hashed_key}"
    sha256 = "sha256$" + hashlib.sha256(key.encode()).hexdigest() if with_sha256 else None
    conn.run(
        "INSERT INTO account_accountapikey (id, prefix, hashed_key, created, name, revoked,"
        " expiry_date, account_id, rate_limit, create_scorers, read_scores, submit_passports,"
        " analysis_rate_limit, historical_endpoint, embed_rate_limit, hashed_key_sha256)"
        " VALUES (:id, :prefix, :hashed_key, now(), :name, :revoked, :expiry_date, :account_id,"
        " '125/15m', false, :read_scores, true, '15/15m', :historical_endpoint, '125/15m',"
        " :sha256)",
        id=key_id,
        prefix=prefix,
        hashed_key=hashed_key,
        name=name,
        revoked=revoked,
        expiry_date=expiry_date,
        account_id=account_id,
        read_scores=read_scores,
        historical_endpoint=historical_endpoint,
        sha256=sha256,
    )
    return ApiKey(key=key, id=key_id, prefix=prefix)


def add_cached_stamp(
    conn: pg8000.native.Connection,
    *,
    address: str,
    credential: dict[str, Any],
    provider: str | None = None,
    deleted_at: datetime | None = None,
    updated_at: datetime | None = None,
    source_app: int | None = 1,
    source_scorer_id: int | None = None,
    stamp_type: int = 1,
) -> int:
    """A ceramic_cache_ceramiccache row as the passport app's bulk POST writes it."""
    provider = provider or credential["credentialSubject"]["provider"]
    return int(
        conn.run(
            "INSERT INTO ceramic_cache_ceramiccache (address, provider, stamp, created_at,"
            " updated_at, type, deleted_at, compose_db_save_status, compose_db_stream_id,"
            " expiration_date, issuance_date, proof_value, source_app, source_scorer_id)"
            " VALUES (:address, :provider, CAST(:stamp AS jsonb), now(), COALESCE(:updated_at,"
            " now()), :type, :deleted_at, 'pending', '', CAST(:expiration AS timestamptz),"
            " CAST(:issuance AS timestamptz), :proof_value, :source_app, :source_scorer_id)"
            " RETURNING id",
            address=address.lower(),
            provider=provider,
            stamp=_json(credential),
            updated_at=updated_at,
            type=stamp_type,
            deleted_at=deleted_at,
            expiration=_timestamp_or_none(credential.get("expirationDate")),
            issuance=_timestamp_or_none(credential.get("issuanceDate")),
            proof_value=credential.get("proof", {}).get("proofValue", ""),
            source_app=source_app,
            source_scorer_id=source_scorer_id,
        )[0][0]
    )


def add_event(
    conn: pg8000.native.Connection,
    *,
    address: str,
    community_id: int | None,
    data: Any,
    created_at: datetime,
    action: str = "SCU",
) -> int:
    """A registry_event row (SCU: the score history's source)."""
    return int(
        conn.run(
            "INSERT INTO registry_event (action, address, created_at, data, community_id)"
            " VALUES (:action, :address, :created_at, CAST(:data AS jsonb), :community_id)"
            " RETURNING id",
            action=action,
            address=address,
            created_at=created_at,
            data=_json(data),
            community_id=community_id,
        )[0][0]
    )
