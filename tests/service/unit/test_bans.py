"""Ban matching rules of check-bans (`check_bans_for`, api/ceramic_cache/models.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.domain.bans_rules import Ban, first_match, hashes_to_check, subject_address
from service.domain.bodies_rules import Credential, CredentialSubject
from service.plumbing.errors import BadRequest

ADDRESS = "0x" + "ab" * 20


def ban(id_: int, type_: str, *, address: str = "", hash_: str = "", provider: str = "") -> Ban:
    return Ban(id_, type_, provider, hash_, address, None, None)


def credential(id_: str | None, hash_: str | None = "h") -> Credential:
    return Credential(credentialSubject=CredentialSubject(hash=hash_, provider="p", id=id_))


def test_an_account_ban_matches_any_provider_of_the_address() -> None:
    bans = [ban(1, "account", address=ADDRESS.upper())]

    assert first_match(bans, address=ADDRESS, stamp_hash="x", provider="Any") == bans[0]


def test_an_account_ban_with_a_provider_is_not_an_account_ban() -> None:
    bans = [ban(1, "account", address=ADDRESS, provider="Google")]

    assert first_match(bans, address=ADDRESS, stamp_hash="x", provider="Google") is None


def test_a_hash_ban_matches_the_hash_whatever_the_address() -> None:
    bans = [ban(1, "hash", hash_="v0:h", address="0x" + "cd" * 20)]

    assert first_match(bans, address=ADDRESS, stamp_hash="v0:h", provider="p") == bans[0]
    assert first_match(bans, address=ADDRESS, stamp_hash="v0:other", provider="p") is None


def test_a_single_stamp_ban_needs_address_and_provider() -> None:
    bans = [ban(1, "single_stamp", address=ADDRESS, provider="Google")]

    assert first_match(bans, address=ADDRESS, stamp_hash="x", provider="Google") == bans[0]
    assert first_match(bans, address=ADDRESS, stamp_hash="x", provider="Github") is None
    assert first_match(bans, address="0x" + "cd" * 20, stamp_hash="x", provider="Google") is None


def test_an_unknown_ban_type_matches_nothing() -> None:
    bans = [ban(1, "other", address=ADDRESS, hash_="x")]

    assert first_match(bans, address=ADDRESS, stamp_hash="x", provider="") is None


def test_the_first_ban_in_the_given_order_wins() -> None:
    bans = [
        ban(1, "single_stamp", address=ADDRESS, provider="p"),
        ban(2, "account", address=ADDRESS),
    ]

    assert first_match(bans, address=ADDRESS, stamp_hash="x", provider="p") == bans[0]


def test_the_subject_is_the_tail_of_the_did() -> None:
    assert subject_address([credential(f"did:pkh:eip155:1:{ADDRESS}")]) == ADDRESS


def test_a_subject_without_colons_is_taken_whole() -> None:
    assert subject_address([credential(ADDRESS)]) == ADDRESS


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([], "Must provide valid credential(s)"),
        ([None], "Must provide valid credential(s)"),
        (["did:a", "did:b"], "All credentials must be issued to the same address"),
        (["did:a", None], "All credentials must be issued to the same address"),
    ],
)
def test_subjects_that_do_not_name_one_address_are_refused(
    ids: list[str | None], message: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        subject_address([credential(id_) for id_ in ids])

    assert raised.value.detail == message


def test_only_non_empty_hashes_are_looked_up_once_each() -> None:
    credentials = [
        credential("d", "b"),
        credential("d", ""),
        credential("d", None),
        credential("d", "a"),
        credential("d", "b"),
    ]

    assert hashes_to_check(credentials) == ["a", "b"]


def test_ban_end_time_is_kept_as_a_datetime() -> None:
    end = datetime(2099, 1, 1, tzinfo=UTC)

    assert Ban(1, "account", "", "", ADDRESS, end, "r").end_time == end
