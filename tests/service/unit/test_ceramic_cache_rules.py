"""service/domain/ceramic_cache_rules.py: body validation, new rows' values, the stored-score
rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from service.domain.ceramic_cache_rules import (
    NO_BODY,
    StampItem,
    UnusableStamp,
    alternate_scorer_id,
    delete_providers,
    is_expired,
    new_cache_row,
    rows_to_insert,
    stamp_items,
    too_many,
    with_response_defaults,
)
from service.domain.scoring import StoredScore
from service.plumbing.errors import ValidationFailed

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def stamp(**fields: Any) -> dict[str, Any]:
    return {"proof": {"proofValue": "0xabc"}, **fields}


def errors_of(parse: Any, body: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationFailed) as caught:
        parse(body)
    detail: list[dict[str, Any]] = caught.value.body()["detail"]
    return detail


# --- bodies -----------------------------------------------------------------------------------


def test_stamp_items_keep_payload_order_and_default_a_missing_stamp_to_none() -> None:
    body = [{"provider": "B", "stamp": {"x": 1}, "address": None}, {"provider": "A", "extra": 1}]

    assert stamp_items(body) == [StampItem("B", {"x": 1}), StampItem("A", None)]


def test_every_invalid_item_is_reported_in_field_order() -> None:
    body = [{"provider": "A"}, {"address": 7}, None, {"provider": ["x"]}]

    assert errors_of(stamp_items, body) == [
        {
            "type": "string_type",
            "loc": ["body", "payload", 1, "address"],
            "msg": "Input should be a valid string",
        },
        {"type": "missing", "loc": ["body", "payload", 1, "provider"], "msg": "Field required"},
        {"type": "missing", "loc": ["body", "payload", 2, "provider"], "msg": "Field required"},
        {
            "type": "string_type",
            "loc": ["body", "payload", 3, "provider"],
            "msg": "Input should be a valid string",
        },
    ]


@pytest.mark.parametrize("body", [None, {}, "x", 5])
def test_a_body_that_is_not_a_list_is_a_list_type_error(body: Any) -> None:
    assert errors_of(delete_providers, body) == [
        {"type": "list_type", "loc": ["body", "payload"], "msg": "Input should be a valid list"}
    ]


def test_no_body_is_a_missing_payload() -> None:
    assert errors_of(stamp_items, NO_BODY) == [
        {"type": "missing", "loc": ["body", "payload"], "msg": "Field required"}
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"alternate_scorer_id": 7}, 7),
        ({"alternate_scorer_id": "7"}, 7),
        ({"alternate_scorer_id": 2.0}, 2),
        ({"alternate_scorer_id": True}, 1),
        ({"alternate_scorer_id": None}, None),
        ({}, None),
        ([], None),
        (None, None),
        ("text", None),
    ],
)
def test_the_alternate_scorer_is_read_as_ninja_reads_it(body: Any, expected: int | None) -> None:
    assert alternate_scorer_id(body) == expected


def test_a_fractional_alternate_scorer_is_a_422() -> None:
    assert errors_of(alternate_scorer_id, {"alternate_scorer_id": 1.5}) == [
        {
            "type": "int_from_float",
            "loc": ["body", "payload", "alternate_scorer_id"],
            "msg": "Input should be a valid integer, got a number with a fractional part",
        }
    ]


def test_the_limit_is_one_hundred_items() -> None:
    assert not too_many([{}] * 100)
    assert too_many([{}] * 101)


# --- new rows ---------------------------------------------------------------------------------


def test_a_new_row_takes_the_proof_value_and_both_dates_from_the_stamp() -> None:
    row = new_cache_row(
        "Google",
        stamp(issuanceDate="2025-06-01T10:00:00.000Z", expirationDate="2025-08-30T12:00:00+02:00"),
    )

    assert row.proof_value == "0xabc"
    assert row.issuance_date == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert row.expiration_date == datetime(2025, 8, 30, 12, tzinfo=timezone(timedelta(hours=2)))


def test_missing_or_null_dates_are_null_and_naive_ones_are_utc() -> None:
    row = new_cache_row("Google", stamp(issuanceDate=None, expirationDate="2025-08-30"))

    assert row.issuance_date is None
    assert row.expiration_date == datetime(2025, 8, 30, tzinfo=UTC)


def test_a_non_string_proof_value_is_stored_as_its_text_as_a_charfield_does() -> None:
    assert new_cache_row("Google", {"proof": {"proofValue": 12}}).proof_value == "12"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="no stamp"),
        pytest.param([], id="a list"),
        pytest.param({"proof": "0xabc"}, id="proof not an object"),
        pytest.param({"proof": {}}, id="no proofValue"),
        pytest.param({"proof": {"proofValue": None}}, id="null proofValue"),
        pytest.param(stamp(issuanceDate="soon"), id="unparseable date"),
        pytest.param(stamp(expirationDate=1700000000), id="numeric date"),
        pytest.param(stamp(issuanceDate="2026-01-01T00:00:00-21:29"), id="offset past 15:59"),
        pytest.param(stamp(expirationDate="2026-01-01T00:00:00+16:00"), id="offset of 16 hours"),
    ],
)
def test_a_stamp_the_reference_cannot_store_is_unusable(value: Any) -> None:
    with pytest.raises(UnusableStamp):
        new_cache_row("Google", value)


def test_the_largest_utc_offset_postgres_stores_is_kept() -> None:
    row = new_cache_row("Google", stamp(issuanceDate="2026-01-01T00:00:00+15:59:59"))

    assert row.issuance_date == datetime(2026, 1, 1, tzinfo=UTC) - timedelta(
        hours=15, minutes=59, seconds=59
    )


def test_patch_inserts_only_items_with_a_truthy_stamp() -> None:
    items = [StampItem("A", stamp()), StampItem("B", None), StampItem("C", {}), StampItem("D", "")]

    assert [row.provider for row in rows_to_insert(items, only_with_stamp=True)] == ["A"]


def test_two_new_rows_for_one_provider_are_unusable() -> None:
    with pytest.raises(UnusableStamp):
        rows_to_insert([StampItem("A", stamp()), StampItem("A", stamp())], only_with_stamp=False)


# --- stored scores ----------------------------------------------------------------------------


def stored(*, expiration: datetime | None, evidence: dict[str, Any] | None = None) -> StoredScore:
    return StoredScore(
        address="0x" + "aa" * 20,
        score=Decimal(1),
        status="DONE",
        last_score_timestamp=NOW,
        error=None,
        evidence=evidence,
        stamp_scores={},
        stamps={},
        expiration_date=expiration,
    )


def test_a_stored_score_expires_strictly_after_its_expiration_date() -> None:
    assert is_expired(stored(expiration=NOW - timedelta(microseconds=1)), now=NOW)
    assert not is_expired(stored(expiration=NOW), now=NOW)
    assert not is_expired(stored(expiration=None), now=NOW)


def test_stored_evidence_gets_the_references_defaults() -> None:
    partial = with_response_defaults(stored(expiration=None, evidence={"rawScore": None}))

    assert partial.evidence == {"rawScore": "0", "threshold": "20"}
    assert with_response_defaults(stored(expiration=None, evidence={})).evidence is None
