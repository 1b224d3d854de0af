"""User times are case-local unless they carry an offset; the index stores UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from camfind.errors import InputError
from camfind.timeutil import check_date_order, iso_local, parse_time


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


@pytest.mark.parametrize("text", ["yesterday", "25/01/2024 10h15", "2024-13-01 10:00", "2024-01-25 25:00", "",
                                  "31/02/2024 10:00", "2/12/2023 13:00 PM", "2/12/2023 3:61 PM"])
def test_malformed_times_are_named(text: str) -> None:
    with pytest.raises(InputError, match="malformed time"):
        parse_time(text)


def test_iso_local_shows_case_offset() -> None:
    assert iso_local(datetime(2024, 1, 25, 3, 15, tzinfo=UTC)) == "2024-01-25T10:15:00+07:00"


def test_other_case_zone() -> None:
    assert parse_time("2024-01-25 10:15", "UTC") == datetime(2024, 1, 25, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "order", "local"),
    [
        ("2/12/2023 3:52:27 PM", None, datetime(2023, 12, 2, 15, 52, 27)),  # as a Vietnamese DVR shows it
        ("2/12/2023 3:52:27 PM", "mdy", datetime(2023, 2, 12, 15, 52, 27)),
        ("02-12-2023 03:52", None, datetime(2023, 12, 2, 3, 52)),
        ("25/01/2024 10:15", None, datetime(2024, 1, 25, 10, 15)),
        ("2/12/2023 12:05:00 AM", None, datetime(2023, 12, 2, 0, 5)),
        ("2/12/2023 12:05:00 PM", None, datetime(2023, 12, 2, 12, 5)),
        ("2/12/2023 3:52:27 CH", None, datetime(2023, 12, 2, 15, 52, 27)),  # chiều
        ("2/12/2023 9:00 SA", None, datetime(2023, 12, 2, 9, 0)),  # sáng
        ("2023-12-02 3:52:27 p.m.", None, datetime(2023, 12, 2, 15, 52, 27)),
        ("2/12/2023", None, datetime(2023, 12, 2)),
    ],
)
def test_times_as_dvrs_and_people_write_them(text: str, order: str | None, local: datetime) -> None:
    expected = local.replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).astimezone(UTC)
    assert parse_time(text, "Asia/Ho_Chi_Minh", date_order=order) == expected


def test_a_date_that_reads_both_ways_is_refused_where_no_order_is_known() -> None:
    with pytest.raises(InputError, match="ambiguous date .*2 December or 12 February.*--date-order"):
        parse_time("2/12/2023 3:52:27 PM", "Europe/London")
    assert parse_time("2/12/2023 15:52", "Europe/London", date_order="dmy") == datetime(2023, 12, 2, 15, 52,
                                                                                         tzinfo=UTC)
    assert parse_time("25/12/2023 15:52", "Europe/London") == datetime(2023, 12, 25, 15, 52, tzinfo=UTC)
    with pytest.raises(InputError, match="no such date"):  # month first was said: 25 is no month
        parse_time("25/12/2023 15:52", "Europe/London", date_order="mdy")


def test_date_order_names() -> None:
    assert [check_date_order(v) for v in ("dmy", "MDY", "day-first", "DD/MM/YYYY", None)] == [
        "dmy", "mdy", "dmy", "dmy", None]
    with pytest.raises(InputError, match="unknown date order"):
        check_date_order("ymd")
