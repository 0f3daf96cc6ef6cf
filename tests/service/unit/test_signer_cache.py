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
    monkeypatch.setattr(credentials._signer_cache, "size", 2)

    for provider in ("Google", "Github", "Twitter"):
        assert credential_errors(sc.stamp(provider), did=DID, now=NOW) == []

    assert len(credentials._signer_cache) == 2


def test_equal_content_shares_a_key_and_any_difference_of_value_or_type_does_not() -> None:
    stamp = sc.stamp("Google")
    key = credentials._signer_cache_key(stamp, stamp["proof"])
    same = copy.deepcopy(stamp)
    assert credentials._signer_cache_key(same, same["proof"]) == key
    for path, value in [
        (("credentialSubject", "provider"), "Github"),
        (("credentialSubject", "nullifiers"), ["v0:other"]),
        (("proof", "proofValue"), stamp["proof"]["proofValue"][:-2] + "00"),
    ]:
        changed = copy.deepcopy(stamp)
        changed[path[0]][path[1]] = value
        assert credentials._signer_cache_key(changed, changed["proof"]) != key
    one, one_float, true = ({"n": 1}, {"n": 1.0}, {"n": True})
    keys = {credentials._signer_cache_key(c, {}) for c in (one, one_float, true)}
    assert len(keys) == 3


def test_content_marshal_cannot_write_is_keyed_by_its_json() -> None:
    class Text(str):
        pass

    key = credentials._signer_cache_key({"issuer": Text("did:x")}, {})
    assert key.startswith(b"j")
    assert key == credentials._signer_cache_key({"issuer": Text("did:x")}, {})
