"""When a clip starts and which camera shot it: the rules, first that applies.

Start time (recorded as ``time_source``):

1. ``cli``: ``--start`` given on the command line;
2. ``sidecar``: ``<clip>.json`` (``video.mp4.json`` or ``video.json``) with ``start``, or a
   ``manifest.csv`` in the clip's folder with columns ``file,start[,camera_id]``;
3. ``filename``: Hikvision ``ch01_20240125101500``, Dahua ``2024-01-25.10.15.00-2024-01-25.10.20.00``,
   generic ``YYYYMMDD_HHMMSS`` / ``YYYYMMDDHHMMSS`` / ``YYYY-MM-DD_HH-MM-SS``;
4. ``container``: the container's creation time;
5. otherwise :class:`~camfind.errors.StartTimeError`, asking for ``--start``.

All of these are the DVR's clock (the *raw* time): typed and file-name times are local time of the
case time zone; container creation times are UTC, as the MP4/MKV specifications define them. The
corrected (true) start is ``raw - clock_offset_s`` of the camera.

Camera: ``--camera``, else the sidecar's ``camera_id``, else a rule: the file name starts with a
known camera id (``CAM03_20240125_101500.mp4``), or a folder above the clip (up to
:data:`FOLDER_LEVELS` levels) is named after one (``CAM03/ch01_20240125101500.mp4``).

>>> time_from_name("ch01_20240125101500.mp4", "Asia/Ho_Chi_Minh")
(datetime.datetime(2024, 1, 25, 3, 15, tzinfo=datetime.timezone.utc), 'hikvision')
>>> camera_from_path(Path("exports/CAM03/ch01_20240125101500.mp4"), {"CAM03", "CAM04"})
'CAM03'
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from camfind.errors import ClipError, InputError, StartTimeError
from camfind.timeutil import as_utc, check_date_order, parse_time
from camfind.types import Camera, Probe

logger = logging.getLogger(__name__)

FOLDER_LEVELS = 5
MANIFEST = "manifest.csv"
_ID_SEPARATORS = "_-. "

# (name, pattern): groups are year, month, day, hour, minute, second.
_NAME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("hikvision", re.compile(r"ch\d{1,3}_(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\d{3})?(?!\d)", re.I)),
    ("dahua", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})\.(\d{2})\.(\d{2})\.(\d{2})(?!\d)")),
    ("generic", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[_ T](\d{2})[-.:](\d{2})[-.:](\d{2})(?!\d)")),
    ("generic", re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})[_T-]?(\d{2})(\d{2})(\d{2})(?:\d{3})?(?!\d)")),
)


@dataclass(frozen=True)
class StartTime:
    """A clip's raw (DVR clock) start as aware UTC, where it came from, and how it was read."""

    raw: datetime
    source: str
    detail: str = ""


@dataclass(frozen=True)
class Sidecar:
    """What a sidecar file says about one clip."""

    path: Path
    start: str | None = None
    camera_id: str | None = None


def time_from_name(name: str, tz: str) -> tuple[datetime, str] | None:
    """The DVR start time written in a file name (local to ``tz``) as UTC, with the style matched."""
    stem = Path(name).name
    for style, pattern in _NAME_PATTERNS:
        for m in pattern.finditer(stem):
            y, mo, d, h, mi, s = (int(g) for g in m.groups())
            if not 1990 <= y <= 2100:
                continue
            try:
                local = datetime(y, mo, d, h, mi, s)
            except ValueError:
                continue
            return as_utc(local, tz), style
    return None


def camera_from_path(path: Path, known: Collection[str]) -> str | None:
    """A known camera id the file name starts with, else one a folder above it is named after.

    Matching ignores case when that is unambiguous; the longest id wins on the file name.
    """
    lookup = _id_lookup(known)
    stem = path.name.rsplit(".", 1)[0] if "." in path.name else path.name
    low = stem.lower()
    for cid in sorted(lookup, key=len, reverse=True):
        if low == cid or (low.startswith(cid) and low[len(cid)] in _ID_SEPARATORS):
            return lookup[cid]
    for parent in list(path.parents)[:FOLDER_LEVELS]:
        hit = lookup.get(parent.name.lower())
        if hit is not None:
            return hit
    return None


def _id_lookup(known: Collection[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    clash: set[str] = set()
    for cid in known:
        key = cid.lower()
        if key in out and out[key] != cid:
            clash.add(key)
        out[key] = cid
    for key in clash:  # ids that differ only in case must match exactly
        del out[key]
    for cid in known:
        out.setdefault(cid, cid)
    return out


def camera_date_order(camera: Camera) -> str | None:
    """The camera's ``date_order`` (``dmy``/``mdy``, a cameras-file column), None when not given.

    Raises:
        InputError: the column holds something else.
    """
    value = (camera.extra.get("date_order") or "").strip()
    try:
        return check_date_order(value) if value else None
    except InputError as exc:
        raise InputError(f"camera {camera.id}: {exc}") from None


class SidecarReader:
    """Finds a clip's sidecar: ``<clip>.json`` beside it, or its row of ``manifest.csv`` (cached)."""

    def __init__(self) -> None:
        self._manifests: dict[Path, dict[str, Sidecar]] = {}

    def find(self, clip: Path) -> Sidecar | None:
        """The clip's sidecar, or None. Raises ClipError for a sidecar that cannot be read."""
        for candidate in (clip.with_name(clip.name + ".json"), clip.with_suffix(".json")):
            if candidate.is_file() and candidate != clip:
                return _read_json_sidecar(candidate)
        manifest = self._manifest(clip.parent)
        return manifest.get(clip.name) or manifest.get(clip.name.lower())

    def _manifest(self, folder: Path) -> dict[str, Sidecar]:
        if folder not in self._manifests:
            path = folder / MANIFEST
            self._manifests[folder] = _read_manifest(path) if path.is_file() else {}
        return self._manifests[folder]


def _read_json_sidecar(path: Path) -> Sidecar:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClipError(f"sidecar {path}: not readable JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ClipError(f"sidecar {path}: expected a JSON object with 'start' and/or 'camera_id'")
    start = doc.get("start") or doc.get("start_time")
    camera = doc.get("camera_id") or doc.get("camera")
    return Sidecar(path, None if start is None else str(start), None if camera is None else str(camera))


def _read_manifest(path: Path) -> dict[str, Sidecar]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClipError(f"manifest {path}: not readable ({exc})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    file_col = next((fields[k] for k in ("file", "filename", "name", "path") if k in fields), None)
    if file_col is None:
        raise ClipError(f"manifest {path}: expected a 'file' column (and 'start' and/or 'camera_id')")
    start_col = next((fields[k] for k in ("start", "start_time") if k in fields), None)
    cam_col = next((fields[k] for k in ("camera_id", "camera") if k in fields), None)
    out: dict[str, Sidecar] = {}
    for row in reader:
        name = Path((row.get(file_col) or "").strip()).name
        if not name:
            continue
        start = (row.get(start_col) or "").strip() if start_col else ""
        cam = (row.get(cam_col) or "").strip() if cam_col else ""
        out[name] = out[name.lower()] = Sidecar(path, start or None, cam or None)
    return out


def resolve_start(
    clip: Path, tz: str, *, cli: datetime | None, sidecar: Sidecar | None, probe: Probe | None,
    date_order: str | None = None,
) -> StartTime:
    """The clip's raw start time by the first rule that applies (see the module docstring).

    ``date_order`` (``dmy``/``mdy``) reads a sidecar's ``D/M/YYYY`` start (None: the zone's custom).

    Raises:
        StartTimeError: no rule applies; the message asks for ``--start``.
        ClipError: a sidecar gives a start time that does not parse.
    """
    if cli is not None:
        return StartTime(cli, "cli", "--start")
    if sidecar is not None and sidecar.start:
        try:
            return StartTime(parse_time(sidecar.start, tz, date_order=date_order), "sidecar", str(sidecar.path))
        except InputError as exc:
            raise ClipError(f"{clip}: sidecar {sidecar.path}: {exc}") from None
    named = time_from_name(clip.name, tz)
    if named is not None:
        return StartTime(named[0], "filename", named[1])
    if probe is not None and probe.creation_time is not None:
        return StartTime(probe.creation_time.astimezone(UTC), "container", "creation_time")
    raise StartTimeError(
        f"{clip}: no start time (no sidecar, no time in the file name, no container creation time): "
        "pass --start 'YYYY-MM-DD HH:MM:SS' (the DVR's time)"
    )
