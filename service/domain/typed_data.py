"""EIP-712 signable messages for many messages of the same types and domain (ADR-0048). Pure.

eth-account's `encode_typed_data` derives and hashes the type string of every struct value it
meets, and hashes the domain again, for every message. The stamps of one issuer all share their
types and their domain, so here that work is done once per distinct set of types (or domain)
and remembered, keyed by the exact content: a type or domain that differs in any byte is hashed
afresh.

eth-account still does all the EIP-712 work: its `hash_type` gives the type hashes, its
`hash_domain` the domain separator, its `encode_field` encodes every member that is not a
struct, and eth_abi's encoders pack each struct. Only the walk from a struct value to its
members is here, so that a nested struct is hashed with the remembered type hash; the result is
byte for byte `encode_typed_data`'s (the tests compare the two).
"""

from __future__ import annotations

import functools
import marshal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eth_abi.abi import encode as abi_encode
from eth_abi.registry import registry as abi_registry
from eth_utils.exceptions import ValidationError
from hexbytes import HexBytes

from service.domain.eth_account_import import (
    EIP712_SOLIDITY_TYPES,
    SignableMessage,
    encode_field,
    get_primary_type,
    hash_domain,
    hash_type,
    is_array_type,
    keccak,
    parse_parent_array_type,
)
from service.plumbing.bounded_cache import BoundedCache

# Distinct type sets and domains remembered; an issuer uses a handful.
MEMO_SIZE = 256
# Encoded text values remembered, and the longest remembered: URLs, DIDs, nullifiers.
TEXT_MEMO_SIZE = 4096
TEXT_MEMO_MAX_LENGTH = 256
# The largest content remembered by ContentMemo (marshal bytes); a stamp's types take ~1 kB.
CONTENT_MEMO_MAX_BYTES = 16_384

_EIP712_VERSION = HexBytes(b"\x01")
_ZERO_WORD = b"\x00" * 32
_ATOMIC_KINDS = frozenset(EIP712_SOLIDITY_TYPES)

Members = tuple[tuple[str, str], ...]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TypedDataTypes:
    """The struct types of one primary type, as eth-account hashes them (no EIP712Domain)."""

    primary_type: str
    # Struct name → its type hash; every struct eth-account would be given.
    type_hashes: Mapping[str, bytes]
    members: Mapping[str, Members]
    # The same types in eth-account's form, for `encode_field`.
    eth_types: dict[str, list[dict[str, str]]]


class ContentMemo(Generic[T]):
    """A bounded, thread-safe map from exact JSON-shaped content to what was derived from it."""

    def __init__(self, size: int) -> None:
        self._entries: BoundedCache[bytes, T] = BoundedCache(size)

    def get_or_make(self, content: Any, make: Callable[[], T]) -> T:
        try:
            # marshal's output decodes to exactly one value, so equal keys mean equal content.
            key = marshal.dumps(content, 2)
        except ValueError:  # not JSON-shaped: nothing to remember it by
            return make()
        if len(key) > CONTENT_MEMO_MAX_BYTES:
            return make()
        return self._entries.get_or_make(key, make)

    def clear(self) -> None:
        self._entries.clear()


_domain_memo: ContentMemo[bytes] = ContentMemo(MEMO_SIZE)


def clear_memos() -> None:
    _domain_memo.clear()


def domain_separator(domain: Mapping[str, Any]) -> bytes:
    """eth-account's `hash_domain`, remembered by the domain's content."""
    return _domain_memo.get_or_make(dict(domain), lambda: bytes(hash_domain(dict(domain))))


def signable_message(
    types: TypedDataTypes, domain: Mapping[str, Any], message: Mapping[str, Any]
) -> SignableMessage:
    """What `encode_typed_data` returns for this primary type, domain and message."""
    return SignableMessage(
        _EIP712_VERSION,
        HexBytes(domain_separator(domain)),
        HexBytes(_hash_struct(types, types.primary_type, message)),
    )


def typed_data_types(structs: Mapping[str, Members], primary_type: str) -> TypedDataTypes:
    """The types eth-account would hash for `primary_type`, given exactly these `structs`.

    `structs` are the struct types `encode_typed_data` would receive, EIP712Domain left out.
    Raises what `encode_typed_data` raises when the primary type is not the one it derives or
    a type is undefined. Worth keeping: it hashes every type.
    """
    eth_types = {
        name: [{"name": member, "type": kind} for member, kind in members]
        for name, members in structs.items()
    }
    derived = get_primary_type(eth_types)
    if derived != primary_type:
        raise ValidationError(
            f"The provided `primaryType` does not match the derived `primaryType`. The "
            f"provided `primaryType` was `{primary_type}`, but the derived `primaryType` was "
            f"`{derived}`."
        )
    return TypedDataTypes(
        primary_type=primary_type,
        type_hashes={name: bytes(hash_type(name, eth_types)) for name in eth_types},
        members={name: tuple(members) for name, members in structs.items()},
        eth_types=eth_types,
    )


def _hash_struct(types: TypedDataTypes, struct: str, value: Mapping[str, Any]) -> bytes:
    # eth-account's encode_data, with the remembered type hash.
    kinds = ["bytes32"]
    values: list[Any] = [types.type_hashes[struct]]
    for name, kind in types.members[struct]:
        encoded_kind, encoded = _encode_member(types, name, kind, value.get(name))
        kinds.append(encoded_kind)
        values.append(encoded)
    return keccak(_abi_packed(kinds, values))


def _encode_member(types: TypedDataTypes, name: str, kind: str, value: Any) -> tuple[str, Any]:
    # eth-account's encode_field, except that struct and array members recurse here, down to
    # the members that are neither.
    if kind in types.type_hashes:
        return "bytes32", _ZERO_WORD if value is None else _hash_struct(types, kind, value)
    if is_array_type(kind) and isinstance(value, list) and value:
        item_kind = parse_parent_array_type(kind)
        items: Sequence[tuple[str, Any]] = [
            _encode_member(types, name, item_kind, item) for item in value
        ]
        return "bytes32", keccak(_abi_packed([k for k, _ in items], [v for _, v in items]))
    if isinstance(value, str) and len(value) <= TEXT_MEMO_MAX_LENGTH and kind in _ATOMIC_KINDS:
        return _encoded_text(kind, value)
    return encode_field(types.eth_types, name, kind, value)


def _abi_packed(kinds: Sequence[str], values: Sequence[Any]) -> bytes:
    # eth_abi's `encode(kinds, values)`. What EIP-712 packs is static (32-byte words), and the
    # ABI encoding of a tuple of static values is their encodings one after the other, so
    # eth_abi's encoder of each value does it without the tuple encoder's head/tail pass.
    encoders: list[Callable[[Any], bytes]] = [abi_registry.get_encoder(kind) for kind in kinds]  # type: ignore[misc]
    if any(getattr(encoder, "is_dynamic", True) for encoder in encoders):
        return abi_encode(kinds, values)
    return b"".join([encoder(value) for encoder, value in zip(encoders, values, strict=True)])


@functools.lru_cache(maxsize=TEXT_MEMO_SIZE)
def _encoded_text(kind: str, value: str) -> tuple[str, Any]:
    # A text value of an atomic type encodes the same whatever the struct or member: most of a
    # stamp's strings (contexts, types, issuer, proof purpose) recur in every stamp.
    return encode_field({}, "", kind, value)
