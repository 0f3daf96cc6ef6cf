"""account_addresslist and account_addresslistmember: allow-list membership."""

from __future__ import annotations

from service.db.connection import Transaction
from service.domain.text import storable_text


def is_member(tx: Transaction, list_name: str, address: str) -> bool:
    """The list name matches exactly; the address is compared lower-cased, as stored."""
    if not (storable_text(list_name) and storable_text(address)):
        return False
    return bool(
        tx.scalar(
            "SELECT EXISTS (SELECT 1 FROM account_addresslistmember m"
            " JOIN account_addresslist l ON l.id = m.list_id"
            " WHERE l.name = :name AND m.address = :address)",
            name=list_name,
            address=address.lower(),
        )
    )
