"""The contract fuzzing set-up shared by the CI module (in-process, WSGI) and `make fuzz` (the
local gunicorn server): which checks run, the credentials sent, and the world's values that
generated requests use some of the time so that they get past lookups to the real work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

# No 5xx; every answer is documented (status, content type, headers, body); a method a route
# does not serve is a 405; a route that takes credentials refuses a request without them.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    ignored_auth,
]

# The 5xx a well-configured service answers to client input, because the reference does; each
# one's documented body pins its text, so any other 500 on these operations still fails:
# - POST /ceramic-cache/score/{address} without an alternate_scorer_id: `Scorer ID not set`
#   (docs/ceramic-cache.md);
# - GET /internal/score/v2/{scorer_id}/{address} when scoring stores an ERROR score, e.g. after a
#   stamp without an expirationDate was cached for the address: `Failed to calculate score.`
REFERENCE_500_OPERATIONS = ("ceramic_cache_calc_score", "internal_score_v2")


@dataclass(frozen=True)
class FuzzWorld:
    """What a generated request needs to be let in, and the ids that exist."""

    api_key: str
    bearer_token: str
    internal_token: str
    community_id: int
    address: str


def config(
    world: FuzzWorld, *, max_examples: int, seed: int, base_url: str | None = None
) -> schemathesis.Config:
    data: dict[str, Any] = {
        "seed": seed,
        "suppress-health-check": ["all"],
        # Test credentials only: show failing requests in full.
        "output": {"sanitization": {"enabled": False}},
        "generation": {
            "max-examples": max_examples,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"stateful": {"enabled": False}},
        "auth": {
            "openapi": {
                "ApiKeyHeader": {"api_key": world.api_key},
                "CeramicBearer": {"bearer": world.bearer_token},
                "InternalToken": {"api_key": world.internal_token},
            }
        },
        # Half of the generated ids and addresses are the world's, so that requests reach the
        # scoring pipeline and the stored rows instead of stopping at "no such community".
        "dictionaries": {
            "community": {"values": [world.community_id, str(world.community_id)]},
            "address": {"values": [world.address, world.address.upper().replace("0X", "0x")]},
        },
        "parameters": {
            "path.scorer_id": {"dictionary": "community", "probability": 0.5},
            "query.alternate_scorer_id": {"dictionary": "community", "probability": 0.5},
            "query.community_id": {"dictionary": "community", "probability": 0.5},
            "body.scorer_id": {"dictionary": "community", "probability": 0.5},
            "body.alternate_scorer_id": {"dictionary": "community", "probability": 0.5},
            "path.address": {"dictionary": "address", "probability": 0.5},
            "query.address": {"dictionary": "address", "probability": 0.5},
        },
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {
                    "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "500"]}
                },
            }
            for operation_id in REFERENCE_500_OPERATIONS
        ],
    }
    if base_url is not None:
        data["base-url"] = base_url
    return schemathesis.Config.from_dict(data)
