"""service/openapi.json describes exactly the routes the app serves, and is served as committed."""

from __future__ import annotations

import json
import socket

import falcon
import falcon.inspect
import falcon.testing
import pg8000.native
import pytest
import redis
import schemathesis
from werkzeug.test import Client, TestResponse

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from service.routes import DOCUMENTED_TEMPLATES
from tests.service.support import scenario as sc
from tools import openapi_document

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def app(settings: Settings, db: Database) -> falcon.App[falcon.Request, falcon.Response]:
    return create_app(settings, db)


def served_operations(app: falcon.App[falcon.Request, falcon.Response]) -> set[tuple[str, str]]:
    """(method, template) of every responder the app registered itself, under the template its
    description uses; Falcon's defaults (OPTIONS, 405) are marked internal and left out."""
    return {
        (method.method, DOCUMENTED_TEMPLATES.get(route.path, route.path))
        for route in falcon.inspect.inspect_routes(app)
        for method in route.methods
        if not method.internal
    }


def documented_operations(document: dict[str, object]) -> set[tuple[str, str]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {
        (method.upper(), path)
        for path, item in paths.items()
        for method in item
        if method in HTTP_METHODS
    }


def test_every_served_route_is_documented_and_nothing_else(
    app: falcon.App[falcon.Request, falcon.Response],
) -> None:
    document = json.loads(openapi_document.DOCUMENT_PATH.read_text())

    served = served_operations(app)
    documented = documented_operations(document)

    assert served - documented == set(), "served but not in service/openapi.json"
    assert documented - served == set(), "in service/openapi.json but not served"
    assert {("GET", "/health"), ("GET", "/health/"), ("GET", "/openapi.json")} <= served


def test_the_comparison_sees_a_route_added_without_its_description(
    app: falcon.App[falcon.Request, falcon.Response],
) -> None:
    app.add_route("/internal/undocumented", _Undocumented())
    document = json.loads(openapi_document.DOCUMENT_PATH.read_text())

    missing = served_operations(app) - documented_operations(document)

    assert missing == {("GET", "/internal/undocumented"), ("POST", "/internal/undocumented")}


def test_the_committed_document_is_what_the_builder_makes() -> None:
    assert openapi_document.DOCUMENT_PATH.read_text() == openapi_document.render(), (
        "service/openapi.json is stale: run `python -m tools.openapi_document`"
    )


def test_the_document_is_served_as_committed(
    app: falcon.App[falcon.Request, falcon.Response],
) -> None:
    result = falcon.testing.TestClient(app).simulate_get("/openapi.json")

    assert result.status_code == 200
    assert result.headers["content-type"] == "application/json"
    assert result.content == openapi_document.DOCUMENT_PATH.read_bytes()
    assert result.json["openapi"] == "3.1.0"


def test_every_operation_names_its_security_and_documents_the_413() -> None:
    document = openapi_document.build()

    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "security" in operation, f"{method.upper()} {path}"
            assert "413" in operation["responses"], f"{method.upper()} {path}"


# --- answers the fuzzer cannot provoke match the document too ----------------------------------


def test_a_body_past_the_limit_is_answered_as_documented(
    settings_env: dict[str, str], db: Database
) -> None:
    app = create_app(Settings.from_env({**settings_env, "MAX_REQUEST_BODY_BYTES": "16"}), db)

    response = Client(app).post("/internal/check-revocations", data="x" * 17)

    assert response.status_code == 413
    _conforms(response, "/internal/check-revocations", "POST")


def test_a_database_outage_is_answered_as_documented(settings_env: dict[str, str]) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{_closed_port()}/scorer"
    app = create_app(Settings.from_env({**settings_env, "DATABASE_URL": closed}))

    response = Client(app).get("/ceramic-cache/weights")

    assert response.status_code == 503
    _conforms(response, "/ceramic-cache/weights", "GET")


def test_a_rate_limited_request_is_answered_as_documented(
    settings_env: dict[str, str],
    clean_db: pg8000.native.Connection,
    db: Database,
    redis_url: str,
    redis_client: redis.Redis,
) -> None:
    world = sc.build(clean_db)
    clean_db.run(
        "UPDATE account_accountapikey SET rate_limit = '0/1m' WHERE id = :id", id=world.api_key.id
    )
    env = {**settings_env, "RATELIMIT_ENABLE": "true", "CELERY_BROKER_URL": redis_url}
    app = create_app(Settings.from_env(env), db)

    path = f"/v2/stamps/{world.community_id}/score/{sc.ADDRESS}"
    response = Client(app).get(path, headers={"X-API-Key": world.api_key.key})

    assert response.status_code == 429
    _conforms(response, "/v2/stamps/{scorer_id}/score/{address}", "GET")


def _conforms(response: TestResponse, path: str, method: str) -> None:
    """The status is documented for the operation, and headers and body match its schemas."""
    operation = schemathesis.openapi.from_path(openapi_document.DOCUMENT_PATH)[path][method]
    assert str(response.status_code) in operation.responses.status_codes
    operation.validate_response(response)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Undocumented:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {}
