"""Times: parse what users type, store UTC, show the case's local time.

Users type ISO 8601 or ``YYYY-MM-DD HH:MM[:SS]``; without an offset a time is local to the case
(default ``Asia/Ho_Chi_Minh``). The index stores UTC epoch seconds; JSON shows ISO 8601 with offset.

Times as a DVR shows them are accepted too: a 12-hour clock (``3:52:27 PM``; Vietnamese ``SA``
sáng / ``CH`` chiều) and dates written ``D/M/YYYY`` or ``D-M-YYYY``. Whether ``2/12/2023`` is
2 December or 12 February is the *date order* (:data:`DATE_ORDERS`): given explicitly (per run or
per camera), else the case zone's custom (day-first for Asia/Ho_Chi_Minh); where neither is known
a date that reads both ways is refused, never guessed.

>>> parse_time("2/12/2023 3:52:27 PM").isoformat()
'2023-12-02T08:52:27+00:00'
>>> parse_time("2/12/2023 15:52", "UTC", date_order="mdy").isoformat()
'2023-02-12T15:52:00+00:00'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from camfind.errors import InputError

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
_SPACE_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")
#: ``dmy``: day first (2/12/2023 is 2 December); ``mdy``: month first (12 February).
DATE_ORDERS: tuple[str, ...] = ("dmy", "mdy")
#: Case zones whose people and DVRs write the day first.
DAY_FIRST_ZONES = frozenset({"Asia/Ho_Chi_Minh", "Asia/Saigon"})
_CLOCK = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"
_MERIDIEM = r"(?P<ampm>[AaPp]\.?[Mm]\.?|SA|CH|sa|ch)"
_TWELVE_ISO = re.compile(rf"^(?P<date>\d{{4}}-\d{{2}}-\d{{2}})[ T]+{_CLOCK}\s*{_MERIDIEM}$")
_DAY_MONTH = re.compile(
    rf"^(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}})(?:[ T,]+{_CLOCK}(?:\s*{_MERIDIEM})?)?$"
)
_EXPECTED = "expected ISO 8601, 'YYYY-MM-DD HH:MM[:SS]' or 'DD/MM/YYYY HH:MM[:SS] [AM|PM]'"


def zone(name: str) -> tzinfo:
    """The time zone called ``name``; InputError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {name!r} (expected e.g. Asia/Ho_Chi_Minh)") from None


def parse_time(text: str, tz: str = DEFAULT_TZ, *, date_order: str | None = None) -> datetime:
    """Parse a user-supplied time; naive times are local to ``tz``. Returns aware UTC.

    ``date_order`` (``dmy`` or ``mdy``) says how to read ``D/M/YYYY``; None takes the case zone's
    custom (:func:`default_date_order`).

    >>> parse_time("2024-01-25 10:15").isoformat()
    '2024-01-25T03:15:00+00:00'
    >>> parse_time("2024-01-25T10:15:00+00:00").isoformat()
    '2024-01-25T10:15:00+00:00'

    Raises:
        InputError: malformed, out of range, or a date that reads both ways with no order known.
    """
    raw = text.strip()
    value = _dvr_form(raw, text, date_order if date_order is not None else default_date_order(tz))
    if value is None:
        if not _SPACE_FORM.match(raw) and not re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
            raise InputError(f"malformed time {text!r}: {_EXPECTED}")
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"malformed time {text!r}: {_EXPECTED}") from None
    try:
        return as_utc(value, tz)
    except OverflowError:  # 0001-01-01 00:00 local is before the first UTC instant Python can hold
        raise InputError(f"time {text!r} is out of range (years 0001-9999 in UTC)") from None


def default_date_order(tz: str) -> str | None:
    """The date order customary in the case zone (``dmy`` for Asia/Ho_Chi_Minh), None if unknown."""
    return "dmy" if tz in DAY_FIRST_ZONES else None


def check_date_order(value: str | None) -> str | None:
    """``value`` as one of :data:`DATE_ORDERS` (None stays None); InputError otherwise."""
    if value is None:
        return None
    order = value.strip().lower().replace("-", "").replace("/", "")
    aliases = {"dayfirst": "dmy", "ddmmyyyy": "dmy", "monthfirst": "mdy", "mmddyyyy": "mdy"}
    order = aliases.get(order, order)
    if order not in DATE_ORDERS:
        raise InputError(f"unknown date order {value!r}: expected dmy (day first) or mdy (month first)")
    return order


def twelve_hour(hour: int, marker: str | None) -> int | None:
    """The 24-hour hour of ``hour`` on a 12-hour clock with an AM/PM (SA/CH) ``marker``.

    None when the hour cannot be on such a clock; without a marker the hour is returned as is.

    >>> twelve_hour(3, "PM"), twelve_hour(12, "AM"), twelve_hour(12, "CH"), twelve_hour(15, None)
    (15, 0, 12, 15)
    """
    if marker is None:
        return hour if 0 <= hour < 24 else None
    if not 1 <= hour <= 12:
        return None
    after_noon = marker.replace(".", "").upper() in ("PM", "CH")
    return hour % 12 + (12 if after_noon else 0)


def _dvr_form(raw: str, text: str, order: str | None) -> datetime | None:
    """A time as a DVR or a person writes it (12-hour clock, D/M/YYYY), naive; None if not one."""
    twelve = _TWELVE_ISO.match(raw)
    if twelve is not None:
        day = _valid_date(text, *(int(x) for x in twelve["date"].split("-")))
        return _at(text, day, twelve)
    m = _DAY_MONTH.match(raw)
    if m is None:
        return None
    a, b, year = int(m["a"]), int(m["b"]), int(m["y"])
    if order is None and a != b and a <= 12 and b <= 12:
        raise InputError(f"ambiguous date in {text!r}: {a} {_MONTHS[b]} or {b} {_MONTHS[a]}? write it "
                         "YYYY-MM-DD, or give the date order (--date-order dmy: day first, mdy: month first)")
    if order is None:
        order = "dmy" if a > 12 or a == b else "mdy"
    dd, mm = (a, b) if order == "dmy" else (b, a)
    return _at(text, _valid_date(text, year, mm, dd), m if m["H"] is not None else None)


_MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _valid_date(text: str, year: int, month: int, day: int) -> datetime:
    try:
        return datetime(year, month, day)
    except ValueError:
        raise InputError(f"malformed time {text!r}: no such date (day {day}, month {month}, year {year})") from None


def _at(text: str, day: datetime, clock: re.Match[str] | None) -> datetime:
    if clock is None:
        return day
    hour = twelve_hour(int(clock["H"]), clock["ampm"])
    minute, second = int(clock["M"]), int(clock["S"] or 0)
    if hour is None or minute > 59 or second > 59:
        raise InputError(f"malformed time {text!r}: no such time of day")
    return day.replace(hour=hour, minute=minute, second=second)


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
