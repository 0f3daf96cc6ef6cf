"""Imports eth-account without eth-keyfile's start-up cost, hashing with a C Keccak.

eth-account imports eth-keyfile at module load, and eth-keyfile imports py_ecc's BLS12-381
pairing code, which precomputes its tables at import: about 0.4 s of every Lambda cold start,
for keystore files the scorer never reads or writes. When nothing has imported eth-keyfile yet,
a placeholder takes its place; its functions refuse to run, so a keyfile call can never
silently do the wrong thing. Signing, typed-data hashing and signer recovery do not touch it.
Everything the service takes from eth-account is imported from here, so that this runs first.

EIP-712 hashing makes about 36 Keccak-256 calls per credential. eth-hash picks pycryptodome's
Python-wrapped Keccak when both are installed (~6 µs a call); safe-pysha3's C extension takes
under 1 µs, which cuts credential verification by about a third.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any, Literal, NoReturn


def _keyfiles_unsupported(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("keyfiles are not supported in the scorer (eth-keyfile is not loaded)")


def _install_placeholder() -> None:
    if "eth_keyfile" in sys.modules:
        return
    package = types.ModuleType("eth_keyfile", __doc__)
    keyfile = types.ModuleType("eth_keyfile.keyfile", __doc__)
    keyfile.KDFType = Literal["pbkdf2", "scrypt"]  # type: ignore[attr-defined]
    for module in (package, keyfile):
        module.create_keyfile_json = _keyfiles_unsupported  # type: ignore[attr-defined]
        module.decode_keyfile_json = _keyfiles_unsupported  # type: ignore[attr-defined]
        module.extract_key_from_keyfile = _keyfiles_unsupported  # type: ignore[attr-defined]
        module.load_keyfile = _keyfiles_unsupported  # type: ignore[attr-defined]
    package.keyfile = keyfile  # type: ignore[attr-defined]
    sys.modules["eth_keyfile"] = package
    sys.modules["eth_keyfile.keyfile"] = keyfile


_install_placeholder()
# Read by eth-hash when it first hashes; an explicit setting from the environment wins.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

from eth_account import Account  # noqa: E402
from eth_account._utils.encode_typed_data.encoding_and_hashing import (  # noqa: E402
    encode_field,
    get_primary_type,
    hash_domain,
    hash_type,
)
from eth_account._utils.encode_typed_data.helpers import (  # noqa: E402
    EIP712_SOLIDITY_TYPES,
    is_array_type,
    parse_parent_array_type,
)
from eth_account.messages import (  # noqa: E402
    SignableMessage,
    _hash_eip191_message,
    encode_typed_data,
)
from eth_hash.auto import keccak  # noqa: E402
from eth_keys.main import lazy_key_api as keys  # noqa: E402

__all__ = [
    "EIP712_SOLIDITY_TYPES",
    "Account",
    "SignableMessage",
    "_hash_eip191_message",
    "encode_field",
    "encode_typed_data",
    "get_primary_type",
    "hash_domain",
    "hash_type",
    "is_array_type",
    "keccak",
    "keys",
    "parse_parent_array_type",
]
