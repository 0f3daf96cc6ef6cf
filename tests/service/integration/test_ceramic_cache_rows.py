"""The cache writes of service/db/ceramic_cache_queries.py against PostgreSQL: delete, insert,
list."""

from __future__ import annotations

from datetime import UTC, datetime

import pg8000.native
from syrupy.assertion import SnapshotAssertion

from service.db import ceramic_cache_queries
from service.db.connection import Database
from service.domain.ceramic_cache_rules import SOURCE_APP_EMBED, new_cache_row
from tests.service.support import scenario as sc
from tests.service.support.ceramic import cache_row, cache_rows
from tests.service.support.snapshots import rows

NOW = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)


def test_replace_soft_deletes_the_live_v1_row_and_inserts_the_new_one(
    clean_db: pg8000.native.Connection, db: Database, snapshot: SnapshotAssertion
) -> None:
    old = cache_row(clean_db, "Google")
    other = cache_row(clean_db, "Github")
    v2 = cache_row(clean_db, "Google", stamp_type=2)
    new = new_cache_row("Google", sc.stamp("Google"))

    with db.transaction() as tx:
        ceramic_cache_queries.replace(
            tx, sc.ADDRESS, [new], now=NOW, source_app=SOURCE_APP_EMBED, source_scorer_id=40
        )

    written = {row["id"]: row for row in rows(clean_db, "ceramic_cache_ceramiccache")}
    assert written[old]["deleted_at"] == NOW.isoformat()
    assert written[other]["deleted_at"] is None
    assert written[v2]["deleted_at"] is None
    assert written[v2 + 1]["stamp"] == new.stamp
    assert cache_rows(clean_db) == snapshot


def test_soft_delete_of_every_type_returns_the_ids_it_marked(
    clean_db: pg8000.native.Connection, db: Database
) -> None:
    v1 = cache_row(clean_db, "Google")
    v2 = cache_row(clean_db, "Google", stamp_type=2)
    cache_row(clean_db, "Github")

    with db.transaction() as tx:
        marked = ceramic_cache_queries.soft_delete(
            tx, sc.ADDRESS, ["Google"], now=NOW, v1_only=False
        )

    assert marked == [v1, v2]


def test_listing_skips_deleted_revoked_and_other_type_rows_and_orders_by_id(
    clean_db: pg8000.native.Connection, db: Database
) -> None:
    twitter = cache_row(clean_db, "Twitter")
    google = cache_row(clean_db, "Google")
    cache_row(clean_db, "Github", deleted_at=NOW)
    revoked = cache_row(clean_db, "Discord")
    clean_db.run(
        "INSERT INTO ceramic_cache_revocation (proof_value, ceramic_cache_id) VALUES ('p', :id)",
        id=revoked,
    )
    v2 = cache_row(clean_db, "Ens", stamp_type=2)

    with db.transaction() as tx:
        v1_listing = ceramic_cache_queries.current_stamps(tx, sc.ADDRESS)
        any_type_listing = ceramic_cache_queries.current_stamps(tx, sc.ADDRESS, v1_only=False)

    assert [entry.id for entry in v1_listing] == [twitter, google]
    assert [entry.id for entry in any_type_listing] == [twitter, google, v2]
