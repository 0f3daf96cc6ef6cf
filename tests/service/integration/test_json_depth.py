"""Deeply nested request bodies are refused as unparsable instead of crashing the process."""

from __future__ import annotations

import json

import falcon.testing
import pytest

from service.app import create_app
from service.db.connection import Database
from service.plumbing.json_depth import MAX_DEPTH
from service.plumbing.settings import Settings
from tests.service.support.internal_rows import INTERNAL


@pytest.fixture
def client(settings: Settings, db: Database) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


def post(client: falcon.testing.TestClient, body: str) -> falcon.testing.Result:
    return client.simulate_post(
        "/internal/check-revocations",
        body=body,
        headers={**INTERNAL, "Content-Type": "application/json"},
    )


def test_a_body_nested_far_past_the_limit_is_a_400(client: falcon.testing.TestClient) -> None:
    depth = 200_000
    result = post(client, '{"proof_values": ' + "[" * depth + "]" * depth + "}")

    assert result.status_code == 400
    assert result.json == {"detail": "Cannot parse request body"}


def test_a_body_at_the_limit_is_parsed(client: falcon.testing.TestClient) -> None:
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    result = post(client, '{"proof_values": ' + nested + "}")

    assert result.status_code == 422  # parsed, then refused by the schema


def test_brackets_inside_strings_do_not_count(client: falcon.testing.TestClient) -> None:
    result = post(client, json.dumps({"proof_values": ["[{" * 5000, '\\"[' * 1000]}))

    assert result.status_code == 200
