"""The function under its real runtime: the bundle as /var/task, the ADOT layer 1.29.0's
packages as /opt/python, its exec wrapper, then the runtime's import of the handler, and ALB
events through it. Needs the network once (pip installs the bundle and the layer); run by
``make test-runtime``, which .ci/run calls.

What it holds: the handler starts and answers under the wrapper; every OpenTelemetry package,
whether Lambda imports the bundle's copy or the layer's, is of the layer's release (1.29.0 /
0.50b0); and spans reach the collector's OTLP endpoint: the layer's span per invocation, the
service's request span under it, and the service's SQL spans.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pg8000.native
import pytest

from infra.bundling import REPO_ROOT
from tests.runtime.lambda_layout import Runtime, decode_traces, invoke, lay_out

EVENTS = REPO_ROOT / "tests" / "service" / "events"
OTEL_API_VERSION = "1.29.0"
OTEL_CONTRIB_VERSION = "0.50b0"
SPAN_KIND_SERVER = 2


class _Collector(BaseHTTPRequestHandler):
    """Stands in for the layer's collector extension: OTLP over HTTP on a local port."""

    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return lay_out(tmp_path_factory.mktemp("lambda"))


@pytest.fixture
def collector() -> Iterator[str]:
    _Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def event(name: str, **changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return {**loaded, **changes}


ADDRESS = "0x" + "d3" * 20


@pytest.fixture
def answered(
    runtime: Runtime,
    collector: str,
    database_url: str,
    admin_conn: pg8000.native.Connection,
    tmp_path: Path,
) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    health = event("alb_get_health.json")
    v2 = event(
        "alb_get_health.json",
        path=f"/v2/stamps/1/score/{ADDRESS}",
        headers={**health["headers"], "x-api-key": "abcdefgh.no-such-key"},
    )
    events = [health, event("alb_get_unknown_route.json"), v2]
    environment = {
        # What the stack sets (infra/settings.py lambda_environment), with the settings the
        # secret would bring given directly.
        "OTEL_SERVICE_NAME": "passport-scorer",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "runtime-test",
        "CGRANTS_API_TOKEN": "runtime-test",
        "TRUSTED_IAM_ISSUERS": "[]",
        # The collector extension listens on localhost; here it is the test's.
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector,
    }
    result, output = invoke(runtime, events, environment, tmp_path)
    traces = [body for path, body in _Collector.received if path == "/v1/traces"]
    return result, output, decode_traces(runtime, traces, tmp_path)


def test_the_handler_starts_under_the_wrapper_and_answers(
    answered: tuple[dict[str, Any], str, list[dict[str, Any]]],
) -> None:
    result, output, _ = answered
    assert result.get("error") is None, result["error"]
    statuses = [response["statusCode"] for response in result["responses"]]
    assert statuses == [200, 404, 401]
    bodies = [json.loads(response["body"]) for response in result["responses"][1:]]
    assert bodies == [{"detail": "Not Found"}, {"detail": "Invalid API Key."}]
    for failure in ("Failed to auto initialize", "Configuration of configurator failed"):
        assert failure not in output


def test_every_opentelemetry_package_imported_is_of_the_layers_release(
    runtime: Runtime, answered: tuple[dict[str, Any], str, list[dict[str, Any]]]
) -> None:
    imported = answered[0]["imported"]
    # The bundle's copies win where both have a package (/var/task is first on the path).
    for name in ("opentelemetry.api", "opentelemetry.sdk", "opentelemetry.instrumentation"):
        assert imported[name]["file"].startswith(str(runtime.task)), name
    # Only the layer has these.
    for name in (
        "opentelemetry.instrumentation.aws_lambda",
        "opentelemetry.exporter.otlp.proto.http",
    ):
        assert imported[name]["file"].startswith(str(runtime.opt)), name
    versions = {name: found["version"] for name, found in imported.items() if name != "wrapt"}
    assert set(versions.values()) <= {OTEL_API_VERSION, OTEL_CONTRIB_VERSION}, versions
    assert imported["wrapt"]["version"] == "1.17.0"


def test_spans_reach_the_collector_under_the_invocation_span(
    answered: tuple[dict[str, Any], str, list[dict[str, Any]]],
) -> None:
    spans = answered[2]
    invocations = [span for span in spans if span["name"] == "service.lambda_handler.handler"]
    assert len(invocations) == 3
    assert all(span["kind"] == SPAN_KIND_SERVER for span in invocations)
    resource = invocations[0]["resource"]
    assert resource["service.name"] == "passport-scorer"
    assert resource["cloud.provider"] == "aws"
    assert resource["faas.name"] == "scorer-runtime-test"

    by_id = {span["span_id"]: span for span in spans}
    requests = {
        span["name"]: span
        for span in spans
        if by_id.get(span["parent_span_id"], {}).get("name") == "service.lambda_handler.handler"
    }
    assert set(requests) == {"GET /health", "GET", "GET /v2/stamps/{scorer_id}/score/{address}"}
    v2 = requests["GET /v2/stamps/{scorer_id}/score/{address}"]
    assert v2["attributes"]["http.status_code"] == 401
    under_v2 = [span["name"] for span in spans if _descends(span, v2, by_id)]
    assert "scoring.auth" in under_v2
    assert any(name.startswith("db.") for name in under_v2), under_v2


def _descends(span: dict[str, Any], ancestor: dict[str, Any], by_id: dict[str, Any]) -> bool:
    parent = by_id.get(span["parent_span_id"])
    while parent is not None:
        if parent["span_id"] == ancestor["span_id"]:
            return True
        parent = by_id.get(parent["parent_span_id"])
    return False
