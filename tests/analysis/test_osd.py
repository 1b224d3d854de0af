"""On-screen clock: template parsing, and the 1 Hz tick pinning a clip's start on real OCR."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.analysis.osd import (
    OsdClock,
    RapidOsdOcr,
    parse_osd_text,
    pin_start,
    read_clip_osd,
    resolve_date_order,
)

TZ = "Asia/Ho_Chi_Minh"  # UTC+7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17/09/2007 12:04:31", datetime(2007, 9, 17, 12, 4, 31)),
        ("17/09/0712-04:31", datetime(2007, 9, 17, 12, 4, 31)),  # a highway DVR, glued by OCR
        ("2024-01-25 10:15:07", datetime(2024, 1, 25, 10, 15, 7)),
        ("25-01-24 10:15:07", datetime(2024, 1, 25, 10, 15, 7)),
        ("CAM 03  25/O1/2O24  1O:15:O7", datetime(2024, 1, 25, 10, 15, 7)),  # O read for 0
        ("10:15:07 25/01/2024", datetime(2024, 1, 25, 10, 15, 7)),  # time first
        ("01/25/2024 10:15:07", datetime(2024, 1, 25, 10, 15, 7)),  # month first, unambiguous
        ("2024.01.25 101507", datetime(2024, 1, 25, 10, 15, 7)),
        ("02/12/2023 03:52:27 PM", datetime(2023, 12, 2, 15, 52, 27)),  # 12-hour clock
        ("02/12/2023 03:52:27PM", datetime(2023, 12, 2, 15, 52, 27)),
        ("PM 03:52:27 02/12/2023", datetime(2023, 12, 2, 15, 52, 27)),
        ("02-12-2023 12:10:05 AM", datetime(2023, 12, 2, 0, 10, 5)),
        ("02/12/2023 03:52:27 CH", datetime(2023, 12, 2, 15, 52, 27)),  # chiều
        ("CH 01  02/12/2023 03:52:27", datetime(2023, 12, 2, 3, 52, 27)),  # a channel label, not PM
    ],
)
def test_parse_templates(text: str, expected: datetime) -> None:
    assert parse_osd_text(text) == expected


@pytest.mark.parametrize("text", ["", "CAM 03", "17/09/2007", "25/13/2024 10:15:07 x", "99:99:99"])
def test_parse_refuses_what_is_not_a_clock(text: str) -> None:
    assert parse_osd_text(text) is None


def test_date_order_reads_day_month_dates() -> None:
    assert parse_osd_text("02/12/2023 15:52:27", date_order="mdy") == datetime(2023, 2, 12, 15, 52, 27)
    assert parse_osd_text("25/12/2023 15:52:27", date_order="mdy") == datetime(2023, 12, 25, 15, 52, 27)
    assert parse_osd_text("02/12/2023 15:52:27", date_order=None) is None, "2/12 is not guessed"
    assert parse_osd_text("2023-02-12 15:52:27", date_order=None) == datetime(2023, 2, 12, 15, 52, 27)


def test_unknown_order_is_taken_from_the_recorded_start_or_refused() -> None:
    clock = OsdClock((0, 0, 10, 10), date(2023, 12, 2), "03:52:27 PM", "02/12/2023")
    near_feb = datetime(2023, 2, 12, 8, 0, tzinfo=UTC)
    resolved = resolve_date_order(clock, near_feb, TZ)
    assert resolved is not None and (resolved.date, resolved.date_order) == (date(2023, 2, 12), "mdy")
    assert resolve_date_order(clock, None, TZ) is None
    one_way = OsdClock((0, 0, 10, 10), date(2023, 12, 25), "03:52:27 PM", "25/12/2023")
    assert resolve_date_order(one_way, None, TZ) == one_way


def test_time_only_reads_take_the_known_date() -> None:
    assert parse_osd_text("10:15:07") is None
    assert parse_osd_text("10:15:07", default_date=date(2024, 1, 25)) == datetime(2024, 1, 25, 10, 15, 7)


def test_pin_start_votes_out_a_misread_second() -> None:
    start = datetime(2024, 1, 25, 10, 15, 7, 400000)
    readings = []
    for i in range(40):
        offset = i * 0.1
        shown = (start + timedelta(seconds=offset)).replace(microsecond=0)
        readings.append((offset, shown))
    readings.append((1.0, datetime(2024, 1, 25, 10, 15, 3)))  # OCR read 8 as 3
    pinned = pin_start(readings)
    assert pinned is not None
    value, precision, agreeing = pinned
    assert abs((value - start).total_seconds()) <= 0.1
    assert precision <= 0.1 + 1e-9 and agreeing == 40


def _clock_clip(path: Path, start: datetime, fmt: str, *, bottom: bool, fps: float = 25.0, secs: float = 5.0) -> Path:
    size = (1280, 720)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(int(secs * fps)):
        img = np.full((size[1], size[0], 3), 70, np.uint8)
        cv2.rectangle(img, (200 + 4 * i, 300), (420 + 4 * i, 480), (40, 40, 180), -1)
        if fmt:
            text = (start + timedelta(seconds=i / fps)).strftime(fmt)
            y = size[1] - 22 if bottom else 42
            cv2.putText(img, text, (24, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        out.write(img)
    out.release()
    return path


@pytest.fixture(scope="module")
def ocr() -> RapidOsdOcr:
    return RapidOsdOcr()


def test_tick_pins_the_start_and_reports_drift(ocr: RapidOsdOcr, tmp_path: Path) -> None:
    shown_start = datetime(2024, 1, 25, 10, 15, 7, 400000)  # local DVR time on screen
    clip = _clock_clip(tmp_path / "top.mp4", shown_start, "%d/%m/%Y %H:%M:%S", bottom=False)
    file_start = datetime(2024, 1, 25, 3, 14, 0, tzinfo=UTC)  # what the file's metadata said
    result = read_clip_osd(clip, ocr=ocr, tz=TZ, start_raw=file_start)
    assert result is not None
    expected = datetime(2024, 1, 25, 3, 15, 7, 400000, tzinfo=UTC)
    assert abs((result.start - expected).total_seconds()) <= 0.08  # two frames at 25 fps
    assert result.precision_s <= 0.1
    assert result.drift_s == pytest.approx(67.4, abs=0.08)
    assert result.agreeing >= 0.8 * result.readings


def test_bottom_clock_across_midnight(ocr: RapidOsdOcr, tmp_path: Path) -> None:
    shown_start = datetime(2024, 1, 25, 23, 59, 58, 700000)
    clip = _clock_clip(tmp_path / "bottom.mp4", shown_start, "%Y-%m-%d %H:%M:%S", bottom=True, secs=4)
    result = read_clip_osd(clip, ocr=ocr, tz=TZ)
    assert result is not None
    assert abs((result.start_local - shown_start).total_seconds()) <= 0.08
    assert result.drift_s is None


def test_clip_without_clock(ocr: RapidOsdOcr, tmp_path: Path) -> None:
    clip = _clock_clip(tmp_path / "plain.mp4", datetime(2024, 1, 1), "", bottom=False, secs=1)
    assert read_clip_osd(clip, ocr=ocr, tz=TZ) is None


def test_twelve_hour_clock_in_the_afternoon_is_not_twelve_hours_off(ocr: RapidOsdOcr, tmp_path: Path) -> None:
    shown_start = datetime(2023, 12, 2, 15, 52, 27, 400000)  # the screen shows 02/12/2023 03:52:27 PM
    clip = _clock_clip(tmp_path / "pm.mp4", shown_start, "%d/%m/%Y %I:%M:%S %p", bottom=False, secs=4)
    file_start = datetime(2023, 12, 2, 8, 52, 20, tzinfo=UTC)  # 15:52:20 local, from the file name
    result = read_clip_osd(clip, ocr=ocr, tz=TZ, start_raw=file_start)
    assert result is not None
    assert abs((result.start_local - shown_start).total_seconds()) <= 0.08
    assert result.drift_s == pytest.approx(7.4, abs=0.08)
