"""On-screen date/time (OSD): read the clock a DVR burns into the picture, pin the clip's start.

1. Locate: OCR with text detection (rapidocr) on the top and bottom bands of the first frames;
   the text box that parses as a time is the clock (a date next to it is read once).
2. Tick: the clock shows whole seconds, so a reading ``t`` at clip offset ``o`` says the OSD
   time at offset 0 lies in ``[t - o, t - o + 1)``. Reading only the clock box (recognition,
   no detection) every few frames, and bisecting the buffered frames around each change of the
   second, pins that start to one frame. Readings are voted, so a misread second is outvoted.
3. Drift: the OSD start (DVR wall time in the case time zone) minus the clip's recorded
   ``start_raw`` (file/container time). :meth:`Writer.set_clip_osd` records it.

Partial and glued reads are parsed against date/time templates (``dd/mm/yyyy``,
``yyyy-mm-dd``, ``dd-mm-yy``, each with ``hh:mm:ss``), after mapping OCR confusions (O->0,
I->1, S->5, B->8):

    >>> parse_osd_text("17/09/0712-04:31")
    datetime.datetime(2007, 9, 17, 12, 4, 31)
    >>> parse_osd_text("2024-01-25 10:15:07")
    datetime.datetime(2024, 1, 25, 10, 15, 7)
    >>> parse_osd_text("10:15:07", default_date=date(2024, 1, 25))
    datetime.datetime(2024, 1, 25, 10, 15, 7)
"""

from __future__ import annotations

import logging
import os
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import numpy as np

from camfind.analysis.frames import container_fps, iter_frames
from camfind.timeutil import as_utc, default_date_order, twelve_hour, zone
from camfind.types import Box

if TYPE_CHECKING:
    from camfind.recognition.ocr import OcrBackend

log = logging.getLogger(__name__)

_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1",
                             "i": "1", "!": "1", "Z": "2", "z": "2", "S": "5", "s": "5",
                             "B": "8", "G": "6", "g": "9"})
_SEP = r"\s*[/\-.]\s*"
_DATE_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("yyyy-mm-dd", rf"(?<!\d)(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})"),
    ("dd/mm/yyyy", rf"(?<!\d)(?P<d>\d{{1,2}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<y>\d{{4}})"),
    ("dd-mm-yy", rf"(?<!\d)(?P<d>\d{{1,2}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<y>\d{{2}})"),
)
_TIME_TEMPLATES: tuple[str, ...] = (
    r"(?<!\d)(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})\s*:\s*(?P<S>\d{2})(?!\d)",
    r"(?P<H>\d{2})\s*[:\-.]?\s*(?P<M>\d{2})\s*[:\-.]?\s*(?P<S>\d{2})(?!\d)",
)


def _date_from(match: re.Match[str], order: str | None, day_month: bool) -> date | None:
    """The date a template matched; a day/month one read in ``order`` (``dmy``/``mdy``; None:
    only if it cannot be taken both ways)."""
    y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
    y = y + 2000 if y < 100 else y
    if day_month and order == "mdy":
        m, d = d, m
    if day_month and order is None and m != d and m <= 12 and d <= 12:
        return None  # 2/12: 2 December or 12 February, and no order known
    if m > 12 >= d:  # impossible as read: mm/dd written the other way
        m, d = d, m
    if not 1990 <= y <= 2099:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _find_date(text: str, order: str | None = "dmy") -> tuple[date, str] | None:
    """The first valid date in ``text`` and the text left when it is cut out."""
    for name, pattern in _DATE_TEMPLATES:
        for match in re.finditer(pattern, text):
            found = _date_from(match, order, name != "yyyy-mm-dd")
            if found is not None:
                return found, text[: match.start()] + " " + text[match.end():]
    return None


def _find_time(text: str) -> tuple[int, int, int] | None:
    for pattern in _TIME_TEMPLATES:
        for match in re.finditer(pattern, text):
            h, m, s = int(match["H"]), int(match["M"]), int(match["S"])
            if h < 24 and m < 60 and s < 60:
                return h, m, s
    return None


#: A 12-hour clock's marker right after the seconds (``03:52:27 PM``, Vietnamese ``SA``/``CH``)
#: or an AM/PM just before the hour (``PM 03:52:27``).
_MERIDIEM_AFTER = re.compile(r"(?<=\d)\s*(?P<m>[AaPp]\.?[Mm]\.?|SA|CH|[Ss]a|[Cc]h)(?![A-Za-z0-9])")
_MERIDIEM_BEFORE = re.compile(r"(?<![A-Za-z0-9])(?P<m>[AaPp]\.?[Mm]\.?)\s*(?=\d{1,2}\s*:)")


def _meridiem(text: str) -> tuple[str | None, str]:
    """The AM/PM marker of a 12-hour clock in ``text`` (None if none), and the text without it."""
    for pattern in (_MERIDIEM_AFTER, _MERIDIEM_BEFORE):
        match = pattern.search(text)
        if match is not None:
            return match["m"], text[: match.start()] + " " + text[match.end():]
    return None, text


def parse_osd_text(text: str, *, default_date: date | None = None, date_order: str | None = "dmy") -> datetime | None:
    """A naive DVR wall time from OCR text, or None when no time is in it.

    A read without a date takes ``default_date`` (None if that is missing too). A 12-hour clock
    (``03:52:27 PM``, ``SA``/``CH``) is read as such. ``date_order`` (``dmy``/``mdy``) reads a
    ``D/M`` date; None reads only dates that cannot be taken both ways.

    >>> parse_osd_text("02/12/2023 03:52:27 PM")
    datetime.datetime(2023, 12, 2, 15, 52, 27)
    """
    marker, rest_text = _meridiem(text)
    clean = rest_text.translate(_CONFUSIONS)
    found = _find_date(clean, date_order)
    rest = clean if found is None else found[1]
    hms = _find_time(rest)
    if hms is None:
        return None
    hour = twelve_hour(hms[0], marker)
    day = found[0] if found is not None else default_date
    if day is None or hour is None:
        return None
    return datetime(day.year, day.month, day.day, hour, hms[1], hms[2])


def parse_osd_date(text: str, date_order: str | None = "dmy") -> date | None:
    """The date in OCR text, if any."""
    found = _find_date(_meridiem(text)[1].translate(_CONFUSIONS), date_order)
    return None if found is None else found[0]


class OsdOcr(Protocol):
    """What the OSD reader needs from an OCR engine."""

    def detect(self, image: np.ndarray) -> list[tuple[Box, str, float]]:
        """Text boxes with their text and confidence."""
        ...

    def recognize(self, image: np.ndarray) -> tuple[str, float]:
        """The text of one line image (no detection)."""
        ...


#: What an on-screen clock may show: digits, separators, AM/PM (SA/CH in Vietnamese), weekdays.
CLOCK_CHARSET = "0123456789:/-.ABCDEFGHIJKLMNOPQRSTUVWXYZ "


class RapidOsdOcr:
    """On-screen clocks read with camfind's one OCR interface (:mod:`camfind.recognition.ocr`, the
    PP-OCRv4 models the plate reader uses), with a clock's alphabet instead of a plate's."""

    name = "rapidocr"

    def __init__(self, backend: OcrBackend | None = None) -> None:
        from camfind.recognition.ocr import load_backend  # heavy: loaded only when OSD is asked for

        self._ocr = backend or load_backend("rapidocr")
        import rapidocr_onnxruntime

        self.version = getattr(rapidocr_onnxruntime, "__version__", "1.4.4")

    def detect(self, image: np.ndarray) -> list[tuple[Box, str, float]]:
        boxes = self._ocr.detect(image, max_side=min(1280, max(image.shape[:2])))
        if not boxes:
            return []
        lines = [image[int(b[1]):int(np.ceil(b[3])), int(b[0]):int(np.ceil(b[2]))] for b in boxes]
        reads = self._ocr.recognize(lines, charset=CLOCK_CHARSET)
        return [(b, r.text.strip(), r.confidence) for b, r in zip(boxes, reads, strict=True)]

    def recognize(self, image: np.ndarray) -> tuple[str, float]:
        [read] = self._ocr.recognize([image], charset=CLOCK_CHARSET)
        return read.text.strip(), read.confidence


@dataclass(frozen=True)
class OsdClock:
    """Where the clock is in the picture and the date read next to it."""

    box: tuple[int, int, int, int]
    date: date | None
    text: str
    date_text: str = ""  # the OCR text the date was read from
    date_order: str = "dmy"  # how its D/M date reads


@dataclass(frozen=True)
class OsdResult:
    """What the on-screen clock says about a clip."""

    start: datetime  # OSD time at clip offset 0, aware UTC (DVR wall time in the case zone)
    start_local: datetime  # the same, naive DVR wall time
    precision_s: float  # width of the interval the tick pins the start to
    readings: int
    agreeing: int
    text: str  # one raw OCR read, for the record
    drift_s: float | None = None  # start minus the clip's start_raw


def locate_clock(image: np.ndarray, ocr: OsdOcr, band: float = 0.16, date_order: str = "dmy") -> OsdClock | None:
    """Find the burned-in clock in the top or bottom band of a frame."""
    h, w = image.shape[:2]
    bh = max(24, int(h * band))
    for y0 in (0, h - bh):
        boxes = ocr.detect(image[y0 : y0 + bh])
        boxes.sort(key=lambda b: b[0][0])
        dated = next(((d, t) for d, t in ((parse_osd_date(t, date_order), t) for _, t, _ in boxes) if d), None)
        day, date_text = dated if dated is not None else (None, "")
        for box, text, _score in boxes:
            if parse_osd_text(text, default_date=day or date(2000, 1, 1), date_order=date_order) is None:
                continue
            pad = max(4, int(0.25 * (box[3] - box[1])))
            x1, x2 = max(0, int(box[0]) - pad), min(w, int(box[2]) + pad)
            y1, y2 = max(0, int(box[1]) + y0 - pad), min(h, int(box[3]) + y0 + pad)
            return OsdClock((x1, y1, x2, y2), day, text, date_text, date_order)
    return None


def resolve_date_order(clock: OsdClock, start_raw: datetime | None, tz: str) -> OsdClock | None:
    """The clock with its date read the way that fits, where the order is not known.

    A date that reads only one way is read so; one that reads both ways (2/12) takes the order
    whose date is nearer the clip's recorded start; without one it is refused (None), not guessed.
    """
    if not clock.date_text:
        return clock
    dmy, mdy = parse_osd_date(clock.date_text, "dmy"), parse_osd_date(clock.date_text, "mdy")
    if dmy == mdy:
        return clock
    if start_raw is None or dmy is None or mdy is None:
        return None
    near = start_raw.astimezone(zone(tz)).date()
    gap_dmy, gap_mdy = abs((dmy - near).days), abs((mdy - near).days)
    if gap_dmy == gap_mdy:
        return None
    order, day = ("dmy", dmy) if gap_dmy < gap_mdy else ("mdy", mdy)
    return replace(clock, date=day, date_order=order)


def pin_start(readings: list[tuple[float, datetime]]) -> tuple[datetime, float, int] | None:
    """The OSD time at offset 0 from (offset_s, shown time) readings: start, precision, agreeing.

    Each reading bounds the start to ``[t - o, t - o + 1)``; the point inside most intervals wins
    and the agreeing intervals are intersected.
    """
    if not readings:
        return None
    ref = readings[0][1]
    lows = sorted(((t - ref).total_seconds() - o) for o, t in readings)
    best_lo, best_n = lows[0], 0
    for lo in lows:  # the most-covered point lies at some interval's start
        n = sum(1 for x in lows if x <= lo < x + 1.0)
        if n > best_n:
            best_lo, best_n = lo, n
    agree = [x for x in lows if x <= best_lo < x + 1.0]
    lo, hi = max(agree), min(agree) + 1.0
    return ref + timedelta(seconds=(lo + hi) / 2.0), hi - lo, len(agree)


def _read(ocr: OsdOcr, crop: np.ndarray, day: date | None, order: str = "dmy") -> datetime | None:
    """The time shown in a clock crop (recognition only)."""
    text, _conf = ocr.recognize(crop)
    return parse_osd_text(text, default_date=day, date_order=order)


def _tick_readings(
    frames: Iterator[tuple[float, np.ndarray]], ocr: OsdOcr, clock: OsdClock, every: int, ticks: int
) -> list[tuple[float, datetime]]:
    """Read every ``every``-th frame; bisect the buffered frames where the second changes."""
    readings: list[tuple[float, datetime]] = []
    buffer: deque[tuple[float, np.ndarray]] = deque(maxlen=every)
    last: datetime | None = None
    changes = 0
    x1, y1, x2, y2 = clock.box
    for n, (offset, image) in enumerate(frames):
        crop = image[y1:y2, x1:x2]
        if n % every:
            buffer.append((offset, crop.copy()))
            continue
        shown = _read(ocr, crop, clock.date, clock.date_order)
        if shown is None:
            continue
        if last is not None and shown != last and buffer:
            readings.extend(_bisect(list(buffer), ocr, clock, last))
            changes += 1
        readings.append((offset, shown))
        last = shown
        buffer.clear()
        if changes >= ticks:
            break
    return readings


def _bisect(
    crops: list[tuple[float, np.ndarray]], ocr: OsdOcr, clock: OsdClock, before: datetime
) -> list[tuple[float, datetime]]:
    """Read buffered clock crops (after a reading of ``before``), halving towards the change."""
    out: list[tuple[float, datetime]] = []
    lo, hi = 0, len(crops)
    while lo < hi:
        mid = (lo + hi) // 2
        shown = _read(ocr, crops[mid][1], clock.date, clock.date_order)
        if shown is None:
            break
        out.append((crops[mid][0], shown))
        if shown == before:
            lo = mid + 1
        else:
            hi = mid
    return out


def _locate(
    frames: Iterator[tuple[float, np.ndarray]], ocr: OsdOcr, tries_s: tuple[float, ...], order: str
) -> tuple[OsdClock, float] | None:
    """Try to find the clock at the given offsets; returns it, the offset and its first reading."""
    pending = list(tries_s)
    for offset, image in frames:
        if not pending:
            return None
        if offset + 1e-9 < pending[0]:
            continue
        pending.pop(0)
        clock = locate_clock(image, ocr, date_order=order)
        if clock is not None:
            return clock, offset
    return None


def read_clip_osd(
    path: str | os.PathLike[str],
    *,
    ocr: OsdOcr,
    tz: str,
    fps_override: float | None = None,
    start_raw: datetime | None = None,
    window_s: float = 8.0,
    ticks: int = 3,
    date_order: str | None = None,
    start_s: float = 0.0,
) -> OsdResult | None:
    """Read a clip's on-screen clock and pin the OSD time at its first frame (None: no clock).

    Args:
        path: The clip.
        ocr: The OCR engine (:class:`RapidOsdOcr`).
        tz: The case time zone: DVR clocks show local wall time.
        fps_override: The clip's true frame rate where the header is wrong.
        start_raw: The clip's recorded (file) start; gives the date when the OSD shows none,
            and the drift.
        window_s: Seconds of video read at most.
        ticks: Changes of the second to pin before stopping early.
        date_order: How the OSD writes D/M dates (``dmy``/``mdy``); None: the case zone's custom,
            else the order that fits the recorded start (:func:`resolve_date_order`).
        start_s: Where the clip begins in its file (a segment); offsets are from there.
    """
    frames = iter_frames(path, rate_fps=None, fps_override=fps_override, start_s=start_s)
    decoded = ((f.offset_s, f.image) for f in frames)
    order = date_order or default_date_order(tz)
    found = _locate(decoded, ocr, (0.0, 1.0, 2.0, 3.0), order or "dmy")
    if found is None:
        log.info("%s: no on-screen clock found", path)
        return None
    clock, at = found
    resolved = clock if order is not None else resolve_date_order(clock, start_raw, tz)
    if resolved is None:
        log.warning("%s: the on-screen date %r reads both as day/month and month/day: give the camera's "
                    "date_order (dmy or mdy)", path, clock.date_text)
        return None
    clock = resolved
    if clock.date is None and start_raw is not None:
        clock = replace(clock, date=start_raw.astimezone(zone(tz)).date())
    first = parse_osd_text(clock.text, default_date=clock.date, date_order=clock.date_order)
    fps = fps_override or container_fps(path) or 25.0
    every = max(1, int(round(fps / 5.0)))
    window = ((o, im) for o, im in decoded if o <= at + window_s)
    readings = ([(at, first)] if first is not None else []) + _tick_readings(window, ocr, clock, every, ticks)
    pinned = pin_start(readings)
    if pinned is None:
        return None
    local, precision, agreeing = pinned
    start = as_utc(local, tz)
    drift = None if start_raw is None else (start - start_raw).total_seconds()
    return OsdResult(start, local, precision, len(readings), agreeing, clock.text, drift)
