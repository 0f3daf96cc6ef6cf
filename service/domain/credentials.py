"""Stamp (verifiable credential) validation and nullifiers (ADR-0012, ADR-0005). Pure: no I/O.

A loaded stamp counts when it is unexpired, comes from a trusted issuer, names the scored address
and carries a valid `EthereumEip712Signature2021` proof (ADR-0012). The reference checks
the proof with didkit, i.e. the Rust `ssi` library; the proof check below reproduces what `ssi`
does and leaves the hashing to eth-account (through `typed_data`, which remembers what depends
only on the types and the domain, ADR-0048) and the signature recovery to eth-keys.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import marshal
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eth_utils.address import to_checksum_address

from service.domain import typed_data
from service.domain.eth_account_import import _hash_eip191_message, keys
from service.plumbing.bounded_cache import BoundedCache

W3C_CREDENTIALS_CONTEXT = "https://www.w3.org/2018/credentials/v1"
EIP712_PROOF_TYPE = "EthereumEip712Signature2021"
ASSERTION_METHOD = "assertionMethod"

_SUBJECT_DID_PREFIX = "did:pkh:eip155:1:"
# A did:ethr document is derived from the DID alone (no chain lookup); these are the two
# verification methods it lists under assertionMethod.
_ETHR_ASSERTION_FRAGMENTS = ("#controller", "#Eip712Method2021")
_ETHR_DID = re.compile(r"did:ethr:(?:[^:]+:)?(0x[0-9a-fA-F]{40})")
_PROOF_PURPOSES = frozenset(
    {
        "authentication",
        ASSERTION_METHOD,
        "keyAgreement",
        "contractAgreement",
        "capabilityInvocation",
        "capabilityDelegation",
    }
)
_PROOF_STRING_FIELDS = (
    "proofValue",
    "verificationMethod",
    "challenge",
    "creator",
    "domain",
    "nonce",
    "jws",
)

# 3.12 rejects ISO week dates in year 0 (CPython gh-117534); 3.11 turns them into a month error.
_YEAR_ZERO_WEEK_DATE = re.compile(r"0000-?W")

# RFC 3339 as chrono parses it: ssi reads issuanceDate, expirationDate and proof.created this way.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
_SIGNATURE = re.compile(r"0x([0-9a-fA-F]{130})")
_HEX_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ARRAY_SUFFIX = re.compile(r"\[(0|[1-9][0-9]*)?\]$")

_INTEGER_TYPES = {f"{sign}int{bits}": bits for sign in ("", "u") for bits in range(8, 257, 8)}
_FIXED_BYTES_TYPES = {f"bytes{size}": size for size in range(1, 33)}
_ATOMIC_TYPES = frozenset(
    {"bool", "address", "string", "bytes", *_INTEGER_TYPES, *_FIXED_BYTES_TYPES}
)
# ssi's implicit EIP712Domain when the embedded types leave it out.
_DEFAULT_DOMAIN_TYPE = (("name", "string"),)
# eth-account derives the domain type from the domain's keys, in this order with these types.
_STANDARD_DOMAIN_MEMBERS = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
)
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class LoadedStamp:
    """One cached stamp: the row's provider column and the verifiable credential (any JSON)."""

    provider: str
    credential: dict[str, Any]
    # The credential cache row it was read from, when it was: writes copy the credential from
    # there instead of sending it back.
    cache_id: int | None = dataclasses.field(default=None, compare=False)
    # A digest of the credential's content when the reader has one (equal digests, equal
    # credentials): the caches of verified credentials key by it instead of computing one.
    digest: bytes | None = dataclasses.field(default=None, compare=False)


class CredentialScoringError(Exception):
    """A stamp's expiry could not be evaluated, which fails the whole scoring.

    `str(error)` is the reference's message, stored on the score.
    """


_PARSED_DATES_CACHE_SIZE = 4096


def did_for_address(address: str) -> str:
    return _SUBJECT_DID_PREFIX + address.lower()


def parse_iso_datetime(value: str) -> datetime:
    """`datetime.fromisoformat` with Python 3.12's acceptance and messages, also on 3.11.

    Accepts `…Z`, `…+02:00`, 1-9 fractional digits (truncated to microseconds), a space instead
    of `T` and the basic format (`20251120T131209Z`); the result may be naive.
    """
    if isinstance(value, str):
        return _parse_iso_text(value)
    return datetime.fromisoformat(value)  # raises the TypeError the reference stores


@functools.lru_cache(maxsize=_PARSED_DATES_CACHE_SIZE)
def _parse_iso_text(value: str) -> datetime:
    if _YEAR_ZERO_WEEK_DATE.match(value):
        raise ValueError(f"Invalid isoformat string: {value!r}")
    return datetime.fromisoformat(value)


def validate_stamps(
    stamps: Sequence[LoadedStamp],
    *,
    address: str,
    trusted_issuers: frozenset[str],
    now: datetime,
) -> list[LoadedStamp]:
    """The valid stamps, in input order and unchanged; invalid ones are dropped.

    Raises CredentialScoringError when any stamp's expirationDate is missing, unparsable or
    timezone-naive, even a stamp whose issuer is not trusted.
    """
    _require_aware(now)
    did = did_for_address(address)
    valid: list[LoadedStamp] = []
    for stamp in stamps:
        credential = stamp.credential
        try:
            trusted = _issuer_is_trusted(credential, trusted_issuers)
            expired = parse_iso_datetime(credential["expirationDate"]) < now
        except Exception as error:  # the reference stores any of these on the score
            raise CredentialScoringError(str(error)) from error
        if expired or not trusted:
            continue
        key = _valid_cache_key(stamp, did)
        if _known_valid(key, now=now):
            valid.append(stamp)
            continue
        try:
            errors = credential_errors(credential, did=did, now=now)
        except Exception:  # noqa: BLE001, S112 - as in the reference, only this stamp is invalid
            continue
        if not errors:
            valid.append(stamp)
            _remember_valid(key, credential)
    return valid


# Credentials found valid, by content and subject, with the moment their proof was created.
# Validity only depends on time through that moment (a proof created in the future does not
# apply yet) and through expiry, which `validate_stamps` checks on every call; so a credential
# seen valid once stays valid for that subject whenever its proof's moment has passed, and a
# rescoring checks it with one digest instead of every rule and the signature. Only a
# credential with a single proof is remembered: with several, which one applies first can
# change as time passes.
VALID_CACHE_SIZE = 16_384
_valid_cache: BoundedCache[bytes, datetime] = BoundedCache(VALID_CACHE_SIZE)


def _valid_cache_key(stamp: LoadedStamp, did: str) -> bytes:
    if stamp.digest is not None:
        return b"d" + stamp.digest + did.encode()
    return _signer_cache_key(stamp.credential, {"subject": did})


def _known_valid(key: bytes, *, now: datetime) -> bool:
    created = _valid_cache.get(key)
    return created is not None and created <= now


def _remember_valid(key: bytes, credential: Mapping[str, Any]) -> None:
    proof = credential.get("proof")
    if not isinstance(proof, dict):
        return
    _valid_cache.put(key, _parse_rfc3339(proof["created"]).moment)


def credential_errors(credential: Any, *, did: str, now: datetime) -> list[str]:
    """Why a credential is not valid for subject `did` at `now`; empty when it is valid.

    The reference's own checks (subject, nullifiers or hash, id, provider, DID), then the proof
    check didkit performs. Expiry and issuer trust are `validate_stamps`'s business.
    """
    _require_aware(now)
    if not isinstance(credential, dict) or not credential:
        return ["Missing or invalid attribute: credential"]
    subject = credential.get("credentialSubject", {})
    if not isinstance(subject, dict) or not subject:
        return ["Missing attribute: credentialSubject"]
    errors: list[str] = []
    if not subject.get("hash") and not subject.get("nullifiers"):
        errors.append("Missing attribute: hash and nullifiers (either one must be present)")
    subject_id = subject.get("id")
    if not subject_id:
        errors.append("Missing attribute: id")
    if not subject.get("provider"):
        errors.append("Missing attribute: provider")
    if not isinstance(subject_id, str) or subject_id.lower() != did:
        errors.append("Did mismatch")
    return errors or _proof_errors(credential, now)


def recover_eip712_signer(credential: Mapping[str, Any]) -> str:
    """The (checksummed) address that signed the credential's EIP-712 proof.

    The signed data is built as ssi builds it: the credential's own embedded types, primary type
    and domain; the credential with its proof minus `proofValue` and the embedded types; dates in
    ssi's serialised form. Raises ValueError where ssi could not encode it, e.g. a struct value
    with a property its type does not declare.
    """
    proof = credential.get("proof")
    if not isinstance(proof, Mapping):
        raise ValueError("Expected a single proof object")
    return to_checksum_address(_recover_signer(credential, proof))


def nullifiers_of(credential: Mapping[str, Any], *, multi_nullifier: bool) -> list[str]:
    """The nullifiers a stamp claims: `[hash]` when the subject has a hash, else its nullifiers.

    With FF_MULTI_NULLIFIER off only the `v0` ones count (`v0:…` and `v0.0.0:…`).
    """
    subject = credential["credentialSubject"]
    nullifiers: list[str] = [subject["hash"]] if "hash" in subject else subject["nullifiers"]
    if multi_nullifier:
        return list(nullifiers)
    return [nullifier for nullifier in nullifiers if nullifier.startswith("v0")]


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def _issuer_is_trusted(credential: Any, trusted_issuers: frozenset[str]) -> bool:
    # The same subscripts as the reference, so a credential that is not a JSON object raises
    # the TypeError the reference stores on the score.
    if "issuer" not in credential:
        return False
    issuer = credential["issuer"]
    return isinstance(issuer, str) and issuer in trusted_issuers


def _proof_errors(credential: dict[str, Any], now: datetime) -> list[str]:
    try:
        _check_unsigned(credential)
        proofs = _parsed_proofs(credential.get("proof"))
        issuer: str = credential["issuer"]
        issuer_address = _ethr_address(issuer)
        methods = {issuer + fragment for fragment in _ETHR_ASSERTION_FRAGMENTS}
        applicable = [proof for proof in proofs if _is_applicable(proof, methods, now)]
        if not applicable:
            return ["No applicable proof"]
        # ssi keeps the errors of every proof it tries, so only a first applicable proof that
        # verifies makes the credential valid.
        proof = applicable[0]
        if proof["type"] != EIP712_PROOF_TYPE:
            return [f"Unsupported proof type: {proof['type']}"]
        if proof.get("verificationMethod") is None:
            return ["Missing verificationMethod"]
        signer = _recover_signer(credential, proof)
    except Exception as error:  # noqa: BLE001 - any failure to verify is a verification error
        return [f"Proof verification failed: {error}"]
    if signer != bytes.fromhex(issuer_address[2:]):
        return ["Signer does not match the issuer"]
    return []


def _check_unsigned(credential: dict[str, Any]) -> None:
    """What ssi requires while parsing the credential and in `validate_unsigned`."""
    context = credential.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if not contexts or contexts[0] != W3C_CREDENTIALS_CONTEXT:
        raise ValueError("Invalid @context")
    for extra in contexts[1:]:
        if not isinstance(extra, dict) and not (isinstance(extra, str) and ":" in extra):
            raise ValueError("Invalid @context")
    kinds = credential.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if not all(isinstance(kind, str) for kind in kinds) or "VerifiableCredential" not in kinds:
        raise ValueError("Missing type VerifiableCredential")
    if credential.get("issuer") is None:
        raise ValueError("Missing issuer")
    if credential.get("issuanceDate") is None:
        raise ValueError("Missing issuance date")
    _parse_rfc3339(credential["issuanceDate"])
    if credential.get("expirationDate") is not None:
        _parse_rfc3339(credential["expirationDate"])


def _parsed_proofs(proof: Any) -> list[dict[str, Any]]:
    if proof is None:
        return []
    proofs = proof if isinstance(proof, list) else [proof]
    for each in proofs:
        if not isinstance(each, dict) or not isinstance(each.get("type"), str):
            raise ValueError("Malformed proof")
        if each.get("created") is not None:
            _parse_rfc3339(each["created"])
        purpose = each.get("proofPurpose")
        if purpose is not None and purpose not in _PROOF_PURPOSES:
            raise ValueError("Unsupported proof purpose")
        for field in _PROOF_STRING_FIELDS:
            if each.get(field) is not None and not isinstance(each[field], str):
                raise ValueError(f"Malformed proof {field}")
    return proofs


def _is_applicable(proof: dict[str, Any], methods: set[str], now: datetime) -> bool:
    method = proof.get("verificationMethod")
    if method is not None and method not in methods:
        return False
    created = proof.get("created")
    if created is None or _parse_rfc3339(created).moment > now:
        return False
    return proof.get("proofPurpose") == ASSERTION_METHOD


def _ethr_address(issuer: str) -> str:
    match = _ETHR_DID.fullmatch(issuer)
    if match is None:
        raise ValueError(f"Unresolvable issuer DID: {issuer}")
    return match.group(1)


# Recovered signers by credential content. A signer is a pure function of the credential and
# its proof, and the same stamps are verified again on every rescoring of an address; the key
# covers every byte of both, so a changed credential is always verified afresh.
SIGNER_CACHE_SIZE = 16_384
_signer_cache: BoundedCache[bytes, bytes] = BoundedCache(SIGNER_CACHE_SIZE)


def clear_signer_cache() -> None:
    """Forgets every recovered signer and every credential found valid."""
    _signer_cache.clear()
    _valid_cache.clear()


def _signer_cache_key(credential: Mapping[str, Any], proof: Mapping[str, Any]) -> bytes:
    """A digest of every value in the credential and its proof.

    marshal writes JSON-shaped data (dicts, lists, strings, numbers, booleans, None) a dozen
    times faster than json.dumps, and its output decodes to exactly one value, so two different
    credentials never share a key. Format version 2 is a function of the value alone (later
    versions also record which objects are shared or interned). Key order is kept rather than
    sorted: the same content in another order only misses the cache. Anything marshal refuses
    is keyed by its JSON.
    """
    try:
        return b"m" + hashlib.sha256(marshal.dumps([credential, proof], 2)).digest()
    except ValueError:
        text = json.dumps([credential, proof], sort_keys=True, separators=(",", ":"))
        return b"j" + hashlib.sha256(text.encode()).digest()


def _recover_signer(credential: Mapping[str, Any], proof: Mapping[str, Any]) -> bytes:
    """The 20-byte address that signed the credential."""
    return _signer_cache.get_or_make(
        _signer_cache_key(credential, proof),
        lambda: _recover_signer_uncached(credential, proof),
    )


def _recover_signer_uncached(credential: Mapping[str, Any], proof: Mapping[str, Any]) -> bytes:
    signature = _signature_bytes(proof.get("proofValue"))
    # ssi tries the current name of the member first and only then the older one.
    info_key = "eip712" if "eip712" in proof else "eip712Domain"
    if info_key not in proof:
        raise ValueError("The proof carries no EIP-712 types")
    parsed, domain = _proof_info(proof[info_key])

    signed_proof = {
        key: value for key, value in proof.items() if key not in ("proofValue", info_key)
    }
    if isinstance(signed_proof.get("created"), str):
        signed_proof["created"] = _serialised_proof_created(signed_proof["created"])
    message = dict(credential)
    for key in ("issuanceDate", "expirationDate"):
        if isinstance(message.get(key), str):
            message[key] = _serialised_vc_date_time(message[key])
    message["proof"] = signed_proof

    _check_struct(domain, "EIP712Domain", parsed.types)
    _check_struct(message, parsed.primary_type, parsed.types)
    signable = typed_data.signable_message(parsed.typed_data_types(), domain, message)
    # eth-account's recover_message is this digest and eth-keys' recovery, with a checksummed
    # address made on top; the address bytes are all the comparison with the issuer needs.
    digest = _hash_eip191_message(signable)
    recoverable = keys.Signature(signature_bytes=signature, backend=_ecc_backend())
    return recoverable.recover_public_key_from_msg_hash(digest).to_canonical_address()


@functools.cache
def _ecc_backend() -> Any:
    # eth-keys' default backend (coincurve), looked up once instead of for every signature.
    return keys.backend


def _signature_bytes(proof_value: Any) -> bytes:
    match = _SIGNATURE.fullmatch(proof_value) if isinstance(proof_value, str) else None
    if match is None:
        raise ValueError("proofValue must be 0x and 65 hex-encoded bytes")
    raw = bytes.fromhex(match.group(1))
    # ssi reads the recovery id as v % 27; eth-keys wants it as 0 or 1.
    recovery_id = raw[64] % 27
    if recovery_id > 1:
        raise ValueError("Unsupported signature recovery id")
    return raw[:64] + bytes([recovery_id])


_Types = Mapping[str, tuple[tuple[str, str], ...]]


class _ParsedTypes:
    """A proof's embedded types as ssi reads them, and as eth-account is given them.

    Shared by every credential with the same types, so never changed once made; the eth-account
    side is derived on first use, where `encode_typed_data` would fail for types it refuses.
    """

    __slots__ = ("_typed_data_types", "primary_type", "types")

    def __init__(self, types: _Types, primary_type: str) -> None:
        self.types = types
        self.primary_type = primary_type
        self._typed_data_types: typed_data.TypedDataTypes | None = None

    def typed_data_types(self) -> typed_data.TypedDataTypes:
        if self._typed_data_types is None:
            # eth-account derives the primary type from the types it is given, so it only gets
            # those the primary type uses; ssi ignores unused ones.
            reachable = _reachable_types(self.primary_type, self.types) - {"EIP712Domain"}
            self._typed_data_types = typed_data.typed_data_types(
                {name: members for name, members in self.types.items() if name in reachable},
                self.primary_type,
            )
        return self._typed_data_types


# Parsed types by their exact JSON content: an issuer signs all its stamps with a few.
_parsed_types_memo: typed_data.ContentMemo[_ParsedTypes] = typed_data.ContentMemo(
    typed_data.MEMO_SIZE
)


def clear_types_memo() -> None:
    _parsed_types_memo.clear()
    typed_data.clear_memos()


def _proof_info(info: Any) -> tuple[_ParsedTypes, dict[str, Any]]:
    """Types and domain of the proof, rejected where ssi or eth-account differ."""
    if not isinstance(info, dict) or not info.keys() <= {
        "types",
        "messageSchema",
        "primaryType",
        "domain",
    }:
        raise ValueError("Malformed eip712 proof member")
    if ("types" in info) == ("messageSchema" in info):
        raise ValueError("Expected types in the eip712 proof member")
    raw_types = info["types"] if "types" in info else info["messageSchema"]
    primary_type, domain = info.get("primaryType"), info.get("domain")
    if not isinstance(raw_types, dict) or not isinstance(primary_type, str):
        raise ValueError("Malformed eip712 proof member")
    if not isinstance(domain, dict):
        raise ValueError("Expected object with type 'EIP712Domain'")
    parsed = _parsed_types_memo.get_or_make(
        [raw_types, primary_type], lambda: _parsed_types(raw_types, primary_type)
    )

    # eth-account hashes the domain with a type derived from the domain's keys; ssi uses the
    # declared one. Only a declaration equal to the derived type hashes the same in both.
    derived = tuple(member for member in _STANDARD_DOMAIN_MEMBERS if member[0] in domain)
    if parsed.types["EIP712Domain"] != derived or len(derived) != len(domain):
        raise ValueError("Unsupported EIP712Domain")
    return parsed, domain


def _parsed_types(raw_types: dict[str, Any], primary_type: str) -> _ParsedTypes:
    types: dict[str, tuple[tuple[str, str], ...]] = {"EIP712Domain": _DEFAULT_DOMAIN_TYPE}
    for name, members in raw_types.items():
        if not isinstance(members, list):
            raise ValueError(f"Malformed type {name}")
        if name != "EIP712Domain":
            _check_struct_name(name)
        parsed = []
        for member in members:
            if not isinstance(member, dict):
                raise ValueError(f"Malformed type {name}")
            member_name, member_type = member.get("name"), member.get("type")
            if not isinstance(member_name, str) or not isinstance(member_type, str):
                raise ValueError(f"Malformed type {name}")
            _check_type_name(member_type)
            parsed.append((member_name, member_type))
        types[name] = tuple(parsed)
    if primary_type not in types:
        raise ValueError(f"Missing referenced type: {primary_type}")
    return _ParsedTypes(types, primary_type)


def _check_struct_name(name: str) -> None:
    # A name ssi would parse as a non-struct type, or one eth-account would mistake for an
    # atomic or array type, cannot be hashed the same way by both.
    if name in _ATOMIC_TYPES or name.endswith("]") or name.startswith(("uint", "int", "bytes")):
        raise ValueError(f"Invalid struct name: {name}")


def _check_type_name(type_name: str) -> None:
    base = type_name
    while (suffix := _ARRAY_SUFFIX.search(base)) is not None:
        base = base[: suffix.start()]
    if base not in _ATOMIC_TYPES:
        _check_struct_name(base)


def _reachable_types(primary_type: str, types: _Types) -> set[str]:
    reachable = {primary_type}
    pending = [primary_type]
    while pending:
        for _, member_type in types[pending.pop()]:
            base = member_type[: member_type.index("[")] if "[" in member_type else member_type
            if base in types and base not in reachable:
                reachable.add(base)
                pending.append(base)
    return reachable


def _check_struct(value: Any, struct_name: str, types: _Types) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"Expected object with type '{struct_name}'")
    members = types[struct_name]
    undeclared = value.keys() - {name for name, _ in members}
    if undeclared:
        raise ValueError(f"Untyped properties: {sorted(undeclared)}")
    for name, member_type in members:
        if name in value:
            _check_value(value[name], member_type, types)


def _check_value(value: Any, type_name: str, types: _Types) -> None:
    """Accept only values that ssi encodes, and encodes as eth-account does."""
    if value is None or isinstance(value, float):
        raise ValueError(f"Unexpected value {value!r}")
    array = _ARRAY_SUFFIX.search(type_name)
    if array is not None:
        if not isinstance(value, list):
            raise ValueError(f"Expected array with type '{type_name}'")
        if array.group(1) is not None and len(value) != int(array.group(1)):
            raise ValueError(f"Expected array length {array.group(1)}")
        member_type = type_name[: array.start()]
        for item in value:
            _check_value(item, member_type, types)
    elif type_name in types:
        _check_struct(value, type_name, types)
    elif type_name == "string":
        if not isinstance(value, str):
            raise ValueError("Expected string")
    elif type_name == "bool":
        if not isinstance(value, bool) and value not in ("", "true", "1", 0, 1):
            raise ValueError("Expected boolean")
    elif type_name == "address":
        if not (isinstance(value, str) and _ADDRESS.fullmatch(value)):
            raise ValueError("Expected address")
    elif type_name == "bytes" or type_name in _FIXED_BYTES_TYPES:
        if not (isinstance(value, str) and _HEX_BYTES.fullmatch(value)):
            raise ValueError("Expected string to be hex bytes")
        size = _FIXED_BYTES_TYPES.get(type_name)
        if size is not None and len(value) != 2 + 2 * size:
            raise ValueError(f"Expected bytes length {size}")
    elif type_name in _INTEGER_TYPES:
        # ssi takes JSON integers as i64 (hex strings as raw bytes, which eth-account reads
        # differently), and eth-account refuses values outside the type's range.
        bits = _INTEGER_TYPES[type_name]
        low, high = (
            (0, 2**bits - 1) if type_name[0] == "u" else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        )
        if type(value) is not int or not max(low, _I64_MIN) <= value <= min(high, _I64_MAX):
            raise ValueError("Expected integer")
    else:
        raise ValueError(f"Missing referenced type: {type_name}")


@dataclass(frozen=True, slots=True)
class _Rfc3339:
    moment: datetime  # aware, truncated to microseconds
    nanosecond: int


def _parse_rfc3339(value: Any) -> _Rfc3339:
    if not isinstance(value, str):
        raise ValueError(f"Invalid RFC 3339 date-time: {value!r}")
    return _parse_rfc3339_text(value)


# A passport's stamps share a handful of dates, each read several times per verification and
# again at every rescoring; the parse is pure, and its result immutable.
@functools.lru_cache(maxsize=_PARSED_DATES_CACHE_SIZE)
def _parse_rfc3339_text(value: str) -> _Rfc3339:
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError(f"Invalid RFC 3339 date-time: {value!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_hour, off_minute = (
        match.groups()
    )
    if zulu:
        zone: timezone = UTC
    elif int(off_hour) > 23 or int(off_minute) > 59:
        raise ValueError(f"Invalid RFC 3339 date-time: {value!r}")
    else:
        offset = timedelta(hours=int(off_hour), minutes=int(off_minute))
        zone = timezone(-offset if sign == "-" else offset)
    nanosecond = int((fraction or "")[:9].ljust(9, "0"))
    moment = datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        nanosecond // 1000,
        tzinfo=zone,
    )
    return _Rfc3339(moment, nanosecond)


def _serialised_vc_date_time(value: str) -> str:
    # ssi re-serialises issuanceDate/expirationDate before hashing them: chrono's RFC 3339 with
    # "Z" only when the input ended in "Z", otherwise the numeric offset, "+00:00" included.
    parsed = _parse_rfc3339(value)
    offset = parsed.moment.utcoffset() or timedelta(0)
    if value.endswith("Z") and not offset:
        zone = "Z"
    else:
        minutes = int(abs(offset).total_seconds()) // 60
        zone = f"{'-' if offset < timedelta(0) else '+'}{minutes // 60:02d}:{minutes % 60:02d}"
    return _date_time_digits(parsed.moment, parsed.nanosecond) + zone


def _serialised_proof_created(value: str) -> str:
    # ssi holds proof.created as a UTC chrono DateTime and hashes its serde form.
    parsed = _parse_rfc3339(value)
    return _date_time_digits(parsed.moment.astimezone(UTC), parsed.nanosecond) + "Z"


def _date_time_digits(moment: datetime, nanosecond: int) -> str:
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    # chrono prints the fewest of 0, 3, 6 or 9 fractional digits that lose nothing.
    if nanosecond == 0:
        return text
    if nanosecond % 1_000_000 == 0:
        return f"{text}.{nanosecond // 1_000_000:03d}"
    if nanosecond % 1_000 == 0:
        return f"{text}.{nanosecond // 1_000:06d}"
    return f"{text}.{nanosecond:09d}"
