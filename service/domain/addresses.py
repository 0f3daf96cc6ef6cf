"""Ethereum address rules shared by every endpoint (ADR-0004)."""

from __future__ import annotations

import re

from service.plumbing.errors import InvalidAddress

_ADDRESS = re.compile(r"0x[0-9a-f]{40}")


def normalize_address(raw: str) -> str:
    """Lower-cases and requires `0x` + 40 hex digits; checksums are deliberately not enforced."""
    address = raw.lower()
    if not _ADDRESS.fullmatch(address):
        raise InvalidAddress()
    return address


def is_valid_address(raw: str) -> bool:
    return bool(_ADDRESS.fullmatch(raw.lower()))
