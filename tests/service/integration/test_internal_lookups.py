"""GET /internal/allow-list/{list}/{address} and /internal/customization/credential/{id}."""

from __future__ import annotations

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support.internal_rows import INTERNAL, add_address_list, add_credential_ruleset

MEMBER = "0xaB5801a7D398351b8bE11C439e05C5B3259aeC9B"
PROVIDER_ID = "DeveloperList#Devs#0a1b2c3d"
DEFINITION = {
    "name": "Devs",
    "condition": {"AND": [{"repository_contributor": {"repository": "passportxyz/passport"}}]},
}


@pytest.fixture
def client(settings: Settings, db: Database) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


# --- allow lists ------------------------------------------------------------------------------


def allow_list(client: falcon.testing.TestClient, name: str, address: str) -> falcon.testing.Result:
    return client.simulate_get(f"/internal/allow-list/{name}/{address}", headers=INTERNAL)


def test_a_member_is_on_the_list(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    add_address_list(clean_db, "OGs", [MEMBER])

    result = allow_list(client, "OGs", MEMBER.lower())

    assert result.status_code == 200
    assert result.json == snapshot


def test_a_checksummed_address_of_a_member_is_on_the_list(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_address_list(clean_db, "OGs", [MEMBER])

    result = allow_list(client, "OGs", MEMBER)

    assert result.json == {"is_member": True}


def test_an_address_that_is_not_a_member_is_not_on_the_list(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_address_list(clean_db, "OGs", [MEMBER])
    add_address_list(clean_db, "Others", ["0x" + "cd" * 20])

    result = allow_list(client, "OGs", "0x" + "cd" * 20)

    assert result.json == {"is_member": False}


def test_an_unknown_list_has_no_members(client: falcon.testing.TestClient) -> None:
    result = allow_list(client, "NoSuchList", MEMBER)

    assert result.status_code == 200
    assert result.json == {"is_member": False}


def test_the_list_name_is_case_sensitive(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_address_list(clean_db, "OGs", [MEMBER])

    result = allow_list(client, "ogs", MEMBER)

    assert result.json == {"is_member": False}


def test_the_address_is_not_validated(client: falcon.testing.TestClient) -> None:
    result = allow_list(client, "OGs", "not-an-address")

    assert result.status_code == 200
    assert result.json == {"is_member": False}


# --- custom credential definitions ------------------------------------------------------------


def definition(client: falcon.testing.TestClient, encoded_id: str) -> falcon.testing.Result:
    return client.simulate_get(f"/internal/customization/credential/{encoded_id}", headers=INTERNAL)


def test_a_known_provider_id_returns_its_ruleset(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    add_credential_ruleset(clean_db, provider_id=PROVIDER_ID, definition=DEFINITION)

    result = definition(client, PROVIDER_ID.replace("#", "%23"))

    assert result.status_code == 200
    assert result.json == {"ruleset": DEFINITION}
    assert result.json == snapshot


def test_a_doubly_encoded_hash_sign_is_decoded_too(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_credential_ruleset(clean_db, provider_id=PROVIDER_ID, definition=DEFINITION)

    result = definition(client, PROVIDER_ID.replace("#", "%2523"))

    assert result.json == {"ruleset": DEFINITION}


def test_an_unknown_provider_id_is_a_404(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_credential_ruleset(clean_db, provider_id=PROVIDER_ID, definition=DEFINITION)

    result = definition(client, "DeveloperList%23Other%2300000000")

    assert result.status_code == 404
    assert result.json == {"detail": "Not Found"}
