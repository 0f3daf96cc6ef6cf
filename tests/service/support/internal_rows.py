"""Rows the internal and embed endpoints read (bans, revocations, stakes, cgrants, lists,
custom credentials, embed sections), written with every NOT NULL column as Django would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pg8000.native

INTERNAL_TOKEN = "test-internal-token"  # CGRANTS_API_TOKEN in the test settings
INTERNAL = {"Authorization": INTERNAL_TOKEN}

LOCK_TIME = datetime(2025, 9, 1, 12, 0, 0, 123456, tzinfo=UTC)
UNLOCK_TIME = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _id(conn: pg8000.native.Connection, sql: str, **params: Any) -> int:
    return int(conn.run(sql + " RETURNING id", **params)[0][0])


def add_ban(
    conn: pg8000.native.Connection,
    *,
    type_: str,
    address: str = "",
    hash_: str = "",
    provider: str = "",
    end_time: datetime | None = None,
    reason: str | None = None,
) -> int:
    return _id(
        conn,
        "INSERT INTO ceramic_cache_ban (provider, hash, address, end_time, reason, created_at,"
        " last_run_revoke_matching, type, ban_list_id)"
        " VALUES (:provider, :hash, :address, :end_time, :reason, now(), NULL, :type, NULL)",
        provider=provider,
        hash=hash_,
        address=address,
        end_time=end_time,
        reason=reason,
        type=type_,
    )


def add_revocation(conn: pg8000.native.Connection, *, proof_value: str, cache_id: int) -> int:
    return _id(
        conn,
        "INSERT INTO ceramic_cache_revocation (proof_value, ceramic_cache_id, revocation_list_id)"
        " VALUES (:proof_value, :cache_id, NULL)",
        proof_value=proof_value,
        cache_id=cache_id,
    )


def add_stake(
    conn: pg8000.native.Connection,
    *,
    staker: str,
    stakee: str,
    amount: str,
    chain: int = 11155420,
    block: int = 10_000_000,
) -> int:
    return _id(
        conn,
        "INSERT INTO stake_stake (chain, lock_time, unlock_time, last_updated_in_block, staker,"
        " stakee, current_amount) VALUES (:chain, :lock, :unlock, CAST(:block AS numeric),"
        " :staker, :stakee, CAST(:amount AS numeric))",
        chain=chain,
        lock=LOCK_TIME,
        unlock=UNLOCK_TIME,
        block=str(block),
        staker=staker,
        stakee=stakee,
        amount=amount,
    )


def add_legacy_stake_event(
    conn: pg8000.native.Connection,
    *,
    round_id: int,
    staker: str,
    address: str | None,
    amount: str,
    event_type: str = "SelfStake",
    staked: bool = True,
) -> int:
    return _id(
        conn,
        "INSERT INTO registry_gtcstakeevent (event_type, round_id, staker, address, amount,"
        " staked, block_number, tx_hash) VALUES (:event_type, :round_id, :staker, :address,"
        " CAST(:amount AS numeric), :staked, 100, :tx_hash)",
        event_type=event_type,
        round_id=round_id,
        staker=staker,
        address=address,
        amount=amount,
        staked=staked,
        tx_hash="0x" + "ab" * 32,
    )


class Cgrants:
    """One profile and one subscription per grant: enough for the contribution index."""

    def __init__(self, conn: pg8000.native.Connection) -> None:
        self.conn = conn
        self.profile = _id(
            conn,
            "INSERT INTO cgrants_profile (handle, data, github_id, notes)"
            " VALUES ('contributor', '{}', NULL, NULL)",
        )
        self._grants: dict[int, int] = {}

    def _grant(self, number: int) -> int:
        if number not in self._grants:
            self._grants[number] = _id(
                self.conn,
                "INSERT INTO cgrants_grant (hidden, active, is_clr_eligible, data,"
                " admin_profile_id) VALUES (false, true, true, '{}', :profile)",
                profile=self.profile,
            )
        return self._grants[number]

    def contribution(self, *, address: str, grant: int, amount: str, success: bool = True) -> int:
        grant_id = self._grant(grant)
        subscription = _id(
            self.conn,
            "INSERT INTO cgrants_subscription (data, contributor_profile_id, grant_id,"
            " is_mainnet) VALUES ('{}', :profile, :grant, true)",
            profile=self.profile,
            grant=grant_id,
        )
        contribution = _id(
            self.conn,
            "INSERT INTO cgrants_contribution (data, subscription_id, success,"
            " amount_per_period_usdt) VALUES ('{}', :subscription, :success, 0)",
            subscription=subscription,
            success=success,
        )
        return _id(
            self.conn,
            "INSERT INTO cgrants_grantcontributionindex (round_num, amount, contribution_id,"
            " grant_id, profile_id, contributor_address) VALUES (NULL, CAST(:amount AS numeric),"
            " :contribution, :grant, :profile, :address)",
            amount=amount,
            contribution=contribution,
            grant=grant_id,
            profile=self.profile,
            address=address,
        )

    def protocol(self, *, address: str, project: str, round_: str, amount: str) -> int:
        return _id(
            self.conn,
            "INSERT INTO cgrants_protocolcontributions (ext_id, contributor, round, project,"
            " amount, data) VALUES (gen_random_uuid()::text, :address, :round, :project,"
            " CAST(:amount AS numeric), '{}')",
            address=address,
            round=round_,
            project=project,
            amount=amount,
        )

    def squelch(self, *, address: str, round_number: str, round_address: str) -> None:
        self.conn.run(
            "INSERT INTO cgrants_squelchedaccounts (address, score_when_squelched, sybil_signal,"
            " round_number) VALUES (:address, 0, true, :round_number)",
            address=address,
            round_number=round_number,
        )
        self.conn.run(
            "INSERT INTO cgrants_roundmapping (round_number, round_eth_address)"
            " VALUES (:round_number, :round_address)",
            round_number=round_number,
            round_address=round_address,
        )


def add_address_list(conn: pg8000.native.Connection, name: str, members: list[str]) -> int:
    list_id = _id(conn, "INSERT INTO account_addresslist (name) VALUES (:name)", name=name)
    for member in members:
        conn.run(
            "INSERT INTO account_addresslistmember (address, list_id) VALUES (:address, :list)",
            address=member.lower(),
            list=list_id,
        )
    return list_id


def add_credential_ruleset(
    conn: pg8000.native.Connection, *, provider_id: str, definition: dict[str, Any]
) -> int:
    return _id(
        conn,
        "INSERT INTO account_customcredentialruleset (credential_type, definition, name,"
        " provider_id) VALUES ('DEVEL', CAST(:definition AS jsonb), :name, :provider_id)",
        definition=json.dumps(definition),
        name=definition["name"],
        provider_id=provider_id,
    )


def add_customization(conn: pg8000.native.Connection, *, community_id: int) -> int:
    return _id(
        conn,
        "INSERT INTO account_customization (path, scorer_id, use_custom_dashboard_panel,"
        " body_display_info_tooltip, button_action_type, show_explanation_panel, partner_name,"
        " nav_order, show_in_top_nav) VALUES (:path, :community, false, false, 'Simple Link',"
        " true, 'Partner', 0, false)",
        path=f"partner-{community_id}",
        community=community_id,
    )


def add_embed_section(
    conn: pg8000.native.Connection,
    *,
    customization_id: int,
    title: str,
    order: int,
    platforms: list[tuple[str, int]],
) -> int:
    """A section shown at `order`, with (platform_id, order) items."""
    section = _id(conn, "INSERT INTO account_embedsectionheader (name) VALUES (:name)", name=title)
    conn.run(
        'INSERT INTO account_embedsectionorder ("order", customization_id, section_id)'
        " VALUES (:order, :customization, :section)",
        order=order,
        customization=customization_id,
        section=section,
    )
    for platform_id, platform_order in platforms:
        add_embed_platform(
            conn,
            customization_id=customization_id,
            section_id=section,
            platform_id=platform_id,
            order=platform_order,
        )
    return section


def add_embed_platform(
    conn: pg8000.native.Connection,
    *,
    customization_id: int,
    section_id: int,
    platform_id: str,
    order: int,
) -> int:
    metadata = _id(
        conn,
        "INSERT INTO registry_platformmetadata (platform_id, name) VALUES (:platform, :platform)",
        platform=platform_id,
    )
    return _id(
        conn,
        'INSERT INTO account_embedstampplatform ("order", customization_id, section_id,'
        " platform_id) VALUES (:order, :customization, :section, :metadata)",
        order=order,
        customization=customization_id,
        section=section_id,
        metadata=metadata,
    )
