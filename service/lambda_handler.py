"""AWS Lambda entry point for Application Load Balancer events.

Everything that can be done once per container (settings, secrets, logging, the app) happens at
import; an invocation only translates the event and calls the WSGI app.
"""

from __future__ import annotations

import gc

# Paused until `memory.freeze_startup_objects()` below: the imports build the container's
# long-lived objects and almost no garbage (ADR-0049).
gc.disable()

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
from http import HTTPStatus  # noqa: E402
from typing import Any  # noqa: E402

from apig_wsgi import make_lambda_handler  # noqa: E402

from service.app import create_app  # noqa: E402
from service.plumbing import logs, memory, telemetry  # noqa: E402
from service.plumbing.secrets import environment_with_secret  # noqa: E402
from service.plumbing.settings import Settings  # noqa: E402

settings = Settings.from_env(environment_with_secret(os.environ))
logs.configure(settings.log_level)
app = create_app(settings)
_adapter = make_lambda_handler(telemetry.traced(app))
log = logging.getLogger("service.lambda")
memory.freeze_startup_objects()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        environ_ok = _looks_like_an_http_event(event)
        response = _adapter(event, context) if environ_ok else _malformed_event()
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeError):
        # The event itself could not be turned into a request (bad base64, wrong field types);
        # the app never ran, so nothing was written.
        log.warning("malformed load balancer event", exc_info=True)
        response = _malformed_event()
    # The ALB response format carries the reason phrase separately from the code.
    response["statusDescription"] = _status_description(response["statusCode"])
    return response


def _looks_like_an_http_event(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("httpMethod"), str)
        and isinstance(event.get("path"), str)
        and event["path"].startswith("/")
    )


def _malformed_event() -> dict[str, Any]:
    return {
        "statusCode": 400,
        "headers": {"Content-Type": "application/json"},
        "isBase64Encoded": False,
        "body": json.dumps({"detail": "Bad request"}),
    }


def _status_description(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)
