"""The example values ``cdk.json`` ships with, which must never reach a deploy.

Synth and the tests run on them; ``make deploy`` refuses an environment that still holds one
(a half-filled ``cdk.json`` would otherwise deploy, for instance, a service that refuses every
stamp because its trusted issuer is a placeholder DID).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Placeholder text is spelled with this word ("did:key:REPLACE-WITH-THE-STAGING-IAM-ISSUER").
PLACEHOLDER_MARKER = "REPLACE"
# The shipped environments live in these made-up accounts; every example ARN names one of them.
EXAMPLE_ACCOUNTS = frozenset({"111111111111", "222222222222", "333333333333"})


def example_values(block: Any, path: str) -> list[str]:
    """``path: value`` for every string in ``block`` that is one of the shipped examples."""
    found: list[str] = []
    if isinstance(block, Mapping):
        for key, value in block.items():
            found += example_values(value, f"{path}.{key}")
    elif isinstance(block, list):
        for index, value in enumerate(block):
            found += example_values(value, f"{path}[{index}]")
    elif isinstance(block, str) and _is_example(block):
        found.append(f"{path}: {block}")
    return found


def _is_example(value: str) -> bool:
    return PLACEHOLDER_MARKER in value or any(account in value for account in EXAMPLE_ACCOUNTS)
