"""LIFO deduplication planning (ADR-0005). Pure: no I/O.

Within a community, a nullifier is claimed by one address at a time through a hash link. A stamp
whose nullifiers are all free (or already ours, or claimed by someone whose claim has expired)
is kept and claims them; a stamp with at least one nullifier live-claimed by another address is
deduplicated, and its other nullifiers are "backfilled" to that other address.

Deliberate deviations from the reference, which would otherwise fail permanently (ADR-0005):
backfill skips nullifiers that already have a link, and a nullifier listed twice in one request
is claimed once (first occurrence wins; a kept stamp's claim wins over a backfill).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from service.domain.credentials import LoadedStamp, nullifiers_of, parse_iso_datetime


@dataclass(frozen=True)
class Link:
    id: int
    hash: str
    address: str
    expires_at: datetime


@dataclass(frozen=True)
class NewLink:
    hash: str
    address: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkUpdate:
    link_id: int
    hash: str
    expires_at: datetime


@dataclass(frozen=True)
class DedupEvent:
    provider: str
    nullifiers: list[str]


@dataclass
class DedupPlan:
    kept: list[LoadedStamp] = field(default_factory=list)
    # provider (from credentialSubject) -> the deduplicated stamp; a later stamp of the same
    # provider replaces an earlier one but keeps its position, as a dict assignment does.
    clashing: dict[str, LoadedStamp] = field(default_factory=dict)
    creates: list[NewLink] = field(default_factory=list)
    updates: list[LinkUpdate] = field(default_factory=list)
    # Hashes that must belong to the scoring address once the plan is saved.
    claimed: list[str] = field(default_factory=list)

    def events(self, *, multi_nullifier: bool) -> list[DedupEvent]:
        return [
            DedupEvent(provider, nullifiers_of(stamp.credential, multi_nullifier=multi_nullifier))
            for provider, stamp in self.clashing.items()
        ]


def all_nullifiers(stamps: Sequence[LoadedStamp], *, multi_nullifier: bool) -> list[str]:
    seen: dict[str, None] = {}
    for stamp in stamps:
        for nullifier in nullifiers_of(stamp.credential, multi_nullifier=multi_nullifier):
            seen.setdefault(nullifier, None)
    return list(seen)


def plan_dedup(
    stamps: Sequence[LoadedStamp],
    links: Sequence[Link],
    *,
    address: str,
    now: datetime,
    multi_nullifier: bool,
) -> DedupPlan:
    by_hash = {link.hash: link for link in links}
    # A claim expiring exactly now is forfeited (the reference compares `expires_at > now`).
    clashing_links = {
        h: link for h, link in by_hash.items() if link.address != address and link.expires_at > now
    }

    plan = DedupPlan()
    own_claims: dict[str, NewLink | LinkUpdate] = {}
    backfills: dict[str, NewLink] = {}
    for stamp in stamps:
        nullifiers = nullifiers_of(stamp.credential, multi_nullifier=multi_nullifier)
        clashes = [n for n in nullifiers if n in clashing_links]
        if not clashes:
            plan.kept.append(stamp)
            expires_at = parse_iso_datetime(stamp.credential["expirationDate"])
            for nullifier in nullifiers:
                if nullifier in own_claims:
                    continue
                existing = by_hash.get(nullifier)
                own_claims[nullifier] = (
                    LinkUpdate(existing.id, nullifier, expires_at)
                    if existing is not None
                    else NewLink(nullifier, address, expires_at)
                )
            continue

        provider = stamp.credential["credentialSubject"]["provider"]
        plan.clashing[provider] = stamp
        owner = clashing_links[clashes[0]]
        for nullifier in nullifiers:
            if nullifier in clashing_links or nullifier in by_hash:
                continue
            backfills.setdefault(nullifier, NewLink(nullifier, owner.address, owner.expires_at))

    plan.claimed = list(own_claims)
    plan.updates = [c for c in own_claims.values() if isinstance(c, LinkUpdate)]
    # Creates go out in the reference's queue order (stamp order, then nullifier order), which
    # decides the ids the new links get.
    placed: set[str] = set()
    for stamp in stamps:
        for nullifier in nullifiers_of(stamp.credential, multi_nullifier=multi_nullifier):
            claim = own_claims.get(nullifier) or backfills.get(nullifier)
            if isinstance(claim, NewLink) and nullifier not in placed:
                plan.creates.append(claim)
                placed.add(nullifier)
    return plan
