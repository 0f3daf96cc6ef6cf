"""The fast timestamptz reader gives exactly what pg8000's own does, for every form PostgreSQL
sends."""

from __future__ import annotations

import pytest
from pg8000.converters import timestamptz_in as pg8000_timestamptz_in

from service.db.connection import timestamptz_in


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01 12:00:00.123456+00",
        "2026-12-01 12:00:00+00",
        "2026-12-01 12:00:00.5+00",
        "0001-01-01 00:00:00+00",
        "9999-12-31 23:59:59.999999+00",
        "2026-12-01 12:00:00.123456+05:30",
        "2026-12-01 12:00:00-08",
        "0044-03-15 12:00:00+00 BC",
        "infinity",
        "-infinity",
    ],
)
def test_it_reads_what_pg8000_reads(text: str) -> None:
    expected = pg8000_timestamptz_in(text)
    got = timestamptz_in(text)
    assert got == expected
    assert type(got) is type(expected)
    if hasattr(expected, "tzinfo"):
        assert got.tzinfo == expected.tzinfo
        assert got.isoformat() == expected.isoformat()
