"""GET /internal/stake/gtc/{address} and /internal/stake/legacy-gtc/{address}/{round_id}."""

from __future__ import annotations

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support.internal_rows import INTERNAL, add_legacy_stake_event, add_stake

ADDRESS = "0x" + "ab" * 20
CHECKSUMMED = "0xaB5801a7D398351b8bE11C439e05C5B3259aeC9B"
OTHER = "0x" + "cd" * 20
THIRD = "0x" + "ef" * 20


@pytest.fixture
def client(settings: Settings, db: Database) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


def gtc(client: falcon.testing.TestClient, address: str) -> falcon.testing.Result:
    return client.simulate_get(f"/internal/stake/gtc/{address}", headers=INTERNAL)


def legacy(
    client: falcon.testing.TestClient, address: str, round_id: str | int
) -> falcon.testing.Result:
    return client.simulate_get(f"/internal/stake/legacy-gtc/{address}/{round_id}", headers=INTERNAL)


# --- GTC stakes -------------------------------------------------------------------------------


def test_stakes_as_staker_and_as_stakee_are_listed_by_id(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    add_stake(clean_db, staker=OTHER, stakee=ADDRESS, amount="100000000000000000000")
    add_stake(clean_db, staker=ADDRESS, stakee=ADDRESS, amount="12.5", chain=1)
    add_stake(clean_db, staker=ADDRESS, stakee=OTHER, amount="0", chain=10)
    add_stake(clean_db, staker=OTHER, stakee=THIRD, amount="7")

    result = gtc(client, ADDRESS)

    assert result.status_code == 200
    assert [item["chain"] for item in result.json["items"]] == [11155420, 1, 10]
    assert result.json == snapshot


def test_amounts_keep_eighteen_decimals_at_full_precision(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_stake(
        clean_db,
        staker=ADDRESS,
        stakee=ADDRESS,
        amount="123456789012345678901234.123456789012345678",
    )

    result = gtc(client, ADDRESS)

    assert result.json["items"][0]["amount"] == "123456789012345678901234.123456789012345678"


def test_item_keys_come_in_the_reference_order(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_stake(clean_db, staker=ADDRESS, stakee=ADDRESS, amount="1")

    result = gtc(client, ADDRESS)

    assert list(result.json["items"][0]) == [
        "chain",
        "staker",
        "stakee",
        "amount",
        "unlock_time",
        "lock_time",
        "last_updated_in_block",
    ]


@pytest.mark.parametrize("given", [CHECKSUMMED, CHECKSUMMED.upper().replace("0X", "0x")])
def test_a_checksummed_or_upper_case_address_finds_the_lower_case_rows(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection, given: str
) -> None:
    add_stake(clean_db, staker=CHECKSUMMED.lower(), stakee=OTHER, amount="3")

    result = gtc(client, given)

    assert [item["staker"] for item in result.json["items"]] == [CHECKSUMMED.lower()]


def test_an_address_without_stakes_has_no_items(client: falcon.testing.TestClient) -> None:
    result = gtc(client, ADDRESS)

    assert result.status_code == 200
    assert result.json == {"items": []}


@pytest.mark.parametrize("bad", ["0x123", "ab" * 20, "0x" + "zz" * 20])
def test_an_invalid_address_is_a_400(client: falcon.testing.TestClient, bad: str) -> None:
    result = gtc(client, bad)

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid address."}


# --- legacy stake events ----------------------------------------------------------------------


def test_legacy_events_of_the_round_as_staker_and_as_stakee(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    add_legacy_stake_event(clean_db, round_id=1, staker=ADDRESS, address="none", amount="5.5")
    add_legacy_stake_event(
        clean_db, round_id=1, staker=OTHER, address=ADDRESS, amount="0", event_type="Xstake"
    )
    add_legacy_stake_event(clean_db, round_id=2, staker=ADDRESS, address="none", amount="9")
    add_legacy_stake_event(clean_db, round_id=1, staker=OTHER, address=THIRD, amount="1")
    add_legacy_stake_event(
        clean_db, round_id=1, staker=ADDRESS, address=None, amount="12.5", staked=False
    )

    result = legacy(client, ADDRESS, 1)

    assert result.status_code == 200
    assert [event["amount"] for event in result.json["results"]] == [
        "5.500000000000000000",
        "0E-18",
        "12.500000000000000000",
    ]
    assert result.json == snapshot


def test_each_round_has_its_own_events(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_legacy_stake_event(clean_db, round_id=1, staker=ADDRESS, address="none", amount="1")
    add_legacy_stake_event(clean_db, round_id=2, staker=ADDRESS, address="none", amount="2")

    first = legacy(client, ADDRESS, 1)
    second = legacy(client, ADDRESS, 2)
    third = legacy(client, ADDRESS, 3)

    assert [event["round_id"] for event in first.json["results"]] == [1]
    assert [event["round_id"] for event in second.json["results"]] == [2]
    assert third.json == {"results": []}


def test_legacy_event_keys_come_in_the_reference_order(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_legacy_stake_event(clean_db, round_id=1, staker=ADDRESS, address="none", amount="1")

    result = legacy(client, ADDRESS, 1)

    assert list(result.json["results"][0]) == [
        "id",
        "event_type",
        "round_id",
        "staker",
        "address",
        "amount",
        "staked",
        "block_number",
        "tx_hash",
    ]


def test_a_checksummed_address_finds_legacy_events(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_legacy_stake_event(
        clean_db, round_id=1, staker=CHECKSUMMED.lower(), address="none", amount="1"
    )

    result = legacy(client, CHECKSUMMED, 1)

    assert len(result.json["results"]) == 1


def test_a_leading_zero_round_is_the_same_round(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_legacy_stake_event(clean_db, round_id=7, staker=ADDRESS, address="none", amount="1")

    result = legacy(client, ADDRESS, "007")

    assert len(result.json["results"]) == 1


def test_a_round_beyond_the_integer_column_has_no_events(client: falcon.testing.TestClient) -> None:
    result = legacy(client, ADDRESS, 2**40)

    assert result.status_code == 200
    assert result.json == {"results": []}


@pytest.mark.parametrize("round_id", ["abc", "-1", "1.5", "+1"])
def test_a_non_numeric_round_does_not_match_the_route(
    client: falcon.testing.TestClient, round_id: str
) -> None:
    result = legacy(client, ADDRESS, round_id)

    assert result.status_code == 404
    assert result.json == {"detail": "Not Found"}


def test_an_invalid_address_is_a_400_for_legacy_events(client: falcon.testing.TestClient) -> None:
    result = legacy(client, "0x123", 1)

    assert result.status_code == 400
    assert result.json == {"detail": "Invalid address."}
