"""GTC stake rows as the reference's stake endpoints render them (ADR-0009). Pure.

Amounts are numeric(78,18) values: they stay `Decimal` end to end (a wei amount with 18
decimals has ~39 significant digits, more than a float or a 28-digit decimal context holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Stake:
    id: int
    chain: int
    staker: str
    stakee: str
    current_amount: Decimal
    lock_time: datetime
    unlock_time: datetime
    last_updated_in_block: Decimal


@dataclass(frozen=True)
class LegacyStakeEvent:
    id: int
    event_type: str
    round_id: int
    staker: str
    address: str | None
    amount: Decimal
    staked: bool
    block_number: int
    tx_hash: str


def stake_item(stake: Stake) -> dict[str, Any]:
    """`StakeSchema`: the amount always with 18 decimals, times in `isoformat()`."""
    return {
        "chain": stake.chain,
        "staker": stake.staker,
        "stakee": stake.stakee,
        "amount": format(stake.current_amount, ".18f"),
        "unlock_time": stake.unlock_time.isoformat(),
        "lock_time": stake.lock_time.isoformat(),
        "last_updated_in_block": int(stake.last_updated_in_block),
    }


def legacy_event_item(event: LegacyStakeEvent) -> dict[str, Any]:
    """Every column as stored; the amount is `str(Decimal)`, so a zero is "0E-18"."""
    return {
        "id": event.id,
        "event_type": event.event_type,
        "round_id": event.round_id,
        "staker": event.staker,
        "address": event.address,
        "amount": str(event.amount),
        "staked": event.staked,
        "block_number": event.block_number,
        "tx_hash": event.tx_hash,
    }
