"""Sightings as the index selects them: tracks, plate reads and faces matching a typed filter.

:mod:`camfind.search.query` resolves what a user asked (camera names and places, plate patterns,
face probes) into a :class:`SightingFilter`; the statements that select and join the rows live
here, written once for both backends (:mod:`camfind.index.sql`). A sighting's plate is the plate
read behind it: for a plate search the most confident read a matched text gave (never the track's
other plate), else the most confident read of the track's voted plate; its time, frame, snapshot
and confidence are that read's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from camfind.geo import compass_word
from camfind.index.sql import in_list, named_rows
from camfind.timeutil import from_ts
from camfind.types import Sighting
from camfind.vocab import DIRECTION_TOLERANCE_DEG, TRUSTED_UNCERTAINTY_S

if TYPE_CHECKING:
    from camfind.index import Index


@dataclass(frozen=True)
class SightingFilter:
    """What to select; every field combines with AND, None (or empty) means no condition.

    Times are UTC epoch seconds of corrected time (a sighting overlapping the window matches);
    ``plates`` are normalised plate texts (what a pattern matched in the vocabulary), matched on
    valid reads unless ``raw_plates``; ``tracks`` restricts to those track ids.
    """

    time_from: float | None = None
    time_to: float | None = None
    cameras: tuple[str, ...] | None = None
    classes: tuple[str, ...] = ()
    color: str | None = None
    direction_deg: float | None = None
    direction_tolerance_deg: float = DIRECTION_TOLERANCE_DEG
    plates: tuple[str, ...] | None = None
    raw_plates: bool = False
    tracks: tuple[int, ...] | None = None


def face_ids_within(index: Index, f: SightingFilter) -> np.ndarray:
    """Ids of the faces inside ``f``'s time window and cameras."""
    where, params = _window(index, "ts", f, "camera_id")
    rows = index.db.execute(f"SELECT id FROM face_sightings WHERE {where} ORDER BY id", params)
    return np.fromiter((r[0] for r in rows), dtype=np.int64)


def face_tracks(index: Index, face_ids: Sequence[int]) -> list[tuple[int, int | None]]:
    """``(face id, its track id or None)`` for these faces."""
    cond, param = in_list(index.dialect, "id", [int(i) for i in face_ids])
    return [(int(r[0]), None if r[1] is None else int(r[1]))
            for r in index.db.execute(f"SELECT id, track_id FROM face_sightings WHERE {cond}", (param,))]


def plates_of_tracks(index: Index, track_ids: Sequence[int]) -> dict[int, set[str]]:
    """The normalised plate texts each track carries (its own and its valid reads')."""
    ids = sorted({int(t) for t in track_ids})
    tracks, ids_param = in_list(index.dialect, "id", ids)
    reads, _ = in_list(index.dialect, "track_id", ids)
    rows = index.db.execute(
        f"SELECT id, plate_norm FROM tracks WHERE plate_norm IS NOT NULL AND {tracks} "
        f"UNION SELECT track_id, norm FROM plate_reads WHERE valid = 1 AND {reads}",
        (ids_param, ids_param),
    )
    out: dict[int, set[str]] = {}
    for tid, norm in rows:
        out.setdefault(int(tid), set()).add(str(norm))
    return out


def _window(
    index: Index, col: str, f: SightingFilter, cam_col: str, end_col: str | None = None
) -> tuple[str, list[Any]]:
    conds: list[str] = ["TRUE"]
    params: list[Any] = []
    if f.time_to is not None:
        conds.append(f"{col} <= ?")
        params.append(f.time_to)
    if f.time_from is not None:
        conds.append(f"{end_col or col} >= ?")
        params.append(f.time_from)
    if f.cameras is not None:
        cond, param = in_list(index.dialect, cam_col, f.cameras)
        conds.append(cond)
        params.append(param)
    return " AND ".join(conds), params


#: A sighting's clock uncertainty: its camera's, or a trusted clock's when none is recorded.
_CLOCK_UNCERTAINTY = f"COALESCE(k.clock_uncertainty_s, CASE WHEN k.clock_trusted = 1 THEN {TRUSTED_UNCERTAINTY_S} END)"
# A sighting's plate is the plate read behind it: for a plate search the most confident read the
# pattern matched (never the track's other plate), else the most confident read of the track's
# voted plate; its time, frame, snapshot and confidence are that read's.
_TRACK_SQL = """
SELECT t.id AS track_id, t.camera_id, t.first_ts, t.last_ts, t.cls, t.color, t.direction, t.direction_deg,
       {plate} AS plate, t.confidence, t.clip_id, c.sha256 AS clip_sha256, c.path AS clip_path,
       COALESCE(t.best_frame, t.first_frame) AS frame, s.path AS snapshot, s.sha256 AS snapshot_sha256,
       COALESCE(pr.confidence, t.plate_confidence) AS plate_confidence, pr.ts AS plate_ts,
       pr.frame AS plate_frame, ps.path AS plate_snapshot, ps.sha256 AS plate_snapshot_sha256,
       c.clock_offset_s, {clock_uncertainty} AS clock_uncertainty_s
FROM tracks t JOIN clips c ON c.id = t.clip_id LEFT JOIN snapshots s ON s.id = t.snapshot_id
     JOIN cameras k ON k.id = c.camera_id
LEFT JOIN plate_reads pr ON pr.id = (
    SELECT p.id FROM plate_reads p WHERE p.track_id = t.id AND {read} ORDER BY p.confidence DESC, p.id LIMIT 1)
LEFT JOIN snapshots ps ON ps.id = pr.snapshot_id
WHERE {where}
ORDER BY t.first_ts, t.camera_id, t.id
"""


def track_sightings(
    index: Index, f: SightingFilter, face_distance: Mapping[int, float | None] | None = None
) -> Iterator[Sighting]:
    """The tracks matching ``f`` as sightings, in time order, streamed; ``face_distance`` gives each
    track's distance to a face probe (when a face chose it)."""
    where, params = _track_conditions(index, f)
    if f.plates is not None:
        valid = "" if f.raw_plates else " AND p.valid = 1"
        read, plates = in_list(index.dialect, "p.norm", f.plates)
        sql = _TRACK_SQL.format(plate="COALESCE(pr.text, t.plate_text)", where=where,
                                clock_uncertainty=_CLOCK_UNCERTAINTY, read=f"{read}{valid}")
        params = [plates, *params]
    else:
        sql = _TRACK_SQL.format(plate="t.plate_text", where=where, clock_uncertainty=_CLOCK_UNCERTAINTY,
                                read="p.norm = t.plate_norm AND p.valid = 1")
    tracks = face_distance or {}
    for r in named_rows(index.db.execute(sql, params)):
        track_id = int(r["track_id"])
        yield Sighting(
            camera_id=r["camera_id"], time=from_ts(r["first_ts"]), end_time=from_ts(r["last_ts"]), cls=r["cls"],
            color=r["color"], direction=r["direction"] or _compass_word(r["direction_deg"]),
            direction_deg=r["direction_deg"], plate=r["plate"], confidence=float(r["confidence"]),
            track_id=track_id, clip_id=int(r["clip_id"]), clip_sha256=r["clip_sha256"], clip_path=r["clip_path"],
            frame=int(r["frame"]), snapshot=r["snapshot"], snapshot_sha256=r["snapshot_sha256"],
            face_distance=tracks.get(track_id), plate_confidence=r["plate_confidence"],
            plate_time=None if r["plate_ts"] is None else from_ts(r["plate_ts"]), plate_frame=r["plate_frame"],
            plate_snapshot=r["plate_snapshot"], plate_snapshot_sha256=r["plate_snapshot_sha256"],
            clock_offset_s=r["clock_offset_s"], clock_uncertainty_s=r["clock_uncertainty_s"],
        )


def _compass_word(deg: float | None) -> str | None:
    """The compass word of a heading (None for None)."""
    return None if deg is None else compass_word(deg)


def _track_conditions(index: Index, f: SightingFilter) -> tuple[str, list[Any]]:
    where, params = _window(index, "t.first_ts", f, "t.camera_id", end_col="t.last_ts")
    conds = [where]
    if f.time_from is not None:  # bound the index range: no track outlasts the longest clip
        longest = index.db.execute("SELECT COALESCE(MAX(duration_s), 0) FROM clips").fetchone()[0]
        conds.append("t.first_ts >= ?")
        params.append(f.time_from - float(longest) - 1.0)
    if f.classes:
        cond, param = in_list(index.dialect, "t.cls", f.classes)
        conds.append(cond)
        params.append(param)
    if f.color is not None:
        conds.append("lower(t.color) = ?")
        params.append(f.color)
    if f.direction_deg is not None:
        conds.append(_direction_condition("t.direction_deg", f.direction_deg, f.direction_tolerance_deg, params))
    if f.plates is not None:
        valid = "" if f.raw_plates else " AND valid = 1"
        voted, plates = in_list(index.dialect, "plate_norm", f.plates)
        read, _ = in_list(index.dialect, "norm", f.plates)
        conds.append(f"t.id IN (SELECT id FROM tracks WHERE {voted} UNION SELECT track_id FROM plate_reads "
                     f"WHERE {read}{valid})")
        params += [plates] * 2
    if f.tracks is not None:
        cond, param = in_list(index.dialect, "t.id", f.tracks)
        conds.append(cond)
        params.append(param)
    return " AND ".join(conds), params


def _direction_condition(col: str, deg: float, tolerance: float, params: list[Any]) -> str:
    """``col`` within +-``tolerance`` degrees of ``deg``, across north (SQLite's % is integer-only)."""
    lo, hi = deg - tolerance, deg + tolerance
    parts = []
    for shift in (-360.0, 0.0, 360.0):
        parts.append(f"{col} BETWEEN ? AND ?")
        params += [lo + shift, hi + shift]
    return "(" + " OR ".join(parts) + ")"


def plate_read_sightings(index: Index, f: SightingFilter) -> Iterator[Sighting]:
    """Plate reads of ``f``'s plates that belong to no track (a plate seen without its vehicle),
    as sightings in time order."""
    plates, plates_param = in_list(index.dialect, "pr.norm", list(f.plates or ()))
    where, params = _window(index, "pr.ts", f, "pr.camera_id")
    valid = "" if f.raw_plates else " AND pr.valid = 1"
    sql = f"""SELECT pr.camera_id, pr.ts, pr.text AS plate, pr.confidence, pr.clip_id, c.sha256 AS clip_sha256,
              c.path AS clip_path, pr.frame, s.path AS snapshot, s.sha256 AS snapshot_sha256, c.clock_offset_s,
              {_CLOCK_UNCERTAINTY} AS clock_uncertainty_s
              FROM plate_reads pr JOIN clips c ON c.id = pr.clip_id
              LEFT JOIN snapshots s ON s.id = pr.snapshot_id JOIN cameras k ON k.id = c.camera_id
              WHERE pr.track_id IS NULL AND {plates}{valid} AND {where}
              ORDER BY pr.ts, pr.camera_id, pr.id"""
    for r in named_rows(index.db.execute(sql, [plates_param, *params])):
        yield _orphan(r, float(r["confidence"]), plate=r["plate"])


def face_only_sightings(index: Index, dist: Mapping[int, float]) -> Iterator[Sighting]:
    """Faces that belong to no track (face id -> distance to the probe), as sightings in time order."""
    faces, faces_param = in_list(index.dialect, "f.id", list(dist))
    sql = f"""SELECT f.id, f.camera_id, f.ts, f.quality, f.clip_id, c.sha256 AS clip_sha256, c.path AS clip_path,
             f.frame, s.path AS snapshot, s.sha256 AS snapshot_sha256, c.clock_offset_s,
             {_CLOCK_UNCERTAINTY} AS clock_uncertainty_s
             FROM face_sightings f JOIN clips c ON c.id = f.clip_id
             LEFT JOIN snapshots s ON s.id = f.snapshot_id JOIN cameras k ON k.id = c.camera_id
             WHERE {faces} ORDER BY f.ts, f.camera_id, f.id"""
    for r in named_rows(index.db.execute(sql, (faces_param,))):
        yield _orphan(r, float(r["quality"]), face=dist[int(r["id"])])


def _orphan(
    r: Mapping[str, Any], confidence: float, *, plate: str | None = None, face: float | None = None
) -> Sighting:
    """A sighting of a plate read or face outside any track, from a row naming camera_id, ts,
    clip_id, clip_sha256, clip_path, frame, snapshot, snapshot_sha256 and the clock columns."""
    ts, frame, snap, snap_sha = r["ts"], int(r["frame"]), r["snapshot"], r["snapshot_sha256"]
    return Sighting(
        camera_id=r["camera_id"], time=from_ts(ts), end_time=from_ts(ts), cls="unknown", color=None,
        direction=None, direction_deg=None, plate=plate, confidence=confidence, track_id=0,
        clip_id=int(r["clip_id"]), clip_sha256=r["clip_sha256"], clip_path=r["clip_path"], frame=frame,
        snapshot=snap, snapshot_sha256=snap_sha, face_distance=face,
        plate_confidence=confidence if plate else None, plate_time=from_ts(ts) if plate else None,
        plate_frame=frame if plate else None, plate_snapshot=snap if plate else None,
        plate_snapshot_sha256=snap_sha if plate else None,
        clock_offset_s=r["clock_offset_s"], clock_uncertainty_s=r["clock_uncertainty_s"],
    )
