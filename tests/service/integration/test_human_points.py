"""Human Points: what a passing scoring run writes, and the points objects v2 reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.domain.human_points_rules import PROVIDER_ACTIONS
from service.plumbing.settings import Settings
from tests.service.support import scenario as sc
from tests.service.support.snapshots import rows
from tools import seed

WEIGHTS = {provider: 1 for provider in [*PROVIDER_ACTIONS, "Google", "Github"]}


@pytest.fixture
def points_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "TRUSTED_IAM_ISSUERS": sc.trusted_issuers_json(),
        "HUMAN_POINTS_ENABLED": "true",
        "HUMAN_POINTS_WRITE_ENABLED": "true",
        "HUMAN_POINTS_MTA_ENABLED": "true",
    }


def make_world(
    conn: pg8000.native.Connection, db: Database, env: dict[str, str], *, program: bool = True
) -> sc.Scenario:
    world = sc.build(conn, weights=WEIGHTS, threshold="1")
    conn.run(
        "UPDATE account_community SET human_points_program = :p WHERE id = :id",
        p=program,
        id=world.community_id,
    )
    world.client = falcon.testing.TestClient(create_app(Settings.from_env(env), db))
    return world


@pytest.fixture
def world(
    clean_db: pg8000.native.Connection, db: Database, points_env: dict[str, str]
) -> sc.Scenario:
    return make_world(clean_db, db, points_env)


def points_rows(conn: pg8000.native.Connection) -> list[tuple[Any, ...]]:
    return [
        (r["action"], r["tx_hash"], r["chain_id"], r["provider"])
        for r in rows(conn, "registry_humanpoints")
    ]


def add_to_list(conn: pg8000.native.Connection, name: str, address: str = sc.ADDRESS) -> None:
    list_id = conn.run(
        "INSERT INTO account_addresslist (name) VALUES (:n) ON CONFLICT (name) DO UPDATE"
        " SET name = EXCLUDED.name RETURNING id",
        n=name,
    )[0][0]
    conn.run(
        "INSERT INTO account_addresslistmember (address, list_id) VALUES (:a, :l)",
        a=address,
        l=list_id,
    )


# --- writes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "action"), sorted(PROVIDER_ACTIONS.items()))
def test_each_provider_action_is_awarded_once_across_rescoring(
    world: sc.Scenario, provider: str, action: str
) -> None:
    world.cache(sc.stamp(provider, nullifiers=[f"v0:{provider}:n"]))

    world.score()
    world.score()

    assert points_rows(world.conn) == [
        ("HKY", f"v0:{provider}:n", 0, provider),
        (action, "", 0, ""),
    ]


def test_a_provider_without_an_action_earns_only_its_human_key(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:g:1", "", "v1:g:2"]))

    world.score()

    assert points_rows(world.conn) == [("HKY", "v1:g:2", 0, "Google")]


def test_a_rotated_nullifier_does_not_earn_a_second_human_key(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google", nullifiers=["v0:old"]))
    world.score()
    world.conn.run("UPDATE ceramic_cache_ceramiccache SET deleted_at = now()")
    world.cache(sc.stamp("Google", nullifiers=["v0:new"]))

    world.score()

    assert points_rows(world.conn) == [("HKY", "v0:old", 0, "Google")]


def test_first_passing_run_writes_rows_in_the_references_order(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    for provider in ("Twitter", "SelfStakingBronze", "HolonymPhone", "Google", "Github"):
        world.cache(sc.stamp(provider))
    add_to_list(world.conn, "MetaMaskOG2")
    add_to_list(world.conn, "SeasonedPassportOGs")

    world.score()

    assert points_rows(world.conn) == [
        ("HKY", f"v0:Github:{sc.ADDRESS}", 0, "Github"),
        ("HKY", f"v0:Google:{sc.ADDRESS}", 0, "Google"),
        ("HKY", f"v0:HolonymPhone:{sc.ADDRESS}", 0, "HolonymPhone"),
        ("HPH", "", 0, ""),
        ("HKY", f"v0:SelfStakingBronze:{sc.ADDRESS}", 0, "SelfStakingBronze"),
        ("ISB", "", 0, ""),
        ("HKY", f"v0:Twitter:{sc.ADDRESS}", 0, "Twitter"),
        ("MM2", "", 0, ""),
        ("SOG", "", 0, ""),
    ]
    assert {
        "points": rows(world.conn, "registry_humanpoints"),
        "qualified": rows(world.conn, "registry_humanpointscommunityqualifiedusers"),
    } == snapshot


def test_a_failing_score_writes_nothing(world: sc.Scenario) -> None:
    world.conn.run("UPDATE scorer_weighted_binaryweightedscorer SET threshold = 100")
    world.cache(sc.stamp("SelfStakingGold"))

    world.score()

    assert points_rows(world.conn) == []
    assert rows(world.conn, "registry_humanpointscommunityqualifiedusers") == []


@pytest.mark.parametrize(
    "env_change",
    [
        pytest.param({"HUMAN_POINTS_WRITE_ENABLED": "false"}, id="write-flag-off"),
        pytest.param({"HUMAN_POINTS_START_TIMESTAMP": str(2**40)}, id="before-start"),
    ],
)
def test_a_closed_write_gate_writes_nothing(
    clean_db: pg8000.native.Connection,
    db: Database,
    points_env: dict[str, str],
    env_change: dict[str, str],
) -> None:
    world = make_world(clean_db, db, {**points_env, **env_change})
    world.cache(sc.stamp("SelfStakingGold"))

    assert world.score().json["passing_score"] is True
    assert points_rows(clean_db) == []


def test_a_community_outside_the_program_writes_nothing(
    clean_db: pg8000.native.Connection, db: Database, points_env: dict[str, str]
) -> None:
    world = make_world(clean_db, db, points_env, program=False)
    world.cache(sc.stamp("SelfStakingGold"))

    world.score()

    assert points_rows(clean_db) == []


def test_a_past_start_timestamp_lets_writes_through(
    clean_db: pg8000.native.Connection, db: Database, points_env: dict[str, str]
) -> None:
    start = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    world = make_world(clean_db, db, {**points_env, "HUMAN_POINTS_START_TIMESTAMP": str(start)})
    world.cache(sc.stamp("SelfStakingGold"))

    world.score()

    assert ("ISG", "", 0, "") in points_rows(clean_db)


def _qualify_elsewhere(world: sc.Scenario, count: int) -> None:
    for index in range(count):
        other = seed.create_community(
            world.conn,
            account_id=world.account_id,
            scorer_id=world.scorer_id,
            name=f"Other {index}",
            human_points_program=True,
        )
        world.conn.run(
            "INSERT INTO registry_humanpointscommunityqualifiedusers (address, community_id)"
            " VALUES (:a, :c)",
            a=sc.ADDRESS,
            c=other,
        )


def test_qualified_in_three_communities_earns_no_scoring_bonus(world: sc.Scenario) -> None:
    _qualify_elsewhere(world, 2)
    world.cache(sc.stamp("Google"))

    world.score()

    assert "SCB" not in [row[0] for row in points_rows(world.conn)]
    assert len(rows(world.conn, "registry_humanpointscommunityqualifiedusers")) == 3


def test_qualified_in_four_communities_earns_the_scoring_bonus_once(world: sc.Scenario) -> None:
    _qualify_elsewhere(world, 3)
    world.cache(sc.stamp("Google"))

    world.score()
    world.score()

    assert [row[0] for row in points_rows(world.conn)].count("SCB") == 1


def _fill_metamask_awards(conn: pg8000.native.Connection, count: int) -> None:
    conn.run(
        'INSERT INTO registry_humanpoints (address, action, "timestamp", tx_hash, chain_id,'
        " provider) SELECT '0x' || lpad(to_hex(g), 40, '0'), 'MM2', now(), '', 0, ''"
        " FROM generate_series(1, :n) AS g",
        n=count,
    )


def test_metamask_award_stops_at_the_cap(world: sc.Scenario) -> None:
    _fill_metamask_awards(world.conn, 5000)
    add_to_list(world.conn, "MetaMaskOG2")
    world.cache(sc.stamp("Google"))

    world.score()

    mine = world.conn.run(
        "SELECT count(*) FROM registry_humanpoints WHERE address = :a AND action = 'MM2'",
        a=sc.ADDRESS,
    )
    assert mine == [[0]]


def test_metamask_award_is_given_just_below_the_cap(world: sc.Scenario) -> None:
    _fill_metamask_awards(world.conn, 4999)
    add_to_list(world.conn, "MetaMaskOG2")
    world.cache(sc.stamp("Google"))

    world.score()

    assert ("MM2", "", 0, "") in points_rows(world.conn)[-1:]


def test_metamask_award_needs_its_flag(
    clean_db: pg8000.native.Connection, db: Database, points_env: dict[str, str]
) -> None:
    world = make_world(clean_db, db, {**points_env, "HUMAN_POINTS_MTA_ENABLED": "false"})
    add_to_list(clean_db, "MetaMaskOG2")
    world.cache(sc.stamp("Google"))

    world.score()

    assert "MM2" not in [row[0] for row in points_rows(clean_db)]


@pytest.mark.parametrize(
    ("list_name", "action"), [("SeasonedPassportOGs", "SOG"), ("TheChosenOnes", "TCO")]
)
def test_list_bonus_is_awarded_to_members_only(
    world: sc.Scenario, list_name: str, action: str
) -> None:
    add_to_list(world.conn, list_name, address=sc.OTHER_ADDRESS)
    world.cache(sc.stamp("Google"))
    world.score()
    assert action not in [row[0] for row in points_rows(world.conn)]

    add_to_list(world.conn, list_name)
    world.score()

    assert [row[0] for row in points_rows(world.conn)].count(action) == 1


# --- reporting --------------------------------------------------------------------------------


def _award(
    conn: pg8000.native.Connection,
    action: str,
    *,
    chain_id: int = 0,
    tx_hash: str = "",
    provider: str = "",
    address: str = sc.ADDRESS,
) -> None:
    conn.run(
        'INSERT INTO registry_humanpoints (address, action, "timestamp", tx_hash, chain_id,'
        " provider) VALUES (:a, :action, now(), :tx, :chain, :provider)",
        a=address,
        action=action,
        tx=tx_hash,
        chain=chain_id,
        provider=provider,
    )


def test_v2_reports_points_only_when_asked(world: sc.Scenario) -> None:
    world.cache(sc.stamp("Google"))

    plain = world.score()
    asked = world.score(query="include_human_points=true")

    assert plain.json["points_data"] is None
    assert plain.json["possible_points_data"] is None
    assert asked.json["points_data"] == {
        "total_points": 100,
        "is_eligible": True,
        "multiplier": 1,
        "breakdown": {"HKY": 100},
    }
    assert asked.json["possible_points_data"]["total_points"] == 0


def test_v2_reports_the_points_its_own_run_awarded_after_those_it_found(
    world: sc.Scenario,
) -> None:
    # The run's write reads the points too: what it found, then what it inserted.
    _award(world.conn, "ISB")
    world.cache(sc.stamp("Google"))

    first = world.score(query="include_human_points=true")
    again = world.score(query="include_human_points=true")

    assert first.json["points_data"] == {
        "total_points": 200,
        "is_eligible": True,
        "multiplier": 1,
        "breakdown": {"ISB": 100, "HKY": 100},
    }
    assert list(first.json["points_data"]["breakdown"]) == ["ISB", "HKY"]
    assert (again.json["points_data"], again.json["possible_points_data"]) == (
        first.json["points_data"],
        first.json["possible_points_data"],
    )


def test_v2_parameter_is_ignored_when_reporting_is_off(
    clean_db: pg8000.native.Connection, db: Database, points_env: dict[str, str]
) -> None:
    world = make_world(clean_db, db, {**points_env, "HUMAN_POINTS_ENABLED": "false"})

    result = world.score(query="include_human_points=true")

    assert result.json["points_data"] is None
    assert result.json["possible_points_data"] is None


def test_v2_parameter_is_ignored_outside_the_program(
    clean_db: pg8000.native.Connection, db: Database, points_env: dict[str, str]
) -> None:
    world = make_world(clean_db, db, points_env, program=False)

    result = world.score(query="include_human_points=true")

    assert result.json["points_data"] is None


def test_points_objects_exclude_him_break_down_pmt_per_chain_and_report_the_multiplier(
    world: sc.Scenario, snapshot: SnapshotAssertion
) -> None:
    world.conn.run("UPDATE registry_humanpointsconfig SET points = 100 WHERE action = 'PMT'")
    for chain in (1, 2, 3):
        _award(world.conn, "PMT", chain_id=chain, tx_hash=f"0x{chain:064x}")
    _award(world.conn, "HIM", chain_id=10, tx_hash="0x" + "f" * 64)
    _award(world.conn, "ISB")
    world.conn.run(
        "INSERT INTO registry_humanpointsmultiplier (address, multiplier) VALUES (:a, 2)",
        a=sc.ADDRESS,
    )

    result = world.score(query="include_human_points=true")

    points = result.json["points_data"]
    assert points["total_points"] == 400
    assert points["multiplier"] == 2
    assert points["breakdown"] == {"PMT_1": 100, "PMT": 300, "PMT_2": 100, "PMT_3": 100, "ISB": 100}
    assert "HIM" not in points["breakdown"]
    assert result.json["possible_points_data"]["breakdown"]["HIM"] == 1000
    assert {
        "points_data": result.json["points_data"],
        "possible_points_data": result.json["possible_points_data"],
    } == snapshot


def test_no_rows_give_the_zero_object(world: sc.Scenario) -> None:
    result = world.score(query="include_human_points=true")

    assert result.json["points_data"] == {
        "total_points": 0,
        "is_eligible": False,
        "multiplier": 1,
        "breakdown": {},
    }


def test_stored_multiplier_is_not_reported_without_counted_rows(world: sc.Scenario) -> None:
    world.conn.run(
        "INSERT INTO registry_humanpointsmultiplier (address, multiplier) VALUES (:a, 3)",
        a=sc.ADDRESS,
    )

    result = world.score(query="include_human_points=true")

    assert result.json["points_data"]["multiplier"] == 1
    assert result.json["possible_points_data"]["multiplier"] == 1


def test_inactive_config_is_left_out_of_both_objects(world: sc.Scenario) -> None:
    _award(world.conn, "ISB")
    world.conn.run("UPDATE registry_humanpointsconfig SET active = false WHERE action = 'ISB'")

    result = world.score(query="include_human_points=true")

    assert "ISB" not in result.json["points_data"]["breakdown"]
    assert "ISB" not in result.json["possible_points_data"]["breakdown"]
