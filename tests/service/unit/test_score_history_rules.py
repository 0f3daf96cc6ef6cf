"""Reading the history route's `created_at` (ADR-0032)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.domain.score_history import InvalidCreatedAt, parse_created_at

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC)),
        ("20250101", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01 00:00:00", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T02:00:00+02:00", datetime(2025, 1, 1, 2, tzinfo=PLUS_TWO)),
        (
            "2025-01-01T00:00:00.5-05:00",
            datetime(2025, 1, 1, 0, 0, 0, 500000, timezone(-timedelta(hours=5))),
        ),
        # Django's fallback pattern: one-digit fields, a comma fraction, an offset without colon.
        ("2025-1-2 3:04", datetime(2025, 1, 2, 3, 4, tzinfo=UTC)),
        ("2025-01-01T00:00:00,25 +0200", datetime(2025, 1, 1, 0, 0, 0, 250000, PLUS_TWO)),
        # The repair: an unencoded `+` arrives as a space.
        ("2025-01-01T02:00:00 02:00", datetime(2025, 1, 1, 2, tzinfo=PLUS_TWO)),
        ("2025-01-01T02:00:00.123 0200", datetime(2025, 1, 1, 2, 0, 0, 123000, PLUS_TWO)),
        (" 2025-06-01 ", datetime(2025, 6, 1, tzinfo=UTC)),
    ],
)
def test_accepted(raw: str, expected: datetime) -> None:
    parsed = parse_created_at(raw)

    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "raw",
    [
        "invalid-date",
        "2025-1-1",
        "2025-13-01",
        "2025-02-30T00:00",
        "tomorrow",
        "2025 01 01",
        "\x00",
    ],
)
def test_refused(raw: str) -> None:
    with pytest.raises(InvalidCreatedAt):
        parse_created_at(raw)
