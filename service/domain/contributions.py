"""Contributor statistics (api/cgrants/api.py): cgrants and protocol totals combined. Pure.

The arithmetic is the reference's, in Python's default decimal context: the protocol amount is
rounded to 3 places, added to the cgrants amount, the sum rounded to 2 places (both half-even)
and then turned into a float; counts are added and turned into floats too.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

# The reference filters `amount__gte=0.95` with a float; Django turns it into the float's exact
# binary expansion (0.94999999999999995559...) before comparing it with the numeric column.
PROTOCOL_MIN_AMOUNT = Decimal.from_float(0.95)


@dataclass(frozen=True)
class ContributionTotals:
    """What the two queries return; amounts are None when no row was summed."""

    cgrants_rows: int
    cgrants_grants: int
    cgrants_amount: Decimal | None
    protocol_projects: int
    protocol_amount: Decimal | None


def contributor_statistics(totals: ContributionTotals) -> dict[str, float]:
    """The two keys in a fixed order (the reference builds them from a set, so its order
    varies from process to process)."""
    with decimal.localcontext(decimal.Context()):
        # `Decimal` stands in for the reference's ints too: the results are the same floats.
        cgrants_num = Decimal(totals.cgrants_grants if totals.cgrants_rows else 0)
        cgrants_amount = (
            (totals.cgrants_amount or Decimal(0)) if totals.cgrants_rows else Decimal(0)
        )
        protocol_amount = round(totals.protocol_amount or Decimal(0), 3)
        return {
            "num_grants_contribute_to": float(
                round(Decimal(totals.protocol_projects) + cgrants_num, 2)
            ),
            "total_contribution_amount": float(round(protocol_amount + cgrants_amount, 2)),
        }
