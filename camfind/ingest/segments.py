"""Segments: time ranges of one file that belong to different cameras.

A recording of a DVR viewer (a phone filming the monitor, a screen capture of the playback
software) switches between cameras mid-file. A segments file says which stretch is which camera;
each stretch becomes a clip of its own (its camera, its start time, its range of the file), and
the file is hashed once: every segment's clip carries the file's SHA-256.

Format: CSV, one segment per line, ``start_s,end_s,camera[,start]``: seconds into the file (or
``[H:]MM:SS[.fff]``), the camera id, and optionally the DVR time shown for that camera at
``start_s`` (else the file's start time plus ``start_s``). A header line naming the columns is
allowed, blank lines and lines starting with ``#`` are skipped. Segments may leave gaps but not
overlap.

>>> import io
>>> [s.camera_id for s in parse_segments(io.StringIO("0,95.5,CAM01\\n1:40,3:00,CAM02,2024-01-25 10:16:40\\n"))]
['CAM01', 'CAM02']
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from camfind.errors import ClipError, InputError
from camfind.timeutil import parse_time
from camfind.types import Camera, Clip

if TYPE_CHECKING:
    from camfind.ingest.starttime import StartTime

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$")
_COLUMNS = ("start_s", "end_s", "camera")


@dataclass(frozen=True)
class Segment:
    """One stretch of a file: ``[start_s, end_s)`` seconds into it, shot by ``camera_id``.

    ``start`` is the DVR time shown at ``start_s`` as written in the segments file (parsed
    against the case zone and the camera's date order when registered); None: the file's start
    plus ``start_s``.
    """

    start_s: float
    end_s: float
    camera_id: str
    start: str | None = None
    line: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s) and 0 <= self.start_s < self.end_s):
            raise ValueError(f"expected 0 <= start_s < end_s, got {self.start_s}-{self.end_s}")
        if not self.camera_id:
            raise ValueError("expected a camera id")


def read_segments(path: str | Path) -> list[Segment]:
    """Read a segments file (see the module docstring), sorted by start.

    Raises:
        InputError: unreadable, empty, a malformed line, or segments that overlap.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"segments file {p}: not readable ({exc})") from None
    return parse_segments(io.StringIO(text, newline=""), name=str(p))


def parse_segments(stream: TextIO, *, name: str = "segments") -> list[Segment]:
    """Segments from CSV text (see the module docstring), sorted by start."""
    out: list[Segment] = []
    for number, row in enumerate(csv.reader(stream, strict=True), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not out and cells[0].lower() in ("start_s", "start", "from"):
            continue  # a header line
        out.append(_segment(cells, number, name))
    if not out:
        raise InputError(f"{name}: no segments (expected lines start_s,end_s,camera[,start])")
    out.sort(key=lambda s: s.start_s)
    for before, after in zip(out, out[1:], strict=False):
        if after.start_s < before.end_s:
            raise InputError(f"{name}: the segments of lines {before.line} and {after.line} overlap "
                             f"({before.start_s:g}-{before.end_s:g} s and {after.start_s:g}-{after.end_s:g} s)")
    return out


def _segment(cells: list[str], number: int, name: str) -> Segment:
    where = f"{name} line {number}"
    if len(cells) < 3 or len(cells) > 4:
        raise InputError(f"{where}: expected start_s,end_s,camera[,start], got {len(cells)} columns")
    start_s, end_s = (_seconds(cells[i], where, _COLUMNS[i]) for i in (0, 1))
    if end_s <= start_s:
        raise InputError(f"{where}: the segment ends ({end_s:g} s) before it starts ({start_s:g} s)")
    if not cells[2] or "\x00" in cells[2]:
        raise InputError(f"{where}: expected a camera id in the third column")
    start = cells[3] if len(cells) == 4 and cells[3] else None
    return Segment(start_s, end_s, cells[2], start, number)


def _seconds(text: str, where: str, column: str) -> float:
    """Seconds from ``95.5`` or ``1:35.5`` / ``0:01:35``."""
    clock = _CLOCK.match(text)
    try:
        if clock is not None:
            hours, minutes, secs = int(clock[1] or 0), int(clock[2]), float(clock[3])
            if minutes >= 60 and clock[1] is not None or secs >= 60:
                raise ValueError(text)
            value = hours * 3600 + minutes * 60 + secs
        else:
            if not re.fullmatch(r"\d+(?:\.\d+)?", text):
                raise ValueError(text)
            value = float(text)
    except ValueError:
        raise InputError(f"{where}: {column} {text!r} is not a time into the file "
                         "(seconds such as 95.5, or [H:]MM:SS)") from None
    return value


def segment_clips(
    whole: Clip, segments: Sequence[Segment], cameras: Mapping[str, Camera], tz: str,
    file_start: Callable[[], StartTime], date_order: str | None,
) -> list[Clip]:
    """The clips of a file's segments, from ``whole`` (the file as one clip, times unset).

    Each segment gets its camera (and that camera's clock offset), its start (the time written
    for it, else the file's start plus its offset into the file), its length and its frames.

    Raises:
        ClipError: a segment lies past the end of the file.
        InputError: a segment's start time does not parse.
    """
    from camfind.ingest.starttime import camera_date_order

    frame_s = 1.0 / whole.fps if whole.fps > 0 else 0.0
    out = []
    for seg in segments:
        if seg.start_s >= whole.duration_s or seg.end_s > whole.duration_s + frame_s + 0.05:
            raise ClipError(f"{whole.path}: segment line {seg.line} ({seg.start_s:g}-{seg.end_s:g} s) lies past "
                            f"the end of the file ({whole.duration_s:.2f} s)")
        end = min(seg.end_s, whole.duration_s)
        cam = cameras[seg.camera_id]
        if seg.start is not None:
            try:
                raw = parse_time(seg.start, tz, date_order=date_order or camera_date_order(cam))
            except InputError as exc:
                raise InputError(f"segment line {seg.line}: {exc}") from None
            source = "sidecar"
        else:
            began = file_start()
            raw, source = began.raw + timedelta(seconds=seg.start_s), began.source
        out.append(replace(
            whole, camera_id=cam.id, start_raw=raw, start=raw - timedelta(seconds=cam.clock_offset_s),
            time_source=source, clock_offset_s=cam.clock_offset_s, duration_s=round(end - seg.start_s, 6),
            frames=max(1, round((end - seg.start_s) * whole.fps)) if whole.fps > 0 else whole.frames,
            segment_start_s=seg.start_s, segment_end_s=end,
        ))
    return out
