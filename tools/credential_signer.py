"""Sign stamps shaped like the ones the Passport IAM issues (ADR-0012).

An `EthereumEip712Signature2021` proof from a `did:ethr` issuer, with the EIP-712 types embedded
in `proof.eip712Domain`. Used by the tests, the demo-data seeder and the benchmark; it needs only
eth-account, and it builds the signed data on its own rather than with the service's verifier.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

CREDENTIAL_CONTEXT = (
    "https://www.w3.org/2018/credentials/v1",
    "https://w3id.org/vc/status-list/2021/v1",
)
PROOF_CONTEXT = "https://w3id.org/security/suites/eip712sig-2021/v1"
EIP712_PROOF_TYPE = "EthereumEip712Signature2021"
SCHEMA_TEXT = "https://schema.org/Text"
EIP712_DOMAIN_NAME = "VerifiableCredential"


def issuer_did(private_key: str) -> str:
    address: str = Account.from_key(private_key).address
    return "did:ethr:" + address.lower()


def format_timestamp(moment: datetime) -> str:
    """UTC with a "Z", as the reference generator and ssi print it.

    Fractional seconds appear only when non-zero, as 3 or 6 digits (`…09Z`, `…09.615Z`,
    `…09.615116Z`), so a verifier that re-serialises dates reads back the same text.
    """
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if moment.microsecond == 0:
        return text + "Z"
    if moment.microsecond % 1000 == 0:
        return f"{text}.{moment.microsecond // 1000:03d}Z"
    return f"{text}.{moment.microsecond:06d}Z"


def sign_stamp(
    *,
    issuer_key: str,
    address: str,
    provider: str,
    nullifiers: list[str],
    issuance: datetime,
    expiration: datetime,
    created: datetime | None = None,
    extra_subject: dict[str, str | list[str]] | None = None,
    verification_method: str | None = None,
    proof_type: str = EIP712_PROOF_TYPE,
) -> dict[str, Any]:
    """A stamp for `address` whose subject carries `nullifiers`, signed by `issuer_key`.

    `extra_subject` adds subject properties (strings or lists of strings) and declares them in
    the subject's type. `created` defaults to `issuance`; `verification_method` to the issuer's
    `#controller`. A different `proof_type` is still signed with EIP-712, so that a verifier has
    only the type to reject it by.
    """
    subject_context = {
        "nullifiers": {"@container": "@list", "@type": SCHEMA_TEXT},
        "provider": SCHEMA_TEXT,
    }
    subject: dict[str, Any] = {
        "@context": subject_context,
        "id": _subject_did(address),
        "nullifiers": list(nullifiers),
        "provider": provider,
    }
    subject_types = {
        "@context": [
            {"name": "nullifiers", "type": "NullifiersContext"},
            {"name": "provider", "type": "string"},
        ],
        "CredentialSubject": [
            {"name": "@context", "type": "@context"},
            {"name": "nullifiers", "type": "string[]"},
            {"name": "id", "type": "string"},
            {"name": "provider", "type": "string"},
        ],
        "NullifiersContext": [
            {"name": "@container", "type": "string"},
            {"name": "@type", "type": "string"},
        ],
    }
    for name, value in (extra_subject or {}).items():
        if name in subject:
            raise ValueError(f"extra_subject cannot replace {name!r}")
        subject[name] = value if isinstance(value, str) else list(value)
        kind = "string" if isinstance(value, str) else "string[]"
        subject_types["CredentialSubject"].append({"name": name, "type": kind})
    return _signed(
        issuer_key=issuer_key,
        subject=subject,
        subject_types=subject_types,
        issuance=issuance,
        expiration=expiration,
        created=created,
        verification_method=verification_method,
        proof_type=proof_type,
    )


def sign_legacy_hash_stamp(
    *,
    issuer_key: str,
    address: str,
    provider: str,
    subject_hash: str,
    issuance: datetime,
    expiration: datetime,
    created: datetime | None = None,
) -> dict[str, Any]:
    """A stamp of the older shape: the subject carries one `hash` (declared in its type) and no
    nullifiers."""
    subject = {
        "@context": {"hash": SCHEMA_TEXT, "provider": SCHEMA_TEXT},
        "hash": subject_hash,
        "id": _subject_did(address),
        "provider": provider,
    }
    subject_types = {
        "@context": [
            {"name": "hash", "type": "string"},
            {"name": "provider", "type": "string"},
        ],
        "CredentialSubject": [
            {"name": "@context", "type": "@context"},
            {"name": "hash", "type": "string"},
            {"name": "id", "type": "string"},
            {"name": "provider", "type": "string"},
        ],
    }
    return _signed(
        issuer_key=issuer_key,
        subject=subject,
        subject_types=subject_types,
        issuance=issuance,
        expiration=expiration,
        created=created,
        verification_method=None,
        proof_type=EIP712_PROOF_TYPE,
    )


def _subject_did(address: str) -> str:
    return "did:pkh:eip155:1:" + address.lower()


def _signed(
    *,
    issuer_key: str,
    subject: dict[str, Any],
    subject_types: dict[str, list[dict[str, str]]],
    issuance: datetime,
    expiration: datetime,
    created: datetime | None,
    verification_method: str | None,
    proof_type: str,
) -> dict[str, Any]:
    issuer = issuer_did(issuer_key)
    unsigned = {
        "@context": list(CREDENTIAL_CONTEXT),
        "credentialSubject": subject,
        "expirationDate": format_timestamp(expiration),
        "issuanceDate": format_timestamp(issuance),
        "issuer": issuer,
        "type": ["VerifiableCredential"],
    }
    proof_options = {
        "@context": PROOF_CONTEXT,
        "created": format_timestamp(created or issuance),
        "proofPurpose": "assertionMethod",
        "type": proof_type,
        "verificationMethod": verification_method or f"{issuer}#controller",
    }
    types = {
        **subject_types,
        "Document": [
            {"name": "@context", "type": "string[]"},
            {"name": "credentialSubject", "type": "CredentialSubject"},
            {"name": "expirationDate", "type": "string"},
            {"name": "issuanceDate", "type": "string"},
            {"name": "issuer", "type": "string"},
            {"name": "proof", "type": "Proof"},
            {"name": "type", "type": "string[]"},
        ],
        "EIP712Domain": [{"name": "name", "type": "string"}],
        "Proof": [
            {"name": "@context", "type": "string"},
            {"name": "created", "type": "string"},
            {"name": "proofPurpose", "type": "string"},
            {"name": "type", "type": "string"},
            {"name": "verificationMethod", "type": "string"},
        ],
    }
    eip712_domain = {
        "domain": {"name": EIP712_DOMAIN_NAME},
        "primaryType": "Document",
        "types": dict(sorted(types.items())),
    }
    # What is signed: the credential with a proof that has neither its signature nor its types.
    signable = encode_typed_data(
        full_message={**eip712_domain, "message": {**unsigned, "proof": proof_options}}
    )
    signature = bytes(Account.sign_message(signable, issuer_key).signature)
    proof = {
        "@context": proof_options["@context"],
        "created": proof_options["created"],
        "eip712Domain": eip712_domain,
        "proofPurpose": proof_options["proofPurpose"],
        "proofValue": "0x" + signature.hex(),
        "type": proof_options["type"],
        "verificationMethod": proof_options["verificationMethod"],
    }
    return {**unsigned, "proof": proof}
