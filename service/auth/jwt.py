"""Bearer-token ("DID") authentication of the ceramic-cache routes (api/ceramic_cache/api/v1.py).

The reference tries two token classes in turn and accepts the first that validates:

1. `SIWE_RS256`, only when `SIWE_JWT_PUBLIC_KEY` is set: PyJWT with `algorithms=["RS256"]`, the
   public key and `issuer="passport-scorer"`; `exp`, `nbf` and `iat` are checked when present, and
   a token carrying `aud` is refused (no audience is expected).
2. ninja-jwt's `AccessToken`: PyJWT with `algorithms=["HS256"]` and `SECRET_KEY`, no audience or
   issuer checks; then `exp` must be present and in the future, `jti` present, and
   `token_type == "access"`.

Each class pins its own algorithm, so `alg: none` and HS/RS confusion (an HS256 token keyed with
the public key, or an RS256 token against the HMAC secret) fail in PyJWT itself. When both fail,
the 401 lists each class's reason (`InvalidToken`).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from service.plumbing.errors import InvalidToken, Unauthorized
from service.plumbing.settings import Settings

SIWE_ISSUER = "passport-scorer"
ACCESS_TYPE = "access"

# The token classes' names as the reference reports them in the 401 body.
SIWE_CLASS = "SIWE_RS256"
ACCESS_CLASS = "AccessToken"

# ninja-jwt's messages (django-ninja-jwt 5.3.5, `ninja_jwt/tokens.py`).
INVALID_OR_EXPIRED = "Token is invalid or expired"
NO_EXP = "Token has no 'exp' claim"
EXP_EXPIRED = "Token 'exp' claim has expired"
NO_ID = "Token has no id"
NO_TYPE = "Token has no type"
WRONG_TYPE = "Token has wrong type"

# The only DID the Passport app signs in with: an Ethereum mainnet `did:pkh`.
_DID = re.compile(r"did:pkh:eip155:1:(0x[0-9a-fA-F]{40})")


class _Rejected(Exception):
    """One token class refused the token; the message goes into the 401 body."""


@dataclass(frozen=True)
class DidTokenAuth:
    secret_key: str
    siwe_public_key: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DidTokenAuth:
        return cls(
            secret_key=settings.secret_key,
            siwe_public_key=decode_public_key(settings.siwe_jwt_public_key),
        )

    def address(self, authorization: str | None) -> str:
        """The lower-cased address of the token's `did` claim; raises the reference's 401s."""
        claims = self.claims(bearer_token(authorization))
        return address_from_did(claims.get("did"))

    def claims(self, token: str) -> dict[str, Any]:
        attempts: list[tuple[str, Callable[[str], dict[str, Any]]]] = []
        if self.siwe_public_key:
            attempts.append((SIWE_CLASS, self._siwe_claims))
        attempts.append((ACCESS_CLASS, self._access_claims))
        messages: list[tuple[str, str]] = []
        for token_class, decode in attempts:
            try:
                return decode(token)
            except _Rejected as rejected:
                messages.append((token_class, str(rejected)))
        raise InvalidToken(messages)

    def _siwe_claims(self, token: str) -> dict[str, Any]:
        assert self.siwe_public_key is not None
        jwt = _pyjwt()
        try:
            return _decode(token, self.siwe_public_key, algorithms=["RS256"], issuer=SIWE_ISSUER)
        except jwt.PyJWTError as exc:
            raise _Rejected(str(exc)) from None

    def _access_claims(self, token: str) -> dict[str, Any]:
        now = time.time()
        jwt = _pyjwt()
        try:
            claims = _decode(
                token, self.secret_key, algorithms=["HS256"], options={"verify_aud": False}
            )
        except jwt.PyJWTError:
            raise _Rejected(INVALID_OR_EXPIRED) from None
        if "exp" not in claims:
            raise _Rejected(NO_EXP)
        exp = claims["exp"]
        if not isinstance(exp, int | float):
            # PyJWT accepts a numeric string; ninja-jwt then fails on it (a 500 there).
            raise _Rejected(INVALID_OR_EXPIRED)
        if exp <= now:
            raise _Rejected(EXP_EXPIRED)
        if "jti" not in claims:
            raise _Rejected(NO_ID)
        if "token_type" not in claims:
            raise _Rejected(NO_TYPE)
        if claims["token_type"] != ACCESS_TYPE:
            raise _Rejected(WRONG_TYPE)
        return claims


def bearer_token(authorization: str | None) -> str:
    """ninja's `HttpBearer`: split on single spaces, scheme `bearer` in any case, the rest is the
    token (possibly empty). No header, or another scheme, is the plain 401."""
    if not authorization:
        raise Unauthorized()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized()
    return token


def address_from_did(did: Any) -> str:
    """`did:pkh:eip155:1:0x<40 hex>` → the address, lower-cased.

    The reference takes whatever follows the last `:` and fails later (500 without a `did`,
    400 `Invalid address.` after writing rows for a bad one); here the token is refused instead.
    """
    match = _DID.fullmatch(did) if isinstance(did, str) else None
    if match is None:
        raise Unauthorized()
    return match.group(1).lower()


def decode_public_key(value: str | None) -> str | None:
    """`SIWE_JWT_PUBLIC_KEY` is PEM text, or the base64 of it (api/scorer/settings/base.py)."""
    if not value:
        return None
    if "-----BEGIN" in value:
        return value
    try:
        return base64.b64decode(value).decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII text
        raise ValueError(
            "SIWE_JWT_PUBLIC_KEY must be a PEM public key or the base64 encoding of one"
        ) from None


def _pyjwt() -> ModuleType:
    """PyJWT, imported on first use: it loads cryptography (tens of ms of a cold start), and
    only the ceramic-cache routes read tokens, so a container serving other routes never does."""
    import jwt

    return jwt


def _decode(token: str, key: str, **kwargs: Any) -> dict[str, Any]:
    jwt = _pyjwt()
    try:
        claims: dict[str, Any] = jwt.decode(token, key, **kwargs)
    except (TypeError, ValueError) as exc:
        # PyJWT lets a few malformed claims (`"exp": null`) escape as these; the reference
        # answers 500 there, but they are just as much "not a valid token".
        raise jwt.InvalidTokenError(str(exc)) from exc
    return claims
