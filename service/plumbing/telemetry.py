"""OpenTelemetry: off unless configured through the standard OTEL_* variables.

On Lambda the ADOT layer's exec wrapper configures the SDK before our module is imported, and
its Lambda instrumentation opens a span per invocation. Locally, `python -m service` calls
`configure_from_environment()`, which runs the same opentelemetry-distro initialisation when an
exporter is named. In both, `traced(app)` adds the request span: the OpenTelemetry release the
layer ships (see service/requirements.txt) has no Falcon instrumentation for Falcon 4, so the
request span comes from its WSGI middleware, named after the route by SpanNameMiddleware. With
neither, no tracer provider is configured and `traced` leaves the app as it is.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.util import types

_tracer = trace.get_tracer("service")

AttributeValue = str | bool | int | float


def configure_from_environment(env: dict[str, str] | None = None) -> bool:
    """Initialise the SDK and auto-instrumentation when OTEL_TRACES_EXPORTER names an exporter.

    Must run before the Falcon app is built: the Falcon instrumentor swaps `falcon.App`.
    Metrics and logs exporters default to none here: the distro would otherwise ask for OTLP
    exporters, which the service does not ship (the ADOT layer brings its own on Lambda).
    """
    source = os.environ if env is None else env
    exporter = source.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not exporter or exporter == "none" or source.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    for name in ("OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"):
        os.environ.setdefault(name, "none")
    # In opentelemetry-instrumentation 0.50b0 the distro's initialisation runs when its
    # sitecustomize module is first imported (as `opentelemetry-instrument` arranges), and it
    # expects the PYTHONPATH that command sets.
    os.environ.setdefault("PYTHONPATH", "")
    importlib.import_module("opentelemetry.instrumentation.auto_instrumentation.sitecustomize")
    return True


def is_configured() -> bool:
    """Whether a tracer provider has been set (by the ADOT layer, `configure_from_environment`
    or a test). Until then every span is a non-recording placeholder, and skipping the span
    calls altogether saves the work of making one: about a tenth of a request's CPU when
    tracing is off."""
    global _configured
    if not _configured:
        # OpenTelemetry sets its global provider once, so a yes is final. Until then the
        # global it keeps is read directly: `get_tracer_provider()` also consults the
        # environment on every call, a dozen calls a request.
        if _PROVIDER_FROM_ENVIRONMENT:
            provider = trace.get_tracer_provider()
            _configured = not isinstance(provider, trace.ProxyTracerProvider)
        else:
            _configured = getattr(trace, "_TRACER_PROVIDER", None) is not None
    return _configured


# A provider named by the environment is created on the first `get_tracer_provider()` call.
_PROVIDER_FROM_ENVIRONMENT = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ


_configured = False


def traced(app: Any) -> Any:
    """The WSGI app with a span per request, when a tracer provider is configured (on Lambda by
    the ADOT layer before the handler is imported; locally by `configure_from_environment`,
    which runs before the app is built). Without one the middleware's spans and metrics would
    all be no-ops, so the app is served as it is, and the middleware, with the propagators and
    semantic conventions it loads, is never imported."""
    if not is_configured():
        return app
    from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(app)  # type: ignore[no-untyped-call]


_NOT_RECORDING: AbstractContextManager[trace.Span] = nullcontext(trace.INVALID_SPAN)


def span(name: str, **attributes: AttributeValue) -> AbstractContextManager[trace.Span]:
    """A child span for a step of the domain pipeline (auth, load, verify, dedup, score...)."""
    if not is_configured():
        return _NOT_RECORDING
    return _recorded_span(name, attributes)


@contextmanager
def _recorded_span(name: str, attributes: dict[str, AttributeValue]) -> Iterator[trace.Span]:
    with _tracer.start_as_current_span(name) as current:
        if attributes and current.is_recording():
            values: dict[str, types.AttributeValue] = dict(attributes)
            current.set_attributes(values)
        yield current


def set_attributes(**attributes: Any) -> None:
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes({k: v for k, v in attributes.items() if v is not None})
