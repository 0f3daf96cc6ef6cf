"""GET /internal/cgrants/contributor_statistics: cgrants and protocol contributions combined."""

from __future__ import annotations

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support.internal_rows import INTERNAL, Cgrants

ADDRESS = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
SQUELCHED_ROUND = "0x" + "99" * 20
OPEN_ROUND = "0x" + "11" * 20


@pytest.fixture
def client(settings: Settings, db: Database) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


def statistics(client: falcon.testing.TestClient, address: str) -> falcon.testing.Result:
    return client.simulate_get(
        "/internal/cgrants/contributor_statistics", params={"address": address}, headers=INTERNAL
    )


def test_the_worked_example_with_a_squelched_round(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    cgrants = Cgrants(clean_db)
    cgrants.contribution(address=ADDRESS, grant=1, amount="10.5")
    cgrants.contribution(address=ADDRESS, grant=2, amount="4.25")
    cgrants.contribution(address=ADDRESS, grant=3, amount="1000", success=False)
    cgrants.protocol(address=ADDRESS, project="0xp1", round_=OPEN_ROUND, amount="2.5")
    cgrants.protocol(address=ADDRESS, project="0xp2", round_=OPEN_ROUND, amount="1.123456")
    cgrants.protocol(address=ADDRESS, project="0xp3", round_=OPEN_ROUND, amount="0.5")
    cgrants.protocol(address=ADDRESS, project="0xp4", round_=SQUELCHED_ROUND, amount="50")
    cgrants.squelch(address=ADDRESS, round_number="7", round_address=SQUELCHED_ROUND)

    result = statistics(client, ADDRESS)

    assert result.status_code == 200
    assert result.json == {"num_grants_contribute_to": 4.0, "total_contribution_amount": 18.37}
    assert result.json == snapshot


def test_without_squelching_every_round_counts(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    cgrants = Cgrants(clean_db)
    cgrants.protocol(address=ADDRESS, project="0xp1", round_=OPEN_ROUND, amount="2.5")
    cgrants.protocol(address=ADDRESS, project="0xp4", round_=SQUELCHED_ROUND, amount="50")
    cgrants.squelch(address=OTHER, round_number="7", round_address=SQUELCHED_ROUND)

    result = statistics(client, ADDRESS)

    assert result.json == {"num_grants_contribute_to": 2.0, "total_contribution_amount": 52.5}


def test_a_squelch_excludes_only_the_mapped_rounds(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    cgrants = Cgrants(clean_db)
    cgrants.protocol(address=ADDRESS, project="0xp1", round_=OPEN_ROUND, amount="2.5")
    cgrants.protocol(address=ADDRESS, project="0xp4", round_=SQUELCHED_ROUND, amount="50")
    cgrants.squelch(address=ADDRESS, round_number="7", round_address=SQUELCHED_ROUND)

    result = statistics(client, ADDRESS)

    assert result.json == {"num_grants_contribute_to": 1.0, "total_contribution_amount": 2.5}


def test_no_history_is_zero_of_both(client: falcon.testing.TestClient) -> None:
    result = statistics(client, ADDRESS)

    assert result.status_code == 200
    assert result.json == {"num_grants_contribute_to": 0.0, "total_contribution_amount": 0.0}
    assert isinstance(result.json["num_grants_contribute_to"], float)


def test_contributions_to_one_grant_count_one_grant(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    cgrants = Cgrants(clean_db)
    cgrants.contribution(address=ADDRESS, grant=1, amount="1.004")
    cgrants.contribution(address=ADDRESS, grant=1, amount="1.001")

    result = statistics(client, ADDRESS)

    assert result.json == {"num_grants_contribute_to": 1.0, "total_contribution_amount": 2.0}


def test_protocol_amounts_round_to_three_places_then_the_total_to_two_half_even(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    cgrants = Cgrants(clean_db)
    # protocol 1.0004 → 1.000; + cgrants 0.005 = 1.005 → 1.00 (half even). Summing first
    # would give 1.0054 → 1.01, and rounding half up 1.005 → 1.01.
    cgrants.protocol(address=ADDRESS, project="0xp1", round_=OPEN_ROUND, amount="1.0004")
    cgrants.contribution(address=ADDRESS, grant=1, amount="0.005")

    result = statistics(client, ADDRESS)

    assert result.json == {"num_grants_contribute_to": 2.0, "total_contribution_amount": 1.0}


def test_protocol_contributions_just_under_095_count_as_the_reference_compares_them(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    cgrants = Cgrants(clean_db)
    # ≥ 0.94999999999999995559… (the float 0.95), so included; 0.9499 is not.
    cgrants.protocol(
        address=ADDRESS, project="0xp1", round_=OPEN_ROUND, amount="0.949999999999999956"
    )
    cgrants.protocol(address=ADDRESS, project="0xp2", round_=OPEN_ROUND, amount="0.9499")

    result = statistics(client, ADDRESS)

    assert result.json["num_grants_contribute_to"] == 1.0


def test_other_addresses_contributions_are_not_counted(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    cgrants = Cgrants(clean_db)
    cgrants.contribution(address=OTHER, grant=1, amount="10")
    cgrants.protocol(address=OTHER, project="0xp1", round_=OPEN_ROUND, amount="10")

    result = statistics(client, ADDRESS)

    assert result.json == {"num_grants_contribute_to": 0.0, "total_contribution_amount": 0.0}


def test_a_checksummed_address_finds_lower_case_rows(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    checksummed = "0xaB5801a7D398351b8bE11C439e05C5B3259aeC9B"
    Cgrants(clean_db).contribution(address=checksummed.lower(), grant=1, amount="3")

    result = statistics(client, checksummed)

    assert result.json == {"num_grants_contribute_to": 1.0, "total_contribution_amount": 3.0}


def test_a_missing_address_is_a_422(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/internal/cgrants/contributor_statistics", headers=INTERNAL)

    assert result.status_code == 422
    assert result.json == {
        "detail": [{"type": "missing", "loc": ["query", "address"], "msg": "Field required"}]
    }


@pytest.mark.parametrize("bad", ["", "0x123", "ab" * 20])
def test_an_invalid_address_is_a_400(client: falcon.testing.TestClient, bad: str) -> None:
    result = client.simulate_get(
        "/internal/cgrants/contributor_statistics",
        query_string=f"address={bad}",
        headers=INTERNAL,
    )

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid address."}
