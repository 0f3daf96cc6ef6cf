"""The request log: one JSON line per request, with the path but never the query string."""

from __future__ import annotations

import json
from typing import Any

import falcon.testing
import pytest

from service.app import create_app
from service.db.connection import Database
from service.plumbing.logs import JsonFormatter
from service.plumbing.settings import Settings


@pytest.fixture
def client() -> falcon.testing.TestClient:
    # The routes exercised here never open a connection, so no database is needed.
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://scorer@127.0.0.1:1/scorer",
            "SECRET_KEY": "secret",
            "CGRANTS_API_TOKEN": "token",
        }
    )
    return falcon.testing.TestClient(create_app(settings, Database(settings.database)))


def request_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records if r.name == "service.request"]


def only_request_entry(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    (line,) = request_lines(caplog)
    entry: dict[str, Any] = json.loads(line)
    return entry


def test_a_request_writes_exactly_one_log_line(
    client: falcon.testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")

    client.simulate_get("/health")

    assert len(request_lines(caplog)) == 1


def test_the_log_line_is_one_json_object_on_one_line(
    client: falcon.testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")

    client.simulate_get("/health")

    (line,) = request_lines(caplog)
    assert "\n" not in line
    assert isinstance(json.loads(line), dict)


def test_the_log_line_has_method_path_status_duration_and_request_id(
    client: falcon.testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")

    client.simulate_get("/health", headers={"X-Request-Id": "req-42"})

    entry = only_request_entry(caplog)
    assert entry["message"] == "request"
    assert entry["level"] == "INFO"
    assert entry["method"] == "GET"
    assert entry["path"] == "/health"
    assert entry["status"] == 200
    assert entry["request_id"] == "req-42"
    assert isinstance(entry["duration_ms"], float)
    assert entry["duration_ms"] >= 0


def test_an_error_response_is_logged_with_its_status(
    client: falcon.testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")

    client.simulate_post("/no/such/route")

    entry = only_request_entry(caplog)
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/no/such/route", 404)


def test_a_request_without_an_id_header_is_logged_with_a_generated_id(
    client: falcon.testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")

    result = client.simulate_get("/health")

    entry = only_request_entry(caplog)
    assert entry["request_id"]
    assert entry["request_id"] == result.headers["x-request-id"]


def test_the_query_string_is_not_logged(
    client: falcon.testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")

    client.simulate_get("/health", query_string="api_key=sk_live_do_not_log&token=also-secret")

    (line,) = request_lines(caplog)
    assert "sk_live_do_not_log" not in line
    assert "also-secret" not in line
    assert "api_key" not in line
