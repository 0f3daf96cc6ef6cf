"""ceramic_cache_revocation: which proof values have been revoked."""

from __future__ import annotations

from collections.abc import Sequence

from service.db.connection import Transaction
from service.domain.text import storable_text


def revoked_among(tx: Transaction, proof_values: Sequence[str]) -> set[str]:
    searchable = sorted({value for value in proof_values if storable_text(value)})
    if not searchable:
        return set()
    rows = tx.run(
        "SELECT DISTINCT proof_value FROM ceramic_cache_revocation"
        " WHERE proof_value = ANY(CAST(:values AS varchar[]))",
        values=searchable,
    )
    return {row[0] for row in rows}
