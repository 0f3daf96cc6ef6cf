"""POST /internal/check-revocations: one answer per proof value, in input order."""

from __future__ import annotations

import json
from typing import Any

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.internal_rows import INTERNAL, add_revocation
from tools import seed


@pytest.fixture
def client(settings: Settings, db: Database) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


def revoke(conn: pg8000.native.Connection, proof_value: str) -> None:
    credential = {**sc.stamp("Google"), "proof": {"proofValue": proof_value}}
    cache_id = seed.add_cached_stamp(conn, address=sc.ADDRESS, credential=credential)
    add_revocation(conn, proof_value=proof_value, cache_id=cache_id)


def check(client: falcon.testing.TestClient, body: Any) -> falcon.testing.Result:
    return client.simulate_post(
        "/internal/check-revocations",
        body=json.dumps(body),
        headers={**INTERNAL, "Content-Type": "application/json"},
    )


def test_revoked_and_unrevoked_values_are_told_apart_in_input_order(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    revoke(clean_db, "0xrevoked")

    result = check(client, {"proof_values": ["0xfresh", "0xrevoked", "0xother"]})

    assert result.status_code == 200
    assert [item["is_revoked"] for item in result.json] == [False, True, False]
    assert result.json == snapshot


def test_without_revocations_nothing_is_revoked(client: falcon.testing.TestClient) -> None:
    result = check(client, {"proof_values": ["0xa", "0xb"]})

    assert result.json == [
        {"proof_value": "0xa", "is_revoked": False},
        {"proof_value": "0xb", "is_revoked": False},
    ]


def test_repeated_values_are_answered_each_time(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    revoke(clean_db, "0xrevoked")

    result = check(client, {"proof_values": ["0xrevoked", "0xa", "0xrevoked"]})

    assert [item["proof_value"] for item in result.json] == ["0xrevoked", "0xa", "0xrevoked"]
    assert [item["is_revoked"] for item in result.json] == [True, False, True]


def test_an_empty_list_is_an_empty_answer(client: falcon.testing.TestClient) -> None:
    result = check(client, {"proof_values": []})

    assert result.status_code == 200
    assert result.json == []


def test_one_hundred_values_are_accepted(client: falcon.testing.TestClient) -> None:
    result = check(client, {"proof_values": [f"0x{i}" for i in range(100)]})

    assert result.status_code == 200
    assert len(result.json) == 100


def test_more_than_one_hundred_values_are_a_422(client: falcon.testing.TestClient) -> None:
    result = check(client, {"proof_values": [f"0x{i}" for i in range(101)]})

    assert result.status_code == 422
    assert result.json == {"detail": "You have submitted too many stamps."}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([], id="list-not-object"),
        pytest.param({}, id="missing-proof-values"),
        pytest.param({"proof_values": "0xa"}, id="string-not-list"),
        pytest.param({"proof_values": ["0xa", 5]}, id="number-item"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_422_in_ninjas_shape(
    client: falcon.testing.TestClient, snapshot: SnapshotAssertion, body: Any
) -> None:
    result = check(client, body)

    assert result.status_code == 422
    assert result.json == snapshot


def test_a_value_postgresql_cannot_hold_is_not_revoked(client: falcon.testing.TestClient) -> None:
    result = check(client, {"proof_values": ["0x\x00", "0x\ud800"]})

    assert result.status_code == 200
    assert [item["is_revoked"] for item in result.json] == [False, False]


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data"])
def test_a_json_body_is_read_whatever_its_content_type(
    client: falcon.testing.TestClient, content_type: str | None
) -> None:
    # django-ninja parses the raw body as JSON; the Content-Type is never consulted.
    headers = dict(INTERNAL) if content_type is None else {**INTERNAL, "Content-Type": content_type}

    result = client.simulate_post(
        "/internal/check-revocations", body=json.dumps({"proof_values": ["0xa"]}), headers=headers
    )

    assert result.status_code == 200
    assert result.json == [{"proof_value": "0xa", "is_revoked": False}]
