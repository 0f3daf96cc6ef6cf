"""cgrants_*: a contributor's successful grant contributions and protocol contributions."""

from __future__ import annotations

from service.db.connection import Transaction
from service.domain.contributions import PROTOCOL_MIN_AMOUNT, ContributionTotals


def contribution_totals(tx: Transaction, address: str) -> ContributionTotals:
    """Both parts in one round trip.

    cgrants: index rows of the address whose contribution succeeded (a NULL contribution_id
    drops out of the join). Protocol: contributions of at least 0.95 outside the rounds whose
    round number the address is squelched in.
    """
    row = tx.one(
        "WITH cgrants AS ("
        "  SELECT g.grant_id, g.amount FROM cgrants_grantcontributionindex g"
        "  JOIN cgrants_contribution c ON c.id = g.contribution_id"
        "  WHERE g.contributor_address = :address AND c.success),"
        " protocol AS ("
        "  SELECT p.project, p.amount FROM cgrants_protocolcontributions p"
        "  WHERE p.contributor = :address AND p.amount >= CAST(:min_amount AS numeric)"
        "  AND p.round NOT IN (SELECT m.round_eth_address FROM cgrants_roundmapping m"
        "   WHERE m.round_number IN (SELECT s.round_number FROM cgrants_squelchedaccounts s"
        "    WHERE s.address = :address)))"
        " SELECT (SELECT count(*) FROM cgrants), (SELECT count(DISTINCT grant_id) FROM cgrants),"
        " (SELECT sum(amount) FROM cgrants), (SELECT count(DISTINCT project) FROM protocol),"
        " (SELECT sum(amount) FROM protocol)",
        address=address,
        min_amount=str(PROTOCOL_MIN_AMOUNT),
    )
    assert row is not None  # an aggregate query always returns one row
    return ContributionTotals(
        cgrants_rows=int(row[0]),
        cgrants_grants=int(row[1]),
        cgrants_amount=row[2],
        protocol_projects=int(row[3]),
        protocol_amount=row[4],
    )
