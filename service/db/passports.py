"""registry_passport and registry_score: the passport a scoring run writes to, and its score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.db import api_keys, ceramic_cache_queries
from service.db.api_keys import ApiKeyRow
from service.db.ceramic_cache_queries import LiveStamps
from service.db.communities import (
    FOR_ACCOUNT_SELECT,
    SCORER_CONFIG_SELECT,
    Community,
    ScorerConfig,
    config_from_row,
    for_account_params,
    for_account_select,
    scorer_config_select,
)
from service.db.connection import Transaction
from service.db.jsonb import dumps
from service.domain.scoring import StoredScore


def open_for_scoring(
    tx: Transaction, community: Community, address: str
) -> tuple[ScorerConfig, int | None]:
    """The community's scorer configuration and, when it can score, the passport's id.

    One round trip: the passport is upserted only when the scorer row and its child row exist
    (the reference fails before it writes anything otherwise). The no-op update takes the row
    lock, so two requests scoring the same passport queue up instead of interleaving their
    writes; the stamps are read by the next statement, whose snapshot is taken after the lock,
    so the request that waited sees the stamps the other one committed.
    """
    row = tx.one(
        f"WITH config AS ({SCORER_CONFIG_SELECT}),"
        " passport AS (INSERT INTO registry_passport (address, community_id)"
        "  SELECT :address, :community_id FROM config"
        "  WHERE config.has_child AND config.threshold IS NOT NULL"
        "  ON CONFLICT (address, community_id) DO UPDATE SET address = EXCLUDED.address"
        "  RETURNING id)"
        " SELECT config.*, (SELECT id FROM passport) FROM config",
        scorer_id=community.scorer_id,
        community_id=community.id,
        address=address,
    )
    passport_id = None if row is None or row[5] is None else int(row[5])
    return config_from_row(row), passport_id


_COMMUNITY_CONFIG_SELECT = scorer_config_select(
    "(SELECT scorer_id FROM community)", "(SELECT id FROM community)"
)


@dataclass(frozen=True)
class OpenedPassport:
    community: Community
    config: ScorerConfig
    passport_id: int | None  # None when the scorer cannot score, or no address was given


def _open_sql(community: str) -> str:
    """The community (`community`: its SELECT), its scorer configuration and the passport
    upsert, in one statement."""
    return (
        f"WITH community AS ({community}),"
        f" config AS ({_COMMUNITY_CONFIG_SELECT}),"
        " passport AS (INSERT INTO registry_passport (address, community_id)"
        "  SELECT CAST(:address AS varchar), community.id FROM community, config"
        "  WHERE config.has_child AND config.threshold IS NOT NULL"
        "  AND CAST(:address AS varchar) IS NOT NULL"
        "  ON CONFLICT (address, community_id) DO UPDATE SET address = EXCLUDED.address"
        "  RETURNING id)"
        " SELECT community.*, config.*, (SELECT id FROM passport)"
        " FROM community LEFT JOIN config ON true"
    )


def _live_sql(community: str) -> str:
    """The passport's cache rows and links, for the community `community` finds."""
    return ceramic_cache_queries.live_stamps_sql(f"(SELECT id FROM ({community}) AS found)")


_OPEN_IN_ACCOUNT_SQL = _open_sql(FOR_ACCOUNT_SELECT)
_LIVE_IN_ACCOUNT_SQL = _live_sql(FOR_ACCOUNT_SELECT)
_FOR_VERIFIED_KEY = for_account_select(api_keys.VERIFIED_KEY_ACCOUNT)
_OPEN_FOR_VERIFIED_KEY_SQL = _open_sql(_FOR_VERIFIED_KEY)
_LIVE_FOR_VERIFIED_KEY_SQL = _live_sql(_FOR_VERIFIED_KEY)


def open_in_account(
    tx: Transaction, scorer_id: str, account_id: int, address: str | None
) -> tuple[OpenedPassport | None, LiveStamps | None]:
    """`communities.find_for_account` and `open_for_scoring` in one statement, and for a valid
    address its stamps (`ceramic_cache_queries.live_stamps`) in the same round trip.

    The opened passport is None when the account has no such community; the passport is
    upserted only for an address (a request with an invalid one is refused after the community
    lookup, as the reference does). The stamps are read by a statement of their own, after the
    upsert has taken the passport's row lock, so a request that waited for another scoring of
    the same passport reads what that one committed (as `open_for_scoring` explains).
    """
    params = {**for_account_params(scorer_id, account_id), "address": address}
    if address is None:
        return _opened(tx.one(_OPEN_IN_ACCOUNT_SQL, **params)), None
    opened_rows, live_rows = tx.run_together(
        (_OPEN_IN_ACCOUNT_SQL, params), (_LIVE_IN_ACCOUNT_SQL, params)
    )
    opened = _opened(opened_rows[0] if opened_rows else None)
    if opened is None:
        return None, None
    return opened, ceramic_cache_queries.live_stamps_from_rows(live_rows)


@dataclass(frozen=True)
class KeyAndPassport:
    """What `open_for_key` read: the key's row, and the community, passport and stamps of its
    account when the key passed the fast-path checks and the account has the community."""

    key_row: ApiKeyRow | None
    opened: OpenedPassport | None
    live: LiveStamps | None


def open_for_key(
    tx: Transaction, *, prefix: str, key_sha256: str, now: datetime, scorer_id: str, address: str
) -> KeyAndPassport:
    """The API key's row by prefix, and `open_in_account` for the key's account, in one round
    trip with BEGIN, ahead of authentication.

    Only a key that passes every check `auth.api_key.authenticate` makes on the SHA-256 fast
    path (`api_keys.VERIFIED_KEY_ACCOUNT`) opens anything; authentication still decides on the
    row, and the caller undoes the upsert when it refuses the request. `opened` is None when
    the key did not pass those checks or its account has no such community: the caller then
    authenticates and opens as usual.
    """
    params = {
        **for_account_params(scorer_id, None),
        "prefix": prefix,
        "key_sha256": key_sha256,
        "now": now,
        "address": address,
    }
    key_rows, opened_rows, live_rows = tx.run_together(
        (api_keys.BY_PREFIX_SQL, {"prefix": prefix}),
        (_OPEN_FOR_VERIFIED_KEY_SQL, params),
        (_LIVE_FOR_VERIFIED_KEY_SQL, params),
    )
    key_row = api_keys.row_of(key_rows[0] if key_rows else None)
    opened = _opened(opened_rows[0] if opened_rows else None)
    if opened is None:
        return KeyAndPassport(key_row, None, None)
    return KeyAndPassport(key_row, opened, ceramic_cache_queries.live_stamps_from_rows(live_rows))


def _opened(row: list[Any] | None) -> OpenedPassport | None:
    if row is None:
        return None
    # Without a scorer row the config columns are all NULL, has_child included: no config.
    passport_id = None if row[10] is None else int(row[10])
    return OpenedPassport(Community(*row[:5]), config_from_row(row[5:10]), passport_id)


SCORE_UPSERT = (
    "INSERT INTO registry_score (passport_id, score, last_score_timestamp, status, error,"
    " evidence, stamp_scores, stamps, expiration_date) VALUES (:passport_id,"
    " CAST(:score AS numeric), :last_score_timestamp, :status, :error,"
    " CAST(:evidence AS jsonb), CAST(:stamp_scores AS jsonb), CAST(:stamps_json AS jsonb),"
    " :expiration_date)"
    " ON CONFLICT (passport_id) DO UPDATE SET score = EXCLUDED.score,"
    " last_score_timestamp = EXCLUDED.last_score_timestamp, status = EXCLUDED.status,"
    " error = EXCLUDED.error, evidence = EXCLUDED.evidence,"
    " stamp_scores = EXCLUDED.stamp_scores, stamps = EXCLUDED.stamps,"
    " expiration_date = EXCLUDED.expiration_date RETURNING id"
)


def score_columns(passport_id: int, stored: StoredScore) -> dict[str, Any]:
    """The parameters of SCORE_UPSERT."""
    return {
        "passport_id": passport_id,
        "score": stored.score,
        "last_score_timestamp": stored.last_score_timestamp,
        "status": stored.status,
        "error": stored.error,
        "evidence": None if stored.evidence is None else dumps(stored.evidence),
        "stamp_scores": None if stored.stamp_scores is None else dumps(stored.stamp_scores),
        "stamps_json": None if stored.stamps is None else dumps(stored.stamps),
        "expiration_date": stored.expiration_date,
    }


def save_failed_score(tx: Transaction, *, passport_id: int, stored: StoredScore) -> None:
    """Upserts a score that is not DONE; the reference writes an SCU event only for DONE saves
    (a DONE score is written with the rest of its run, service/db/scoring_run.py)."""
    tx.run(SCORE_UPSERT, **score_columns(passport_id, stored))


def find_score(tx: Transaction, address: str, community_id: int) -> StoredScore | None:
    """The stored score of the address's passport in the community, as it was last saved."""
    row = tx.one(
        "SELECT p.address, s.score, s.status, s.last_score_timestamp, s.error, s.evidence,"
        " s.stamp_scores, s.stamps, s.expiration_date"
        " FROM registry_score s JOIN registry_passport p ON p.id = s.passport_id"
        " WHERE p.address = :address AND p.community_id = :community_id",
        address=address,
        community_id=community_id,
    )
    return StoredScore(*row) if row else None
