"""Search the index for sightings: any combination of time, cameras, class, colour, direction,
plate pattern and face probe.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> search(idx, SearchQuery(plate="51F*", cls="car"))
[]

A sighting is a track (one object followed through one clip). Plate reads and faces that belong
to no track are returned too, as sightings with ``track_id`` 0 and class ``unknown``, unless a
class, colour or direction is asked for. Results stream from one SQL cursor in time order
(:func:`iter_sightings`), so exports do not hold the index in memory.
"""

from __future__ import annotations

import heapq
import logging
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from camfind.errors import InputError, NotFoundError
from camfind.geo import compass_word, haversine_m, parse_direction
from camfind.index.queries import camera_ids, list_cameras
from camfind.index.sql import in_list, named_rows
from camfind.search.classwords import resolve_class
from camfind.search.clocks import TRUSTED_UNCERTAINTY_S
from camfind.search.faces import rank_faces
from camfind.search.plates import PlatePattern, matching_plates, parse_plate_pattern
from camfind.timeutil import from_ts, to_ts
from camfind.types import Sighting
from camfind.vocab import COLOR_NAMES, FACE_MATCH_THRESHOLD, normalize_color

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

DIRECTION_TOLERANCE_DEG = 45.0
Order = Literal["time", "distance"]


@dataclass(frozen=True)
class SearchQuery:
    """What to look for; every field is optional and they combine with AND.

    Attributes:
        time_from, time_to: aware datetimes; a sighting overlapping the window matches.
        cameras: camera ids. ``near`` (lat, lon) with ``radius_m`` adds the cameras within it.
        cls: an object class (``car``, ``motorcycle``...) or a word people use for one (``xe máy``,
            ``bike``, ``ô tô``, ``vehicle``...: :data:`~camfind.search.classwords.CLASS_WORDS`).
        color: a colour name the analysis gives (red, white, silver/grey...; ``grey``, ``gray`` and
            ``silver`` mean ``silver/grey``); InputError for any other word.
        direction: a compass word or degrees; matched within +-45 degrees.
        plate: a plate pattern (exact, ``*``/``?`` wildcards, ``~N`` fuzzy).
        faces: 128-d encodings of the probe's faces; ``face_threshold`` is the match distance.
        limit: at most this many results. ``order``: ``time`` or ``distance`` (face probes).
        raw_plates: let ``plate`` match reads that fail the Vietnamese plate rules too (by
            default only valid plates match: an overlay's text or a half-read plate does not).
    """

    time_from: datetime | None = None
    time_to: datetime | None = None
    cameras: tuple[str, ...] = ()
    near: tuple[float, float] | None = None
    radius_m: float = 250.0
    cls: str | None = None
    color: str | None = None
    direction: str | float | None = None
    plate: str | None = None
    faces: tuple[np.ndarray, ...] = field(default=(), compare=False)
    face_threshold: float = FACE_MATCH_THRESHOLD
    limit: int | None = None
    order: Order = "time"
    raw_plates: bool = False

    def __post_init__(self) -> None:
        for name in ("time_from", "time_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InputError(f"{name} must carry a time zone, got {value!r}")
        if self.time_from and self.time_to and self.time_from > self.time_to:
            raise InputError(f"--from {self.time_from.isoformat()} is after --to {self.time_to.isoformat()}")
        if self.radius_m <= 0:
            raise InputError(f"radius must be above 0 m, got {self.radius_m}")
        if self.near is not None and not (-90 <= self.near[0] <= 90 and -180 <= self.near[1] <= 180):
            raise InputError(f"--near expects LAT,LON, got {self.near[0]},{self.near[1]}")
        if self.limit is not None and not 1 <= self.limit <= sys.maxsize:
            raise InputError(f"limit must be between 1 and {sys.maxsize}, got {self.limit}")
        if self.face_threshold <= 0:
            raise InputError(f"face threshold must be above 0, got {self.face_threshold}")
        if self.order not in ("time", "distance"):
            raise InputError(f"order must be 'time' or 'distance', got {self.order!r}")
        self.classes  # noqa: B018  (validates)
        self.direction_deg  # noqa: B018
        self.color_name  # noqa: B018
        self.plate_pattern  # noqa: B018

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes asked for (aliases expanded), empty for any."""
        return () if self.cls is None else resolve_class(self.cls).classes

    @property
    def direction_deg(self) -> float | None:
        if self.direction is None:
            return None
        try:
            return parse_direction(str(self.direction))
        except ValueError as exc:
            raise InputError(str(exc)) from None

    @property
    def color_name(self) -> str | None:
        """The colour asked for, as the analysis stores it (``grey`` -> ``silver/grey``), or None."""
        if self.color is None:
            return None
        try:
            return normalize_color(self.color)
        except ValueError:
            raise InputError(f"unknown colour {self.color!r}: expected one of {', '.join(COLOR_NAMES)} "
                             "(grey, gray and silver mean silver/grey)") from None

    @property
    def plate_pattern(self) -> PlatePattern | None:
        return None if self.plate is None else parse_plate_pattern(self.plate)

    @property
    def track_filters(self) -> bool:
        """True when a filter only a track can satisfy (class, colour, direction) is set."""
        return bool(self.cls or self.color_name or self.direction is not None)


@dataclass(frozen=True)
class _Plan:
    """A query resolved against the index: camera ids, matched plate texts, the only tracks to
    return (with their face distance when a face probe chose them), faces with no track."""

    cameras: tuple[str, ...] | None
    plates: dict[str, float] | None
    tracks: dict[int, float | None] | None
    face_orphans: dict[int, float] | None
    empty: bool = False


def search(index: Index, query: SearchQuery) -> list[Sighting]:
    """Sightings matching ``query``, ordered by time (or by face distance), at most ``limit``."""
    if query.order == "distance" and query.faces:
        found = sorted(iter_sightings(index, query), key=lambda s: (s.face_distance or 0.0, s.time))
        return found[: query.limit] if query.limit else found
    return list(islice(iter_sightings(index, query), query.limit))


def iter_sightings(index: Index, query: SearchQuery) -> Iterator[Sighting]:
    """Stream the sightings matching ``query`` in time order (``limit`` is not applied)."""
    return _iter(index, query, _plan(index, query))


def plate_sightings(
    index: Index, plates: Collection[str], time_from: datetime | None = None, time_to: datetime | None = None
) -> Iterator[Sighting]:
    """Stream, in time order, the sightings whose track or plate reads carry any of these
    normalised plate texts (what a watchlist matched in the vocabulary)."""
    query = SearchQuery(time_from=time_from, time_to=time_to)
    plan = _Plan(None, dict.fromkeys(plates, 0.0), None, None, empty=not plates)
    return _iter(index, query, plan)


def plates_of_tracks(index: Index, track_ids: Collection[int]) -> dict[int, set[str]]:
    """The normalised plate texts each track carries (its own and its reads')."""
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


def _iter(index: Index, query: SearchQuery, plan: _Plan) -> Iterator[Sighting]:
    if plan.empty:
        return iter(())
    streams: list[Iterator[Sighting]] = [_track_rows(index, query, plan)]
    if not query.track_filters:
        if plan.plates is not None and not query.faces:
            streams.append(_orphan_plates(index, query, plan))
        if plan.face_orphans and plan.plates is None:
            streams.append(_orphan_faces(index, query, plan))
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda s: (s.time, s.camera_id, s.track_id))


def _plan(index: Index, q: SearchQuery) -> _Plan:
    cams = _resolve_cameras(index, q)
    plates = None
    pattern = q.plate_pattern
    if pattern is not None:
        plates = matching_plates(index, pattern)
    tracks: dict[int, float | None] | None = None
    face_orphans = None
    if q.faces:
        face_tracks, face_orphans = _face_candidates(index, q, cams)
        tracks = dict(face_tracks)
    empty = (cams is not None and not cams) or (plates is not None and not plates)
    empty = empty or (tracks is not None and not tracks and not face_orphans)
    return _Plan(cams, plates, tracks, face_orphans, empty)


def _resolve_cameras(index: Index, q: SearchQuery) -> tuple[str, ...] | None:
    if not q.cameras and q.near is None:
        return None
    wanted = set(q.cameras)
    unknown = wanted - camera_ids(index)
    if unknown:
        raise NotFoundError(f"unknown camera {', '.join(sorted(unknown))}: see 'camfind cameras list'")
    if q.near is not None:
        lat, lon = q.near
        wanted |= {c.id for c in list_cameras(index) if haversine_m(lat, lon, c.lat, c.lon) <= q.radius_m}
    return tuple(sorted(wanted))


def _face_candidates(
    index: Index, q: SearchQuery, cams: tuple[str, ...] | None
) -> tuple[dict[int, float], dict[int, float]]:
    """Face sightings within the threshold, grouped: track id -> best distance, and faces with no
    track (face id -> distance)."""
    cand = None
    if q.time_from or q.time_to or cams is not None:
        where, params = _window(index, "ts", q, "camera_id", cams)
        rows = index.db.execute(f"SELECT id FROM face_sightings WHERE {where} ORDER BY id", params)
        cand = np.fromiter((r[0] for r in rows), dtype=np.int64)
    matches = rank_faces(index, q.faces, threshold=q.face_threshold, candidate_ids=cand)
    if not matches:
        return {}, {}
    dist = {m.face_id: m.distance for m in matches}
    faces, param = in_list(index.dialect, "id", list(dist))
    rows = index.db.execute(f"SELECT id, track_id FROM face_sightings WHERE {faces}", (param,))
    tracks: dict[int, float] = {}
    orphans: dict[int, float] = {}
    for face_id, track_id in rows:
        if track_id is None:
            orphans[face_id] = dist[face_id]
        else:
            tracks[track_id] = min(tracks.get(track_id, np.inf), dist[face_id])
    return tracks, orphans


def _window(
    index: Index, col: str, q: SearchQuery, cam_col: str, cams: tuple[str, ...] | None, end_col: str | None = None
) -> tuple[str, list[Any]]:
    conds: list[str] = ["TRUE"]
    params: list[Any] = []
    if q.time_to is not None:
        conds.append(f"{col} <= ?")
        params.append(to_ts(q.time_to))
    if q.time_from is not None:
        conds.append(f"{end_col or col} >= ?")
        params.append(to_ts(q.time_from))
    if cams is not None:
        cond, param = in_list(index.dialect, cam_col, cams)
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


def _track_rows(index: Index, q: SearchQuery, plan: _Plan) -> Iterator[Sighting]:
    where, params = _track_conditions(index, q, plan)
    if plan.plates is not None:
        valid = "" if q.raw_plates else " AND p.valid = 1"
        read, plates = in_list(index.dialect, "p.norm", plan.plates)
        sql = _TRACK_SQL.format(plate="COALESCE(pr.text, t.plate_text)", where=where,
                                clock_uncertainty=_CLOCK_UNCERTAINTY, read=f"{read}{valid}")
        params = [plates, *params]
    else:
        sql = _TRACK_SQL.format(plate="t.plate_text", where=where, clock_uncertainty=_CLOCK_UNCERTAINTY,
                                read="p.norm = t.plate_norm AND p.valid = 1")
    tracks = plan.tracks or {}
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


def _track_conditions(index: Index, q: SearchQuery, plan: _Plan) -> tuple[str, list[Any]]:
    where, params = _window(index, "t.first_ts", q, "t.camera_id", plan.cameras, end_col="t.last_ts")
    conds = [where]
    if q.time_from is not None:  # bound the index range: no track outlasts the longest clip
        longest = index.db.execute("SELECT COALESCE(MAX(duration_s), 0) FROM clips").fetchone()[0]
        conds.append("t.first_ts >= ?")
        params.append(to_ts(q.time_from) - float(longest) - 1.0)
    if q.classes:
        cond, param = in_list(index.dialect, "t.cls", q.classes)
        conds.append(cond)
        params.append(param)
    if q.color_name is not None:
        conds.append("lower(t.color) = ?")
        params.append(q.color_name)
    if q.direction_deg is not None:
        conds.append(_direction_condition("t.direction_deg", q.direction_deg, params))
    if plan.plates is not None:
        valid = "" if q.raw_plates else " AND valid = 1"
        voted, plates = in_list(index.dialect, "plate_norm", plan.plates)
        read, _ = in_list(index.dialect, "norm", plan.plates)
        conds.append(f"t.id IN (SELECT id FROM tracks WHERE {voted} UNION SELECT track_id FROM plate_reads "
                     f"WHERE {read}{valid})")
        params += [plates] * 2
    if plan.tracks is not None:
        cond, param = in_list(index.dialect, "t.id", plan.tracks)
        conds.append(cond)
        params.append(param)
    return " AND ".join(conds), params


def _direction_condition(col: str, deg: float, params: list[Any]) -> str:
    """``col`` within +-45 degrees of ``deg``, across north (SQLite's % is integer-only)."""
    lo, hi = deg - DIRECTION_TOLERANCE_DEG, deg + DIRECTION_TOLERANCE_DEG
    parts = []
    for shift in (-360.0, 0.0, 360.0):
        parts.append(f"{col} BETWEEN ? AND ?")
        params += [lo + shift, hi + shift]
    return "(" + " OR ".join(parts) + ")"


def _orphan_plates(index: Index, q: SearchQuery, plan: _Plan) -> Iterator[Sighting]:
    plates, plates_param = in_list(index.dialect, "pr.norm", list(plan.plates or {}))
    where, params = _window(index, "pr.ts", q, "pr.camera_id", plan.cameras)
    valid = "" if q.raw_plates else " AND pr.valid = 1"
    sql = f"""SELECT pr.camera_id, pr.ts, pr.text AS plate, pr.confidence, pr.clip_id, c.sha256 AS clip_sha256,
              c.path AS clip_path, pr.frame, s.path AS snapshot, s.sha256 AS snapshot_sha256, c.clock_offset_s,
              {_CLOCK_UNCERTAINTY} AS clock_uncertainty_s
              FROM plate_reads pr JOIN clips c ON c.id = pr.clip_id
              LEFT JOIN snapshots s ON s.id = pr.snapshot_id JOIN cameras k ON k.id = c.camera_id
              WHERE pr.track_id IS NULL AND {plates}{valid} AND {where}
              ORDER BY pr.ts, pr.camera_id, pr.id"""
    for r in named_rows(index.db.execute(sql, [plates_param, *params])):
        yield _orphan(r, float(r["confidence"]), plate=r["plate"])


def _orphan_faces(index: Index, q: SearchQuery, plan: _Plan) -> Iterator[Sighting]:
    dist = plan.face_orphans or {}
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


def sightings_of_tracks(index: Index, track_ids: Sequence[int]) -> list[Sighting]:
    """The sightings of the given track ids, in time order (NotFoundError for an unknown id)."""
    wanted: dict[int, float | None] = {int(t): None for t in track_ids}
    found = list(_track_rows(index, SearchQuery(), _Plan(None, None, wanted, None)))
    missing = set(wanted) - {s.track_id for s in found}
    if missing:
        raise NotFoundError(f"no track with id {', '.join(map(str, sorted(missing)))}")
    return found
