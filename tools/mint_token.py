"""Print a bearer token for the ceramic-cache routes, minted the way the reference mints them.

    python -m tools.mint_token 0x<address>

The token is the reference's legacy HS256 access token (api/ceramic_cache/api/v1.py): ninja-jwt's
`RefreshToken` carrying the user's DID, turned into its access token. Claims, in this order:
`token_type` "access", `exp` (now + SCORER_UI_ACCESS_TOKEN_LIFETIME minutes, default 1440),
`iat`, `jti` (uuid4 hex) and `did` = `did:pkh:eip155:1:<address>`; signed with $SECRET_KEY, so
the service configured with the same SECRET_KEY accepts it.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import jwt

from service.domain.addresses import is_valid_address

DID_PREFIX = "did:pkh:eip155:1:"
DEFAULT_LIFETIME_MINUTES = 1440


def mint(address: str, *, secret_key: str, lifetime: timedelta, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "token_type": "access",
        "exp": int((issued + lifetime).timestamp()),
        "iat": int(issued.timestamp()),
        "jti": uuid.uuid4().hex,
        "did": DID_PREFIX + address,
    }
    return jwt.encode(claims, secret_key, algorithm="HS256")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.mint_token",
        description="Print an HS256 access token for ADDRESS, signed with $SECRET_KEY.",
    )
    parser.add_argument("address", help="0x followed by 40 hex digits")
    args = parser.parse_args(argv)
    secret_key = os.environ.get("SECRET_KEY", "")
    if not secret_key:
        parser.error("SECRET_KEY must be set (the service's SECRET_KEY)")
    if not is_valid_address(args.address):
        parser.error(f"not an address: {args.address!r} (0x followed by 40 hex digits)")
    minutes = os.environ.get("SCORER_UI_ACCESS_TOKEN_LIFETIME") or DEFAULT_LIFETIME_MINUTES
    try:
        lifetime = timedelta(minutes=int(minutes))
    except ValueError:
        parser.error(f"SCORER_UI_ACCESS_TOKEN_LIFETIME must be a number of minutes ({minutes!r})")
    print(mint(args.address, secret_key=secret_key, lifetime=lifetime))
    return 0


if __name__ == "__main__":
    sys.exit(main())
