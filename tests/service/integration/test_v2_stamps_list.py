"""GET /v2/stamps/{address} (ADR-0031, ADR-0033): cursor pages over the real database,
links, the rows listed, metadata, refusals and analytics rows."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.clients.stamp_metadata_source import StampMetadataSource
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import ceramic
from tests.service.support import metadata_server as ms
from tests.service.support import scenario as sc
from tests.service.support.snapshots import normalize, rows
from tools import seed

PROVIDERS = ("Google", "Github", "Twitter", "Discord", "GithubGuru", "GithubStar", "Linkedin")


@pytest.fixture
def source() -> Iterator[ms.MetadataServer]:
    with ms.running() as server:
        yield server


@pytest.fixture
def world(
    clean_db: pg8000.native.Connection,
    settings: Settings,
    db: Database,
    source: ms.MetadataServer,
) -> sc.Scenario:
    world = sc.build(clean_db)
    metadata = StampMetadataSource(source.base_url, timeout_s=1.0)
    world.client = falcon.testing.TestClient(create_app(settings, db, metadata=metadata))
    return world


def stamps(
    world: sc.Scenario,
    address: str = sc.ADDRESS,
    *,
    query: str | None = None,
    headers: dict[str, str] | None = None,
) -> falcon.testing.Result:
    assert world.client is not None
    return world.client.simulate_get(
        f"/v2/stamps/{address}",
        headers={"X-API-Key": sc.API_KEY} if headers is None else headers,
        query_string=query,
    )


def follow(world: sc.Scenario, link: str, **kwargs: Any) -> falcon.testing.Result:
    """Requests a `next`/`prev` link exactly as given (its path and query)."""
    parts = urlsplit(link)
    assert world.client is not None
    return world.client.simulate_get(
        parts.path, query_string=parts.query, headers={"X-API-Key": sc.API_KEY}, **kwargs
    )


def cache_rows(world: sc.Scenario, count: int, address: str = sc.ADDRESS) -> list[int]:
    return [
        ceramic.cache_row(world.conn, provider, address=address) for provider in PROVIDERS[:count]
    ]


def providers(result: falcon.testing.Result) -> list[str]:
    return [item["credential"]["credentialSubject"]["provider"] for item in result.json["items"]]


def token(direction: str, row_id: int) -> str:
    """The reference's encode_cursor, written out independently of the service's."""
    text = json.dumps({"d": direction, "id": row_id})
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def analytics(world: sc.Scenario) -> list[dict[str, Any]]:
    return rows(world.conn, "account_accountapikeyanalytics")


def short(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return {
            **body,
            "items": [
                {**item, "credential": ceramic.short_stamps([{"stamp": item["credential"]}])[0]}
                for item in body["items"]
            ],
        }
    return body


def outcome(result: falcon.testing.Result, world: sc.Scenario) -> dict[str, Any]:
    return {
        "status": result.status_code,
        "body": normalize(short(result.json)),
        "analytics": analytics(world),
    }


# --- the rows listed ----------------------------------------------------------------------------


def test_three_stamps_newest_first(world: sc.Scenario, snapshot: SnapshotAssertion) -> None:
    cache_rows(world, 3)

    result = stamps(world)

    assert result.status_code == 200
    assert providers(result) == ["Twitter", "Github", "Google"]
    assert [list(item) for item in result.json["items"]] == [
        ["version", "credential", "metadata"]
    ] * 3
    assert all(item["version"] == "1.0.0" for item in result.json["items"])
    assert all(item["metadata"] is None for item in result.json["items"])
    assert (result.json["next"], result.json["prev"]) == (None, None)
    assert list(result.json) == ["next", "prev", "items"]
    assert outcome(result, world) == snapshot


def test_the_credential_is_the_stored_json(world: sc.Scenario) -> None:
    credential = sc.stamp("Google")
    world.cache(credential)

    assert stamps(world).json["items"][0]["credential"] == credential


def test_the_body_is_rendered_as_json_dumps_renders_it(world: sc.Scenario) -> None:
    cache_rows(world, 2)
    ceramic.cache_row(world.conn, "Twitter")
    # A credential with characters json.dumps escapes, and nested values of every JSON type.
    world.cache(
        {
            "credentialSubject": {"provider": "Ünïcode", "note": 'tab\there "quoted" ✓'},
            "proof": {"proofValue": "p-unicode"},
            "list": [1, 2.5, True, None, {"b": "x", "a": []}],
        },
        provider="Ünïcode",
    )

    result = stamps(world, query="limit=3")

    assert result.headers["content-type"] == "application/json"
    assert result.text == json.dumps(result.json)
    assert result.json["items"][0]["credential"]["credentialSubject"]["provider"] == "Ünïcode"


def test_soft_deleted_rows_are_left_out_revoked_and_type_2_rows_listed(
    world: sc.Scenario,
) -> None:
    ceramic.cache_row(world.conn, "Google", deleted_at=datetime(2025, 1, 1, tzinfo=UTC))
    ceramic.cache_row(world.conn, "Github", stamp_type=2)
    revoked = ceramic.cache_row(world.conn, "Twitter")
    world.conn.run(
        "INSERT INTO ceramic_cache_revocation (proof_value, ceramic_cache_id)"
        " SELECT proof_value, id FROM ceramic_cache_ceramiccache WHERE id = :id",
        id=revoked,
    )
    ceramic.cache_row(world.conn, "Discord", address=sc.OTHER_ADDRESS)

    assert providers(stamps(world)) == ["Twitter", "Github"]


def test_an_address_without_stamps_has_an_empty_page(world: sc.Scenario) -> None:
    result = stamps(world)

    assert result.json == {"next": None, "prev": None, "items": []}


def test_an_upper_case_address_is_read_lower_cased(world: sc.Scenario) -> None:
    cache_rows(world, 1)

    assert providers(stamps(world, "0x" + "AA" * 20)) == ["Google"]


# --- pages --------------------------------------------------------------------------------------


def test_first_page_links_to_the_next_with_the_reference_token(world: sc.Scenario) -> None:
    cache_rows(world, 5)

    result = stamps(world, query="limit=2")

    assert providers(result) == ["GithubGuru", "Discord"]
    assert result.json["prev"] is None
    assert result.json["next"] == (
        f"http://falconframework.org/v2/stamps/{sc.ADDRESS}"
        "?token=eyJkIjogIm5leHQiLCAiaWQiOiA0fQ&limit=2"
    )


def test_forward_over_four_pages_then_back_to_the_first(world: sc.Scenario) -> None:
    ids = cache_rows(world, 7)
    newest_first = list(reversed(ids))

    pages: list[list[int]] = []
    links: list[tuple[str | None, str | None]] = []
    result = stamps(world, query="limit=2")
    while True:
        pages.append([_row_id(world, item) for item in result.json["items"]])
        links.append((result.json["prev"], result.json["next"]))
        if result.json["next"] is None:
            break
        result = follow(world, result.json["next"])

    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:6], newest_first[6:7]]
    assert links[0][0] is None and links[-1][1] is None
    assert all(prev is not None for prev, _ in links[1:])

    back: list[list[int]] = []
    prev = links[-1][0]
    while prev is not None:
        result = follow(world, prev)
        back.append([_row_id(world, item) for item in result.json["items"]])
        prev = result.json["prev"]

    assert back == [newest_first[4:6], newest_first[2:4], newest_first[0:2]]


def test_next_and_prev_tokens_are_the_reference_format(world: sc.Scenario) -> None:
    ids = cache_rows(world, 5)

    second = stamps(world, query=f"token={token('next', ids[3])}&limit=2")

    assert [_row_id(world, item) for item in second.json["items"]] == [ids[2], ids[1]]
    assert parse_qs(urlsplit(second.json["next"]).query) == {
        "token": [token("next", ids[1])],
        "limit": ["2"],
    }
    assert parse_qs(urlsplit(second.json["prev"]).query) == {
        "token": [token("prev", ids[2])],
        "limit": ["2"],
    }

    back = stamps(world, query=f"token={token('prev', ids[2])}&limit=2")

    assert [_row_id(world, item) for item in back.json["items"]] == [ids[4], ids[3]]
    assert back.json["prev"] is None


def test_a_padded_token_and_an_unknown_direction(world: sc.Scenario) -> None:
    ids = cache_rows(world, 3)
    padded = base64.urlsafe_b64encode(json.dumps({"d": "next", "id": ids[2]}).encode()).decode()
    unknown = token("sideways", ids[0])

    assert [_row_id(world, i) for i in stamps(world, query=f"token={padded}").json["items"]] == [
        ids[1],
        ids[0],
    ]
    # A direction the reference does not know reads the first page.
    assert len(stamps(world, query=f"token={unknown}").json["items"]) == 3


def test_a_limit_of_zero_lists_nothing_and_links_nowhere(world: sc.Scenario) -> None:
    cache_rows(world, 2)

    assert stamps(world, query="limit=0").json == {"next": None, "prev": None, "items": []}


def test_the_default_limit_is_1000(world: sc.Scenario) -> None:
    world.conn.run(
        "INSERT INTO ceramic_cache_ceramiccache (address, provider, stamp, created_at, updated_at,"
        " type, deleted_at, compose_db_save_status, compose_db_stream_id, proof_value)"
        " SELECT :address, 'P' || n, CAST('{}' AS jsonb), now(), now(), 1, NULL, 'pending', '',"
        " 'proof' || n FROM generate_series(1, 1001) AS n",
        address=sc.ADDRESS,
    )

    result = stamps(world)

    assert len(result.json["items"]) == 1000
    assert parse_qs(urlsplit(result.json["next"]).query)["limit"] == ["1000"]


# --- links --------------------------------------------------------------------------------------


def test_links_use_the_forwarded_scheme_and_the_host_and_a_lower_case_address(
    world: sc.Scenario,
) -> None:
    cache_rows(world, 3)

    result = stamps(
        world,
        "0x" + "AA" * 20,
        query="limit=1",
        headers={
            "X-API-Key": sc.API_KEY,
            "Host": "api.example.com",
            "X-Forwarded-Proto": "https",
        },
    )

    assert result.json["next"].startswith(f"https://api.example.com/v2/stamps/{sc.ADDRESS}?token=")


def test_links_without_a_forwarded_scheme_use_the_requests(world: sc.Scenario) -> None:
    cache_rows(world, 2)

    result = stamps(world, query="limit=1", headers={"X-API-Key": sc.API_KEY, "Host": "h:8080"})

    assert result.json["next"].startswith(f"http://h:8080/v2/stamps/{sc.ADDRESS}?token=")


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "query", "detail"),
    [
        (sc.ADDRESS, "limit=1001", "Invalid limit."),
        ("0x123", "limit=1001", "Invalid limit."),  # the limit is checked first
        (sc.ADDRESS, "limit=-1", "Invalid limit."),
        ("0x123", None, "Invalid address."),
        ("aa" * 20, None, "Invalid address."),  # ADR-0004: `0x` is required
        (sc.ADDRESS, "token=%%%", "Invalid token."),
        (sc.ADDRESS, "token=a", "Invalid token."),  # not base64 once re-padded
        (sc.ADDRESS, "token=" + base64.urlsafe_b64encode(b"\xff\xfe").decode(), "Invalid token."),
        (sc.ADDRESS, "token=" + token("x", 1)[:-3] + "Zm9v", "Invalid token."),  # not JSON
        (sc.ADDRESS, "token=" + base64.urlsafe_b64encode(b"[1]").decode(), "Invalid token."),
        (
            sc.ADDRESS,
            "token=" + base64.urlsafe_b64encode(b'{"d": "next"}').decode(),
            "Invalid token.",
        ),
        (
            sc.ADDRESS,
            "token=" + base64.urlsafe_b64encode(b'{"d": "prev", "id": "x"}').decode(),
            "Invalid token.",
        ),
        (
            sc.ADDRESS,
            "token=" + base64.urlsafe_b64encode(b'{"d": "next", "id": 1e300}').decode(),
            "Invalid token.",
        ),
    ],
)
def test_bad_input_is_400(world: sc.Scenario, address: str, query: str | None, detail: str) -> None:
    result = stamps(world, address, query=query)

    assert result.status_code == 400
    assert result.json == {"detail": detail}
    assert [(row["status_code"], row["error"]) for row in analytics(world)] == [(400, detail)]


@pytest.mark.parametrize(
    ("query", "loc", "type_"),
    [
        ("limit=abc", ["query", "limit"], "int_parsing"),
        ("include_metadata=maybe", ["query", "include_metadata"], "bool_parsing"),
    ],
)
def test_parameters_of_the_wrong_type_are_422_without_a_row(
    world: sc.Scenario, query: str, loc: list[str], type_: str
) -> None:
    result = stamps(world, query=query)

    assert result.status_code == 422
    assert [(e["loc"], e["type"]) for e in result.json["detail"]] == [(loc, type_)]
    assert analytics(world) == []


def test_revoked_key_is_401_and_recorded(world: sc.Scenario) -> None:
    key = seed.create_api_key(
        world.conn, account_id=world.account_id, pbkdf2_iterations=1000, revoked=True
    )

    result = stamps(world, headers={"X-API-Key": key.key})

    assert result.status_code == 401
    assert [(row["api_key_id"], row["status_code"]) for row in analytics(world)] == [(key.id, 401)]


def test_a_key_without_read_scores_may_list(world: sc.Scenario) -> None:
    key = seed.create_api_key(
        world.conn, account_id=world.account_id, pbkdf2_iterations=1000, read_scores=False
    )
    cache_rows(world, 1)

    assert stamps(world, headers={"Authorization": f"Bearer {key.key}"}).status_code == 200


def test_no_key_is_401(world: sc.Scenario) -> None:
    result = stamps(world, headers={})

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}


# --- metadata -----------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["true", "1", "yes", "on"])
def test_include_metadata_attaches_each_providers_entry(
    world: sc.Scenario, source: ms.MetadataServer, flag: str, snapshot: SnapshotAssertion
) -> None:
    for provider in ("Google", "GithubStar", "Twitter"):
        ceramic.cache_row(world.conn, provider)

    result = stamps(world, query=f"include_metadata={flag}")

    assert result.status_code == 200
    by_provider = {
        item["credential"]["credentialSubject"]["provider"]: item["metadata"]
        for item in result.json["items"]
    }
    assert by_provider["Twitter"] is None  # not in the document
    assert list(by_provider["GithubStar"]) == ["group", "platform", "name", "description", "hash"]
    assert list(by_provider["GithubStar"]["platform"]) == [
        "id",
        "icon",
        "name",
        "description",
        "connectMessage",
    ]
    assert ms.stable(by_provider, source.base_url) == snapshot


def test_include_metadata_false_leaves_metadata_null(world: sc.Scenario) -> None:
    ceramic.cache_row(world.conn, "Google")

    assert stamps(world, query="include_metadata=false").json["items"][0]["metadata"] is None


def test_metadata_unobtainable_is_a_json_500_naming_the_first_provider(
    world: sc.Scenario, source: ms.MetadataServer
) -> None:
    source.status = 503
    cache_rows(world, 2)

    result = stamps(world, query="include_metadata=true")

    assert result.status_code == 500
    assert result.json == {"detail": "Error fetching external stamp metadata for provider Github"}
    assert [(row["status_code"], row["error"]) for row in analytics(world)] == [
        (500, "Error fetching external stamp metadata for provider Github")
    ]


def test_metadata_is_not_fetched_for_an_empty_page(
    world: sc.Scenario, source: ms.MetadataServer
) -> None:
    source.status = 503

    result = stamps(world, query="include_metadata=true")

    assert result.status_code == 200
    assert source.hits == 0


# --- analytics ----------------------------------------------------------------------------------


def test_analytics_row_of_a_page(world: sc.Scenario, snapshot: SnapshotAssertion) -> None:
    ids = cache_rows(world, 3)

    stamps(world, query=f"limit=2&token={token('next', ids[2])}")

    [row] = analytics(world)
    assert row["query_params"] == {"limit": ["2"], "token": [token("next", ids[2])]}
    assert row["response_skipped"] is True
    assert row["response"] is None
    assert row == snapshot


def _row_id(world: sc.Scenario, item: dict[str, Any]) -> int:
    proof = item["credential"]["proof"]["proofValue"]
    [[row_id]] = world.conn.run(
        "SELECT id FROM ceramic_cache_ceramiccache WHERE proof_value = :p", p=proof
    )
    return int(row_id)


def test_a_pbkdf2_key_is_accepted_and_migrated_to_sha256(world: sc.Scenario) -> None:
    key = seed.create_api_key(world.conn, account_id=world.account_id, pbkdf2_iterations=1000)

    result = stamps(world, headers={"X-API-Key": key.key})

    assert result.status_code == 200
    [[stored]] = world.conn.run(
        "SELECT hashed_key_sha256 FROM account_accountapikey WHERE id = :id", id=key.id
    )
    assert stored and stored.startswith("sha256$")
