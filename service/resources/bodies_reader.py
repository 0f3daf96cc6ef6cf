"""JSON request bodies read the way django-ninja reads them (ADR-0026).

Ninja parses the raw body with `json.loads` whatever the Content-Type says (none, `text/plain`
or a form type alike), so every route that takes a body reads it here rather than through
Falcon's media handlers, which pick a parser by Content-Type and refuse others with a 415.
The nesting limit of `json_depth` applies: a deeply nested body must not reach the decoder.
"""

from __future__ import annotations

import json
from typing import Any

import falcon

from service.domain.ceramic_cache_rules import NO_BODY
from service.plumbing import json_depth
from service.plumbing.errors import BadRequest, RequestTimeout

CANNOT_PARSE_BODY = "Cannot parse request body"


def json_body(req: falcon.Request) -> Any:
    """The decoded body, or NO_BODY for an empty one; 400 when it is not JSON."""
    try:
        raw = req.bounded_stream.read()
    except OSError:
        # The local server bounds every read from a client socket: the client stopped sending.
        raise RequestTimeout() from None
    if not raw:
        return NO_BODY
    try:
        # `json.loads(bytes)` detects UTF-8, -16 and -32 the same way.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        return json_depth.loads(text)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, the nesting limit
        raise BadRequest(CANNOT_PARSE_BODY) from None
