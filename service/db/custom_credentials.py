"""account_customcredentialruleset: custom credential definitions by provider id."""

from __future__ import annotations

from typing import Any

from service.db.connection import Transaction
from service.domain.text import storable_text


def definition(tx: Transaction, provider_id: str) -> tuple[bool, Any]:
    """(found, definition JSON)."""
    if not storable_text(provider_id):
        return False, None
    row = tx.one(
        "SELECT definition FROM account_customcredentialruleset WHERE provider_id = :provider_id",
        provider_id=provider_id,
    )
    return (True, row[0]) if row else (False, None)
