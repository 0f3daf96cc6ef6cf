"""Bearer-token authentication on the ceramic-cache routes: refusals write nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pg8000.native
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.ceramic import (
    DID_PREFIX,
    CeramicWorld,
    access_claims,
    bearer,
    build_world,
    cache_row,
    ceramic_env,
    hs256_token,
    item,
    written_rows,
)

_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_PEM = (
    _RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)

GENERIC_REFUSAL = (
    "{'detail': ErrorDetail(string='Given token not valid for any token type',"
    " code='token_not_valid'), 'code': ErrorDetail(string='token_not_valid',"
    " code='token_not_valid'), 'messages': [{'token_class': ErrorDetail(string='AccessToken',"
    " code='token_not_valid'), 'token_type': ErrorDetail(string='access',"
    " code='token_not_valid'), 'message': ErrorDetail(string='Token is invalid or expired',"
    " code='token_not_valid')}]}"
)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return ceramic_env(settings_env)


@pytest.fixture
def world(clean_db: pg8000.native.Connection, settings: Settings, db: Database) -> CeramicWorld:
    return build_world(clean_db, settings, db)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, object]) -> str:
    return f"{_b64(json.dumps({'alg': 'none'}).encode())}.{_b64(json.dumps(claims).encode())}."


AUTHENTICATED_ROUTES = [
    pytest.param("POST", "/ceramic-cache/stamps/bulk", [item("Google")], id="POST bulk"),
    pytest.param("PATCH", "/ceramic-cache/stamps/bulk", [item("Google")], id="PATCH bulk"),
    pytest.param("DELETE", "/ceramic-cache/stamps/bulk", [{"provider": "Github"}], id="DELETE"),
    pytest.param("GET", f"/ceramic-cache/score/{sc.ADDRESS}", None, id="GET score"),
    pytest.param(
        "POST", f"/ceramic-cache/score/{sc.ADDRESS}", {"alternate_scorer_id": 335}, id="POST score"
    ),
]


@pytest.mark.parametrize(("method", "path", "body"), AUTHENTICATED_ROUTES)
def test_without_a_bearer_token_every_route_is_the_plain_401(
    world: CeramicWorld, method: str, path: str, body: object
) -> None:
    cache_row(world.conn, "Github")
    before = written_rows(world.conn)

    result = world.request(method, path, body, headers={})

    assert (result.status_code, result.json) == (401, {"detail": "Unauthorized"})
    assert written_rows(world.conn) == before


@pytest.mark.parametrize(("method", "path", "body"), AUTHENTICATED_ROUTES)
def test_an_expired_token_is_refused_on_every_route_with_the_references_body(
    world: CeramicWorld, method: str, path: str, body: object
) -> None:
    cache_row(world.conn, "Github")
    before = written_rows(world.conn)

    result = world.request(method, path, body, token=hs256_token(exp=int(time.time()) - 1))

    assert (result.status_code, result.json) == (401, {"detail": GENERIC_REFUSAL})
    assert written_rows(world.conn) == before


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(unsigned(access_claims()), id="alg none"),
        pytest.param(hs256_token(key="x" * 64), id="bad signature"),
        pytest.param(
            jwt.encode(access_claims(), PRIVATE_PEM, algorithm="RS256"),
            id="RS256 with no key configured",
        ),
        pytest.param(hs256_token(exp=int(time.time()) - 60), id="past exp"),
    ],
)
def test_a_refused_token_writes_nothing(world: CeramicWorld, token: str) -> None:
    result = world.bulk("POST", [item("Google")], token=token)

    assert (result.status_code, result.json) == (401, {"detail": GENERIC_REFUSAL})
    assert written_rows(world.conn)["ceramic_cache_ceramiccache"] == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"exp": None}, "Token has no 'exp' claim", id="missing exp"),
        pytest.param({"jti": None}, "Token has no id", id="missing jti"),
        pytest.param({"token_type": None}, "Token has no type", id="missing token_type"),
        pytest.param({"token_type": "refresh"}, "Token has wrong type", id="wrong token_type"),
    ],
)
def test_a_token_without_the_required_claims_is_refused_with_the_reason(
    world: CeramicWorld, overrides: dict[str, Any], message: str
) -> None:
    result = world.bulk("POST", [item("Google")], token=hs256_token(**overrides))

    assert result.status_code == 401
    assert result.json == {
        "detail": GENERIC_REFUSAL.replace("'Token is invalid or expired'", repr(message))
    }
    assert written_rows(world.conn)["ceramic_cache_ceramiccache"] == []


@pytest.mark.parametrize(
    "did",
    [
        pytest.param("did:pkh:eip155:1:0x1234", id="short address"),
        pytest.param(sc.ADDRESS, id="no did prefix"),
        pytest.param(None, id="no did claim"),
    ],
)
def test_a_token_with_a_malformed_did_is_refused(world: CeramicWorld, did: str | None) -> None:
    result = world.bulk("POST", [item("Google")], token=hs256_token(did=did))

    assert (result.status_code, result.json) == (401, {"detail": "Unauthorized"})
    assert written_rows(world.conn)["ceramic_cache_ceramiccache"] == []


def test_authentication_comes_before_the_body(world: CeramicWorld) -> None:
    result = world.bulk("POST", raw="not json", headers={})

    assert (result.status_code, result.json) == (401, {"detail": "Unauthorized"})


def test_the_did_address_is_lower_cased(world: CeramicWorld) -> None:
    token = hs256_token(did=DID_PREFIX + "0x" + "AA" * 20)

    world.bulk("POST", [item("Google")], token=token)

    assert {row[0] for row in world.conn.run("SELECT address FROM ceramic_cache_ceramiccache")} == {
        sc.ADDRESS
    }


@pytest.fixture
def siwe_world(
    clean_db: pg8000.native.Connection, settings_env: dict[str, str], db: Database
) -> CeramicWorld:
    encoded = base64.b64encode(PUBLIC_PEM.encode()).decode()
    settings = Settings.from_env({**settings_env, "SIWE_JWT_PUBLIC_KEY": encoded})
    return build_world(clean_db, settings, db)


def test_a_siwe_token_is_accepted_when_its_public_key_is_configured(
    siwe_world: CeramicWorld,
) -> None:
    now = int(time.time())
    token = jwt.encode(
        {
            "did": DID_PREFIX + sc.ADDRESS,
            "iat": now,
            "exp": now + 600,
            "jti": "j",
            "iss": "passport-scorer",
            "token_type": "access",
        },
        PRIVATE_PEM,
        algorithm="RS256",
    )

    result = siwe_world.bulk("POST", [item("Google")], token=token)

    assert result.status_code == 201


def test_with_a_public_key_configured_an_hs256_token_keyed_with_it_is_refused(
    siwe_world: CeramicWorld,
) -> None:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(access_claims()).encode())
    signature = hmac.new(
        PUBLIC_PEM.encode(), f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()

    result = siwe_world.bulk(
        "POST", [item("Google")], headers=bearer(f"{header}.{payload}.{_b64(signature)}")
    )

    assert result.status_code == 401
    assert "The specified alg value is not allowed" in result.json["detail"]
    assert written_rows(siwe_world.conn)["ceramic_cache_ceramiccache"] == []
