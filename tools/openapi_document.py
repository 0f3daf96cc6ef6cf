"""Builds `service/openapi.json`, the OpenAPI 3.1 description of every route the service serves.

`python -m tools.openapi_document` writes the file; `--check` exits 1 when the committed file
differs from what this module builds (a test runs the same comparison). The document is written
here rather than by hand so that the shared shapes (the score, the error envelopes) are defined
once and every response of every route reuses them.

Schemas are closed (`additionalProperties: false`) wherever the service's answer has a fixed key
set, error details are pinned to the exact texts the service answers, and nullable values are
typed `[T, "null"]`, so that a response-conformance check against this document means something.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "service" / "openapi.json"

JsonObject = dict[str, Any]

# --- the error texts the service answers (service/plumbing/errors.py and the modules raising them)

INVALID_ADDRESS = "Invalid address."
INVALID_API_KEY = "Invalid API Key."
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
CANNOT_PARSE = "Cannot parse request body"
TOO_MANY_STAMPS = "You have submitted too many stamps."
NO_SCORER = "No scorer matches the given criteria."
NO_COMMUNITY = "No Community matches the given query."
INVALID_SCORER_ID = "Invalid scorer_id"
SCORER_ID_NOT_SET = "Scorer ID not set"
UNEXPECTED_SCORING_ERROR = "Unexpected error while submitting passport"
DATABASE_UNAVAILABLE = "Service temporarily unavailable, please retry"
RATE_LIMITED = "You have been rate limited!"
INTERNAL_SERVER_ERROR = "Internal Server Error"
NO_PERMISSION = "Invalid permissions for action."
CREATED_AT_REQUIRED = "You must provide created_at as a query param."
INVALID_CREATED_AT = "Invalid created_at."
INVALID_LIMIT = "Invalid limit."
INVALID_TOKEN = "Invalid token."
METADATA_FETCH_FAILED = "Error fetching external stamp metadata"
REQUEST_TIMEOUT = "Request body not received in time"
LENGTH_REQUIRED = "Length Required"
# ninja-jwt's InvalidToken rendered with str(): a Python dict repr (docs/ceramic-cache.md).
INVALID_TOKEN_PATTERN = (
    r"^\{'detail': ErrorDetail\(string='Given token not valid for any token type'"
)
UNUSABLE_STAMP_PATTERN = r"^(the stamp for |the provider |two stamps for provider )"
WEIGHTS_UNAVAILABLE_PATTERN = (
    r"^Unable to retrieve configured scorer! settings\.CERAMIC_CACHE_SCORER_ID="
)

ADDRESS_PATTERN = "^0[xX][0-9a-fA-F]{40}$"
LOWER_ADDRESS_PATTERN = "^0x[0-9a-f]{40}$"
# format(Decimal, ".5f"): the score and the threshold.
DECIMAL_5 = r"^-?[0-9]+\.[0-9]{5}$"


def _ref(name: str) -> JsonObject:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(type_name: str, **extra: Any) -> JsonObject:
    return {"type": [type_name, "null"], **extra}


def _closed(properties: dict[str, JsonObject], *, optional: tuple[str, ...] = ()) -> JsonObject:
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }


# --- component schemas --------------------------------------------------------------------------

SCHEMAS: dict[str, JsonObject] = {
    "Detail": {
        "description": "The reference's error envelope.",
        **_closed({"detail": {"type": "string"}}),
    },
    "ValidationError": {
        "description": "One pydantic error as django-ninja reports it (no `input`, no `url`).",
        **_closed(
            {
                "type": {"type": "string"},
                "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                "msg": {"type": "string"},
                "ctx": {"type": "object"},
            },
            optional=("ctx",),
        ),
    },
    "ValidationErrors": {
        "description": "422: django-ninja's list of validation errors.",
        **_closed({"detail": {"type": "array", "minItems": 1, "items": _ref("ValidationError")}}),
    },
    "StampScore": _closed(
        {
            "score": {"type": "string", "pattern": DECIMAL_5},
            "dedup": {"type": "boolean"},
            # A deduplicated stamp's date is the credential's own text, not re-formatted.
            "expiration_date": _nullable("string"),
        }
    ),
    "PointsData": _closed(
        {
            "total_points": {"type": "integer"},
            "is_eligible": {"type": "boolean"},
            "multiplier": {"type": "integer"},
            "breakdown": {"type": "object", "additionalProperties": {"type": "integer"}},
        }
    ),
    "V2ScoreResponse": {
        "description": "The 11-key score object of every scoring route.",
        **_closed(
            {
                "address": {"type": "string", "pattern": LOWER_ADDRESS_PATTERN},
                "score": {"type": "string", "pattern": DECIMAL_5},
                "passing_score": {"type": "boolean"},
                "last_score_timestamp": _nullable("string", format="date-time"),
                "expiration_timestamp": _nullable("string", format="date-time"),
                "threshold": {"type": "string", "pattern": DECIMAL_5},
                "error": _nullable("string"),
                "stamps": {"type": "object", "additionalProperties": _ref("StampScore")},
                "points_data": {"anyOf": [{"type": "null"}, _ref("PointsData")]},
                "possible_points_data": {"anyOf": [{"type": "null"}, _ref("PointsData")]},
                "linked_score": {"type": "null"},
            }
        ),
    },
    "HistoricStampScore": _closed(
        {
            "score": {"type": "string"},
            "dedup": {"type": "boolean"},
            "expiration_date": _nullable("string"),
            "source_wallet": {"type": "string"},
        },
        optional=("source_wallet",),
    ),
    "V2HistoricScoreResponse": {
        "description": "The score object built from a stored score event: the address as sent,"
        " timestamps verbatim from the event.",
        **_closed(
            {
                "address": {"type": "string"},
                "score": {"type": "string", "pattern": DECIMAL_5},
                "passing_score": {"type": "boolean"},
                "last_score_timestamp": _nullable("string"),
                "expiration_timestamp": _nullable("string"),
                "threshold": {"type": "string", "pattern": DECIMAL_5},
                "error": _nullable("string"),
                "stamps": {
                    "anyOf": [
                        {"type": "null"},
                        {"type": "object", "additionalProperties": _ref("HistoricStampScore")},
                    ]
                },
                "points_data": {"type": "null"},
                "possible_points_data": {"type": "null"},
                "linked_score": {"type": "null"},
            }
        ),
    },
    "StampPlatformSummary": _closed(
        {
            "id": {"type": "string"},
            "icon": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "connectMessage": {"type": "string"},
        }
    ),
    "StampItemMetadata": _closed(
        {
            "group": {"type": "string"},
            "platform": _ref("StampPlatformSummary"),
            "name": {"type": "string"},
            "description": {"type": "string"},
            "hash": {"type": "string"},
        }
    ),
    "StampItem": _closed(
        {
            "version": {"const": "1.0.0"},
            "credential": {"description": "the credential JSON as stored"},
            "metadata": {"anyOf": [{"type": "null"}, _ref("StampItemMetadata")]},
        }
    ),
    "StampPage": {
        "description": "One page, newest first, with links to the neighbouring pages.",
        **_closed(
            {
                "next": _nullable("string", format="uri"),
                "prev": _nullable("string", format="uri"),
                "items": {"type": "array", "maxItems": 1000, "items": _ref("StampItem")},
            }
        ),
    },
    "StampPlatform": _closed(
        {
            "id": {"type": "string"},
            "icon": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "connectMessage": {"type": "string"},
            "groups": {
                "type": "array",
                "items": _closed(
                    {
                        "name": {"type": "string"},
                        "stamps": {
                            "type": "array",
                            "items": _closed(
                                {
                                    "name": {"type": "string"},
                                    "description": {"type": "string"},
                                    "hash": {"type": "string"},
                                }
                            ),
                        },
                    }
                ),
            },
        }
    ),
    "CachedStamp": _closed(
        {
            "id": {"type": "integer"},
            "address": _nullable("string"),
            "provider": {"type": "string"},
            "stamp": {"description": "the credential JSON as stored"},
        }
    ),
    "StampList": _closed(
        {"success": {"type": "boolean"}, "stamps": {"type": "array", "items": _ref("CachedStamp")}}
    ),
    "StampsWithScore": _closed(
        {
            "success": {"type": "boolean"},
            "stamps": {"type": "array", "items": _ref("CachedStamp")},
            "score": _ref("V2ScoreResponse"),
        }
    ),
    "Weights": {
        "description": "Provider weights as floats.",
        "type": "object",
        "additionalProperties": {"type": "number"},
    },
    "Credential": {
        "description": "A verifiable credential (stamp) as the Passport app stores it. Only"
        " `proof.proofValue` is needed to cache it; the rest is checked when scoring.",
        "type": "object",
        "required": ["proof"],
        "properties": {
            "type": {"type": "array", "items": {"type": "string"}},
            "issuer": {"type": "string"},
            "issuanceDate": {"type": "string", "format": "date-time"},
            "expirationDate": {"type": "string", "format": "date-time"},
            "credentialSubject": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "provider": {"type": "string", "maxLength": 256},
                    "nullifiers": {"type": "array", "items": {"type": "string"}},
                },
            },
            "proof": {
                "type": "object",
                "required": ["proofValue"],
                "properties": {
                    "type": {"type": "string"},
                    "proofValue": {"type": "string", "maxLength": 256},
                },
            },
        },
    },
    "CacheStampPayload": {
        "type": "object",
        "required": ["provider"],
        "properties": {
            "provider": {"type": "string", "maxLength": 256},
            "stamp": {
                "description": "The credential; POST needs one per item, on PATCH an item"
                " without one only deletes its provider.",
                "anyOf": [_ref("Credential"), {"type": "null"}],
            },
            "address": {
                "description": "ignored: the token's address is used",
                "type": ["string", "null"],
            },
        },
    },
    "DeleteStampPayload": {
        "type": "object",
        "required": ["provider"],
        "properties": {
            "provider": {"type": "string"},
            "address": {"description": "ignored", "type": ["string", "null"]},
        },
    },
    "CheckBanCredential": {
        "type": "object",
        "required": ["credentialSubject"],
        "properties": {
            "credentialSubject": {
                "type": "object",
                "description": "All three keys are required; `id` is a DID whose tail after the"
                " last `:` is the address, the same in every credential; `hash` must be a string.",
                "required": ["hash", "provider", "id"],
                "properties": {
                    "hash": {"type": "string"},
                    "provider": {"type": ["string", "null"]},
                    "id": {"type": "string"},
                },
            }
        },
    },
    "CheckBanResult": _closed(
        {
            "hash": {"type": "string"},
            "is_banned": {"type": "boolean"},
            "end_time": _nullable("string", format="date-time"),
            "ban_type": {"enum": ["account", "hash", "single_stamp", None]},
            "reason": _nullable("string"),
        }
    ),
    "RevocationResult": _closed(
        {"proof_value": {"type": "string"}, "is_revoked": {"type": "boolean"}}
    ),
    "Stake": _closed(
        {
            "chain": {"type": "integer"},
            "staker": {"type": "string"},
            "stakee": {"type": "string"},
            "amount": {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{18}$"},
            "unlock_time": {"type": "string", "format": "date-time"},
            "lock_time": {"type": "string", "format": "date-time"},
            "last_updated_in_block": {"type": "integer"},
        }
    ),
    "LegacyStakeEvent": _closed(
        {
            "id": {"type": "integer"},
            "event_type": {"type": "string"},
            "round_id": {"type": "integer"},
            "staker": _nullable("string"),
            "address": _nullable("string"),
            "amount": {
                "description": "str(Decimal): may be scientific, e.g. 0E-18",
                "type": "string",
            },
            "staked": {"type": "boolean"},
            "block_number": {"type": "integer"},
            "tx_hash": {"type": "string"},
        }
    ),
    "StampSection": _closed(
        {
            "title": {"type": "string"},
            "order": {"type": "integer"},
            "items": {
                "type": "array",
                "items": _closed({"platform_id": {"type": "string"}, "order": {"type": "integer"}}),
            },
        }
    ),
}


# --- responses ----------------------------------------------------------------------------------

REQUEST_ID_HEADER: JsonObject = {
    "description": "The request id: the Lambda request id, the caller's X-Request-Id or"
    " X-Amzn-Trace-Id, or a fresh one.",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
}


REQUEST_ID: JsonObject = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}


def _json(schema: JsonObject, description: str, **headers: JsonObject) -> JsonObject:
    return {
        "description": description,
        "headers": {**REQUEST_ID, **headers},
        "content": {"application/json": {"schema": schema}},
    }


def _detail(*texts: str, patterns: tuple[str, ...] = ()) -> JsonObject:
    """`{"detail": ...}` whose text is one of `texts` or matches one of `patterns`."""
    choices: list[JsonObject] = []
    if texts:
        choices.append({"enum": list(texts)})
    choices.extend({"pattern": pattern} for pattern in patterns)
    text: JsonObject = {"type": "string"}
    if len(choices) == 1:
        text.update(choices[0])
    elif choices:
        text["anyOf"] = choices
    return _closed({"detail": text})


def _error(description: str, *texts: str, patterns: tuple[str, ...] = ()) -> JsonObject:
    return _json(_detail(*texts, patterns=patterns), description)


def _too_large() -> JsonObject:
    return {"$ref": "#/components/responses/PayloadTooLarge"}


def _unavailable() -> JsonObject:
    return {"$ref": "#/components/responses/DatabaseUnavailable"}


def _rate_limited() -> JsonObject:
    return {"$ref": "#/components/responses/RateLimited"}


def _rate_limited_response() -> JsonObject:
    return _json(
        _detail(RATE_LIMITED),
        "The key has used its window's budget (its `rate_limit`, shared with the reference"
        " service, when RATELIMIT_ENABLE is on); Retry-After is the seconds until the next"
        " window opens.",
        **{"Retry-After": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
    )


def _body_timeout() -> JsonObject:
    return {"$ref": "#/components/responses/RequestTimeout"}


def _length_required() -> JsonObject:
    return {"$ref": "#/components/responses/LengthRequired"}


def _too_large_response() -> JsonObject:
    return _error(
        "The body is over MAX_REQUEST_BODY_BYTES.",
        patterns=(r"^Request body too large \(limit [0-9]+ bytes\)$",),
    )


def _body_timeout_response() -> JsonObject:
    return _error(
        "The client stopped sending the body before its end (python -m service only).",
        REQUEST_TIMEOUT,
    )


def _length_required_response() -> JsonObject:
    return _error(
        "A body without Content-Length on a server that cannot tell where it ends.",
        LENGTH_REQUIRED,
    )


def _unavailable_response() -> JsonObject:
    return _json(
        _detail(DATABASE_UNAVAILABLE),
        "The database cannot be reached, or cannot answer in time (a statement or lock timeout,"
        " a serialization failure, exhausted resources); nothing was written.",
        **{"Retry-After": {"required": True, "schema": {"type": "string"}}},
    )


def _validation(description: str = "A parameter or the body fails validation.") -> JsonObject:
    return _json(_ref("ValidationErrors"), description)


def _validation_or(description: str, *texts: str, patterns: tuple[str, ...] = ()) -> JsonObject:
    """422 as the validation list, or as a plain message."""
    return _json(
        {"anyOf": [_ref("ValidationErrors"), _detail(*texts, patterns=patterns)]}, description
    )


# --- parameters ---------------------------------------------------------------------------------


def _path(name: str, schema: JsonObject, description: str) -> JsonObject:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _query(
    name: str, schema: JsonObject, description: str, *, required: bool = False
) -> JsonObject:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


ADDRESS = _path(
    "address",
    {"type": "string", "pattern": ADDRESS_PATTERN},
    "`0x` and 40 hex digits, any case (checksums are not enforced); anything else is 400"
    " `Invalid address.`",
)
ROUTE_INT_DESCRIPTION = (
    "ASCII digits only (Django's `{int:}` converter): any other segment does not match the route"
    " and answers the generic 404."
)


def _route_int(name: str) -> JsonObject:
    return _path(name, {"type": "integer", "minimum": 0}, ROUTE_INT_DESCRIPTION)


def _body(schema: JsonObject, description: str) -> JsonObject:
    return {
        "required": True,
        "description": description
        + " It is read as JSON whatever the Content-Type says; a body that is not JSON is 400.",
        "content": {"application/json": {"schema": schema}},
    }


# --- security -----------------------------------------------------------------------------------

SECURITY_SCHEMES: dict[str, JsonObject] = {
    "ApiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A partner API key, `<8-character prefix>.<secret>`.",
    },
    "ApiKeyAuthorization": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "The same key as the second word of `Authorization` (`Token <key>`;"
        " any first word is accepted). Read only when `X-API-Key` is absent or empty.",
    },
    "CeramicBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The Passport app's access token: HS256 signed with SECRET_KEY (`exp`,"
        " `jti`, `token_type: access`), or RS256 SIWE when SIWE_JWT_PUBLIC_KEY is set. Its `did`"
        " claim, `did:pkh:eip155:1:0x<40 hex>`, is the caller's address.",
    },
    "InternalToken": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "The raw `Authorization` header must equal CGRANTS_API_TOKEN (no scheme"
        " word).",
    },
}

API_KEY: list[JsonObject] = [{"ApiKeyHeader": []}, {"ApiKeyAuthorization": []}]
BEARER: list[JsonObject] = [{"CeramicBearer": []}]
INTERNAL: list[JsonObject] = [{"InternalToken": []}]
OPEN: list[JsonObject] = []

BEARER_401 = _error(
    "No bearer token, another scheme, a token without a valid `did`, or a token no token class"
    " accepts (the reference's InvalidToken text).",
    UNAUTHORIZED,
    patterns=(INVALID_TOKEN_PATTERN,),
)
INTERNAL_401 = _error("The Authorization header is not the internal token.", UNAUTHORIZED)


def _operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    security: list[JsonObject],
    responses: dict[str, JsonObject],
    parameters: list[JsonObject] | None = None,
    body: JsonObject | None = None,
    description: str | None = None,
    body_limit: bool = True,
) -> JsonObject:
    operation: JsonObject = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security,
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    if body_limit:
        responses = {
            **responses,
            "408": _body_timeout(),
            "411": _length_required(),
            "413": _too_large(),
        }
    operation["responses"] = dict(sorted(responses.items()))
    return operation


# --- the routes ---------------------------------------------------------------------------------


def _health(body: str, note: str) -> JsonObject:
    return _operation(
        "health" if body == "OK" else "health_django",
        f"Liveness probe ({note}); never touches the database",
        tag="health",
        security=OPEN,
        responses={
            "200": {
                "description": "Alive.",
                "headers": REQUEST_ID,
                "content": {"text/plain": {"schema": {"type": "string", "enum": [body]}}},
            }
        },
    )


def _v2_score() -> JsonObject:
    return _operation(
        "v2_score",
        "Rescore an address in a community of the key's account",
        tag="public",
        security=API_KEY,
        description="Reads the address's cached stamps, verifies and deduplicates them, stores"
        " and answers the score. Scoring problems the reference records on the score answer 200"
        " with `error` set.",
        parameters=[
            _path(
                "scorer_id",
                {"type": "integer"},
                "The community id or its external_scorer_id; a negative id means"
                " DEMO_API_SCORER_ID. Not an integer: 422.",
            ),
            ADDRESS,
            _query(
                "include_human_points",
                {"type": "boolean"},
                "`true` (exactly) adds points_data and possible_points_data when Human Points"
                " reporting is on and the community is in the program.",
            ),
        ],
        responses={
            "200": _json(_ref("V2ScoreResponse"), "The fresh score."),
            "400": _error("The address is not `0x` and 40 hex digits.", INVALID_ADDRESS),
            "401": _error(
                "No key, an unknown, revoked or expired key, or one without read_scores.",
                INVALID_API_KEY,
            ),
            "404": _error("No community of the key's account has this id.", NO_SCORER),
            "422": _validation("scorer_id is not an integer."),
            "429": _rate_limited(),
            "500": _error(
                "The community's scorer is missing (the reference's answer).",
                UNEXPECTED_SCORING_ERROR,
            ),
            "503": _unavailable(),
        },
    )


API_KEY_401 = _error(
    "No key, or an unknown, revoked or expired key (permissions other than the route's own are"
    " not needed).",
    INVALID_API_KEY,
)


def _v2_read_routes() -> dict[str, JsonObject]:
    no_score = {
        "type": "object",
        "required": ["detail", "address"],
        "properties": {
            "detail": {"type": "string", "pattern": "^No Score Found for "},
            "address": {"type": "string"},
        },
        "additionalProperties": False,
    }
    return {
        "/v2/stamps/{scorer_id}/score/{address}/history": {
            "get": _operation(
                "v2_score_history",
                "The address's score as it stood at a moment",
                tag="public",
                security=API_KEY,
                description="Answers from the community's latest score event at or before"
                " `created_at` (ties: the latest written). Needs a key with historical_endpoint.",
                parameters=[
                    _path(
                        "scorer_id",
                        {"type": "integer"},
                        "The community id (never its external_scorer_id), of the key's account;"
                        " a negative id means DEMO_API_SCORER_ID. Not an integer: 422.",
                    ),
                    _path(
                        "address",
                        {"type": "string"},
                        "Matched lower-cased and echoed as sent; not validated, as in the"
                        " reference (an address with no event is a 404).",
                    ),
                    _query(
                        "created_at",
                        {"type": "string"},
                        "An ISO 8601 date or date-time (no offset = UTC), as Django's"
                        " parse_datetime reads it; a space where an offset's `+` should be is read"
                        " as `+`. Unparsable: 400.",
                        required=True,
                    ),
                ],
                responses={
                    "200": _json(_ref("V2HistoricScoreResponse"), "The score at that moment."),
                    "400": _error(
                        "`created_at` is empty or cannot be read.",
                        CREATED_AT_REQUIRED,
                        INVALID_CREATED_AT,
                    ),
                    "401": API_KEY_401,
                    "403": _error("The key lacks historical_endpoint.", NO_PERMISSION),
                    "404": _json(
                        {"anyOf": [_detail(NO_COMMUNITY), no_score]},
                        "No community of the key's account has this id, or no score event is"
                        " that old.",
                    ),
                    "422": _validation("scorer_id is not an integer, or created_at is missing."),
                    "500": _error(
                        "The stored event cannot be represented as a score.", INTERNAL_SERVER_ERROR
                    ),
                    "429": _rate_limited(),
                    "503": _unavailable(),
                },
            )
        },
        "/v2/stamps/metadata": {
            "get": _operation(
                "v2_stamp_metadata",
                "Every stamp the Passport app offers, by platform",
                tag="public",
                security=API_KEY,
                description="PASSPORT_PUBLIC_URL's stampMetadata.json with icons resolved against"
                " it, fetched within 2 s and kept for an hour per process; when a refresh fails"
                " the last copy is served.",
                responses={
                    "200": _json(
                        {"type": "array", "items": _ref("StampPlatform")}, "In the source's order."
                    ),
                    "401": API_KEY_401,
                    "500": _error(
                        "The document cannot be fetched or read, and there is no copy.",
                        METADATA_FETCH_FAILED,
                    ),
                    "429": _rate_limited(),
                    "503": _unavailable(),
                },
            )
        },
        "/v2/stamps/{address}": {
            "get": _operation(
                "v2_stamps",
                "The address's stamps, newest first, in cursor pages",
                tag="public",
                security=API_KEY,
                description="Every cached stamp that is not soft-deleted (revoked ones included)."
                " `next` and `prev` link back to this route with the reference's cursor tokens.",
                parameters=[
                    ADDRESS,
                    _query(
                        "token",
                        {"type": "string"},
                        "A cursor from a `next` or `prev` link (either service's); a malformed"
                        " one is 400.",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "default": 1000},
                        "Items per page, 0 to 1000 (else 400).",
                    ),
                    _query(
                        "include_metadata",
                        {"type": "boolean", "default": False},
                        "Attach each provider's stamp metadata (null when the document has none).",
                    ),
                ],
                responses={
                    "200": _json(_ref("StampPage"), "One page."),
                    "400": _error(
                        "The limit is over 1000 or negative (checked first), the address is not"
                        " `0x` and 40 hex digits, or the token is malformed.",
                        INVALID_LIMIT,
                        INVALID_ADDRESS,
                        INVALID_TOKEN,
                    ),
                    "401": API_KEY_401,
                    "422": _validation(
                        "limit is not an integer or include_metadata not a boolean."
                    ),
                    "500": _error(
                        "Metadata was asked for and cannot be fetched, and there is no copy.",
                        patterns=(f"^{METADATA_FETCH_FAILED} for provider ",),
                    ),
                    "429": _rate_limited(),
                    "503": _unavailable(),
                },
            )
        },
    }


def _ceramic_routes() -> dict[str, JsonObject]:
    stamp_items = {"type": "array", "items": _ref("CacheStampPayload"), "maxItems": 100}
    write_422 = _validation_or(
        "The body is not a list of items with a string `provider`; more than 100 items; or a"
        " stamp the cache cannot store (none, no `proof.proofValue`, an unparsable date, two"
        " for one provider, over-long text, NUL characters).",
        TOO_MANY_STAMPS,
        patterns=(UNUSABLE_STAMP_PATTERN,),
    )
    unparsable = _error("The body is not JSON.", CANNOT_PARSE)
    scorer_not_set = _error(
        "CERAMIC_CACHE_SCORER_ID is not set (the reference's answer).", SCORER_ID_NOT_SET
    )
    owner_404 = _error(
        "No account owns community CERAMIC_CACHE_SCORER_ID, or its scorer is not in that account.",
        NOT_FOUND,
        NO_SCORER,
    )
    bulk = {
        "post": _operation(
            "ceramic_cache_add_stamps",
            "Replace the token's type-1 stamps of the given providers, then rescore",
            tag="ceramic-cache",
            security=BEARER,
            body=_body(stamp_items, "At most 100 items, each with a stamp."),
            responses={
                "201": _json(_ref("StampsWithScore"), "Written and rescored."),
                "400": unparsable,
                "401": BEARER_401,
                "404": owner_404,
                "422": write_422,
                "500": scorer_not_set,
                "503": _unavailable(),
            },
        ),
        "patch": _operation(
            "ceramic_cache_patch_stamps",
            "Soft-delete the given providers' stamps, insert those with a stamp, rescore",
            tag="ceramic-cache",
            security=BEARER,
            body=_body(stamp_items, "At most 100 items; an item without a stamp only deletes."),
            responses={
                "200": _json(_ref("StampsWithScore"), "Written and rescored."),
                "400": unparsable,
                "401": BEARER_401,
                "422": write_422,
                "500": _error(
                    "Any failure past validation, as the reference wraps it.",
                    "An internal server error has occurred.",
                ),
                "503": _unavailable(),
            },
        ),
        "delete": _operation(
            "ceramic_cache_delete_stamps",
            "Soft-delete the given providers' stamps of any type, then rescore",
            tag="ceramic-cache",
            security=BEARER,
            body=_body(
                {"type": "array", "items": _ref("DeleteStampPayload"), "maxItems": 100},
                "At most 100 providers.",
            ),
            responses={
                "200": _json(_ref("StampList"), "Deleted; the answer has no score."),
                "400": unparsable,
                "401": BEARER_401,
                "404": _error(
                    "None of the providers has a live stamp (an empty list included), or no"
                    " account owns community CERAMIC_CACHE_SCORER_ID.",
                    "Unable to find stamp to delete.",
                    NOT_FOUND,
                    NO_SCORER,
                ),
                "422": _validation_or(
                    "Not a list of items with a string `provider`, or more than 100.",
                    TOO_MANY_STAMPS,
                ),
                "500": scorer_not_set,
                "503": _unavailable(),
            },
        ),
    }
    address_mismatch = "Address does not match the token."
    score = {
        "get": _operation(
            "ceramic_cache_get_score",
            "The stored score unless missing or expired, else a fresh one",
            tag="ceramic-cache",
            security=BEARER,
            parameters=[
                ADDRESS,
                _query(
                    "alternate_scorer_id",
                    {"type": "integer"},
                    "Community to read (absent or 0: CERAMIC_CACHE_SCORER_ID); not an integer:"
                    " 422.",
                ),
            ],
            responses={
                "200": _json(
                    _ref("V2ScoreResponse"),
                    "The score; only a stored one carries human points.",
                ),
                "400": _error(
                    "An invalid address, or any failure past the community lookup.",
                    INVALID_ADDRESS,
                    "Unable to get score for provided scorer.",
                ),
                "401": _error(
                    "As every bearer route, or the path's address is not the token's.",
                    UNAUTHORIZED,
                    address_mismatch,
                    patterns=(INVALID_TOKEN_PATTERN,),
                ),
                "404": _error(
                    "The community does not exist.",
                    "Community matching the configured scorer id does not exist! This is"
                    " probably a misconfiguration!",
                ),
                "422": _validation("alternate_scorer_id is not an integer."),
                "503": _unavailable(),
            },
        ),
        "post": _operation(
            "ceramic_cache_calc_score",
            "Rescore the path's address in community alternate_scorer_id",
            tag="ceramic-cache",
            security=BEARER,
            description="As in the reference, the path's address is not compared with the"
            " token's, and without an alternate_scorer_id (absent, null or 0) the answer is 500"
            " `Scorer ID not set`.",
            parameters=[ADDRESS],
            body=_body(
                {
                    "type": "object",
                    "properties": {"alternate_scorer_id": {"type": ["integer", "null"]}},
                },
                '`{"alternate_scorer_id": N}`.',
            ),
            responses={
                "200": _json(_ref("V2ScoreResponse"), "The fresh score."),
                "400": _error(
                    "The body is not JSON, or the address is invalid.",
                    CANNOT_PARSE,
                    INVALID_ADDRESS,
                ),
                "401": BEARER_401,
                "404": _error(
                    "No account owns the community, or the scorer is not in that account.",
                    NOT_FOUND,
                    NO_SCORER,
                ),
                "422": _validation("No body, or alternate_scorer_id is not an integer."),
                "500": _error(
                    "No alternate_scorer_id (the reference's answer).", SCORER_ID_NOT_SET
                ),
                "503": _unavailable(),
            },
        ),
    }
    stamp = {
        "get": _operation(
            "ceramic_cache_get_stamps",
            "The address's live stamps (scoring it first when it has no score yet)",
            tag="ceramic-cache",
            security=OPEN,
            parameters=[
                _query(
                    "address",
                    {"type": "string"},
                    "Lower-cased; validated only when the address is scored.",
                    required=True,
                )
            ],
            responses={
                "200": _json(_ref("StampList"), "The live type-1 stamps, by id."),
                "400": _error("The address had to be scored and is invalid.", INVALID_ADDRESS),
                "404": owner_404,
                "422": _validation("No address."),
                "503": _unavailable(),
            },
        )
    }
    weights = {
        "get": _operation(
            "ceramic_cache_weights",
            "The weights of CERAMIC_CACHE_SCORER_ID's scorer",
            tag="ceramic-cache",
            security=OPEN,
            responses={
                "200": _json(_ref("Weights"), "Provider weights as floats."),
                "500": _error(
                    "The configured community or its scorer is missing (the reference's answer).",
                    patterns=(WEIGHTS_UNAVAILABLE_PATTERN,),
                ),
                "503": _unavailable(),
            },
        )
    }
    return {
        "/ceramic-cache/stamps/bulk": bulk,
        "/ceramic-cache/score/{address}": score,
        "/ceramic-cache/stamp": stamp,
        "/ceramic-cache/weights": weights,
    }


def _embed_routes() -> dict[str, JsonObject]:
    weights_500 = _error(
        "The community's scorer has no usable weights (the reference's answer).",
        patterns=(WEIGHTS_UNAVAILABLE_PATTERN,),
    )
    return {
        "/internal/embed/validate-api-key": {
            "get": _operation(
                "embed_validate_api_key",
                "A partner key's embed rate limit",
                tag="embed",
                security=API_KEY,
                responses={
                    "200": _json(
                        _closed({"embed_rate_limit": _nullable("string")}),
                        "The key is valid.",
                    ),
                    "401": _error(
                        "No key, or an unknown, revoked or expired one.", INVALID_API_KEY
                    ),
                    "503": _unavailable(),
                },
            )
        },
        "/internal/embed/stamps/{address}": {
            "post": _operation(
                "embed_add_stamps",
                "Cache stamps as the embed app, then rescore in the payload's community",
                tag="embed",
                security=INTERNAL,
                parameters=[ADDRESS],
                body=_body(
                    {
                        "type": "object",
                        "required": ["scorer_id", "stamps"],
                        "properties": {
                            "scorer_id": {"type": "integer"},
                            "stamps": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "allOf": [
                                        _ref("Credential"),
                                        {
                                            "required": ["credentialSubject"],
                                            "properties": {
                                                "credentialSubject": {"required": ["provider"]}
                                            },
                                        },
                                    ]
                                },
                            },
                        },
                    },
                    "The community and at most 100 credentials, each cached under its"
                    " `credentialSubject.provider`.",
                ),
                responses={
                    "200": _json(_ref("StampsWithScore"), "Written and rescored."),
                    "400": _error(
                        "The body is not JSON, the address is invalid, or the community does"
                        " not exist.",
                        CANNOT_PARSE,
                        INVALID_ADDRESS,
                        INVALID_SCORER_ID,
                    ),
                    "401": INTERNAL_401,
                    "404": _error("The scorer is not in its owner's account.", NO_SCORER),
                    "422": _validation_or(
                        "The body fails validation, more than 100 stamps, or a stamp the cache"
                        " cannot store.",
                        TOO_MANY_STAMPS,
                        patterns=(UNUSABLE_STAMP_PATTERN,),
                    ),
                    "503": _unavailable(),
                },
            )
        },
        "/internal/embed/score/{scorer_id}/{address}": {
            "get": _operation(
                "embed_score",
                "Rescore an address and list its stamps",
                tag="embed",
                security=OPEN,
                parameters=[_route_int("scorer_id"), ADDRESS],
                responses={
                    "200": _json(_ref("StampsWithScore"), "Rescored."),
                    "400": _error(
                        "The community does not exist, or the address is invalid.",
                        INVALID_SCORER_ID,
                        INVALID_ADDRESS,
                    ),
                    "404": _error(
                        "scorer_id is not digits, or the scorer is not in its owner's account.",
                        NOT_FOUND,
                        NO_SCORER,
                    ),
                    "503": _unavailable(),
                },
            )
        },
        "/internal/embed/weights": {
            "get": _operation(
                "embed_weights",
                "A community's scorer weights",
                tag="embed",
                security=OPEN,
                parameters=[
                    _query(
                        "community_id",
                        {"type": "string"},
                        "The community id; absent or empty: CERAMIC_CACHE_SCORER_ID.",
                    )
                ],
                responses={
                    "200": _json(_ref("Weights"), "Provider weights as floats."),
                    "404": _error("No such community.", NO_COMMUNITY),
                    "500": weights_500,
                    "503": _unavailable(),
                },
            )
        },
        "/internal/embed/config": {
            "get": _operation(
                "embed_config",
                "A community's weights and the embed widget's stamp sections",
                tag="embed",
                security=OPEN,
                parameters=[
                    _query("community_id", {"type": "string"}, "The community id.", required=True)
                ],
                responses={
                    "200": _json(
                        _closed(
                            {
                                "weights": _ref("Weights"),
                                "stamp_sections": {
                                    "type": "array",
                                    "items": _ref("StampSection"),
                                },
                            }
                        ),
                        "Weights and sections, sections by (order, id).",
                    ),
                    "404": _error("No such community, or an empty id.", NO_COMMUNITY),
                    "422": _validation("No community_id."),
                    "500": weights_500,
                    "503": _unavailable(),
                },
            )
        },
    }


def _internal_routes() -> dict[str, JsonObject]:
    lookup_address = _path(
        "address",
        {"type": "string", "pattern": ADDRESS_PATTERN},
        "`0x` and 40 hex digits, any case; anything else is 400 `Invalid address.`",
    )
    invalid_address = _error("The address is invalid.", INVALID_ADDRESS)
    return {
        "/internal/score/v2/{scorer_id}/{address}": {
            "get": _operation(
                "internal_score_v2",
                "Rescore an address in any community",
                tag="internal",
                security=INTERNAL,
                parameters=[_route_int("scorer_id"), ADDRESS],
                responses={
                    "200": _json(_ref("V2ScoreResponse"), "The fresh score."),
                    "400": invalid_address,
                    "401": INTERNAL_401,
                    "404": _error(
                        "scorer_id is not digits, or no such community.", NOT_FOUND, NO_COMMUNITY
                    ),
                    "500": _error(
                        "Scoring stored an ERROR score (kept, as in the reference).",
                        "Failed to calculate score.",
                    ),
                    "503": _unavailable(),
                },
            )
        },
        "/internal/check-bans": {
            "post": _operation(
                "internal_check_bans",
                "The ban status of each credential, in input order",
                tag="internal",
                security=INTERNAL,
                body=_body(
                    {"type": "array", "minItems": 1, "items": _ref("CheckBanCredential")},
                    "Credentials of one subject.",
                ),
                responses={
                    "200": _json(
                        {"type": "array", "items": _ref("CheckBanResult")},
                        "One result per credential.",
                    ),
                    "400": _error(
                        "Not JSON, no credential or no subject id, or several subjects.",
                        CANNOT_PARSE,
                        "Must provide valid credential(s)",
                        "All credentials must be issued to the same address",
                    ),
                    "401": INTERNAL_401,
                    "422": _validation("Not a list of credentials, or a null hash."),
                    "503": _unavailable(),
                },
            )
        },
        "/internal/check-revocations": {
            "post": _operation(
                "internal_check_revocations",
                "Whether each proof value is revoked, in input order",
                tag="internal",
                security=INTERNAL,
                body=_body(
                    {
                        "type": "object",
                        "required": ["proof_values"],
                        "properties": {
                            "proof_values": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {"type": "string"},
                            }
                        },
                    },
                    "At most 100 proof values.",
                ),
                responses={
                    "200": _json(
                        {"type": "array", "items": _ref("RevocationResult")},
                        "One result per value, repeats included.",
                    ),
                    "400": _error("The body is not JSON.", CANNOT_PARSE),
                    "401": INTERNAL_401,
                    "422": _validation_or(
                        "The body fails validation, or more than 100 values.", TOO_MANY_STAMPS
                    ),
                    "503": _unavailable(),
                },
            )
        },
        "/internal/stake/gtc/{address}": {
            "get": _operation(
                "internal_gtc_stakes",
                "GTC stakes where the address is staker or stakee, by id",
                tag="internal",
                security=INTERNAL,
                parameters=[lookup_address],
                responses={
                    "200": _json(
                        _closed({"items": {"type": "array", "items": _ref("Stake")}}),
                        "The stakes.",
                    ),
                    "400": invalid_address,
                    "401": INTERNAL_401,
                    "503": _unavailable(),
                },
            )
        },
        "/internal/stake/legacy-gtc/{address}/{round_id}": {
            "get": _operation(
                "internal_legacy_gtc_stakes",
                "A round's legacy GTC stake events of the address, by id",
                tag="internal",
                security=INTERNAL,
                parameters=[lookup_address, _route_int("round_id")],
                responses={
                    "200": _json(
                        _closed({"results": {"type": "array", "items": _ref("LegacyStakeEvent")}}),
                        "The events.",
                    ),
                    "400": invalid_address,
                    "401": INTERNAL_401,
                    "404": _error("round_id is not digits.", NOT_FOUND),
                    "503": _unavailable(),
                },
            )
        },
        "/internal/cgrants/contributor_statistics": {
            "get": _operation(
                "internal_contributor_statistics",
                "Grants contributed to and the total amount, as floats",
                tag="internal",
                security=INTERNAL,
                parameters=[
                    _query(
                        "address",
                        {"type": "string", "pattern": ADDRESS_PATTERN},
                        "`0x` and 40 hex digits, any case.",
                        required=True,
                    )
                ],
                responses={
                    "200": _json(
                        _closed(
                            {
                                "num_grants_contribute_to": {"type": "number"},
                                "total_contribution_amount": {"type": "number"},
                            }
                        ),
                        "The totals.",
                    ),
                    "400": invalid_address,
                    "401": INTERNAL_401,
                    "422": _validation("No address."),
                    "503": _unavailable(),
                },
            )
        },
        "/internal/allow-list/{list_name}/{address}": {
            "get": _operation(
                "internal_allow_list",
                "Whether the address is on the named allow list",
                tag="internal",
                security=INTERNAL,
                parameters=[
                    _path("list_name", {"type": "string"}, "The list's name, case-sensitive."),
                    _path(
                        "address",
                        {"type": "string"},
                        "Compared lower-cased; not validated, as in the reference.",
                    ),
                ],
                responses={
                    "200": _json(
                        _closed({"is_member": {"type": "boolean"}}),
                        "Membership (an unknown list has no members).",
                    ),
                    "401": INTERNAL_401,
                    "503": _unavailable(),
                },
            )
        },
        "/internal/customization/credential/{provider_id}": {
            "get": _operation(
                "internal_custom_credential",
                "A custom credential's ruleset",
                tag="internal",
                security=INTERNAL,
                parameters=[
                    _path(
                        "provider_id",
                        {"type": "string"},
                        "e.g. `DEVEL#name#0123abcd`, with `#` sent as `%23`.",
                    )
                ],
                responses={
                    "200": _json(
                        _closed({"ruleset": {"description": "the stored definition JSON"}}),
                        "The ruleset.",
                    ),
                    "401": INTERNAL_401,
                    "404": _error("No such provider id.", NOT_FOUND),
                    "503": _unavailable(),
                },
            )
        },
    }


def build() -> JsonObject:
    paths: dict[str, JsonObject] = {
        "/health": {"get": _health("OK", "the Rust port's path")},
        "/health/": {"get": _health("Ok", "the Django path")},
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "This document",
                tag="health",
                security=OPEN,
                responses={
                    "200": _json(
                        {"type": "object", "required": ["openapi", "paths"]}, "OpenAPI 3.1."
                    )
                },
            )
        },
        "/v2/stamps/{scorer_id}/score/{address}": {"get": _v2_score()},
        **_v2_read_routes(),
        **_ceramic_routes(),
        **_embed_routes(),
        **_internal_routes(),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Passport scorer",
            "version": "1.0.0",
            "description": "The public, ceramic-cache, embed and internal routes of the Passport"
            " scorer, as the Django scorer (passportxyz/passport-scorer) answers them. Errors are"
            ' `{"detail": "..."}`, except 422 validation errors, which are django-ninja\'s'
            ' list `{"detail": [{"type", "loc", "msg"}]}`. Unknown routes answer a JSON'
            " 404 and wrong methods a JSON 405.",
        },
        "servers": [{"url": "http://127.0.0.1:8000", "description": "make run"}],
        "tags": [
            {"name": "public", "description": "Public load balancer, partner API key."},
            {"name": "ceramic-cache", "description": "The Passport app, bearer token."},
            {"name": "embed", "description": "Internal load balancer, the embed widget."},
            {"name": "internal", "description": "Internal load balancer, internal token."},
            {"name": "health", "description": "Probes and this document."},
        ],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": {
                "PayloadTooLarge": _too_large_response(),
                "DatabaseUnavailable": _unavailable_response(),
                "RateLimited": _rate_limited_response(),
                "RequestTimeout": _body_timeout_response(),
                "LengthRequired": _length_required_response(),
            },
            "headers": {"RequestId": REQUEST_ID_HEADER},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.openapi_document", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when service/openapi.json is stale"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = DOCUMENT_PATH.read_text() if DOCUMENT_PATH.exists() else ""
        if current != text:
            print(
                f"{DOCUMENT_PATH} is stale: run python -m tools.openapi_document", file=sys.stderr
            )
            return 1
        return 0
    DOCUMENT_PATH.write_text(text)
    print(f"wrote {DOCUMENT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
