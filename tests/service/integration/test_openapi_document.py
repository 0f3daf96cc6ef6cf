"""service/openapi.json describes exactly the routes the app serves, and is served as committed."""

from __future__ import annotations

import json

import falcon
import falcon.inspect
import falcon.testing
import pytest

from service.app import create_app
from service.db.connection import Database
from service.settings import Settings
from tools import openapi_document

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def app(settings: Settings, db: Database) -> falcon.App[falcon.Request, falcon.Response]:
    return create_app(settings, db)


def served_operations(app: falcon.App[falcon.Request, falcon.Response]) -> set[tuple[str, str]]:
    """(method, template) of every responder the app registered itself; Falcon's defaults
    (OPTIONS, 405) are marked internal and left out."""
    return {
        (method.method, route.path)
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


class _Undocumented:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {}
