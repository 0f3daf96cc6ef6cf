"""Embed rules without I/O: stamp rows, weights as floats, ids as Django reads them."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.embed_rules import embed_rows
from service.domain.params import route_int
from service.domain.weights import community_id_of, float_weights
from service.plumbing.errors import NotFound, UnprocessableEntity, ValidationFailed


def stamp(provider: str, **extra: Any) -> dict[str, Any]:
    return {
        "credentialSubject": {"provider": provider},
        "proof": {"proofValue": f"0x{provider}"},
        "issuanceDate": "2026-01-01T00:00:00.000Z",
        "expirationDate": "2099-12-31T23:59:59Z",
        **extra,
    }


def test_rows_keep_submission_order_and_take_the_credentials_provider() -> None:
    rows = embed_rows([stamp("Twitter"), stamp("Google")])

    assert [(row.provider, row.proof_value) for row in rows] == [
        ("Twitter", "0xTwitter"),
        ("Google", "0xGoogle"),
    ]
    assert rows[0].expiration_date is not None
    assert rows[0].expiration_date.isoformat() == "2099-12-31T23:59:59+00:00"


def test_a_missing_provider_is_found_before_the_stamp_count() -> None:
    stamps = [stamp(f"P{i}") for i in range(101)] + [{"credentialSubject": {}}]

    with pytest.raises(ValidationFailed):
        embed_rows(stamps)


def test_the_stamp_count_is_checked_before_the_rest_of_each_row() -> None:
    stamps = [stamp(f"P{i}", proof={}) for i in range(101)]

    with pytest.raises(UnprocessableEntity) as raised:
        embed_rows(stamps)

    assert raised.value.detail == "You have submitted too many stamps."


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "\x00", "\ud800"])
def test_values_postgresql_cannot_store_are_refused(value: Any) -> None:
    with pytest.raises(ValidationFailed):
        embed_rows([stamp("Google", extra=value)])


def test_weights_become_floats() -> None:
    assert float_weights({"Ens": "0.208", "Google": 1}) == {"Ens": 0.208, "Google": 1.0}


@pytest.mark.parametrize("weights", [None, [], {"Ens": "heavy"}])
def test_weights_that_are_not_an_object_of_numbers_are_unusable(weights: Any) -> None:
    assert float_weights(weights) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5", 5), (" 5", 5), ("+5", 5), ("1_0", 10), ("abc", None), ("5.0", None)],
)
def test_community_ids_are_read_as_pythons_int_reads_them(text: str, expected: int | None) -> None:
    assert community_id_of(text) == expected


@pytest.mark.parametrize(
    ("segment", "expected"), [("7", 7), ("007", 7), ("12345678901234567890", 12345678901234567890)]
)
def test_numeric_route_segments_are_ascii_digits(segment: str, expected: int) -> None:
    assert route_int(segment) == expected


@pytest.mark.parametrize("segment", ["", "-1", "+1", " 1", "1.0", "١", "1_0"])
def test_other_route_segments_do_not_match(segment: str) -> None:
    with pytest.raises(NotFound):
        route_int(segment)
