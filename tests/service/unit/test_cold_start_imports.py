"""What a fresh interpreter loads when it imports the Lambda handler: modules that only some
routes or configurations need stay out of the import until they are used."""

from __future__ import annotations

import json
import os
import subprocess
import sys

BASE_ENV = {
    "DATABASE_URL": "postgres://scorer:secret@127.0.0.1:1/scorer",
    "SECRET_KEY": "cold-start-test",
    "CGRANTS_API_TOKEN": "cold-start-test",
}

REPORT_MODULES = """
import json, sys
import service.lambda_handler
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after_import(**env: str) -> set[str]:
    child_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "RATELIMIT_", "CELERY_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", REPORT_MODULES],
        env={**child_env, **BASE_ENV, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_with_rate_limits_off_no_redis_client_or_circuit_is_loaded() -> None:
    modules = loaded_after_import()

    assert not {"redis", "pybreaker", "service.clients.rate_limit_store"} & modules


def test_with_rate_limits_on_the_client_and_circuit_load_at_import() -> None:
    # On, every v2 request counts: the client is built with the app, not on the first request.
    modules = loaded_after_import(
        RATELIMIT_ENABLE="true", CELERY_BROKER_URL="redis://127.0.0.1:1/0"
    )

    assert {"redis", "pybreaker", "service.clients.rate_limit_store"} <= modules


def test_the_stamp_metadata_models_are_built_on_first_use_only() -> None:
    # Only the stamp metadata and stamps list routes read the document.
    assert "service.domain.stamp_metadata_models" not in loaded_after_import()


def test_without_a_tracer_provider_the_wsgi_instrumentation_is_not_loaded() -> None:
    # Its spans and metrics would be no-ops; tests/service/integration/test_telemetry.py and
    # tests/runtime hold the request span wherever a provider is configured.
    modules = loaded_after_import()

    assert "opentelemetry.instrumentation.wsgi" not in modules
    assert "opentelemetry.sdk" not in modules


REPORT_FROZEN = """
import gc, json
import service.lambda_handler
tracked = len(gc.get_objects())
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": tracked, "on": gc.isenabled()}))
"""


def test_what_start_up_built_is_frozen_out_of_the_collectors_sight() -> None:
    # A full collection would otherwise walk every module and table object at each pass.
    child_env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", REPORT_FROZEN],
        env={**child_env, **BASE_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout.splitlines()[-1])
    assert counts["frozen"] > 20_000
    assert counts["tracked"] < counts["frozen"] / 10, counts
    # Paused for the imports only: requests run with the collector on.
    assert counts["on"] is True
