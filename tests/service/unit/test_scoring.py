"""Score arithmetic and the stored/returned shapes, against the reference's worked examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.credentials import LoadedStamp
from service.domain.scoring import StoredScore, compute_score, merge_weights, v2_response

NOW = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def stamp(provider: str, expires: str = "2099-12-31T23:59:59Z") -> LoadedStamp:
    return LoadedStamp(
        provider=provider,
        credential={"expirationDate": expires, "credentialSubject": {"provider": provider}},
    )


def score(providers: list[str], weights: dict[str, Any], threshold: str = "20") -> Any:
    return compute_score(
        [stamp(p) for p in providers], {}, weights=weights, threshold=Decimal(threshold), now=NOW
    )


@pytest.mark.parametrize(
    ("weights", "expected_raw"),
    [
        ({"Ens": 0.208, "Google": 0.525}, "0.7330000000000000126565424807"),
        ({"A": 2.5, "B": 1.0, "C": 1.5, "D": 1.25, "E": 0.1}, "6.350000000000000005551115123"),
        ({"A": "0.5000", "B": "1.5000", "C": "1.0"}, "3.0000"),
        ({"A": "1.0", "B": "1.0", "C": "2.0"}, "4.0"),
        ({"A": 1, "B": 2}, "3"),
    ],
)
def test_raw_score_is_the_references_decimal_sum(
    weights: dict[str, Any], expected_raw: str
) -> None:
    result = score(list(weights), weights)

    assert result.evidence["rawScore"] == expected_raw


def test_no_stamps_give_a_zero_raw_score_and_no_expiry() -> None:
    result = score([], {"Google": 1})

    assert result.evidence["rawScore"] == "0"
    assert result.expiration_date is None
    assert result.stamps == {} and result.stamp_scores == {}


def test_threshold_is_rendered_with_five_decimals_and_compared_exactly() -> None:
    below = score(["A", "B"], {"A": 0.1, "B": 0.2}, threshold="0.30000")

    assert below.evidence["threshold"] == "0.30000"
    assert below.evidence["success"] is True  # 0.1 + 0.2 as Decimals of floats exceeds 0.3
    assert below.score == Decimal(1)


def test_a_missing_provider_weighs_zero_but_is_listed() -> None:
    result = score(["Unknown"], {"Google": 1})

    assert result.stamp_scores == {"Unknown": 0.0}
    assert result.stamps["Unknown"]["score"] == "0.00000"


def test_stamp_scores_are_floats_and_stamp_entries_have_five_decimals() -> None:
    result = score(["Twitter"], {"Twitter": 0.1})

    assert result.stamp_scores == {"Twitter": 0.1}
    assert result.stamps["Twitter"] == {
        "score": "0.10000",
        "dedup": False,
        "expiration_date": "2099-12-31T23:59:59+00:00",
    }


def test_expiration_is_the_earliest_instant_keeping_its_offset() -> None:
    kept = [stamp("A", "2030-01-01T10:00:00+02:00"), stamp("B", "2030-01-01T09:00:00Z")]

    result = compute_score(kept, {}, weights={}, threshold=Decimal(1), now=NOW)

    assert result.expiration_date == datetime(
        2030, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))
    )
    assert result.stamps["A"]["expiration_date"] == "2030-01-01T10:00:00+02:00"


def test_deduplicated_stamp_keeps_its_raw_expiration_string() -> None:
    clashing = {"Linkedin": stamp("Linkedin", "2099-12-31T23:59:59.120Z")}

    result = compute_score([], clashing, weights={}, threshold=Decimal(1), now=NOW)

    assert result.stamps == {
        "Linkedin": {
            "score": "0.00000",
            "dedup": True,
            "expiration_date": "2099-12-31T23:59:59.120Z",
        }
    }


def test_a_non_numeric_weight_raises_the_references_error() -> None:
    with pytest.raises(Exception) as raised:
        score(["A"], {"A": "lots"})

    assert str(raised.value) == "[<class 'decimal.ConversionSyntax'>]"


def test_null_weights_raise_the_references_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'get'"):
        score(["A"], None)  # type: ignore[arg-type]
    with pytest.raises(AttributeError, match="no attribute 'update'"):
        merge_weights(None, {"AllowList#x": "1.0000"})


def test_customization_weights_win_over_the_scorers() -> None:
    assert merge_weights({"A": 1, "B": 2}, {"B": "5.0000"}) == {"A": 1, "B": "5.0000"}


def test_error_score_response_uses_the_default_threshold() -> None:
    body = v2_response(StoredScore.failed("0xabc", "Invalid rule"))

    assert body == {
        "address": "0xabc",
        "score": "0.00000",
        "passing_score": False,
        "last_score_timestamp": None,
        "expiration_timestamp": None,
        "threshold": "20.00000",
        "error": "Invalid rule",
        "stamps": {},
        "points_data": None,
        "possible_points_data": None,
        "linked_score": None,
    }


def test_response_score_is_the_raw_sum_rounded_half_even() -> None:
    result = score(["A"], {"A": "1.000005"}, threshold="1")

    body = v2_response(StoredScore.done("0xabc", result))

    assert body["score"] == "1.00000"
    assert body["last_score_timestamp"] == "2026-06-01T12:00:00.123456+00:00"


weights_strategy = st.dictionaries(
    st.sampled_from(["A", "B", "C", "D", "E", "F"]),
    st.one_of(
        st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False),
        st.integers(min_value=0, max_value=1000),
        st.decimals(min_value=0, max_value=1000, places=4).map(str),
    ),
    min_size=1,
)


@given(weights=weights_strategy, threshold=st.decimals(min_value=0, max_value=5000, places=5))
def test_passing_means_the_exact_decimal_sum_reaches_the_threshold(
    weights: dict[str, Any], threshold: Decimal
) -> None:
    result = score(list(weights), weights, threshold=str(threshold))

    expected = sum((Decimal(w) for w in weights.values()), Decimal(0))
    assert Decimal(result.evidence["rawScore"]) == +expected  # rounded to 28 digits like the sum
    assert result.evidence["success"] is (Decimal(result.evidence["rawScore"]) >= threshold)
    assert result.score == (Decimal(1) if result.evidence["success"] else Decimal(0))
    body = v2_response(StoredScore.done("0xabc", result))
    assert body["passing_score"] is result.evidence["success"]
    assert body["score"] == format(Decimal(result.evidence["rawScore"]), ".5f")


@given(weights=weights_strategy)
def test_every_kept_provider_appears_once_in_both_maps(weights: dict[str, Any]) -> None:
    providers = list(weights)

    result = score(providers + providers, weights)

    assert list(result.stamp_scores) == providers
    assert list(result.stamps) == providers
