"""Stamp validation (ADR-0012) and the nullifiers of a stamp (ADR-0005)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.credentials import (
    CredentialScoringError,
    LoadedStamp,
    credential_errors,
    did_for_address,
    nullifiers_of,
    parse_iso_datetime,
    recover_eip712_signer,
    validate_stamps,
)
from tools.credential_signer import issuer_did, sign_legacy_hash_stamp, sign_stamp

# The first credential of passport-scorer's rust-scorer/comparison-tests/test_config.json
# (ADR-0012), signed by another implementation. It expired on 2026-02-18.
EXAMPLE_CREDENTIAL_JSON = """
{
  "@context": [
    "https://www.w3.org/2018/credentials/v1",
    "https://w3id.org/vc/status-list/2021/v1"
  ],
  "credentialSubject": {
    "@context": {
      "nullifiers": {
        "@container": "@list",
        "@type": "https://schema.org/Text"
      },
      "provider": "https://schema.org/Text"
    },
    "id": "did:pkh:eip155:1:0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "nullifiers": [
      "v0:Google:0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:test-nullifier"
    ],
    "provider": "Google"
  },
  "expirationDate": "2026-02-18T13:12:09Z",
  "issuanceDate": "2025-11-20T13:12:09Z",
  "issuer": "did:ethr:0x018d103c154748e8d5a1d7658185125175457f84",
  "proof": {
    "@context": "https://w3id.org/security/suites/eip712sig-2021/v1",
    "created": "2025-11-20T13:12:09.615116194Z",
    "eip712Domain": {
      "domain": { "name": "VerifiableCredential" },
      "primaryType": "Document",
      "types": {
        "@context": [
          { "name": "nullifiers", "type": "NullifiersContext" },
          { "name": "provider", "type": "string" }
        ],
        "CredentialSubject": [
          { "name": "@context", "type": "@context" },
          { "name": "nullifiers", "type": "string[]" },
          { "name": "id", "type": "string" },
          { "name": "provider", "type": "string" }
        ],
        "Document": [
          { "name": "@context", "type": "string[]" },
          { "name": "credentialSubject", "type": "CredentialSubject" },
          { "name": "expirationDate", "type": "string" },
          { "name": "issuanceDate", "type": "string" },
          { "name": "issuer", "type": "string" },
          { "name": "proof", "type": "Proof" },
          { "name": "type", "type": "string[]" }
        ],
        "EIP712Domain": [
          { "name": "name", "type": "string" }
        ],
        "NullifiersContext": [
          { "name": "@container", "type": "string" },
          { "name": "@type", "type": "string" }
        ],
        "Proof": [
          { "name": "@context", "type": "string" },
          { "name": "created", "type": "string" },
          { "name": "proofPurpose", "type": "string" },
          { "name": "type", "type": "string" },
          { "name": "verificationMethod", "type": "string" }
        ]
      }
    },
    "proofPurpose": "assertionMethod",
    "proofValue": "0x9a82317240253fbe982ca9f993f0601e57e5b43edc36e3a8b0f820c111195a0b4755ffa80e82ec512abe3418a24a3286a9c3d5fe6ebb359fd1980083638dae611b",
    "type": "EthereumEip712Signature2021",
    "verificationMethod": "did:ethr:0x018d103c154748e8d5a1d7658185125175457f84#controller"
  },
  "type": ["VerifiableCredential"]
}
"""  # noqa: E501 - verbatim reference data
EXAMPLE_ISSUER_ADDRESS = "0x018d103C154748E8D5a1d7658185125175457F84"
EXAMPLE_HOLDER = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

ISSUER_KEY = "0x" + "11" * 32
OTHER_ISSUER_KEY = "0x" + "22" * 32
ISSUER = issuer_did(ISSUER_KEY)
TRUSTED = frozenset({ISSUER})
ADDRESS = "0x5b38da6a701c568545dcfcb03fcb875f56beddc4"
OTHER_ADDRESS = "0xab8483f64d9c6d1ecf9b849ae677dd3315835cb2"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def example() -> dict[str, Any]:
    credential: dict[str, Any] = json.loads(EXAMPLE_CREDENTIAL_JSON)
    return credential


def signed_data_as_the_spec_describes(credential: dict[str, Any]) -> dict[str, Any]:
    """The data `ssi` signs (ADR-0012), written out independently of the module under test."""
    info = credential["proof"]["eip712Domain"]
    proof = {
        key: value
        for key, value in credential["proof"].items()
        if key not in ("proofValue", "eip712Domain")
    }
    message = {key: value for key, value in credential.items() if key != "proof"}
    return {
        "types": info["types"],
        "primaryType": info["primaryType"],
        "domain": info["domain"],
        "message": {**message, "proof": proof},
    }


def stamp(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "issuer_key": ISSUER_KEY,
        "address": ADDRESS,
        "provider": "Google",
        "nullifiers": ["v0:Google:some-account"],
        "issuance": NOW - timedelta(days=10),
        "expiration": NOW + timedelta(days=80),
    }
    return sign_stamp(**(arguments | overrides))


def validate(
    *credentials: dict[str, Any],
    now: datetime = NOW,
    address: str = ADDRESS,
    trusted: frozenset[str] = TRUSTED,
) -> list[LoadedStamp]:
    stamps = [LoadedStamp(c["credentialSubject"].get("provider", "?"), c) for c in credentials]
    return validate_stamps(stamps, address=address, trusted_issuers=trusted, now=now)


def is_kept(credential: dict[str, Any], **kwargs: Any) -> bool:
    return [kept.credential for kept in validate(credential, **kwargs)] == [credential]


# --- The credential signed elsewhere, and its hashing vectors (ADR-0012) ----------------------


def test_example_signs_its_proof_without_the_signature_and_the_types(
    example: dict[str, Any],
) -> None:
    signed = signed_data_as_the_spec_describes(example)

    assert signed["message"]["proof"] == {
        "@context": "https://w3id.org/security/suites/eip712sig-2021/v1",
        "created": "2025-11-20T13:12:09.615116194Z",
        "proofPurpose": "assertionMethod",
        "type": "EthereumEip712Signature2021",
        "verificationMethod": "did:ethr:0x018d103c154748e8d5a1d7658185125175457f84#controller",
    }


def test_example_domain_separator_matches_the_vector(example: dict[str, Any]) -> None:
    signable = encode_typed_data(full_message=signed_data_as_the_spec_describes(example))

    assert "0x" + signable.header.hex() == (
        "0x90131d9d86f0b606941afffc222fd7691effaa86f3a89c133d35e9ff873d1553"
    )


def test_example_message_hash_matches_the_vector(example: dict[str, Any]) -> None:
    signable = encode_typed_data(full_message=signed_data_as_the_spec_describes(example))

    assert "0x" + signable.body.hex() == (
        "0x62976f7cba0fa75b5e2c6037d61e5baaf09d3c10b90ce5b2e951b793787d8f94"
    )


def test_example_digest_matches_the_vector(example: dict[str, Any]) -> None:
    signable = encode_typed_data(full_message=signed_data_as_the_spec_describes(example))

    # EIP-191 version 0x01: keccak256(0x19 ‖ 0x01 ‖ domain separator ‖ message hash)
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)

    assert "0x" + digest.hex() == (
        "0x13afcfb4b24f49de6d67fc65169b44f4260b4c3d3530bca3710d970b19dea29b"
    )


def test_example_signature_recovers_its_issuer(example: dict[str, Any]) -> None:
    assert recover_eip712_signer(example) == EXAMPLE_ISSUER_ADDRESS


def test_example_with_another_provider_no_longer_recovers_its_issuer(
    example: dict[str, Any],
) -> None:
    example["credentialSubject"]["provider"] = "Twitter"

    signer = recover_eip712_signer(example)

    assert signer != EXAMPLE_ISSUER_ADDRESS
    assert signer.startswith("0x65C3")
    assert signer.endswith("dBD8")


def test_example_is_kept_before_its_expiry_when_its_issuer_is_trusted(
    example: dict[str, Any],
) -> None:
    kept = validate(
        example,
        now=datetime(2025, 12, 1, tzinfo=UTC),
        address=EXAMPLE_HOLDER,
        trusted=frozenset({example["issuer"]}),
    )

    assert [stamp.credential for stamp in kept] == [example]


def test_example_is_dropped_as_expired_today(example: dict[str, Any]) -> None:
    kept = validate(
        example,
        now=datetime.now(UTC),
        address=EXAMPLE_HOLDER,
        trusted=frozenset({example["issuer"]}),
    )

    assert kept == []


def test_example_has_no_errors_before_its_expiry(example: dict[str, Any]) -> None:
    errors = credential_errors(
        example, did=did_for_address(EXAMPLE_HOLDER), now=datetime(2025, 12, 1, tzinfo=UTC)
    )

    assert errors == []


# --- Credentials signed here ------------------------------------------------------------------


def test_subject_did_is_the_lowercased_address_on_chain_1() -> None:
    assert did_for_address("0xAbC0000000000000000000000000000000000001") == (
        "did:pkh:eip155:1:0xabc0000000000000000000000000000000000001"
    )


def test_signed_stamp_has_the_shape_of_the_example(example: dict[str, Any]) -> None:
    credential = stamp()

    assert credential.keys() == example.keys()
    assert credential["@context"] == example["@context"]
    assert credential["type"] == example["type"]
    assert credential["credentialSubject"].keys() == example["credentialSubject"].keys()
    assert credential["credentialSubject"]["@context"] == example["credentialSubject"]["@context"]
    assert credential["proof"].keys() == example["proof"].keys()
    assert credential["proof"]["eip712Domain"] == example["proof"]["eip712Domain"]
    assert credential["issuer"] == ISSUER
    assert credential["proof"]["verificationMethod"] == f"{ISSUER}#controller"


def test_freshly_signed_stamp_is_kept() -> None:
    assert is_kept(stamp())


@pytest.mark.parametrize(
    ("microsecond", "rendered"),
    [
        (0, "2026-02-20T09:15:30Z"),
        (615000, "2026-02-20T09:15:30.615Z"),
        (615116, "2026-02-20T09:15:30.615116Z"),
    ],
)
def test_stamp_created_with_fractional_seconds_is_kept(microsecond: int, rendered: str) -> None:
    credential = stamp(created=datetime(2026, 2, 20, 9, 15, 30, microsecond, tzinfo=UTC))

    assert credential["proof"]["created"] == rendered
    assert is_kept(credential)


def test_stamp_expired_a_second_ago_is_dropped() -> None:
    credential = stamp(expiration=NOW - timedelta(seconds=1))

    assert validate(credential) == []


def test_stamp_expiring_exactly_now_is_kept() -> None:
    assert is_kept(stamp(expiration=NOW))


def test_stamp_issued_to_another_address_is_dropped() -> None:
    credential = stamp(address=OTHER_ADDRESS)

    assert validate(credential) == []


def test_scored_address_may_be_checksummed() -> None:
    assert is_kept(stamp(), address=to_checksum_address(ADDRESS))


def test_stamp_from_an_untrusted_issuer_is_dropped() -> None:
    credential = stamp(issuer_key=OTHER_ISSUER_KEY)

    assert validate(credential) == []


def test_issuer_trust_is_case_sensitive() -> None:
    credential = stamp()

    assert validate(credential, trusted=frozenset({ISSUER.upper()})) == []


def test_stamp_changed_after_signing_is_dropped() -> None:
    credential = stamp()
    credential["credentialSubject"]["provider"] = "Twitter"

    assert validate(credential) == []


def test_undeclared_subject_property_added_after_signing_is_dropped() -> None:
    credential = stamp()
    credential["credentialSubject"]["score"] = "100"

    assert validate(credential) == []


def test_undeclared_proof_property_added_after_signing_is_dropped() -> None:
    credential = stamp()
    credential["proof"]["note"] = "added later"

    assert validate(credential) == []


def test_signer_is_not_recovered_from_a_credential_with_undeclared_properties() -> None:
    credential = stamp()
    credential["credentialSubject"]["@context"]["score"] = "https://schema.org/Text"

    with pytest.raises(ValueError, match="Untyped properties"):
        recover_eip712_signer(credential)


def test_declared_extra_subject_property_is_kept() -> None:
    assert is_kept(stamp(extra_subject={"hash": "v0.0.0:abc", "tags": ["a", "b"]}))


def test_stamp_created_in_the_future_is_dropped() -> None:
    credential = stamp(created=NOW + timedelta(seconds=1))

    assert validate(credential) == []


def test_stamp_created_exactly_now_is_kept() -> None:
    assert is_kept(stamp(created=NOW))


def test_stamp_with_a_verification_method_outside_the_issuer_document_is_dropped() -> None:
    credential = stamp(verification_method=f"{ISSUER}#key-1")

    assert validate(credential) == []


def test_stamp_with_the_eip712_verification_method_is_kept() -> None:
    assert is_kept(stamp(verification_method=f"{ISSUER}#Eip712Method2021"))


def test_stamp_with_another_proof_type_is_dropped() -> None:
    credential = stamp(proof_type="EcdsaSecp256k1RecoverySignature2020")

    assert validate(credential) == []


def test_stamp_with_another_proof_purpose_is_dropped() -> None:
    credential = stamp()
    credential["proof"]["proofPurpose"] = "authentication"

    assert validate(credential) == []


def test_stamp_without_nullifiers_is_dropped() -> None:
    credential = stamp(nullifiers=[])

    assert validate(credential) == []


def test_legacy_stamp_with_only_a_hash_is_kept() -> None:
    credential = sign_legacy_hash_stamp(
        issuer_key=ISSUER_KEY,
        address=ADDRESS,
        provider="Google",
        subject_hash="v0.0.0:8JZcQJy6uwNGPDZnvfGbEs6mf5OZVD1mUOdhKNrOHls=",
        issuance=NOW - timedelta(days=10),
        expiration=NOW + timedelta(days=80),
    )

    assert is_kept(credential)


def test_legacy_stamp_with_its_hash_changed_after_signing_is_dropped() -> None:
    credential = sign_legacy_hash_stamp(
        issuer_key=ISSUER_KEY,
        address=ADDRESS,
        provider="Google",
        subject_hash="v0.0.0:8JZcQJy6uwNGPDZnvfGbEs6mf5OZVD1mUOdhKNrOHls=",
        issuance=NOW - timedelta(days=10),
        expiration=NOW + timedelta(days=80),
    )
    credential["credentialSubject"]["hash"] = "v0.0.0:another"

    assert validate(credential) == []


def test_types_under_the_newer_eip712_member_are_used() -> None:
    credential = stamp()
    credential["proof"]["eip712"] = credential["proof"].pop("eip712Domain")

    assert is_kept(credential)


def test_dates_are_hashed_in_the_form_ssi_serialises_them() -> None:
    credential = stamp(issuance=datetime(2026, 2, 1, 8, 30, tzinfo=UTC))
    # ssi parses and re-prints the dates before hashing: ".000Z" hashes as "Z".
    credential["issuanceDate"] = "2026-02-01T08:30:00.000Z"

    assert is_kept(credential)


def test_missing_expiration_date_fails_the_whole_scoring() -> None:
    credential = stamp()
    del credential["expirationDate"]

    with pytest.raises(CredentialScoringError) as raised:
        validate(stamp(), credential)

    assert str(raised.value) == "'expirationDate'"


def test_unparsable_expiration_date_fails_the_whole_scoring() -> None:
    credential = stamp()
    credential["expirationDate"] = "next spring"

    with pytest.raises(CredentialScoringError) as raised:
        validate(credential)

    assert str(raised.value) == "Invalid isoformat string: 'next spring'"


def test_naive_expiration_date_fails_the_whole_scoring() -> None:
    credential = stamp()
    credential["expirationDate"] = "2026-05-01T00:00:00"

    with pytest.raises(CredentialScoringError) as raised:
        validate(credential)

    assert str(raised.value) == "can't compare offset-naive and offset-aware datetimes"


def test_expiry_of_a_stamp_from_an_untrusted_issuer_is_still_evaluated() -> None:
    credential = stamp(issuer_key=OTHER_ISSUER_KEY)
    del credential["expirationDate"]

    with pytest.raises(CredentialScoringError):
        validate(credential)


def test_valid_stamps_keep_their_order_and_are_returned_unchanged() -> None:
    first = stamp(provider="Github")
    dropped = stamp(address=OTHER_ADDRESS, provider="Google")
    second = stamp(provider="Twitter")
    third = stamp(provider="Discord")
    stamps = [
        LoadedStamp(c["credentialSubject"]["provider"], c) for c in (first, dropped, second, third)
    ]
    before = copy.deepcopy(stamps)

    kept = validate_stamps(stamps, address=ADDRESS, trusted_issuers=TRUSTED, now=NOW)

    assert kept == [stamps[0], stamps[2], stamps[3]]
    assert all(kept_stamp is stamps[i] for kept_stamp, i in zip(kept, (0, 2, 3), strict=True))
    assert stamps == before


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate(stamp(), now=NOW.replace(tzinfo=None))


# --- Properties -------------------------------------------------------------------------------

providers = st.text(min_size=1, max_size=40)
nullifier_lists = st.lists(st.text(min_size=1, max_size=60), min_size=1, max_size=4)
addresses = st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex())


@settings(deadline=None, max_examples=50)
@given(provider=providers, nullifiers=nullifier_lists, address=addresses)
def test_any_freshly_signed_stamp_verifies_and_recovers_its_issuer(
    provider: str, nullifiers: list[str], address: str
) -> None:
    credential = stamp(provider=provider, nullifiers=nullifiers, address=address)

    assert recover_eip712_signer(credential) == Account.from_key(ISSUER_KEY).address
    assert is_kept(credential, address=address)


@settings(deadline=None, max_examples=50)
@given(provider=providers, nullifiers=nullifier_lists, address=addresses, data=st.data())
def test_changing_any_character_of_the_provider_breaks_the_signature(
    provider: str, nullifiers: list[str], address: str, data: st.DataObject
) -> None:
    credential = stamp(provider=provider, nullifiers=nullifiers, address=address)
    index = data.draw(st.integers(min_value=0, max_value=len(provider) - 1))
    replacement = data.draw(st.characters().filter(lambda char: char != provider[index]))
    credential["credentialSubject"]["provider"] = (
        provider[:index] + replacement + provider[index + 1 :]
    )

    assert recover_eip712_signer(credential) != Account.from_key(ISSUER_KEY).address
    assert validate(credential, address=address) == []


# --- parse_iso_datetime -----------------------------------------------------------------------

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-20T13:12:09Z", datetime(2025, 11, 20, 13, 12, 9, tzinfo=UTC)),
        ("2025-11-20T13:12:09+02:00", datetime(2025, 11, 20, 13, 12, 9, tzinfo=PLUS_TWO)),
        ("2025-11-20 13:12:09Z", datetime(2025, 11, 20, 13, 12, 9, tzinfo=UTC)),
        ("20251120T131209Z", datetime(2025, 11, 20, 13, 12, 9, tzinfo=UTC)),
        ("2025-11-20T13:12:09", datetime(2025, 11, 20, 13, 12, 9)),
        ("2025-11-20T13:12:09.1Z", datetime(2025, 11, 20, 13, 12, 9, 100000, tzinfo=UTC)),
        ("2025-11-20T13:12:09.12Z", datetime(2025, 11, 20, 13, 12, 9, 120000, tzinfo=UTC)),
        ("2025-11-20T13:12:09.123Z", datetime(2025, 11, 20, 13, 12, 9, 123000, tzinfo=UTC)),
        ("2025-11-20T13:12:09.1234Z", datetime(2025, 11, 20, 13, 12, 9, 123400, tzinfo=UTC)),
        ("2025-11-20T13:12:09.12345Z", datetime(2025, 11, 20, 13, 12, 9, 123450, tzinfo=UTC)),
        ("2025-11-20T13:12:09.123456Z", datetime(2025, 11, 20, 13, 12, 9, 123456, tzinfo=UTC)),
        ("2025-11-20T13:12:09.1234567Z", datetime(2025, 11, 20, 13, 12, 9, 123456, tzinfo=UTC)),
        ("2025-11-20T13:12:09.12345678Z", datetime(2025, 11, 20, 13, 12, 9, 123456, tzinfo=UTC)),
        ("2025-11-20T13:12:09.123456789Z", datetime(2025, 11, 20, 13, 12, 9, 123456, tzinfo=UTC)),
    ],
)
def test_parse_iso_datetime_accepts_what_python_3_12_accepts(text: str, expected: datetime) -> None:
    parsed = parse_iso_datetime(text)

    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["next spring", "2025-11-20T", "0000-W01-1T00:00:00Z"])
def test_parse_iso_datetime_rejects_with_pythons_message(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_iso_datetime(text)

    assert str(raised.value) == f"Invalid isoformat string: {text!r}"


# --- nullifiers_of ----------------------------------------------------------------------------


def subject(**properties: Any) -> dict[str, Any]:
    return {"credentialSubject": properties}


def test_every_nullifier_counts_with_multi_nullifier_on() -> None:
    credential = subject(nullifiers=["v0:a", "v1:b"])

    assert nullifiers_of(credential, multi_nullifier=True) == ["v0:a", "v1:b"]


def test_only_v0_nullifiers_count_with_multi_nullifier_off() -> None:
    credential = subject(nullifiers=["v0:a", "v1:b", "v0.0.0:c"])

    assert nullifiers_of(credential, multi_nullifier=False) == ["v0:a", "v0.0.0:c"]


def test_stamp_with_only_v1_nullifiers_has_none_with_multi_nullifier_off() -> None:
    credential = subject(nullifiers=["v1:a", "v1:b"])

    assert nullifiers_of(credential, multi_nullifier=False) == []


def test_hash_wins_over_nullifiers() -> None:
    credential = subject(hash="v0.0.0:h", nullifiers=["v0:a"])

    assert nullifiers_of(credential, multi_nullifier=True) == ["v0.0.0:h"]
    assert nullifiers_of(credential, multi_nullifier=False) == ["v0.0.0:h"]


@pytest.mark.parametrize(("offset", "kept"), [(0, True), (27, True), (54, True), (2, False)])
def test_the_recovery_id_is_read_modulo_27_as_ssi_reads_it(offset: int, kept: bool) -> None:
    credential = stamp()
    value = credential["proof"]["proofValue"]
    recovery_id = int(value[-2:], 16) - 27
    credential["proof"]["proofValue"] = value[:-2] + f"{recovery_id + offset:02x}"

    assert is_kept(credential) is kept
