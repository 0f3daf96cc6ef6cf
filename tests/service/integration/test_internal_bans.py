"""POST /internal/check-bans: account, hash and single-stamp bans, their end times, input order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon.testing
import pg8000.native
import pytest
from syrupy.assertion import SnapshotAssertion

from service.app import create_app
from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support.internal_rows import INTERNAL, add_ban

ADDRESS = "0x" + "ab" * 20
DID = f"did:pkh:eip155:1:{ADDRESS}"
FUTURE = datetime(2099, 3, 1, tzinfo=UTC)


@pytest.fixture
def client(settings: Settings, db: Database) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, db))


def credential(hash_: str | None, provider: str | None = "Google", id_: str | None = DID) -> Any:
    return {"credentialSubject": {"hash": hash_, "provider": provider, "id": id_}}


def check(client: falcon.testing.TestClient, body: Any) -> falcon.testing.Result:
    return client.simulate_post(
        "/internal/check-bans",
        body=json.dumps(body),
        headers={**INTERNAL, "Content-Type": "application/json"},
    )


# --- ban types --------------------------------------------------------------------------------


def test_account_ban_bans_every_credential_of_the_address(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    add_ban(clean_db, type_="account", address=ADDRESS, reason="sybil")

    result = check(client, [credential("v0:abc"), credential("v0:def", "Github")])

    assert result.status_code == 200
    assert result.json == snapshot


def test_hash_ban_bans_only_the_credential_with_that_hash(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    add_ban(clean_db, type_="hash", hash_="v0:abc", reason="duplicated account")

    result = check(client, [credential("v0:abc"), credential("v0:def", "Github")])

    assert [item["is_banned"] for item in result.json] == [True, False]
    assert result.json == snapshot


def test_single_stamp_ban_bans_only_that_provider_of_the_address(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    add_ban(clean_db, type_="single_stamp", address=ADDRESS, provider="Github", end_time=FUTURE)

    result = check(client, [credential("v0:abc"), credential("v0:def", "Github")])

    assert [item["ban_type"] for item in result.json] == [None, "single_stamp"]
    assert result.json == snapshot


def test_an_expired_ban_no_longer_applies(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_ban(
        clean_db,
        type_="account",
        address=ADDRESS,
        end_time=datetime.now(UTC) - timedelta(minutes=1),
    )

    result = check(client, [credential("v0:abc")])

    assert result.json == [
        {"hash": "v0:abc", "is_banned": False, "end_time": None, "ban_type": None, "reason": None}
    ]


@pytest.mark.parametrize(
    ("end_time", "rendered"),
    [
        pytest.param(datetime(2099, 3, 1, tzinfo=UTC), "2099-03-01T00:00:00Z", id="whole-seconds"),
        pytest.param(
            datetime(2099, 3, 1, 0, 0, 0, 123987, tzinfo=UTC),
            "2099-03-01T00:00:00.123Z",
            id="milliseconds-truncated",
        ),
    ],
)
def test_end_time_is_rendered_as_django_renders_datetimes(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    end_time: datetime,
    rendered: str,
) -> None:
    add_ban(clean_db, type_="account", address=ADDRESS, end_time=end_time)

    result = check(client, [credential("v0:abc")])

    assert result.json[0]["end_time"] == rendered


def test_a_provider_specific_account_row_is_not_an_account_ban(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_ban(clean_db, type_="account", address=ADDRESS, provider="Github")

    result = check(client, [credential("v0:abc", "Google")])

    assert result.json[0]["is_banned"] is False


def test_the_first_matching_ban_in_id_order_is_reported(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_ban(clean_db, type_="hash", hash_="v0:abc", reason="first")
    add_ban(clean_db, type_="account", address=ADDRESS, reason="second")

    result = check(client, [credential("v0:abc"), credential("v0:def")])

    assert [(item["ban_type"], item["reason"]) for item in result.json] == [
        ("hash", "first"),
        ("account", "second"),
    ]


def test_bans_of_other_addresses_do_not_apply(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_ban(clean_db, type_="account", address="0x" + "cd" * 20)
    add_ban(clean_db, type_="single_stamp", address="0x" + "cd" * 20, provider="Google")

    result = check(client, [credential("v0:abc")])

    assert result.json[0]["is_banned"] is False


# --- addresses and order ----------------------------------------------------------------------


def test_a_mixed_case_did_matches_a_lower_case_ban(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_ban(clean_db, type_="account", address=ADDRESS)

    result = check(client, [credential("v0:abc", id_="did:pkh:eip155:1:0x" + "aB" * 20)])

    assert result.json[0]["ban_type"] == "account"


def test_a_mixed_case_ban_address_matches_a_lower_case_did(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_ban(clean_db, type_="single_stamp", address="0x" + "AB" * 20, provider="Google")

    result = check(client, [credential("v0:abc")])

    assert result.json[0]["ban_type"] == "single_stamp"


def test_several_credentials_are_answered_in_input_order(
    client: falcon.testing.TestClient,
    clean_db: pg8000.native.Connection,
    snapshot: SnapshotAssertion,
) -> None:
    add_ban(clean_db, type_="hash", hash_="v0:2", reason="hash")
    add_ban(clean_db, type_="single_stamp", address=ADDRESS, provider="Discord", reason="stamp")

    result = check(
        client,
        [
            credential("v0:3", "Twitter"),
            credential("v0:2", "Github"),
            credential("v0:1", "Discord"),
            credential("v0:2", "Github"),
            credential("", "Ens"),
        ],
    )

    assert [item["hash"] for item in result.json] == ["v0:3", "v0:2", "v0:1", "v0:2", ""]
    assert result.json == snapshot


def test_no_bans_means_nothing_is_banned(client: falcon.testing.TestClient) -> None:
    result = check(client, [credential("v0:abc")])

    assert result.status_code == 200
    assert result.json == [
        {"hash": "v0:abc", "is_banned": False, "end_time": None, "ban_type": None, "reason": None}
    ]


def test_result_keys_come_in_the_reference_order(client: falcon.testing.TestClient) -> None:
    result = check(client, [credential("v0:abc")])

    assert list(result.json[0]) == ["hash", "is_banned", "end_time", "ban_type", "reason"]


def test_unknown_keys_are_ignored(client: falcon.testing.TestClient) -> None:
    body = [{"credentialSubject": {"hash": "h", "provider": "p", "id": DID, "x": 1}, "proof": {}}]

    result = check(client, body)

    assert result.status_code == 200


# --- bad input --------------------------------------------------------------------------------


def test_an_empty_list_is_a_400(client: falcon.testing.TestClient) -> None:
    result = check(client, [])

    assert result.status_code == 400
    assert result.json == {"detail": "Must provide valid credential(s)"}


@pytest.mark.parametrize(
    "ids",
    [
        pytest.param([DID, "did:pkh:eip155:1:0x" + "cd" * 20], id="two-addresses"),
        pytest.param([DID, DID.upper()], id="same-address-other-case"),
        pytest.param([DID, None], id="one-without-subject"),
    ],
)
def test_credentials_of_several_subjects_are_a_400(
    client: falcon.testing.TestClient, ids: list[str | None]
) -> None:
    result = check(client, [credential(f"v0:{i}", id_=id_) for i, id_ in enumerate(ids)])

    assert result.status_code == 400
    assert result.json == {"detail": "All credentials must be issued to the same address"}


def test_credentials_without_any_subject_are_a_400(client: falcon.testing.TestClient) -> None:
    result = check(client, [credential("v0:1", id_=None), credential("v0:2", id_=None)])

    assert result.status_code == 400
    assert result.json == {"detail": "Must provide valid credential(s)"}


def test_a_null_hash_is_a_422_naming_the_credential(client: falcon.testing.TestClient) -> None:
    result = check(client, [credential("v0:1"), credential(None)])

    assert result.status_code == 422
    assert result.json == {
        "detail": [
            {
                "type": "string_type",
                "loc": ["body", "payload", 1, "credentialSubject", "hash"],
                "msg": "Input should be a valid string",
            }
        ]
    }


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"credentialSubject": {}}, id="object-not-list"),
        pytest.param([{"credentialSubject": {"hash": "h", "id": DID}}], id="missing-provider-key"),
        pytest.param(
            [{"credentialSubject": {"hash": 1, "provider": "p", "id": DID}}], id="int-hash"
        ),
        pytest.param([{}], id="missing-subject"),
        pytest.param(["x"], id="string-item"),
        pytest.param(None, id="null"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_422_in_ninjas_shape(
    client: falcon.testing.TestClient, snapshot: SnapshotAssertion, body: Any
) -> None:
    result = check(client, body)

    assert result.status_code == 422
    assert result.json == snapshot


def test_an_empty_body_is_a_missing_payload(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/internal/check-bans", headers=INTERNAL)

    assert result.status_code == 422
    assert result.json == {
        "detail": [{"type": "missing", "loc": ["body", "payload"], "msg": "Field required"}]
    }


def test_malformed_json_is_a_400(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(
        "/internal/check-bans",
        body="[{",
        headers={**INTERNAL, "Content-Type": "application/json"},
    )

    assert result.status_code == 400
    assert result.json == {"detail": "Cannot parse request body"}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_is_read_whatever_its_content_type(
    client: falcon.testing.TestClient, content_type: str | None
) -> None:
    # django-ninja parses the raw body as JSON; the Content-Type is never consulted.
    headers = dict(INTERNAL) if content_type is None else {**INTERNAL, "Content-Type": content_type}

    result = client.simulate_post(
        "/internal/check-bans", body=json.dumps([credential("v0:abc")]), headers=headers
    )

    assert result.status_code == 200
    assert [entry["hash"] for entry in result.json] == ["v0:abc"]


def test_a_form_body_is_not_json(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(
        "/internal/check-bans",
        body="hash=v0%3Aabc",
        headers={**INTERNAL, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert (result.status_code, result.json) == (400, {"detail": "Cannot parse request body"})


def test_a_nul_character_in_a_hash_matches_nothing(client: falcon.testing.TestClient) -> None:
    result = check(client, [credential("v0:\x00")])

    assert result.status_code == 200
    assert result.json[0]["is_banned"] is False


def test_a_nul_character_in_the_subject_still_checks_hash_bans(
    client: falcon.testing.TestClient, clean_db: pg8000.native.Connection
) -> None:
    add_ban(clean_db, type_="hash", hash_="v0:abc")

    result = check(client, [credential("v0:abc", id_="did:pkh:eip155:1:\x00")])

    assert result.status_code == 200
    assert result.json[0]["ban_type"] == "hash"
