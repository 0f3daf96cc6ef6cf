"""Traces: a server span per request, a client span per SQL statement, and our own step spans."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import falcon
import falcon.testing
import pg8000.native
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service.app import create_app
from service.db.connection import Database
from service.plumbing import telemetry
from service.plumbing.settings import Settings
from tests.service.support import scenario


@pytest.fixture(scope="session")
def session_exporter() -> InMemorySpanExporter:
    """The global tracer provider can be set only once per process, so the session shares it."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def exporter(session_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    session_exporter.clear()
    return session_exporter


class RunsSelects:
    """A test-only resource that reads through the request's transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self._db.transaction() as tx:
            resp.media = {
                "one": tx.scalar("SELECT 1"),
                "configs": tx.scalar("SELECT count(*) FROM registry_humanpointsconfig"),
            }


@pytest.fixture
def traced_client(
    exporter: InMemorySpanExporter, settings: Settings, admin_conn: pg8000.native.Connection
) -> Iterator[falcon.testing.TestClient]:
    # Only reads, so the tables need no reset; `admin_conn` makes sure the schema exists.
    db = Database(settings.database)
    try:
        app = create_app(settings, db)
        app.add_route("/test-only/selects", RunsSelects(db))
        # Wrapped as every entry point wraps it (the Lambda handler, python -m service).
        yield falcon.testing.TestClient(telemetry.traced(app))
    finally:
        db.close()


def spans_named(spans: tuple[ReadableSpan, ...], prefix: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name.startswith(prefix)]


def server_span(spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    servers = [span for span in spans if span.kind == trace.SpanKind.SERVER]
    assert len(servers) == 1
    return servers[0]


def test_a_request_gets_a_server_span_with_its_route_and_status(
    traced_client: falcon.testing.TestClient, exporter: InMemorySpanExporter
) -> None:
    result = traced_client.simulate_get("/test-only/selects")

    assert result.status_code == 200
    server = server_span(exporter.get_finished_spans())
    assert server.name == "GET /test-only/selects"
    assert server.attributes is not None
    assert server.attributes["http.status_code"] == 200


def test_each_sql_statement_gets_a_client_span_under_the_request_span(
    traced_client: falcon.testing.TestClient, exporter: InMemorySpanExporter
) -> None:
    traced_client.simulate_get("/test-only/selects")

    spans = exporter.get_finished_spans()
    server = server_span(spans)
    statements = spans_named(spans, "db.")
    assert [span.name for span in statements] == ["db.SELECT", "db.SELECT"]
    for span in statements:
        assert span.kind == trace.SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == server.context.span_id
        assert span.context.trace_id == server.context.trace_id


def test_sql_spans_name_the_database_system_and_the_statement(
    traced_client: falcon.testing.TestClient, exporter: InMemorySpanExporter
) -> None:
    traced_client.simulate_get("/test-only/selects")

    attributes = [
        dict(span.attributes or {}) for span in spans_named(exporter.get_finished_spans(), "db.")
    ]
    assert attributes == [
        # The transaction's START travels with its first statement.
        {
            "db.system": "postgresql",
            "db.statement": "SELECT 1",
            "db.preceded_by": "START TRANSACTION",
        },
        {
            "db.system": "postgresql",
            "db.statement": "SELECT count(*) FROM registry_humanpointsconfig",
        },
    ]


def test_a_step_span_is_a_child_of_the_current_span_and_carries_its_attributes(
    exporter: InMemorySpanExporter,
) -> None:
    tracer = trace.get_tracer("tests")

    with (
        tracer.start_as_current_span("request") as parent,
        telemetry.span("scoring.dedup", scorer_id=7, stamps=3, lifo=True),
    ):
        pass

    (step,) = spans_named(exporter.get_finished_spans(), "scoring.")
    assert step.parent is not None
    assert step.parent.span_id == parent.get_span_context().span_id
    assert dict(step.attributes or {}) == {"scorer_id": 7, "stamps": 3, "lifo": True}


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"},
    ],
)
def test_configure_from_environment_does_nothing_without_an_exporter(
    env: dict[str, str],
) -> None:
    assert telemetry.configure_from_environment(env) is False


def test_a_v2_scoring_request_traces_each_pipeline_step_with_counts_and_outcome(
    exporter: InMemorySpanExporter,
    clean_db: pg8000.native.Connection,
    settings_env: dict[str, str],
    db: Database,
) -> None:
    world = scenario.build(clean_db)
    env = {**settings_env, "TRUSTED_IAM_ISSUERS": scenario.trusted_issuers_json()}
    world.client = falcon.testing.TestClient(create_app(Settings.from_env(env), db))
    world.cache(scenario.stamp("Google"))
    world.cache(scenario.stamp("Github"))

    assert world.score().status_code == 200

    steps = {
        s.name: dict(s.attributes or {})
        for s in spans_named(exporter.get_finished_spans(), "scoring.")
    }
    assert list(steps) == [
        # The community and passport are read with the key, ahead of authentication.
        "scoring.community",
        "scoring.auth",
        "scoring.load",
        "scoring.verify",
        "scoring.dedup",
        "scoring.score",
        "scoring.persist",
        "scoring.analytics",
    ]
    assert steps["scoring.load"] == {"stamps.loaded": 2}
    assert steps["scoring.verify"] == {"stamps.count": 2, "stamps.valid": 2}
    assert steps["scoring.dedup"] == {"stamps.kept": 2, "stamps.deduplicated": 0}
    assert steps["scoring.score"] == {"score.passing": True}
    assert steps["scoring.persist"] == {"outcome": "DONE"}


CONSOLE_SCRIPT = """
import os
os.environ.update(OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="scorer-test")
import falcon.testing
from opentelemetry import trace
from service.plumbing import telemetry
assert telemetry.configure_from_environment() is True
from service.app import create_app
from service.plumbing.settings import Settings
settings = Settings.from_env(
    {"DATABASE_URL": "postgresql://x@127.0.0.1:1/x", "SECRET_KEY": "k", "CGRANTS_API_TOKEN": "t"}
)
client = falcon.testing.TestClient(telemetry.traced(create_app(settings)))
assert client.simulate_get("/health").status_code == 200
trace.get_tracer_provider().force_flush()
"""


def test_a_console_exporter_prints_request_spans_without_asking_for_otlp_exporters() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert '"name": "GET /health"' in result.stdout
    assert "Failed to auto initialize" not in result.stderr + result.stdout
