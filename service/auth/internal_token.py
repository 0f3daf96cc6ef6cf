"""The internal API key (ADR-0007).

The reference's `InternalApiKey` accepts a request only when the raw `Authorization` header
equals `CGRANTS_API_TOKEN`: no scheme, no `Bearer ` stripping. It guards exactly these routes:
check-bans, check-revocations, both stake routes, contributor statistics, score v2, embed
stamps, allow-list and custom credential definitions; the other internal routes stay open.
"""

from __future__ import annotations

import hmac

import falcon

from service.plumbing.errors import Unauthorized


def require_internal_token(req: falcon.Request, token: str) -> None:
    presented = req.get_header("Authorization")
    # Compared as UTF-8 bytes: compare_digest refuses non-ASCII str, and header values can
    # hold any Latin-1 character.
    if presented is None or not hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")
    ):
        raise Unauthorized()
