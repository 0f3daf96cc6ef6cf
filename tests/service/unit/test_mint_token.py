"""tools/mint_token.py: tokens for local use that the service accepts, like the reference's."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from service.auth.jwt import DidTokenAuth
from tools.mint_token import main, mint

SECRET = "local-secret-key-" + "x" * 48
ADDRESS = "0x" + "Ab" * 20


def test_a_minted_token_is_accepted_for_its_address() -> None:
    token = mint(ADDRESS, secret_key=SECRET, lifetime=timedelta(minutes=5))

    assert DidTokenAuth(secret_key=SECRET).address(f"Bearer {token}") == ADDRESS.lower()


def test_the_claims_are_the_references_in_its_order() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = mint(ADDRESS, secret_key=SECRET, lifetime=timedelta(minutes=1440), now=now)

    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert list(payload) == ["token_type", "exp", "iat", "jti", "did"]
    assert payload["token_type"] == "access"
    assert payload["exp"] - payload["iat"] == 24 * 3600
    assert payload["did"] == f"did:pkh:eip155:1:{ADDRESS}"
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_the_command_prints_a_token_signed_with_secret_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)

    assert main([ADDRESS]) == 0

    token = capsys.readouterr().out.strip()
    assert DidTokenAuth(secret_key=SECRET).address(f"Bearer {token}") == ADDRESS.lower()


def test_an_invalid_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)

    with pytest.raises(SystemExit) as exited:
        main(["0x1234"])

    assert exited.value.code == 2


def test_without_secret_key_nothing_is_minted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)

    with pytest.raises(SystemExit) as exited:
        main([ADDRESS])

    assert exited.value.code == 2
