"""account_embedsection*, account_embedstampplatform, registry_platformmetadata: the stamp
sections the embed widget shows for a community (api/embed/api.py)."""

from __future__ import annotations

from typing import Any

from service.db.connection import Transaction


def stamp_sections(tx: Transaction, community_id: int) -> list[dict[str, Any]]:
    """The sections of the community's customization, by (order, id), each with its platforms
    by (order, id); none when the community has no customization.

    `json_build_object` (not jsonb) keeps the item keys in the reference's order.
    """
    rows = tx.run(
        'SELECT h.name, o."order", COALESCE((SELECT json_agg(json_build_object('
        "   'platform_id', m.platform_id, 'order', p.\"order\") ORDER BY p.\"order\", p.id)"
        "  FROM account_embedstampplatform p"
        "  JOIN registry_platformmetadata m ON m.id = p.platform_id"
        "  WHERE p.customization_id = c.id AND p.section_id = o.section_id), '[]'::json)"
        " FROM account_customization c"
        " JOIN account_embedsectionorder o ON o.customization_id = c.id"
        " JOIN account_embedsectionheader h ON h.id = o.section_id"
        ' WHERE c.scorer_id = :community_id ORDER BY o."order", o.id',
        community_id=community_id,
    )
    return [{"title": title, "order": order, "items": items} for title, order, items in rows]
