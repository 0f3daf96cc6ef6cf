"""LIFO dedup planning: the reference's link semantics, minus its permanent failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.credentials import LoadedStamp
from service.domain.lifo import Link, LinkUpdate, NewLink, all_nullifiers, plan_dedup

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ME = "0x" + "aa" * 20
THEM = "0x" + "bb" * 20
EXP = "2099-12-31T23:59:59Z"
EXP_AT = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)


def stamp(provider: str, nullifiers: list[str], expires: str = EXP) -> LoadedStamp:
    return LoadedStamp(
        provider=provider,
        credential={
            "expirationDate": expires,
            "credentialSubject": {"provider": provider, "nullifiers": nullifiers},
        },
    )


def plan(stamps: list[LoadedStamp], links: list[Link], multi: bool = True) -> Any:
    return plan_dedup(stamps, links, address=ME, now=NOW, multi_nullifier=multi)


def test_free_nullifiers_are_claimed_in_stamp_then_nullifier_order() -> None:
    result = plan([stamp("A", ["v0:1", "v0:2"]), stamp("B", ["v0:3"])], [])

    assert [s.provider for s in result.kept] == ["A", "B"]
    assert result.creates == [
        NewLink("v0:1", ME, EXP_AT),
        NewLink("v0:2", ME, EXP_AT),
        NewLink("v0:3", ME, EXP_AT),
    ]
    assert result.updates == []


def test_own_link_is_refreshed() -> None:
    result = plan([stamp("A", ["v0:1"])], [Link(7, "v0:1", ME, NOW - timedelta(days=1))])

    assert result.updates == [LinkUpdate(7, "v0:1", EXP_AT)]
    assert result.creates == []


def test_expired_foreign_link_is_taken_over_and_one_expiring_now_too() -> None:
    links = [Link(1, "v0:1", THEM, NOW - timedelta(seconds=1)), Link(2, "v0:2", THEM, NOW)]

    result = plan([stamp("A", ["v0:1", "v0:2"])], links)

    assert [s.provider for s in result.kept] == ["A"]
    assert [u.link_id for u in result.updates] == [1, 2]


def test_live_foreign_link_deduplicates_and_backfills_the_rest_to_its_owner() -> None:
    owner_expiry = NOW + timedelta(days=30)
    result = plan([stamp("A", ["v0:1", "v0:2"])], [Link(1, "v0:1", THEM, owner_expiry)])

    assert result.kept == []
    assert list(result.clashing) == ["A"]
    assert result.creates == [NewLink("v0:2", THEM, owner_expiry)]
    assert result.claimed == []
    assert [(e.provider, e.nullifiers) for e in result.events(multi_nullifier=True)] == [
        ("A", ["v0:1", "v0:2"])
    ]


def test_backfill_skips_own_and_forfeited_links() -> None:
    links = [
        Link(1, "v0:1", THEM, NOW + timedelta(days=1)),
        Link(2, "v0:2", ME, NOW + timedelta(days=1)),
        Link(3, "v0:3", "0x" + "cc" * 20, NOW - timedelta(days=1)),
    ]

    result = plan([stamp("A", ["v0:1", "v0:2", "v0:3"])], links)

    assert result.creates == [] and result.updates == []


def test_a_later_deduplicated_stamp_of_the_same_provider_replaces_the_earlier_one() -> None:
    links = [
        Link(1, "v0:1", THEM, NOW + timedelta(days=1)),
        Link(2, "v0:2", THEM, NOW + timedelta(days=1)),
    ]
    first, second = stamp("A", ["v0:1"]), stamp("A", ["v0:2"])

    result = plan([first, second], links)

    assert result.clashing == {"A": second}


def test_flag_off_uses_only_v0_nullifiers() -> None:
    result = plan([stamp("A", ["v1:x", "v0.0.0:y"]), stamp("B", ["v1:z"])], [], multi=False)

    assert [c.hash for c in result.creates] == ["v0.0.0:y"]
    assert [s.provider for s in result.kept] == ["A", "B"]
    assert all_nullifiers(result.kept, multi_nullifier=False) == ["v0.0.0:y"]


def test_kept_stamps_claim_wins_over_an_earlier_backfill_of_the_same_nullifier() -> None:
    links = [Link(1, "v0:taken", THEM, NOW + timedelta(days=1))]

    result = plan([stamp("A", ["v0:taken", "v0:x"]), stamp("B", ["v0:x"])], links)

    assert [s.provider for s in result.kept] == ["B"]
    assert result.creates == [NewLink("v0:x", ME, EXP_AT)]
    assert result.claimed == ["v0:x"]


# --- invariants, over random link tables and stamps -------------------------------------------

ADDRESSES = [ME, THEM, "0x" + "cc" * 20]
NULLIFIERS = [f"v0:{i}" for i in range(6)]

link_tables = st.dictionaries(
    st.sampled_from(NULLIFIERS),
    st.tuples(st.sampled_from(ADDRESSES), st.integers(min_value=-3, max_value=3)),
)
stamp_lists = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C", "D"]), st.lists(st.sampled_from(NULLIFIERS), max_size=3)
    ),
    max_size=5,
)


def apply(table: dict[str, tuple[str, datetime]], result: Any) -> dict[str, tuple[str, datetime]]:
    after = dict(table)
    for create in result.creates:
        assert create.hash not in after, "a create must never hit an existing link"
        after[create.hash] = (create.address, create.expires_at)
    by_id = {i: h for i, h in enumerate(table)}
    for update in result.updates:
        after[by_id[update.link_id]] = (ME, update.expires_at)
    return after


@settings(max_examples=300)
@given(table=link_tables, raw_stamps=stamp_lists)
def test_plan_keeps_one_live_owner_and_gives_kept_nullifiers_to_the_scorer(
    table: dict[str, tuple[str, int]], raw_stamps: list[tuple[str, list[str]]]
) -> None:
    links_table = {h: (a, NOW + timedelta(days=d)) for h, (a, d) in table.items()}
    links = [Link(i, h, a, e) for i, (h, (a, e)) in enumerate(links_table.items())]
    stamps = [stamp(p, n) for p, n in raw_stamps]

    result = plan(stamps, links)
    after = apply(links_table, result)

    assert len(result.kept) + sum(1 for s in stamps if s not in result.kept) == len(stamps)
    for kept in result.kept:
        for nullifier in kept.credential["credentialSubject"]["nullifiers"]:
            assert after[nullifier][0] == ME
    for nullifier, (owner, expires) in links_table.items():
        if owner != ME and expires > NOW:
            assert after[nullifier] == (owner, expires), "a live foreign claim is never taken"
    assert len(set(result.claimed)) == len(result.claimed)
