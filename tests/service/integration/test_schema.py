"""service/db/schema.sql builds the Django-owned tables in an empty database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pg8000.native
import pytest
from pg8000.native import identifier

from service.db.connection import open_connection
from service.plumbing.settings import parse_database_url
from tools.pgcluster import apply_schema

# Every table of the schema specification.
EXPECTED_TABLES = frozenset(
    {
        "account_account",
        "account_accountapikey",
        "account_accountapikeyanalytics",
        "account_addresslist",
        "account_addresslistmember",
        "account_allowlist",
        "account_community",
        "account_customcredential",
        "account_customcredentialruleset",
        "account_customization",
        "account_customplatform",
        "account_embedsectionheader",
        "account_embedsectionorder",
        "account_embedstampplatform",
        "account_walletgroupcommunityclaim",
        "auth_user",
        "ceramic_cache_ban",
        "ceramic_cache_banlist",
        "ceramic_cache_ceramiccache",
        "ceramic_cache_revocation",
        "ceramic_cache_revocationlist",
        "cgrants_contribution",
        "cgrants_grant",
        "cgrants_grantcontributionindex",
        "cgrants_profile",
        "cgrants_protocolcontributions",
        "cgrants_roundmapping",
        "cgrants_squelchedaccounts",
        "cgrants_subscription",
        "registry_event",
        "registry_gtcstakeevent",
        "registry_hashscorerlink",
        "registry_humanpoints",
        "registry_humanpointscommunityqualifiedusers",
        "registry_humanpointsconfig",
        "registry_humanpointsmultiplier",
        "registry_passport",
        "registry_platformmetadata",
        "registry_score",
        "registry_stamp",
        "scorer_weighted_binaryweightedscorer",
        "scorer_weighted_scorer",
        "scorer_weighted_weightedscorer",
        "stake_stake",
    }
)


@dataclass
class FreshSchema:
    conn: pg8000.native.Connection
    first_apply_result: bool


@pytest.fixture(scope="module")
def fresh(admin_conn: pg8000.native.Connection, database_url: str) -> Iterator[FreshSchema]:
    """The schema applied to a new, empty database of the test cluster, dropped afterwards."""
    name = f"schema_check_{secrets.token_hex(4)}"
    admin_conn.run(f"CREATE DATABASE {identifier(name)}")
    conn = open_connection(parse_database_url(database_url), database=name)
    try:
        yield FreshSchema(conn=conn, first_apply_result=apply_schema(conn))
    finally:
        conn.close()
        # FORCE: the closed session may not have left the server yet.
        admin_conn.run(f"DROP DATABASE {identifier(name)} WITH (FORCE)")


@pytest.fixture
def applied(fresh: FreshSchema) -> pg8000.native.Connection:
    return fresh.conn


def public_tables(conn: pg8000.native.Connection) -> set[str]:
    rows = conn.run("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row[0] for row in rows}


def test_applying_the_schema_to_an_empty_database_reports_that_it_did(
    fresh: FreshSchema,
) -> None:
    assert fresh.first_apply_result is True


def test_the_44_tables_of_the_specification_exist(applied: pg8000.native.Connection) -> None:
    tables = public_tables(applied)

    assert len(EXPECTED_TABLES) == 44
    assert tables == EXPECTED_TABLES


@pytest.mark.parametrize(
    ("constraint", "table", "kind"),
    [
        ("registry_hashscorerlink_hash_community_id_ea7e08a6_uniq", "registry_hashscorerlink", "u"),
        ("unique_human_points_constraint", "registry_humanpoints", "u"),
        ("registry_passport_address_community_id_14f7b36b_uniq", "registry_passport", "u"),
        ("registry_score_pkey", "registry_score", "p"),
    ],
)
def test_key_constraints_exist_under_their_django_names(
    applied: pg8000.native.Connection, constraint: str, table: str, kind: str
) -> None:
    rows = applied.run(
        "SELECT conrelid::regclass::text, contype::text FROM pg_constraint WHERE conname = :name",
        name=constraint,
    )

    assert rows == [[table, kind]]


def test_ceramic_cache_has_the_partial_unique_index_on_non_deleted_stamps(
    applied: pg8000.native.Connection,
) -> None:
    rows = applied.run(
        "SELECT tablename, indexdef FROM pg_indexes WHERE indexname = :name",
        name="unique_non_deleted_provider_for_address",
    )

    assert len(rows) == 1
    table, definition = rows[0]
    assert table == "ceramic_cache_ceramiccache"
    assert definition.startswith("CREATE UNIQUE INDEX")
    assert "(type, address, provider)" in definition
    assert "WHERE (deleted_at IS NULL)" in definition


def test_foreign_keys_are_deferrable_initially_deferred(
    applied: pg8000.native.Connection,
) -> None:
    rows = applied.run(
        "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = 'public' AND contype = 'f' "
        "AND NOT (condeferrable AND condeferred)"
    )

    assert rows == []


def test_no_column_has_a_default(applied: pg8000.native.Connection) -> None:
    rows = applied.run(
        "SELECT table_name, column_name, column_default FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_default IS NOT NULL"
    )

    assert rows == []


def test_applying_the_schema_a_second_time_does_nothing(
    applied: pg8000.native.Connection,
) -> None:
    before = public_tables(applied)

    assert apply_schema(applied) is False
    assert public_tables(applied) == before
