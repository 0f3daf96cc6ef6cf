"""GET /v2/stamps/metadata (ADR-0034): the document from a real HTTP source, its shape
and icons, the per-process copy, a source that is down or slow, and analytics rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.clients.stamp_metadata_source import StampMetadataSource
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import metadata_server as ms
from tests.service.support import scenario as sc
from tests.service.support.snapshots import rows

FAILED = {"detail": "Error fetching external stamp metadata"}


class Clock:
    """Monotonic seconds the test moves forward, so an hour passes instantly."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def source() -> Iterator[ms.MetadataServer]:
    with ms.running() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(
    clean_db: pg8000.native.Connection,
    settings: Settings,
    db: Database,
    source: ms.MetadataServer,
    clock: Clock,
) -> sc.Scenario:
    world = sc.build(clean_db)
    metadata = StampMetadataSource(source.base_url, timeout_s=0.5, clock=clock)
    world.client = falcon.testing.TestClient(create_app(settings, db, metadata=metadata))
    return world


def metadata(world: sc.Scenario, headers: dict[str, str] | None = None) -> falcon.testing.Result:
    assert world.client is not None
    return world.client.simulate_get(
        "/v2/stamps/metadata", headers={"X-API-Key": sc.API_KEY} if headers is None else headers
    )


def analytics(world: sc.Scenario) -> list[dict[str, Any]]:
    return rows(world.conn, "account_accountapikeyanalytics")


def test_the_document_in_the_references_shape(
    world: sc.Scenario, source: ms.MetadataServer, snapshot: SnapshotAssertion
) -> None:
    result = metadata(world)

    assert result.status_code == 200
    assert [platform["id"] for platform in result.json] == ["Google", "Github"]  # source order
    google, github = result.json
    assert list(google) == ["id", "icon", "name", "description", "connectMessage", "groups"]
    assert "website" not in google and "isEVM" not in github
    # Relative icons are resolved against PASSPORT_PUBLIC_URL; absolute ones are kept.
    assert google["icon"] == source.base_url + "assets/googleStampIcon.svg"
    assert github["icon"] == "https://cdn.example.org/github.svg"
    assert ms.stable({"body": result.json, "analytics": analytics(world)}, source.base_url) == (
        snapshot
    )


def test_the_copy_is_served_for_an_hour_without_asking_the_source(
    world: sc.Scenario, source: ms.MetadataServer, clock: Clock
) -> None:
    first = metadata(world)
    source.status = 500
    clock.now += 3599

    second = metadata(world)

    assert second.json == first.json
    assert source.hits == 1


def test_after_an_hour_the_document_is_fetched_again(
    world: sc.Scenario, source: ms.MetadataServer, clock: Clock
) -> None:
    metadata(world)
    source.serve(ms.DOCUMENT[:1])
    clock.now += 3601

    result = metadata(world)

    assert [platform["id"] for platform in result.json] == ["Google"]
    assert source.hits == 2


def test_source_failing_without_a_copy_is_the_references_500(
    world: sc.Scenario, source: ms.MetadataServer
) -> None:
    source.status = 404

    result = metadata(world)

    assert result.status_code == 500
    assert result.json == FAILED
    assert [(row["status_code"], row["error"]) for row in analytics(world)] == [
        (500, FAILED["detail"])
    ]


def test_without_a_copy_every_request_tries_the_source_again(
    world: sc.Scenario, source: ms.MetadataServer
) -> None:
    source.status = 503
    assert metadata(world).status_code == 500
    source.status = 200

    assert metadata(world).status_code == 200
    assert source.hits == 2


def test_source_failing_with_a_copy_serves_the_copy(
    world: sc.Scenario, source: ms.MetadataServer, clock: Clock
) -> None:
    first = metadata(world)
    source.status = 500
    clock.now += 3601

    stale = metadata(world)
    again = metadata(world)

    assert (stale.status_code, again.status_code) == (200, 200)
    assert stale.json == first.json == again.json
    # One failed refresh, then the copy without asking until the retry pause is over.
    assert source.hits == 2
    clock.now += 61
    source.status = 200
    source.serve(ms.DOCUMENT[1:])
    assert [platform["id"] for platform in metadata(world).json] == ["Github"]


def test_source_down_without_a_copy(
    clean_db: pg8000.native.Connection, settings: Settings, db: Database
) -> None:
    world = sc.build(clean_db)
    down = StampMetadataSource(ms.closed_port_url(), timeout_s=0.5)
    world.client = falcon.testing.TestClient(create_app(settings, db, metadata=down))

    result = metadata(world)

    assert result.status_code == 500
    assert result.json == FAILED


def test_a_slow_source_without_a_copy_is_500_at_the_deadline(
    world: sc.Scenario, source: ms.MetadataServer
) -> None:
    source.delay_s = 2.0  # the source answers long after the 0.5 s deadline

    result = metadata(world)

    assert result.status_code == 500
    assert result.json == FAILED


def test_a_slow_source_with_a_copy_serves_the_copy(
    world: sc.Scenario, source: ms.MetadataServer, clock: Clock
) -> None:
    first = metadata(world)
    source.delay_s = 2.0
    source.serve(ms.DOCUMENT[:1])
    clock.now += 3601

    result = metadata(world)

    assert result.status_code == 200
    assert result.json == first.json


@pytest.mark.parametrize(
    "document",
    [
        [{**ms.DOCUMENT[0], "connectMessage": None}],
        [{key: value for key, value in ms.DOCUMENT[0].items() if key != "groups"}],
        [{**ms.DOCUMENT[0], "groups": [{"name": "g", "stamps": [{"name": "x"}]}]}],
        [{**ms.DOCUMENT[0], "id": 5}],
        [{key: value for key, value in ms.DOCUMENT[0].items() if key != "icon"}],
        {"not": "a list"},
        ["not a platform"],
    ],
)
def test_a_document_of_the_wrong_shape_fails_the_whole_fetch(
    world: sc.Scenario, source: ms.MetadataServer, document: Any
) -> None:
    source.serve([ms.DOCUMENT[1], *document] if isinstance(document, list) else document)

    result = metadata(world)

    assert result.status_code == 500
    assert result.json == FAILED


def test_a_body_that_is_not_json_fails(world: sc.Scenario, source: ms.MetadataServer) -> None:
    source.body = b"<html>maintenance</html>"

    assert metadata(world).json == FAILED


def test_no_key_is_401_without_asking_the_source(
    world: sc.Scenario, source: ms.MetadataServer
) -> None:
    result = metadata(world, headers={})

    assert result.status_code == 401
    assert result.json == {"detail": "Invalid API Key."}
    assert source.hits == 0


def test_the_default_source_is_passport_public_url(settings_env: dict[str, str]) -> None:
    default = StampMetadataSource(Settings.from_env(settings_env).passport_public_url)
    configured = StampMetadataSource(
        Settings.from_env(
            {**settings_env, "PASSPORT_PUBLIC_URL": "https://app.passport.xyz/"}
        ).passport_public_url
    )

    assert default.url == "http://localhost:80/stampMetadata.json"
    assert configured.url == "https://app.passport.xyz/stampMetadata.json"
