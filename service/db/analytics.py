"""account_accountapikeyanalytics: one row per v2 API-key request made with a resolvable key."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pg8000.exceptions import DatabaseError

from service.db.connection import Transaction
from service.db.jsonb import dumps

log = logging.getLogger("service.analytics")


@dataclass(frozen=True)
class AnalyticsRow:
    api_key_id: str
    path: str
    path_segments: list[str]
    query_params: dict[str, list[str]]
    headers: dict[str, str]
    response: str | None
    error: str | None
    status_code: int
    # The read routes never store their answer (`track_apikey_usage(track_response=False)`).
    response_skipped: bool = False


def record(tx: Transaction, row: AnalyticsRow) -> None:
    """Never fails the request: the row travels with COMMIT (`Transaction.run_at_commit`), and
    an insert the server refuses is logged and undone on its own while the rest commits."""

    def failed(exc: DatabaseError) -> None:
        log.error("could not record API-key analytics", exc_info=exc, extra={"path": row.path})

    tx.run_at_commit(
        "INSERT INTO account_accountapikeyanalytics (created_at, path, api_key_id,"
        " base_path, error, headers, path_segments, payload, query_params, response,"
        " response_skipped, status_code) VALUES (now(), :path, :api_key_id, NULL,"
        " :error, CAST(:headers AS jsonb), CAST(:path_segments AS jsonb), NULL,"
        " CAST(:query_params AS jsonb), CAST(:response AS jsonb), :response_skipped,"
        " :status_code)",
        failed,
        path=row.path,
        api_key_id=row.api_key_id,
        error=row.error,
        headers=dumps(row.headers),
        path_segments=dumps(row.path_segments),
        query_params=dumps(row.query_params),
        # The reference stores the serialised response as a JSON *string* value.
        response=None if row.response is None else dumps(row.response),
        response_skipped=row.response_skipped,
        status_code=row.status_code,
    )
