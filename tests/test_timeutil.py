"""User times are case-local unless they carry an offset; the index stores UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from camfind.errors import InputError
from camfind.timeutil import iso_local, parse_time


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-01-25 10:15", datetime(2024, 1, 25, 3, 15, tzinfo=UTC)),
        ("2024-01-25 10:15:30", datetime(2024, 1, 25, 3, 15, 30, tzinfo=UTC)),
        ("2024-01-25T10:15:00+07:00", datetime(2024, 1, 25, 3, 15, tzinfo=UTC)),
        ("2024-01-25T10:15:00Z", datetime(2024, 1, 25, 10, 15, tzinfo=UTC)),
        ("2024-01-25", datetime(2024, 1, 24, 17, 0, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, utc: datetime) -> None:
    assert parse_time(text) == utc


@pytest.mark.parametrize("text", ["yesterday", "25/01/2024 10:15", "2024-13-01 10:00", "2024-01-25 25:00", ""])
def test_malformed_times_are_named(text: str) -> None:
    with pytest.raises(InputError, match="malformed time"):
        parse_time(text)


def test_iso_local_shows_case_offset() -> None:
    assert iso_local(datetime(2024, 1, 25, 3, 15, tzinfo=UTC)) == "2024-01-25T10:15:00+07:00"


def test_other_case_zone() -> None:
    assert parse_time("2024-01-25 10:15", "UTC") == datetime(2024, 1, 25, 10, 15, tzinfo=UTC)
