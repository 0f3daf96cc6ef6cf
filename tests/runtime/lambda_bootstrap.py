"""Stands in for the Python runtime's bootstrap (/var/runtime/bootstrap.py): the import path it
builds, the import of ``_HANDLER``, and one invocation per event.

    python3 lambda_bootstrap.py EVENTS.json RESULT.json

Events come from a JSON list instead of the Runtime API; answers, errors and what each
OpenTelemetry package was imported from go to RESULT.json.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

# The runtime's order: site-packages of the runtime and the layers only when PYTHONPATH is unset,
# and the function's code first in every case.
if not os.environ.get("PYTHONPATH"):
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for path in ("/opt/python", f"/opt/python/lib/{version}/site-packages"):
        sys.path.append(path)
sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])

_WATCHED = {
    "opentelemetry.sdk": ("opentelemetry.sdk.version", "__version__"),
    "opentelemetry.api": ("opentelemetry.version", "__version__"),
    "opentelemetry.instrumentation": ("opentelemetry.instrumentation.version", "__version__"),
    "opentelemetry.instrumentation.falcon": (
        "opentelemetry.instrumentation.falcon.version",
        "__version__",
    ),
    "opentelemetry.instrumentation.aws_lambda": (
        "opentelemetry.instrumentation.aws_lambda.version",
        "__version__",
    ),
    "opentelemetry.exporter.otlp.proto.http": (
        "opentelemetry.exporter.otlp.proto.http.version",
        "__version__",
    ),
    "wrapt": ("wrapt", "__version__"),
}


class Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "scorer")
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    log_group_name = "/aws/lambda/scorer"
    log_stream_name = "runtime-test"

    def __init__(self, number: int) -> None:
        self.aws_request_id = f"00000000-0000-4000-8000-{number:012d}"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-west-2:123456789012:function:{self.function_name}"
        )
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _imported_versions() -> dict[str, dict[str, str]]:
    found = {}
    for name, (module_name, attribute) in _WATCHED.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            found[name] = {"error": str(error)}
            continue
        package = sys.modules.get(name) or module
        found[name] = {
            "version": str(getattr(module, attribute, "?")),
            "file": str(getattr(package, "__file__", None) or next(iter(package.__path__))),
        }
    return found


def main() -> int:
    events_file, result_file = sys.argv[1:3]
    result: dict[str, Any] = {"sys_path": sys.path, "responses": []}
    try:
        module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), function_name)
        with open(events_file, encoding="utf-8") as handle:
            events = json.load(handle)
        for number, event in enumerate(events):
            result["responses"].append(handler(event, Context(number)))
    except Exception:  # noqa: BLE001 - reported, not raised: the test reads the traceback
        result["error"] = traceback.format_exc()
    result["imported"] = _imported_versions()
    with open(result_file, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
