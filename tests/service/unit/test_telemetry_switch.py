"""Tracing costs nothing until a tracer provider is set, and works from the moment one is.

OpenTelemetry's global provider can be set once per process, so each case runs in a fresh
interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

_PROGRAM = textwrap.dedent(
    """
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from service.plumbing import telemetry

    def app(environ, start_response):
        return []

    assert not telemetry.is_configured()
    assert telemetry.traced(app) is app
    with telemetry.span("scoring.load", stamps=1) as placeholder:
        assert not placeholder.is_recording()

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    assert telemetry.is_configured()
    assert telemetry.traced(app) is not app
    with telemetry.span("scoring.load", stamps=1) as recorded:
        assert recorded.is_recording()
    [finished] = exporter.get_finished_spans()
    assert (finished.name, dict(finished.attributes)) == ("scoring.load", {"stamps": 1})
    print("ok")
    """
)


def test_spans_and_the_request_middleware_start_with_the_tracer_provider() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROGRAM],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr
