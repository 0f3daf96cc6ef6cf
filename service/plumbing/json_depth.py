"""Request JSON with a nesting limit.

A dependency (py_ecc, imported with eth-account) raises Python's recursion limit to 100 000, so
the C JSON decoder no longer stops a deeply nested document with a RecursionError: a body of
`[[[[…` a few hundred kilobytes long overflows the C stack and kills the process. Bodies nested
deeper than any real payload are refused as unparsable before they reach the decoder.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Credentials nest about ten levels; nothing a client sends comes near this.
MAX_DEPTH = 512

_SPECIAL = re.compile(r'[\[\]{}"]')
# The rest of a string after its opening quote; possessive, so a failed match is linear.
_STRING_REST = re.compile(r'(?:[^"\\]++|\\.)*+"', re.DOTALL)


def loads(text: str) -> Any:
    """`json.loads`, raising ValueError (Falcon's "cannot parse") past MAX_DEPTH levels."""
    # A document cannot nest deeper than it has opening brackets: most bodies skip the scan.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(text)
    return json.loads(text)


def _check_depth(text: str) -> None:
    depth = 0
    position = 0
    while (special := _SPECIAL.search(text, position)) is not None:
        position = special.end()
        char = special.group()
        if char == '"':
            rest = _STRING_REST.match(text, position)
            if rest is None:
                raise ValueError("Unterminated string")
            position = rest.end()
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
        else:
            depth -= 1
