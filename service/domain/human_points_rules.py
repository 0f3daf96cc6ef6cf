"""Human Points rules (ADR-0006). Pure: no I/O.

Which actions a passing scoring run earns, and how the stored action rows add up to the
`points_data` / `possible_points_data` objects of the responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from service.domain.credentials import LoadedStamp

# Stamp provider (the cache row's provider column) → action. Exact, case-sensitive strings.
PROVIDER_ACTIONS: dict[str, str] = {
    "SelfStakingBronze": "ISB",
    "SelfStakingSilver": "ISS",
    "SelfStakingGold": "ISG",
    "BeginnerCommunityStaker": "CSB",
    "ExperiencedCommunityStaker": "CSE",
    "TrustedCitizen": "CST",
    "HolonymGovIdProvider": "HGO",
    "HolonymPhone": "HPH",
    "CleanHands": "HCH",
    "Biometrics": "HBI",
}

# The scoring bonus needs the address to be qualified in this many program communities.
SCORING_BONUS_COMMUNITIES = 4
# MetaMask OG awards stop once this many addresses hold one.
METAMASK_OG_CAP = 5000
METAMASK_OG_LIST = "MetaMaskOG2"
METAMASK_OG_ACTION = "MM2"
# (list name, action) of the uncapped list bonuses, in the order they are awarded.
LIST_BONUSES: tuple[tuple[str, str], ...] = (
    ("SeasonedPassportOGs", "SOG"),
    ("TheChosenOnes", "TCO"),
)


@dataclass(frozen=True)
class ActionRow:
    action: str
    tx_hash: str = ""
    provider: str = ""


def writes_apply(
    *,
    write_enabled: bool,
    program_community: bool,
    binary_score: Decimal | None,
    start_timestamp: int,
    now: datetime,
) -> bool:
    return (
        write_enabled
        and program_community
        and binary_score == Decimal(1)
        and now.timestamp() >= start_timestamp
    )


def stamp_actions(kept: Sequence[LoadedStamp]) -> list[ActionRow]:
    """Per kept stamp, in scoring order: its Human Key (HKY) row, then its provider action.

    Points follow every kept valid stamp, whether or not its weight counted.
    """
    rows: list[ActionRow] = []
    human_key_providers: set[str] = set()
    for stamp in kept:
        subject = stamp.credential.get("credentialSubject") or {}
        nullifiers = subject.get("nullifiers")
        provider = subject.get("provider")
        if isinstance(nullifiers, list) and provider and provider not in human_key_providers:
            present = [n for n in nullifiers if n]
            if present:
                # Nullifiers rotate; the provider identifies the human key, the latest one is kept.
                rows.append(ActionRow("HKY", tx_hash=str(present[-1]), provider=str(provider)))
                human_key_providers.add(provider)
        action = PROVIDER_ACTIONS.get(stamp.provider)
        if action is not None:
            rows.append(ActionRow(action))
    return rows


@dataclass(frozen=True)
class PointsGroup:
    action: str
    chain_id: int
    points: int
    multiplier: int


def points_data(groups: Iterable[PointsGroup], *, is_eligible: bool) -> dict[str, Any]:
    """`get_user_points_data`: totals without the multiplier, which is only reported."""
    total = 0
    multiplier: int | None = None
    breakdown: dict[str, int] = {}
    for group in groups:
        if multiplier is None:
            multiplier = group.multiplier
        total += group.points
        if group.chain_id:
            breakdown[f"{group.action}_{group.chain_id}"] = group.points
        breakdown[group.action] = breakdown.get(group.action, 0) + group.points
    return {
        "total_points": total,
        "is_eligible": is_eligible,
        "multiplier": 1 if multiplier is None else multiplier,
        "breakdown": breakdown,
    }


def possible_points_data(
    catalogue: Iterable[tuple[str, int]], *, multiplier: int
) -> dict[str, Any]:
    """Every active action's value; nothing earned, so zero total and not eligible."""
    return {
        "total_points": 0,
        "is_eligible": False,
        "multiplier": multiplier,
        "breakdown": dict(catalogue),
    }
