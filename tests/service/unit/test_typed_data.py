"""EIP-712 signable messages with remembered type hashes equal eth-account's, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain import typed_data
from service.domain.typed_data import Members

# EIP-712's own example, with arrays of structs, of addresses and of fixed length added.
MAIL_TYPES: dict[str, Members] = {
    "Mail": (
        ("from", "Person"),
        ("to", "Person[]"),
        ("cc", "Person[2]"),
        ("contents", "string"),
        ("attachments", "bytes[]"),
        ("urgent", "bool"),
        ("priority", "int8"),
        ("tag", "bytes4"),
    ),
    "Person": (("name", "string"), ("wallets", "address[]"), ("age", "uint256")),
}
DOMAIN = {
    "name": "Ether Mail",
    "version": "1",
    "chainId": 1,
    "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
}
COW = {"name": "Cow", "wallets": ["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"], "age": 7}
BOB = {"name": "Bob", "wallets": [], "age": 0}
MAIL = {
    "from": COW,
    "to": [BOB, COW],
    "cc": [COW, BOB],
    "contents": "Hello, Bob!",
    "attachments": ["0x00ff", "0x"],
    "urgent": True,
    "priority": -3,
    "tag": "0xdeadbeef",
}


@pytest.fixture(autouse=True)
def forget() -> None:
    typed_data.clear_memos()


def ours(
    types: dict[str, Members], primary: str, domain: dict[str, Any], message: dict[str, Any]
) -> SignableMessage:
    return typed_data.signable_message(typed_data.typed_data_types(types, primary), domain, message)


def eth_accounts(
    types: dict[str, Members], primary: str, domain: dict[str, Any], message: dict[str, Any]
) -> SignableMessage:
    return encode_typed_data(
        full_message={
            "types": {
                name: [{"name": member, "type": kind} for member, kind in members]
                for name, members in types.items()
            },
            "primaryType": primary,
            "domain": domain,
            "message": message,
        }
    )


def test_mail_example_hashes_as_eth_account_does() -> None:
    assert ours(MAIL_TYPES, "Mail", DOMAIN, MAIL) == eth_accounts(MAIL_TYPES, "Mail", DOMAIN, MAIL)


def test_the_documented_example_keeps_its_documented_hash() -> None:
    # eth-account's encode_typed_data documentation: its Mail example's message hash.
    types: dict[str, Members] = {
        "Person": (("name", "string"), ("wallet", "address")),
        "Mail": (("from", "Person"), ("to", "Person"), ("contents", "string")),
    }
    message = {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!",
    }
    domain = {**DOMAIN, "salt": b"decafbeef"}

    signable = ours(types, "Mail", domain, message)

    assert signable == eth_accounts(types, "Mail", domain, message)
    assert signable.body.hex() == (
        "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
    )


def test_missing_struct_members_and_empty_arrays_hash_as_eth_account_does() -> None:
    message = {**MAIL, "from": None, "to": [], "attachments": []}
    del message["contents"]

    assert ours(MAIL_TYPES, "Mail", DOMAIN, message) == eth_accounts(
        MAIL_TYPES, "Mail", DOMAIN, message
    )


def test_text_longer_than_what_is_remembered_hashes_the_same() -> None:
    message = {**MAIL, "contents": "x" * (typed_data.TEXT_MEMO_MAX_LENGTH + 1)}

    assert ours(MAIL_TYPES, "Mail", DOMAIN, message) == eth_accounts(
        MAIL_TYPES, "Mail", DOMAIN, message
    )


def test_each_domain_has_its_own_separator() -> None:
    on_mainnet = ours(MAIL_TYPES, "Mail", DOMAIN, MAIL)
    elsewhere = {**DOMAIN, "chainId": 10}

    on_optimism = ours(MAIL_TYPES, "Mail", elsewhere, MAIL)

    assert on_optimism.header != on_mainnet.header
    assert on_optimism == eth_accounts(MAIL_TYPES, "Mail", elsewhere, MAIL)
    assert ours(MAIL_TYPES, "Mail", DOMAIN, MAIL) == on_mainnet


def test_a_changed_member_type_changes_the_hash_even_after_the_first_was_remembered() -> None:
    first = ours(MAIL_TYPES, "Mail", DOMAIN, MAIL)
    changed = {
        **MAIL_TYPES,
        "Person": (("name", "string"), ("wallets", "address[]"), ("age", "uint8")),
    }

    second = ours(changed, "Mail", DOMAIN, MAIL)

    assert second.body != first.body
    assert second == eth_accounts(changed, "Mail", DOMAIN, MAIL)


def test_a_text_value_encodes_by_its_type_whatever_was_remembered_for_another() -> None:
    as_string: dict[str, Members] = {"Note": (("value", "string"),)}
    as_bytes: dict[str, Members] = {"Note": (("value", "bytes"),)}
    as_number: dict[str, Members] = {"Note": (("value", "uint256"),)}
    message = {"value": "0x1234"}

    results = [ours(types, "Note", DOMAIN, message) for types in (as_string, as_bytes, as_number)]

    assert results == [
        eth_accounts(types, "Note", DOMAIN, message) for types in (as_string, as_bytes, as_number)
    ]
    assert len({result.body for result in results}) == 3


def test_a_primary_type_that_is_not_the_root_is_refused_as_eth_account_refuses_it() -> None:
    with pytest.raises(ValidationError, match="does not match the derived `primaryType`"):
        typed_data.typed_data_types(MAIL_TYPES, "Person")
    with pytest.raises(ValidationError, match="does not match the derived `primaryType`"):
        eth_accounts(MAIL_TYPES, "Person", DOMAIN, {})


def test_a_struct_value_of_the_wrong_shape_fails_as_in_eth_account() -> None:
    message = {**MAIL, "to": "Bob"}

    with pytest.raises(ValueError, match="expected array"):
        ours(MAIL_TYPES, "Mail", DOMAIN, message)
    with pytest.raises(ValueError, match="expected array"):
        eth_accounts(MAIL_TYPES, "Mail", DOMAIN, message)


def test_content_too_large_to_remember_is_still_hashed() -> None:
    domain = {"name": "n" * typed_data.CONTENT_MEMO_MAX_BYTES}

    assert ours(MAIL_TYPES, "Mail", domain, MAIL) == eth_accounts(MAIL_TYPES, "Mail", domain, MAIL)


_texts = st.text(max_size=300)
_addresses = st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex())
_people = st.fixed_dictionaries(
    {
        "name": _texts,
        "wallets": st.lists(_addresses, max_size=3),
        "age": st.integers(min_value=0, max_value=2**256 - 1),
    }
)
_mails = st.fixed_dictionaries(
    {
        "from": st.none() | _people,
        "to": st.lists(_people, max_size=3),
        "cc": st.lists(_people, min_size=2, max_size=2),
        "contents": st.sampled_from(["Hello, Bob!", "https://schema.org/Text"]) | _texts,
        "attachments": st.lists(st.binary(max_size=40).map(lambda raw: "0x" + raw.hex())),
        "urgent": st.booleans() | st.sampled_from(["false", "0", "", "yes"]),
        "priority": st.integers(min_value=-128, max_value=127),
        "tag": st.binary(min_size=4, max_size=4).map(lambda raw: "0x" + raw.hex()),
    }
)
_domains = st.fixed_dictionaries(
    {"name": st.sampled_from(["VerifiableCredential", "Ether Mail"])},
    optional={"chainId": st.integers(min_value=0, max_value=2**64), "version": _texts},
)


@settings(max_examples=150, deadline=None)
@given(mails=st.lists(_mails, min_size=1, max_size=3), domain=_domains)
def test_any_mail_hashes_as_eth_account_hashes_it(
    mails: list[dict[str, Any]], domain: dict[str, Any]
) -> None:
    for mail in mails:
        assert ours(MAIL_TYPES, "Mail", domain, mail) == eth_accounts(
            MAIL_TYPES, "Mail", domain, mail
        )


@pytest.mark.parametrize(
    ("kinds", "values"),
    [
        (["bytes32", "bool", "int8", "address"], [b"\x01" * 32, True, -1, "0x" + "ab" * 20]),
        (["uint256[2]", "bytes4"], [[1, 2], b"\xde\xad\xbe\xef"]),
        (["bytes32", "string", "uint8[]"], [b"\x02" * 32, "dynamic", [1, 2, 3]]),
    ],
    ids=["words", "static array", "dynamic"],
)
def test_packing_is_eth_abis_encoding(kinds: list[str], values: list[Any]) -> None:
    assert typed_data._abi_packed(kinds, values) == abi_encode(kinds, values)
