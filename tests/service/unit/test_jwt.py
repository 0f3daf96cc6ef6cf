"""service/auth/jwt.py: which bearer tokens the ceramic-cache routes accept, and the exact 401s."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.auth.jwt import DidTokenAuth, decode_public_key
from service.plumbing.errors import InvalidToken, Unauthorized
from tests.service.support.ceramic import SECRET_KEY, access_claims, hs256_token

ADDRESS = "0x" + "ab" * 20
CHECKSUMMED_DID = "did:pkh:eip155:1:0x" + "Ab" * 20


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


PRIVATE_PEM, PUBLIC_PEM = _pem_pair()
OTHER_PRIVATE_PEM, _ = _pem_pair()


class ErrorDetail(str):
    """ninja-extra's ErrorDetail, whose repr the reference's 401 body is made of."""

    code: str

    def __new__(cls, string: str, code: str = "token_not_valid") -> ErrorDetail:
        detail = super().__new__(cls, string)
        detail.code = code
        return detail

    def __repr__(self) -> str:
        return f"ErrorDetail(string={str(self)!r}, code={self.code!r})"


def reference_detail(*messages: tuple[str, str]) -> str:
    """`str(InvalidToken(...).detail)` as ninja-jwt builds it."""
    return str(
        {
            "detail": ErrorDetail("Given token not valid for any token type"),
            "code": ErrorDetail("token_not_valid"),
            "messages": [
                {
                    "token_class": ErrorDetail(token_class),
                    "token_type": ErrorDetail("access"),
                    "message": ErrorDetail(message),
                }
                for token_class, message in messages
            ],
        }
    )


def siwe_claims(**overrides: Any) -> dict[str, Any]:
    """The reference's SIWE RS256 claims (api/ceramic_cache/api/v1.py); `None` drops a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "did": CHECKSUMMED_DID,
        "iat": now,
        "exp": now + 7 * 24 * 3600,
        "jti": str(uuid.uuid4()),
        "iss": "passport-scorer",
        "token_type": "access",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def rs256_token(key: str = PRIVATE_PEM, **overrides: Any) -> str:
    return jwt.encode(siwe_claims(**overrides), key, algorithm="RS256")


def unsigned_token(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def hmac_token_keyed_with(secret: str, claims: dict[str, Any]) -> str:
    """HS256 signed with a PEM as the HMAC secret, which PyJWT refuses to produce itself."""
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}"
        f".{_b64(json.dumps(claims).encode())}"
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rejection(auth: DidTokenAuth, token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        auth.address(f"Bearer {token}")
    assert caught.value.status == "401 Unauthorized"
    detail: str = caught.value.body()["detail"]
    return detail


HS_ONLY = DidTokenAuth(secret_key=SECRET_KEY)
WITH_SIWE_KEY = DidTokenAuth(secret_key=SECRET_KEY, siwe_public_key=PUBLIC_PEM)


# --- what is accepted -------------------------------------------------------------------------


def test_the_reference_access_token_gives_the_did_address_lower_cased() -> None:
    token = jwt.encode(access_claims(did=CHECKSUMMED_DID), SECRET_KEY, algorithm="HS256")

    assert HS_ONLY.address(f"Bearer {token}") == ADDRESS


def test_an_access_token_with_any_audience_or_issuer_is_accepted_as_the_reference_does() -> None:
    token = hs256_token(ADDRESS, aud="someone-else", iss="anyone")

    assert HS_ONLY.address(f"Bearer {token}") == ADDRESS


def test_the_scheme_is_matched_case_insensitively() -> None:
    assert HS_ONLY.address(f"bearer {hs256_token(ADDRESS)}") == ADDRESS
    assert HS_ONLY.address(f"BEARER {hs256_token(ADDRESS)}") == ADDRESS


def test_a_siwe_token_is_accepted_when_the_public_key_is_configured() -> None:
    assert WITH_SIWE_KEY.address(f"Bearer {rs256_token()}") == ADDRESS


def test_a_siwe_token_needs_neither_exp_nor_jti_nor_an_access_type_as_in_the_reference() -> None:
    token = rs256_token(exp=None, jti=None, token_type="refresh")

    assert WITH_SIWE_KEY.address(f"Bearer {token}") == ADDRESS


def test_access_tokens_still_work_when_the_public_key_is_configured() -> None:
    assert WITH_SIWE_KEY.address(f"Bearer {hs256_token(ADDRESS)}") == ADDRESS


def test_the_public_key_may_be_given_base64_encoded() -> None:
    encoded = base64.b64encode(PUBLIC_PEM.encode()).decode()
    auth = DidTokenAuth(secret_key=SECRET_KEY, siwe_public_key=decode_public_key(encoded))

    assert auth.address(f"Bearer {rs256_token()}") == ADDRESS


# --- what is refused, with the reference's body -----------------------------------------------


def test_the_reference_body_for_a_bad_signature_without_a_public_key() -> None:
    token = hs256_token(ADDRESS, key="another-secret-key-of-enough-length-000")

    assert rejection(HS_ONLY, token) == (
        "{'detail': ErrorDetail(string='Given token not valid for any token type',"
        " code='token_not_valid'), 'code': ErrorDetail(string='token_not_valid',"
        " code='token_not_valid'), 'messages': [{'token_class': ErrorDetail(string='AccessToken',"
        " code='token_not_valid'), 'token_type': ErrorDetail(string='access',"
        " code='token_not_valid'), 'message': ErrorDetail(string='Token is invalid or expired',"
        " code='token_not_valid')}]}"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"exp": None}, "Token has no 'exp' claim", id="missing exp"),
        pytest.param({"exp": int(time.time()) - 5}, "Token is invalid or expired", id="past exp"),
        pytest.param({"exp": "4102444800"}, "Token is invalid or expired", id="exp as text"),
        pytest.param({"jti": None}, "Token has no id", id="missing jti"),
        pytest.param({"jti": 7}, "Token is invalid or expired", id="jti not a string"),
        pytest.param({"token_type": None}, "Token has no type", id="missing token_type"),
        pytest.param({"token_type": "refresh"}, "Token has wrong type", id="refresh token"),
        pytest.param({"nbf": int(time.time()) + 600}, "Token is invalid or expired", id="nbf"),
        pytest.param({"iat": int(time.time()) + 600}, "Token is invalid or expired", id="iat"),
    ],
)
def test_an_access_token_without_the_required_claims_is_refused(
    overrides: dict[str, Any], message: str
) -> None:
    assert rejection(HS_ONLY, hs256_token(ADDRESS, **overrides)) == reference_detail(
        ("AccessToken", message)
    )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(unsigned_token(access_claims(ADDRESS)), id="alg none"),
        pytest.param(jwt.encode(access_claims(ADDRESS), SECRET_KEY, algorithm="HS512"), id="HS512"),
        pytest.param(
            jwt.encode(access_claims(ADDRESS), PRIVATE_PEM, algorithm="RS256"),
            id="RS256 without a configured key",
        ),
        pytest.param("not-a-token", id="garbage"),
        pytest.param("", id="empty"),
    ],
)
def test_tokens_of_another_algorithm_or_shape_are_refused(token: str) -> None:
    assert rejection(HS_ONLY, token) == reference_detail(
        ("AccessToken", "Token is invalid or expired")
    )


@pytest.mark.parametrize(
    ("token", "siwe_message"),
    [
        pytest.param(rs256_token(iss=None), 'Token is missing the "iss" claim', id="no iss"),
        pytest.param(rs256_token(iss="someone"), "Invalid issuer", id="wrong iss"),
        pytest.param(rs256_token(aud="scorer"), "Invalid audience", id="aud"),
        pytest.param(rs256_token(exp=int(time.time()) - 5), "Signature has expired", id="past exp"),
        pytest.param(
            rs256_token(OTHER_PRIVATE_PEM), "Signature verification failed", id="other key"
        ),
        pytest.param(
            rs256_token(nbf=int(time.time()) + 600), "The token is not yet valid (nbf)", id="nbf"
        ),
        pytest.param("a.b", "Not enough segments", id="garbage"),
        pytest.param(
            unsigned_token(siwe_claims()), "The specified alg value is not allowed", id="alg none"
        ),
        pytest.param(
            hmac_token_keyed_with(PUBLIC_PEM, siwe_claims()),
            "The specified alg value is not allowed",
            id="HS256 keyed with the public key",
        ),
    ],
)
def test_with_a_public_key_both_token_classes_report_why_they_refused(
    token: str, siwe_message: str
) -> None:
    assert rejection(WITH_SIWE_KEY, token) == reference_detail(
        ("SIWE_RS256", siwe_message), ("AccessToken", "Token is invalid or expired")
    )


def test_with_a_public_key_an_access_token_without_type_reports_both_reasons() -> None:
    token = hs256_token(ADDRESS, token_type=None)

    assert rejection(WITH_SIWE_KEY, token) == reference_detail(
        ("SIWE_RS256", "The specified alg value is not allowed"),
        ("AccessToken", "Token has no type"),
    )


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="no header"),
        pytest.param("", id="empty header"),
        pytest.param(f"Token {hs256_token(ADDRESS)}", id="other scheme"),
        pytest.param(hs256_token(ADDRESS), id="no scheme"),
    ],
)
def test_without_a_bearer_scheme_the_answer_is_the_plain_401(header: str | None) -> None:
    with pytest.raises(Unauthorized) as caught:
        HS_ONLY.address(header)

    assert caught.value.body() == {"detail": "Unauthorized"}
    assert not isinstance(caught.value, InvalidToken)


def test_a_bare_bearer_scheme_is_an_empty_token() -> None:
    with pytest.raises(InvalidToken):
        HS_ONLY.address("Bearer")


@pytest.mark.parametrize(
    "did",
    [
        pytest.param(None, id="no did"),
        pytest.param(5, id="not a string"),
        pytest.param("0x" + "ab" * 20, id="bare address"),
        pytest.param("did:pkh:eip155:10:0x" + "ab" * 20, id="another chain"),
        pytest.param("did:pkh:eip155:1:0x" + "ab" * 19, id="short address"),
        pytest.param("did:pkh:eip155:1:0x" + "zz" * 20, id="not hex"),
        pytest.param("did:pkh:eip155:1:" + "ab" * 20, id="no 0x"),
    ],
)
def test_a_valid_token_with_a_malformed_did_is_refused(did: Any) -> None:
    token = jwt.encode(access_claims(ADDRESS, did=did), SECRET_KEY, algorithm="HS256")

    with pytest.raises(Unauthorized) as caught:
        HS_ONLY.address(f"Bearer {token}")

    assert caught.value.body() == {"detail": "Unauthorized"}


# --- configuration ----------------------------------------------------------------------------


def test_a_pem_public_key_is_used_as_given() -> None:
    assert decode_public_key(PUBLIC_PEM) == PUBLIC_PEM


def test_an_empty_public_key_means_no_siwe_tokens() -> None:
    assert decode_public_key("") is None
    assert decode_public_key(None) is None


def test_a_public_key_that_is_neither_pem_nor_base64_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="SIWE_JWT_PUBLIC_KEY"):
        decode_public_key("not base64 at all \xff")
