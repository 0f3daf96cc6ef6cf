"""GET /internal/embed/weights and /internal/embed/config: a scorer's weights as floats, and the
embed widget's stamp sections."""

from __future__ import annotations

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support.internal_rows import (
    add_customization,
    add_embed_platform,
    add_embed_section,
)
from tools import seed

STORED_WEIGHTS = {"Ens": "0.208", "Github": 2.5, "Google": 1}


@pytest.fixture
def communities(clean_db: pg8000.native.Connection) -> dict[str, int]:
    """Two communities whose ids differ from their scorers' ids."""
    account = seed.create_account(clean_db, address="0x" + "0f" * 20)
    seed.create_scorer(clean_db, weights={"Unused": 1})
    default_scorer = seed.create_scorer(clean_db, weights=STORED_WEIGHTS)
    other_scorer = seed.create_scorer(clean_db, weights={"Discord": "0.5"}, scorer_type="WEIGHTED")
    default = seed.create_community(
        clean_db, account_id=account, scorer_id=default_scorer, community_id=5
    )
    other = seed.create_community(
        clean_db, account_id=account, scorer_id=other_scorer, name="Other", community_id=7
    )
    return {"default": default, "other": other}


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "CERAMIC_CACHE_SCORER_ID": "5"}


@pytest.fixture
def client(
    settings: Settings, db: Database, communities: dict[str, int]
) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


# --- weights ----------------------------------------------------------------------------------


def weights(client: falcon.testing.TestClient, query: str | None = None) -> falcon.testing.Result:
    return client.simulate_get("/internal/embed/weights", query_string=query)


@pytest.mark.parametrize("query", [None, "community_id="], ids=["absent", "empty"])
def test_without_a_community_the_default_scorers_weights_are_floats(
    client: falcon.testing.TestClient, snapshot: SnapshotAssertion, query: str | None
) -> None:
    result = weights(client, query)

    assert result.status_code == 200
    assert result.json == {"Ens": 0.208, "Github": 2.5, "Google": 1.0}
    assert result.json == snapshot


def test_a_communitys_weights_come_through_its_scorer_id(
    client: falcon.testing.TestClient, communities: dict[str, int]
) -> None:
    result = weights(client, f"community_id={communities['other']}")

    assert result.json == {"Discord": 0.5}


def test_customization_weights_are_not_added(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    communities: dict[str, int],
) -> None:
    customization = add_customization(clean_db, community_id=communities["default"])
    list_id = clean_db.run("INSERT INTO account_addresslist (name) VALUES ('VIP') RETURNING id")[0][
        0
    ]
    clean_db.run(
        "INSERT INTO account_allowlist (weight, address_list_id, customization_id)"
        " VALUES (10, :l, :c)",
        l=list_id,
        c=customization,
    )

    result = weights(client)

    assert "AllowList#VIP" not in result.json


@pytest.mark.parametrize("community_id", ["999", "abc", "99999999999999999999999"])
def test_an_unknown_community_is_a_404(
    client: falcon.testing.TestClient, community_id: str
) -> None:
    result = weights(client, f"community_id={community_id}")

    assert result.status_code == 404
    assert result.json == {"detail": "No Community matches the given query."}


def test_an_unset_default_scorer_is_a_404(
    settings_env: dict[str, str], db: Database, communities: dict[str, int]
) -> None:
    env = {k: v for k, v in settings_env.items() if k != "CERAMIC_CACHE_SCORER_ID"}
    client = falcon.testing.TestClient(create_app(Settings.from_env(env), db))

    result = weights(client)

    assert result.status_code == 404


def test_weights_that_are_not_numbers_keep_the_references_500(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    clean_db.run('UPDATE scorer_weighted_binaryweightedscorer SET weights = \'{"Ens": "heavy"}\'')

    result = weights(client)

    assert result.status_code == 500
    assert result.json == {
        "detail": "Unable to retrieve configured scorer! settings.CERAMIC_CACHE_SCORER_ID=5"
    }


# --- config -----------------------------------------------------------------------------------


def config(client: falcon.testing.TestClient, query: str | None) -> falcon.testing.Result:
    return client.simulate_get("/internal/embed/config", query_string=query)


def test_config_lists_sections_and_their_platforms_in_order(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    communities: dict[str, int],
    snapshot: SnapshotAssertion,
) -> None:
    customization = add_customization(clean_db, community_id=communities["default"])
    add_embed_section(
        clean_db,
        customization_id=customization,
        title="Social",
        order=2,
        platforms=[("Twitter", 1), ("Discord", 0)],
    )
    add_embed_section(
        clean_db, customization_id=customization, title="Web3", order=1, platforms=[("Ens", 0)]
    )
    add_embed_section(
        clean_db, customization_id=customization, title="Empty", order=3, platforms=[]
    )

    result = config(client, f"community_id={communities['default']}")

    assert result.status_code == 200
    assert list(result.json) == ["weights", "stamp_sections"]
    assert [s["title"] for s in result.json["stamp_sections"]] == ["Web3", "Social", "Empty"]
    assert list(result.json["stamp_sections"][1]["items"][0]) == ["platform_id", "order"]
    assert result.json == snapshot


def test_platforms_of_a_section_the_customization_does_not_show_are_left_out(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    communities: dict[str, int],
) -> None:
    customization = add_customization(clean_db, community_id=communities["default"])
    hidden = clean_db.run(
        "INSERT INTO account_embedsectionheader (name) VALUES ('Hidden') RETURNING id"
    )[0][0]
    add_embed_platform(
        clean_db, customization_id=customization, section_id=hidden, platform_id="Gitcoin", order=0
    )

    result = config(client, f"community_id={communities['default']}")

    assert result.json["stamp_sections"] == []


def test_config_of_a_community_without_customization_has_no_sections(
    client: falcon.testing.TestClient, communities: dict[str, int]
) -> None:
    result = config(client, f"community_id={communities['other']}")

    assert result.json == {"weights": {"Discord": 0.5}, "stamp_sections": []}


def test_config_without_a_community_id_is_a_422(client: falcon.testing.TestClient) -> None:
    result = config(client, None)

    assert result.status_code == 422
    assert result.json == {
        "detail": [{"type": "missing", "loc": ["query", "community_id"], "msg": "Field required"}]
    }


@pytest.mark.parametrize("query", ["community_id=", "community_id=999", "community_id=abc"])
def test_config_of_an_empty_or_unknown_community_is_a_404(
    client: falcon.testing.TestClient, query: str
) -> None:
    result = config(client, query)

    assert result.status_code == 404
    assert result.json == {"detail": "No Community matches the given query."}
