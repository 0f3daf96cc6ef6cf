"""eth-account loads without eth-keyfile's BLS tables, hashes with the C Keccak, and keyfile
calls refuse to run."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import service.domain.credentials
from service.domain.eth_account_import import Account
assert "py_ecc.bls" not in sys.modules, "py_ecc's BLS code was imported"
from eth_hash.auto import keccak
assert keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
print("keccak backend:", type(keccak.hasher.__self__).__module__)
from eth_account.messages import encode_defunct
message = encode_defunct(text="scorer")
signed = Account.sign_message(message, private_key="0x" + "11" * 32)
print("recovered:", Account.recover_message(message, signature=signed.signature))
try:
    Account.encrypt("0x" + "11" * 32, "password")
except RuntimeError as exc:
    print("refused:", exc)
"""


def test_importing_the_verifier_leaves_out_py_ecc_and_refuses_keyfile_calls() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "recovered: 0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A" in result.stdout
    assert "keccak backend: eth_hash.backends.pysha3" in result.stdout
    assert "refused: keyfiles are not supported in the scorer" in result.stdout
