"""stake_stake and registry_gtcstakeevent: GTC stakes of an address."""

from __future__ import annotations

from service.db.connection import Transaction
from service.domain.stakes_rules import LegacyStakeEvent, Stake

# registry_gtcstakeevent.round_id is an integer column.
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def gtc_stakes(tx: Transaction, address: str) -> list[Stake]:
    """Stakes where the (lower-case) address is the staker or the stakee, in id order."""
    rows = tx.run(
        "SELECT id, chain, staker, stakee, current_amount, lock_time, unlock_time,"
        " last_updated_in_block FROM stake_stake"
        " WHERE staker = :address OR stakee = :address ORDER BY id",
        address=address,
    )
    return [Stake(*row) for row in rows]


def legacy_events(tx: Transaction, address: str, round_id: int) -> list[LegacyStakeEvent]:
    """Events of the round where the address staked or was staked on, in id order."""
    if not _INT32_MIN <= round_id <= _INT32_MAX:
        return []
    rows = tx.run(
        "SELECT id, event_type, round_id, staker, address, amount, staked, block_number,"
        " tx_hash FROM registry_gtcstakeevent"
        " WHERE round_id = :round_id AND (staker = :address OR address = :address)"
        " ORDER BY id",
        round_id=round_id,
        address=address,
    )
    return [LegacyStakeEvent(*row) for row in rows]
