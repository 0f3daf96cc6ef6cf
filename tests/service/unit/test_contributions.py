"""Contributor statistics arithmetic (the reference's api/cgrants/api.py)."""

from __future__ import annotations

from decimal import Decimal

from service.domain.contributions import (
    PROTOCOL_MIN_AMOUNT,
    ContributionTotals,
    contributor_statistics,
)


def totals(
    *,
    rows: int = 0,
    grants: int = 0,
    amount: str | None = None,
    projects: int = 0,
    protocol: str | None = None,
) -> ContributionTotals:
    return ContributionTotals(
        cgrants_rows=rows,
        cgrants_grants=grants,
        cgrants_amount=None if amount is None else Decimal(amount),
        protocol_projects=projects,
        protocol_amount=None if protocol is None else Decimal(protocol),
    )


def test_the_worked_example() -> None:
    result = contributor_statistics(
        totals(rows=2, grants=2, amount="14.750000000000000000", projects=2, protocol="3.623456")
    )

    assert result == {"num_grants_contribute_to": 4.0, "total_contribution_amount": 18.37}


def test_no_history_is_two_float_zeros() -> None:
    result = contributor_statistics(totals())

    assert result == {"num_grants_contribute_to": 0.0, "total_contribution_amount": 0.0}
    assert all(isinstance(value, float) for value in result.values())


def test_keys_come_in_a_fixed_order() -> None:
    assert list(contributor_statistics(totals())) == [
        "num_grants_contribute_to",
        "total_contribution_amount",
    ]


def test_protocol_amount_rounds_half_even_to_three_places_first() -> None:
    # 0.0005 → 0.000 (half even), + 2.0045 → 2.0045 → 2.00 (half even at 2 places)
    result = contributor_statistics(
        totals(rows=1, grants=1, amount="2.0045", projects=1, protocol="0.0005")
    )

    assert result["total_contribution_amount"] == 2.0


def test_the_sum_rounds_half_even_to_two_places() -> None:
    assert (
        contributor_statistics(totals(projects=1, protocol="1.125"))["total_contribution_amount"]
        == 1.12
    )
    assert (
        contributor_statistics(totals(projects=1, protocol="1.135"))["total_contribution_amount"]
        == 1.14
    )


def test_large_wei_scale_amounts_keep_their_cents() -> None:
    result = contributor_statistics(
        totals(rows=1, grants=1, amount="123456789012.345678901234567890")
    )

    assert result["total_contribution_amount"] == 123456789012.35


def test_the_minimum_protocol_amount_is_the_floats_exact_value() -> None:
    assert Decimal("0.949999999999999956") >= PROTOCOL_MIN_AMOUNT > Decimal("0.9499999999999999")
