"""Recovered signers are remembered by credential content, never by anything less."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from service.domain import credentials
from service.domain.credentials import credential_errors, did_for_address
from tests.service.support import scenario as sc

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DID = did_for_address(sc.ADDRESS)


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    credentials.clear_signer_cache()


def test_a_verified_credential_is_remembered_and_still_valid() -> None:
    credential = sc.stamp("Google")

    assert credential_errors(credential, did=DID, now=NOW) == []
    assert len(credentials._signer_cache) == 1
    assert credential_errors(credential, did=DID, now=NOW) == []
    assert len(credentials._signer_cache) == 1


def test_a_tampered_copy_of_a_remembered_credential_is_verified_afresh_and_refused() -> None:
    credential = sc.stamp("Google")
    assert credential_errors(credential, did=DID, now=NOW) == []
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["nullifiers"] = ["v0:someone-else"]

    errors = credential_errors(tampered, did=DID, now=NOW)

    assert errors == ["Signer does not match the issuer"]


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "SIGNER_CACHE_SIZE", 2)

    for provider in ("Google", "Github", "Twitter"):
        assert credential_errors(sc.stamp(provider), did=DID, now=NOW) == []

    assert len(credentials._signer_cache) == 2
