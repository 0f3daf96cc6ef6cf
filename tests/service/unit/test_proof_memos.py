"""What is remembered across credentials (types, domain separators, encoded text) never makes
one credential verify with another's types or domain: each still recovers its own signer."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from service.domain import credentials
from service.domain.credentials import credential_errors, did_for_address, recover_eip712_signer
from tests.service.support import scenario as sc
from tools.credential_signer import sign_legacy_hash_stamp, sign_stamp

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DID = did_for_address(sc.ADDRESS)
ISSUER = Account.from_key(sc.ISSUER_KEY).address
OTHER_ISSUER = Account.from_key(sc.OTHER_ISSUER_KEY).address
MISMATCH = ["Signer does not match the issuer"]


@pytest.fixture(autouse=True)
def verify_afresh() -> None:
    # Each test warms the memos itself; only the signer cache would answer without hashing.
    credentials.clear_types_memo()
    credentials.clear_signer_cache()


def errors(credential: dict[str, Any]) -> list[str]:
    credentials.clear_signer_cache()
    return credential_errors(credential, did=DID, now=NOW)


def signer(credential: dict[str, Any]) -> str:
    credentials.clear_signer_cache()
    return recover_eip712_signer(credential)


def with_extra_subject() -> dict[str, Any]:
    return sign_stamp(
        issuer_key=sc.ISSUER_KEY,
        address=sc.ADDRESS,
        provider="Github",
        nullifiers=["v0:Github"],
        issuance=sc.ISSUED,
        expiration=sc.EXPIRES,
        extra_subject={"metaPointer": "https://example.com", "tags": ["a", "b"]},
    )


def legacy() -> dict[str, Any]:
    return sign_legacy_hash_stamp(
        issuer_key=sc.ISSUER_KEY,
        address=sc.ADDRESS,
        provider="Discord",
        subject_hash="v0.0.0:abc",
        issuance=sc.ISSUED,
        expiration=sc.EXPIRES,
    )


def resigned(credential: dict[str, Any], *, key: str, domain: dict[str, Any]) -> dict[str, Any]:
    """The credential signed again by `key` over another EIP712Domain (name, version, chainId)."""
    credential = copy.deepcopy(credential)
    proof = credential["proof"]
    info = proof["eip712Domain"]
    info["domain"] = domain
    order = ("name", "version", "chainId")
    kinds = {"name": "string", "version": "string", "chainId": "uint256"}
    info["types"]["EIP712Domain"] = [
        {"name": name, "type": kinds[name]} for name in order if name in domain
    ]
    signed_proof = {k: v for k, v in proof.items() if k not in ("proofValue", "eip712Domain")}
    message = {**{k: v for k, v in credential.items() if k != "proof"}, "proof": signed_proof}
    signable = encode_typed_data(full_message={**info, "message": message})
    proof["proofValue"] = "0x" + bytes(Account.sign_message(signable, key).signature).hex()
    return credential


def test_credentials_of_different_types_each_verify_in_any_order() -> None:
    stamps = [sc.stamp("Google"), with_extra_subject(), legacy(), sc.stamp("Twitter")]

    for credential in [*stamps, *reversed(stamps)]:
        assert errors(credential) == []
        assert signer(credential) == ISSUER


def test_a_field_changed_after_signing_is_refused_with_the_types_remembered() -> None:
    credential = sc.stamp("Google")
    assert errors(credential) == []
    for path, value in (
        (("credentialSubject", "provider"), "Twitter"),
        (("proof", "created"), "2026-01-01T12:00:01Z"),
        (("@context",), ["https://www.w3.org/2018/credentials/v1"]),
    ):
        tampered = copy.deepcopy(credential)
        *parents, last = path
        target = tampered
        for parent in parents:
            target = target[parent]
        target[last] = value

        assert errors(tampered) == MISMATCH, path


@pytest.mark.parametrize(
    "change",
    [
        # the same members in another order
        lambda types: types["Proof"].reverse(),
        # a member's type that its value still fits
        lambda types: types["Document"][6].update(type="string[1]"),
        # a struct declared under another name
        lambda types: (
            types.update(Proof2=types.pop("Proof")) or types["Document"][5].update(type="Proof2")
        ),
    ],
    ids=["member order", "member type", "struct name"],
)
def test_a_type_definition_changed_after_signing_is_refused_with_the_types_remembered(
    change: Any,
) -> None:
    credential = sc.stamp("Google")
    assert errors(credential) == []
    tampered = copy.deepcopy(credential)
    change(tampered["proof"]["eip712Domain"]["types"])

    assert errors(tampered) == MISMATCH
    assert signer(tampered) != ISSUER
    assert errors(credential) == []


def test_the_types_of_another_credential_do_not_verify_this_one() -> None:
    plain = sc.stamp("Google")
    extra = with_extra_subject()
    assert errors(plain) == errors(extra) == []
    # the extra stamp's types on the plain stamp: eth-account misses the values they declare
    swapped = copy.deepcopy(plain)
    swapped["proof"]["eip712Domain"]["types"] = copy.deepcopy(
        extra["proof"]["eip712Domain"]["types"]
    )

    assert errors(swapped) == [
        "Proof verification failed: Missing value for field `tags` of type `string[]`"
    ]


def test_each_domain_recovers_its_own_signer() -> None:
    base = sc.stamp("Google")
    mainnet = resigned(
        base, key=sc.ISSUER_KEY, domain={"name": "VerifiableCredential", "chainId": 1}
    )
    optimism = resigned(
        base, key=sc.ISSUER_KEY, domain={"name": "VerifiableCredential", "chainId": 10}
    )
    versioned = resigned(
        base, key=sc.OTHER_ISSUER_KEY, domain={"name": "VerifiableCredential", "version": "1"}
    )

    for _ in range(2):
        assert [signer(c) for c in (base, mainnet, optimism, versioned)] == [
            ISSUER,
            ISSUER,
            ISSUER,
            OTHER_ISSUER,
        ]
        assert errors(mainnet) == errors(optimism) == []


def test_a_domain_changed_after_signing_is_refused_with_the_domain_remembered() -> None:
    mainnet = resigned(
        sc.stamp("Google"), key=sc.ISSUER_KEY, domain={"name": "VerifiableCredential", "chainId": 1}
    )
    assert errors(mainnet) == []
    moved = copy.deepcopy(mainnet)
    moved["proof"]["eip712Domain"]["domain"]["chainId"] = 10

    assert errors(moved) == MISMATCH
    assert errors(mainnet) == []


def test_a_domain_that_is_not_its_declared_type_is_refused_with_the_types_remembered() -> None:
    credential = sc.stamp("Google")
    assert errors(credential) == []
    undeclared = copy.deepcopy(credential)
    undeclared["proof"]["eip712Domain"]["domain"]["chainId"] = 1

    assert errors(undeclared) == ["Proof verification failed: Unsupported EIP712Domain"]


def test_a_credential_of_another_issuer_with_the_same_types_recovers_that_issuer() -> None:
    ours = sc.stamp("Google")
    theirs = sc.stamp("Google", issuer_key=sc.OTHER_ISSUER_KEY)

    assert [signer(ours), signer(theirs), signer(ours)] == [ISSUER, OTHER_ISSUER, ISSUER]
