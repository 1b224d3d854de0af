"""Watchlist search: every hit of every plate pattern of a watchlist CSV, in one pass.

The watchlist has a header with a ``plate`` (or ``pattern``) column and optional ``label`` and
``note`` columns, or no header at all: rows of ``plate,label,note`` by position, recognised by a
first cell that is a plate pattern with a digit (see :func:`read_watchlist`).
All patterns are matched against the plate vocabulary in one scan, then one query fetches the
sightings of every matched plate.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "watch.csv"
>>> _ = p.write_text("plate,label\\n51F-123.45,stolen car\\n30A*,\\n")
>>> [(w.pattern.norm, w.label, w.row) for w in read_watchlist(p)]
[('51F12345', 'stolen car', 2), ('30A*', '', 3)]
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from camfind.csvsafe import SafeDictWriter
from camfind.errors import CamfindError, InputError
from camfind.search.plates import PlatePattern, match_many, parse_plate_pattern
from camfind.search.query import plate_sightings, plates_of_tracks
from camfind.types import Sighting
from camfind.vocab import normalize_plate

if TYPE_CHECKING:
    import pandas as pd

    from camfind.index import Index

logger = logging.getLogger(__name__)

PATTERN_COLUMNS = ("plate", "pattern", "plate_pattern", "plate pattern")
#: Every column a watchlist header may name (any case); other columns are ignored.
KNOWN_COLUMNS = (*PATTERN_COLUMNS, "label", "note")
#: The accepted forms, for error messages (and the command's help).
WATCHLIST_FORMS = ("expected a header row naming a plate column (plate or pattern; label and note optional), "
                   "or no header and rows of plate,label,note whose plates have digits")
#: ``time``, ``frame``, ``confidence`` and ``snapshot`` are the matching plate read's (the plate crop
#: as read); ``first_seen``/``end_time`` span the sighting, ``vehicle_snapshot`` shows the vehicle.
HIT_COLUMNS = ("watch", "label", "note", "plate", "distance", "camera_id", "time", "end_time", "confidence",
               "snapshot", "snapshot_sha256", "track_id", "clip_sha256", "clip_path", "frame", "first_seen",
               "vehicle_snapshot")


@dataclass(frozen=True)
class WatchEntry:
    """One watchlist row: the pattern, its label and note, and its row number in the file."""

    pattern: PlatePattern
    label: str = ""
    note: str = ""
    row: int = 0


@dataclass(frozen=True)
class BatchHit:
    """One sighting of a watched plate."""

    watch: WatchEntry
    plate: str
    distance: float
    sighting: Sighting


def read_watchlist(path: str | Path) -> list[WatchEntry]:
    """Read a watchlist CSV (rows numbered as a spreadsheet shows them).

    Blank rows and rows starting with ``#`` are skipped. The first other row is a header when it
    names a known column (:data:`KNOWN_COLUMNS`, any case): the patterns are then in its ``plate``
    (or ``pattern``) column, other columns are ignored. Otherwise, when its first cell is a plate
    pattern with a digit, the file has no header and is read as ``plate,label,note`` by position.

    Raises:
        InputError: unreadable file, a header without a plate column or with a column twice, a
            first row that is neither, a bad pattern (naming file and row).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read watchlist {p}: {exc}") from None
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text)), start=1)
            if any(cell.strip() for cell in row) and not row[0].strip().startswith("#")]
    if not rows:
        raise InputError(f"watchlist {p} is empty")
    col, label_col, note_col, skip = _layout(p, *rows[0])
    entries = []
    for n, row in rows[skip:]:
        cell = row[col].strip() if col < len(row) else ""
        if not cell or cell.startswith("#"):
            continue
        try:
            pattern = parse_plate_pattern(cell)
        except CamfindError as exc:
            raise InputError(f"{p} row {n}: {exc}") from None
        entries.append(WatchEntry(pattern, _cell(row, label_col), _cell(row, note_col), n))
    if not entries:
        raise InputError(f"watchlist {p} has no plate patterns (expected a 'plate' column)")
    return entries


def _layout(p: Path, n: int, first: Sequence[str]) -> tuple[int, int | None, int | None, int]:
    """Where the plate, label and note columns are, and how many rows the header takes (0 or 1)."""
    names = [cell.strip().lower() for cell in first]
    if not any(name in KNOWN_COLUMNS for name in names):
        if _is_plate_pattern(first[0]):
            return 0, 1, 2, 0
        raise InputError(f"watchlist {p} row {n}: {first[0].strip()!r} is neither a column name nor a plate "
                         f"pattern: {WATCHLIST_FORMS}")
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise InputError(f"watchlist {p} row {n}: column {', '.join(twice)} appears more than once")
    plate_cols = [name for name in names if name in PATTERN_COLUMNS]
    if len(plate_cols) != 1:
        found = ", ".join(plate_cols) or "none (columns: " + ", ".join(filter(None, names)) + ")"
        raise InputError(f"watchlist {p} row {n}: expected one plate column, found {found}: {WATCHLIST_FORMS}")
    label_col = names.index("label") if "label" in names else None
    note_col = names.index("note") if "note" in names else None
    return names.index(plate_cols[0]), label_col, note_col, 1


def _is_plate_pattern(cell: str) -> bool:
    """A first cell that reads as a plate pattern with a digit (every VN plate has some)."""
    try:
        pattern = parse_plate_pattern(cell)
    except CamfindError:
        return False
    return any(ch.isdigit() for ch in pattern.norm)


def _cell(row: Sequence[str], col: int | None) -> str:
    return row[col].strip() if col is not None and col < len(row) else ""


def batch_search(
    index: Index, entries: Sequence[WatchEntry], time_from: datetime | None = None, time_to: datetime | None = None
) -> list[BatchHit]:
    """Every hit of every watchlist entry, by time then watchlist order."""
    matched = match_many(index, [e.pattern for e in entries])
    by_plate: dict[str, list[tuple[int, float]]] = {}
    for i, found in enumerate(matched):
        for norm, dist in found.items():
            by_plate.setdefault(norm, []).append((i, dist))
    sightings = list(plate_sightings(index, by_plate, time_from, time_to))
    carried = plates_of_tracks(index, [s.track_id for s in sightings if s.track_id])
    hits = []
    for s in sightings:
        norms = carried.get(s.track_id, set()) if s.track_id else {normalize_plate(s.plate or "")}
        best: dict[int, tuple[float, str]] = {}
        for norm in norms:
            for i, dist in by_plate.get(norm, []):
                if i not in best or dist < best[i][0]:
                    best[i] = (dist, norm)
        for i in sorted(best):
            dist, norm = best[i]
            shown = s.plate if s.plate and normalize_plate(s.plate) == norm else norm
            hits.append(BatchHit(entries[i], shown, dist, s))
    for i, e in enumerate(entries):
        logger.info("watch %s (row %d): %d plate texts matched", e.pattern.text, e.row, len(matched[i]))
    return hits


def hit_record(hit: BatchHit, tz: str) -> dict[str, Any]:
    """One hit as a flat record (the JSON object and the CSV row)."""
    from camfind.timeutil import iso_local

    s = hit.sighting
    read = s.plate_time is not None and normalize_plate(s.plate or "") == normalize_plate(hit.plate)
    conf = s.plate_confidence if s.plate_confidence is not None and read else s.confidence
    return {
        "watch": hit.watch.pattern.text, "label": hit.watch.label, "note": hit.watch.note, "plate": hit.plate,
        "distance": hit.distance, "camera_id": s.camera_id,
        "time": iso_local(s.plate_time if read and s.plate_time else s.time, tz),
        "end_time": iso_local(s.end_time, tz), "confidence": round(float(conf), 3),
        "snapshot": (s.plate_snapshot if read else None) or s.snapshot,
        "snapshot_sha256": (s.plate_snapshot_sha256 if read else None) or s.snapshot_sha256,
        "track_id": s.track_id or None, "clip_sha256": s.clip_sha256, "clip_path": s.clip_path,
        "frame": s.plate_frame if read and s.plate_frame is not None else s.frame,
        "first_seen": iso_local(s.time, tz), "vehicle_snapshot": s.snapshot,
    }


def write_hits_csv(hits: Sequence[BatchHit], tz: str, out: IO[str]) -> int:
    """Write the hits as CSV (:data:`HIT_COLUMNS`) to ``out``, text cells neutralised for
    spreadsheets (see :mod:`camfind.csvsafe`). Returns the number of rows."""
    writer = SafeDictWriter(out, fieldnames=list(HIT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for hit in hits:
        writer.writerow(hit_record(hit, tz))
    return len(hits)


def hits_frame(hits: Sequence[BatchHit], tz: str) -> pd.DataFrame:
    """The hits as a pandas DataFrame with :data:`HIT_COLUMNS`."""
    import pandas as pd

    return pd.DataFrame([hit_record(h, tz) for h in hits], columns=list(HIT_COLUMNS))


def summary(entries: Sequence[WatchEntry], hits: Sequence[BatchHit]) -> str:
    """One line: entries, entries hit, hits, cameras."""
    hit_rows = {h.watch.row for h in hits}
    cams = {h.sighting.camera_id for h in hits}
    return (f"{len(entries)} watchlist entries, {len(hit_rows)} with hits, {len(hits)} hits "
            f"at {len(cams)} camera(s)")
