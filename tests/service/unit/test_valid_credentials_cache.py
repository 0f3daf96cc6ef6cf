"""Credentials found valid are remembered by content and subject; a rescoring that finds one
again gives the same answer a full verification would."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from service.domain import credentials
from service.domain.credentials import LoadedStamp, validate_stamps
from tests.service.support import scenario as sc
from tools.credential_signer import issuer_did

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TRUSTED = frozenset({issuer_did(sc.ISSUER_KEY)})


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    credentials.clear_signer_cache()


def valid(credential: dict, *, address: str = sc.ADDRESS, now: datetime = NOW) -> bool:
    stamp = LoadedStamp(provider="Google", credential=credential)
    return bool(validate_stamps([stamp], address=address, trusted_issuers=TRUSTED, now=now))


def test_a_credential_found_valid_is_remembered_and_found_valid_again() -> None:
    credential = sc.stamp("Google")

    assert valid(credential)
    assert len(credentials._valid_cache) == 1
    credentials._signer_cache.clear()  # a second verification would have to recover again
    assert valid(copy.deepcopy(credential))
    assert len(credentials._signer_cache) == 0


def test_a_remembered_credential_is_not_valid_for_another_subject() -> None:
    credential = sc.stamp("Google")
    assert valid(credential)

    assert not valid(credential, address=sc.OTHER_ADDRESS)


def test_a_tampered_copy_of_a_remembered_credential_is_verified_afresh_and_refused() -> None:
    credential = sc.stamp("Google")
    assert valid(credential)
    for path, value in [
        (("credentialSubject", "nullifiers"), ["v0:someone-else"]),
        (("credentialSubject", "provider"), "Github"),
        (("proof", "created"), "2026-01-01T12:00:01Z"),
    ]:
        tampered = copy.deepcopy(credential)
        tampered[path[0]][path[1]] = value
        assert not valid(tampered), path


def test_a_remembered_credential_is_not_valid_before_its_proof_was_created() -> None:
    created = NOW - timedelta(days=1)
    credential = sc.stamp("Google", created=created)
    assert valid(credential)

    assert not valid(credential, now=created - timedelta(seconds=1))
    assert valid(credential, now=created)


def test_an_expired_remembered_credential_is_not_valid() -> None:
    credential = sc.stamp("Google", expires=NOW + timedelta(days=1))
    assert valid(credential)

    assert not valid(credential, now=NOW + timedelta(days=2))


def test_a_credential_with_several_proofs_is_not_remembered() -> None:
    credential = sc.stamp("Google")
    credential["proof"] = [credential["proof"]]
    assert valid(credential)

    assert len(credentials._valid_cache) == 0


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials._valid_cache, "size", 2)

    for provider in ("Google", "Github", "Twitter"):
        assert valid(sc.stamp(provider))

    assert len(credentials._valid_cache) == 2


def test_a_stamp_read_with_a_digest_is_remembered_by_it_and_its_subject() -> None:
    credential = sc.stamp("Google")
    digest = b"\x01" * 32

    def with_digest(address: str) -> bool:
        stamp = LoadedStamp(provider="Google", credential=credential, digest=digest)
        return bool(validate_stamps([stamp], address=address, trusted_issuers=TRUSTED, now=NOW))

    assert with_digest(sc.ADDRESS)
    assert list(credentials._valid_cache) == [
        b"d" + digest + credentials.did_for_address(sc.ADDRESS).encode()
    ]
    assert with_digest(sc.ADDRESS)
    assert not with_digest(sc.OTHER_ADDRESS)
