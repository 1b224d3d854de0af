"""Times: parse what users type, store UTC, show the case's local time.

Users type ISO 8601 or ``YYYY-MM-DD HH:MM[:SS]``; without an offset a time is local to the case
(default ``Asia/Ho_Chi_Minh``). The index stores UTC epoch seconds; JSON shows ISO 8601 with offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from camfind.errors import InputError

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
_SPACE_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")


def zone(name: str) -> tzinfo:
    """The time zone called ``name``; InputError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {name!r} (expected e.g. Asia/Ho_Chi_Minh)") from None


def parse_time(text: str, tz: str = DEFAULT_TZ) -> datetime:
    """Parse a user-supplied time; naive times are local to ``tz``. Returns aware UTC.

    >>> parse_time("2024-01-25 10:15").isoformat()
    '2024-01-25T03:15:00+00:00'
    >>> parse_time("2024-01-25T10:15:00+00:00").isoformat()
    '2024-01-25T10:15:00+00:00'
    """
    raw = text.strip()
    if not _SPACE_FORM.match(raw) and not re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
        raise InputError(f"malformed time {text!r}: expected ISO 8601 or 'YYYY-MM-DD HH:MM[:SS]'")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"malformed time {text!r}: expected ISO 8601 or 'YYYY-MM-DD HH:MM[:SS]'") from None
    try:
        return as_utc(value, tz)
    except OverflowError:  # 0001-01-01 00:00 local is before the first UTC instant Python can hold
        raise InputError(f"time {text!r} is out of range (years 0001-9999 in UTC)") from None


def as_utc(value: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """An aware UTC datetime; a naive ``value`` is taken as local time in ``tz``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return value.astimezone(UTC)


def to_ts(value: datetime) -> float:
    """UTC epoch seconds of an aware datetime (the index's time column type)."""
    if value.tzinfo is None:
        raise ValueError(f"expected an aware datetime, got naive {value!r}")
    return value.timestamp()


def from_ts(ts: float) -> datetime:
    """Aware UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(ts, tz=UTC)


def iso_local(value: datetime | None, tz: str = DEFAULT_TZ) -> str | None:
    """ISO 8601 with the case's offset, e.g. ``2024-01-25T10:15:00+07:00`` (None stays None)."""
    if value is None:
        return None
    return value.astimezone(zone(tz)).isoformat(timespec="milliseconds" if value.microsecond else "seconds")


def show_local(value: datetime | None, tz: str = DEFAULT_TZ) -> str:
    """Short local form for tables: ``2024-01-25 10:15:00``."""
    if value is None:
        return ""
    return value.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M:%S")
