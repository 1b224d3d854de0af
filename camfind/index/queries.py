"""Read queries over the index: cameras, links, clips, coverage and audit, as frozen dataclasses.

Every read of the index goes through here (writes go through :mod:`camfind.index.writer`).

>>> from camfind.index import Index
>>> from camfind.types import Camera
>>> idx = Index.open(":memory:", create=True)
>>> idx.writer.upsert_cameras([Camera("CAM01", 10.77, 106.70), Camera("CAM02", 10.78, 106.70)])
(2, 0)
>>> [c.id for c in list_cameras(idx)]
['CAM01', 'CAM02']
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from camfind.errors import NotFoundError
from camfind.evidence import local_path
from camfind.index.sql import in_list, named_rows
from camfind.pathtext import restored, shown
from camfind.timeutil import from_ts, to_ts
from camfind.types import Calibration, Camera, Clip, ClipCopy

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

TimeLike = float | datetime

_CAMERA_COLS = (
    "id, name, lat, lon, owner_type, owner_name, owner_contact, address, heading_deg, fov_deg, "
    "clock_offset_s, extra_json"
)
_CLIP_COLS = (
    "id, camera_id, path, sha256, size_bytes, start_ts, start_raw_ts, time_source, clock_offset_s, "
    "duration_s, fps, frames, width, height, codec, container, creation_ts, status, path_bytes, flags, "
    "seg_start_s, seg_end_s"
)


@dataclass(frozen=True)
class CameraLink:
    """Two cameras declared neighbours (``a < b``); ``meters`` is the declared distance if any."""

    a: str
    b: str
    meters: float | None
    source: str


@dataclass(frozen=True)
class ClockObservation:
    """A DVR clock reading taken at collection: ``offset_s`` = DVR time minus actual time."""

    camera_id: str
    dvr_time: datetime
    actual_time: datetime
    offset_s: float
    recorded: datetime
    note: str = ""
    id: int | None = None


@dataclass(frozen=True)
class ClipTiming:
    """What the on-screen clock said about a clip, and the start it was filed with.

    ``osd_start``: the OSD time at the first frame (DVR wall time, UTC); ``filed_start_raw`` and
    ``filed_time_source``: the raw start and its source before that reading was applied (None
    while it is not).
    """

    clip_id: int
    osd_start: datetime | None
    osd_text: str | None
    osd_precision_s: float | None
    osd_drift_s: float | None
    filed_start_raw: datetime | None
    filed_time_source: str | None


@dataclass(frozen=True)
class StoredCalibration:
    """A camera's ground-plane calibration as stored: points, homography, reprojection error."""

    calibration: Calibration
    homography: tuple[tuple[float, ...], ...]
    reprojection_error_m: float | None
    created: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One row of the append-only audit log."""

    id: int
    ts: float
    user: str
    command: str
    args_json: str
    counts_json: str
    prev_hash: str
    hash: str

    @property
    def time(self) -> datetime:
        return from_ts(self.ts)

    @property
    def args(self) -> dict[str, Any]:
        return dict(json.loads(self.args_json))

    @property
    def counts(self) -> dict[str, Any]:
        return dict(json.loads(self.counts_json))


def _ts(value: TimeLike) -> float:
    return to_ts(value) if isinstance(value, datetime) else float(value)


# -- cameras ----------------------------------------------------------------------------------
def _named(columns: str, row: Sequence[Any]) -> dict[str, Any]:
    """A row selected with ``columns`` (a comma-separated list of names), keyed by column name."""
    names = [c.strip() for c in columns.split(",")]
    if len(names) != len(row):
        raise ValueError(f"expected a row of {len(names)} columns, got {len(row)}")
    return dict(zip(names, row, strict=True))


def camera_from_row(row: Sequence[Any], neighbors: Sequence[str] = ()) -> Camera:
    """A :class:`Camera` from a row selected with ``_CAMERA_COLS`` (read by column name)."""
    r = _named(_CAMERA_COLS, row)
    return Camera(
        id=r["id"], name=r["name"], lat=r["lat"], lon=r["lon"], owner_type=r["owner_type"],
        owner_name=r["owner_name"], owner_contact=r["owner_contact"], address=r["address"],
        heading_deg=r["heading_deg"], fov_deg=r["fov_deg"], clock_offset_s=r["clock_offset_s"],
        neighbors=tuple(sorted(neighbors)), extra=dict(json.loads(r["extra_json"] or "{}")),
    )


def _neighbor_map(index: Index) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a, b in index.db.execute("SELECT a, b FROM camera_links"):
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return out


def list_cameras(index: Index) -> list[Camera]:
    """Every camera of the registry, by id, with neighbours from the link table."""
    nbrs = _neighbor_map(index)
    rows = index.db.execute(f"SELECT {_CAMERA_COLS} FROM cameras ORDER BY id").fetchall()
    return [camera_from_row(r, nbrs.get(_named(_CAMERA_COLS, r)["id"], ())) for r in rows]


def find_camera(index: Index, camera_id: str) -> Camera | None:
    """The camera called ``camera_id``, or None."""
    sql = f"SELECT {_CAMERA_COLS} FROM cameras WHERE id = ?"
    row = index.db.execute(sql, (camera_id,)).fetchone()
    if row is None:
        return None
    nbrs = [
        r[0]
        for r in index.db.execute(
            "SELECT b FROM camera_links WHERE a = ? UNION SELECT a FROM camera_links WHERE b = ?",
            (camera_id, camera_id),
        )
    ]
    return camera_from_row(row, nbrs)


def get_camera(index: Index, camera_id: str) -> Camera:
    """The camera called ``camera_id``.

    Raises:
        NotFoundError: no such camera in the registry.
    """
    cam = find_camera(index, camera_id)
    if cam is None:
        raise NotFoundError(
            f"unknown camera {camera_id!r}: import it first (camfind cameras import)"
        )
    return cam


def camera_ids(index: Index) -> set[str]:
    """The ids of every known camera."""
    return {str(r[0]) for r in index.db.execute("SELECT id FROM cameras")}


def list_links(index: Index) -> list[CameraLink]:
    """Every neighbour link, ordered."""
    rows = index.db.execute("SELECT a, b, meters, source FROM camera_links ORDER BY a, b")
    return [CameraLink(a=r["a"], b=r["b"], meters=r["meters"], source=r["source"]) for r in named_rows(rows)]


def clock_observations(index: Index, camera_id: str | None = None) -> list[ClockObservation]:
    """Recorded DVR clock readings, oldest first (all cameras or one)."""
    sql = (
        "SELECT id, camera_id, dvr_ts, actual_ts, offset_s, recorded_ts, note "
        "FROM clock_observations"
    )
    params: tuple[Any, ...] = ()
    if camera_id is not None:
        sql, params = sql + " WHERE camera_id = ?", (camera_id,)
    rows = index.db.execute(sql + " ORDER BY recorded_ts, id", params)
    return [
        ClockObservation(camera_id=r["camera_id"], dvr_time=from_ts(r["dvr_ts"]), actual_time=from_ts(r["actual_ts"]),
                         offset_s=r["offset_s"], recorded=from_ts(r["recorded_ts"]), note=r["note"], id=r["id"])
        for r in named_rows(rows)
    ]


def get_calibration(index: Index, camera_id: str) -> StoredCalibration | None:
    """The camera's stored ground-plane calibration, or None if it has none."""
    found = list(named_rows(index.db.execute(
        "SELECT points_json, homography_json, reprojection_error_m, created_ts FROM calibrations "
        "WHERE camera_id = ?",
        (camera_id,),
    )))
    if not found:
        return None
    row = found[0]
    points = json.loads(row["points_json"])
    cal = Calibration(
        camera_id=camera_id,
        image_points=tuple((float(x), float(y)) for x, y in points["image"]),
        world_points=tuple((float(a), float(b)) for a, b in points["world"]),
    )
    hom = tuple(tuple(float(v) for v in r) for r in json.loads(row["homography_json"]))
    return StoredCalibration(cal, hom, row["reprojection_error_m"], from_ts(row["created_ts"]))


# -- clips ------------------------------------------------------------------------------------
def clip_from_row(row: Sequence[Any]) -> Clip:
    """A :class:`Clip` from a row selected with ``_CLIP_COLS`` (read by column name)."""
    r = _named(_CLIP_COLS, row)
    return Clip(
        id=r["id"], camera_id=r["camera_id"], path=local_path(restored(r["path"], r["path_bytes"])), sha256=r["sha256"],
        size_bytes=r["size_bytes"], start=from_ts(r["start_ts"]), start_raw=from_ts(r["start_raw_ts"]),
        time_source=r["time_source"], clock_offset_s=r["clock_offset_s"], duration_s=r["duration_s"],
        fps=r["fps"], frames=r["frames"], width=r["width"], height=r["height"], codec=r["codec"],
        container=r["container"], creation_time=None if r["creation_ts"] is None else from_ts(r["creation_ts"]),
        status=r["status"], flags=tuple(f for f in (r["flags"] or "").split("; ") if f),
        segment_start_s=float(r["seg_start_s"] or 0.0), segment_end_s=r["seg_end_s"],
    )


def _clips(index: Index, where: str = "", params: Sequence[Any] = ()) -> list[Clip]:
    sql = f"SELECT {_CLIP_COLS} FROM clips {where} ORDER BY start_ts, camera_id, id"
    return [clip_from_row(r) for r in index.db.execute(sql, tuple(params))]


def get_clip(index: Index, clip_id: int) -> Clip:
    """The clip with id ``clip_id``.

    Raises:
        NotFoundError: no such clip.
    """
    row = index.db.execute(f"SELECT {_CLIP_COLS} FROM clips WHERE id = ?", (clip_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no clip with id {clip_id}")
    return clip_from_row(row)


def find_clip_by_sha256(index: Index, sha256: str) -> Clip | None:
    """The clip with this content hash (its file's first segment, when it was split), or None."""
    row = index.db.execute(f"SELECT {_CLIP_COLS} FROM clips WHERE sha256 = ? ORDER BY seg_start_s, id LIMIT 1",
                           (sha256,)).fetchone()
    return None if row is None else clip_from_row(row)


def clips_of_file(index: Index, sha256: str) -> list[Clip]:
    """Every clip registered from the file with this content hash (several when it was split)."""
    return _clips(index, "WHERE sha256 = ?", (sha256,))


def list_clips(index: Index, camera_id: str | None = None, status: str | None = None) -> list[Clip]:
    """Registered clips in time order, optionally of one camera and/or one status."""
    conds, params = [], []
    if camera_id is not None:
        conds.append("camera_id = ?")
        params.append(camera_id)
    if status is not None:
        conds.append("status = ?")
        params.append(status)
    return _clips(index, ("WHERE " + " AND ".join(conds)) if conds else "", params)


def clip_copies(index: Index, clip_id: int | None = None) -> dict[int, list[ClipCopy]]:
    """Byte-identical copies recorded for each clip (of one clip if ``clip_id``), by clip id."""
    sql = "SELECT clip_id, path, path_bytes, camera_id, name_ts, conflict FROM clip_copies"
    params: tuple[Any, ...] = ()
    if clip_id is not None:
        sql, params = sql + " WHERE clip_id = ?", (clip_id,)
    out: dict[int, list[ClipCopy]] = {}
    for cid, path, raw, cam, name_ts, conflict in index.db.execute(sql + " ORDER BY clip_id, id", params):
        out.setdefault(int(cid), []).append(
            ClipCopy(int(cid), local_path(restored(path, raw)), cam, None if name_ts is None else from_ts(name_ts),
                     conflict))
    return out


def clip_timings(index: Index) -> dict[int, ClipTiming]:
    """The OSD readings and filed starts of the clips that have either, by clip id."""
    sql = ("SELECT id, osd_start_ts, osd_text, osd_precision_s, osd_drift_s, filed_start_raw_ts, filed_time_source "
           "FROM clips WHERE osd_drift_s IS NOT NULL OR osd_start_ts IS NOT NULL OR filed_start_raw_ts IS NOT NULL")
    out: dict[int, ClipTiming] = {}
    for cid, osd, text, precision, drift, filed, source in index.db.execute(sql):
        out[int(cid)] = ClipTiming(int(cid), None if osd is None else from_ts(osd), text, precision, drift,
                                   None if filed is None else from_ts(filed), source)
    return out


def clips_covering(
    index: Index, camera_id: str | None, from_ts: TimeLike, to_ts: TimeLike
) -> list[Clip]:
    """Clips (of one camera, or all when ``camera_id`` is None) overlapping ``[from_ts, to_ts]``.

    Times are UTC epoch seconds or aware datetimes; the window is on corrected (true) time.
    """
    conds = ["start_ts < ?", "end_ts > ?"]
    params: list[Any] = [_ts(to_ts), _ts(from_ts)]
    if camera_id is not None:
        conds.append("camera_id = ?")
        params.append(camera_id)
    return _clips(index, "WHERE " + " AND ".join(conds), params)


def track_classes(index: Index, clip_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Tracks per object class of each clip's current analysis, most numerous first."""
    out: dict[int, dict[str, int]] = {int(c): {} for c in clip_ids}
    for start in range(0, len(clip_ids), 500):
        chunk = [int(c) for c in clip_ids[start:start + 500]]
        marks = ",".join("?" * len(chunk))
        sql = (f"SELECT clip_id, cls, COUNT(*) AS n FROM tracks WHERE clip_id IN ({marks}) "
               "GROUP BY clip_id, cls ORDER BY clip_id, n DESC, cls")
        for cid, cls, n in index.db.execute(sql, chunk):
            out[int(cid)][str(cls)] = int(n)
    return out


def clip_time_span(index: Index, camera_id: str | None = None) -> tuple[datetime, datetime] | None:
    """Earliest corrected start and latest corrected end of the clips, or None if there are none."""
    sql = "SELECT MIN(start_ts) AS first_ts, MAX(end_ts) AS last_ts FROM clips"
    params: tuple[Any, ...] = ()
    if camera_id is not None:
        sql, params = sql + " WHERE camera_id = ?", (camera_id,)
    row = next(named_rows(index.db.execute(sql, params)), None)
    if row is None or row["first_ts"] is None:
        return None
    return from_ts(row["first_ts"]), from_ts(row["last_ts"])


# -- audit ------------------------------------------------------------------------------------
def list_audit(index: Index, limit: int | None = None) -> list[AuditEntry]:
    """Audit entries oldest first (the last ``limit`` if given)."""
    cols = "id, ts, \"user\", command, args_json, counts_json, prev_hash, hash"
    if limit is None:
        rows = index.db.execute(f"SELECT {cols} FROM audit ORDER BY id")
    else:
        rows = index.db.execute(
            f"SELECT * FROM (SELECT {cols} FROM audit ORDER BY id DESC LIMIT ?) AS recent ORDER BY id",
            (limit,),
        )
    return [AuditEntry(**r) for r in named_rows(rows)]


def evidence_named(index: Index, path: str) -> str | None:
    """What evidence the index records at exactly ``path``: a registered clip or a snapshot, or None."""
    path = shown(path)
    row = index.db.execute("SELECT id FROM clips WHERE path = ?", (path,)).fetchone()
    if row is not None:
        return f"registered clip {row[0]}"
    row = index.db.execute("SELECT clip_id FROM clip_copies WHERE path = ? LIMIT 1", (path,)).fetchone()
    if row is not None:
        return f"a copy of registered clip {row[0]}"
    row = index.db.execute("SELECT clip_id FROM snapshots WHERE path = ? LIMIT 1", (path,)).fetchone()
    return None if row is None else f"a snapshot of clip {row[0]}"


def evidence_paths(index: Index) -> list[tuple[str, str]]:
    """``(what, path)`` of every registered clip and snapshot file."""
    clips = [(f"registered clip {i}", str(p)) for i, p in index.db.execute("SELECT id, path FROM clips")]
    clips += [(f"a copy of registered clip {i}", str(p))
              for i, p in index.db.execute("SELECT clip_id, path FROM clip_copies")]
    snaps = [(f"a snapshot of clip {i}", str(p)) for i, p in index.db.execute("SELECT clip_id, path FROM snapshots")]
    return clips + snaps


# -- clocks -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CameraClock:
    """A camera's clock as the index knows it: the offset in use (DVR minus true time), where it came
    from (``none``, ``file``, ``set-clock``, ``osd``, ``estimate``), how sure it is (None: unknown),
    whether it is trusted (synchronised), and the median OSD drift of its clips (on-screen clock minus
    the clip's recorded raw start) where OSD was read."""

    camera_id: str
    offset_s: float
    source: str
    uncertainty_s: float | None
    trusted: bool
    observations: int = 0
    osd_drift_s: float | None = None
    osd_clips: int = 0
    osd_drift_spread_s: float | None = None  # largest minus smallest OSD drift over its clips


@dataclass(frozen=True)
class StoredClockEstimate:
    """One row of ``clock_estimates``: a camera's outcome of one clock-fit run."""

    id: int
    run: datetime
    camera_id: str
    status: str
    offset_s: float | None
    uncertainty_s: float | None
    n_cosightings: int
    evidence: tuple[dict[str, Any], ...]
    applied: datetime | None


@dataclass(frozen=True)
class TargetSighting:
    """A sighting of one target (a valid plate, or a face identity) for the clock fit: raw (DVR)
    times are corrected times plus the clip's applied offset. ``track_id`` is the track's id, or
    minus the plate read's id for a read that belongs to no track."""

    track_id: int
    clip_id: int
    camera_id: str
    cls: str
    target: str
    confidence: float
    first_raw_ts: float
    last_raw_ts: float
    speed_kmh: float | None = None
    kind: str = "plate"


@dataclass(frozen=True)
class FaceTrack:
    """A track's best face (highest quality), with the track's raw (DVR) times."""

    track_id: int
    clip_id: int
    camera_id: str
    cls: str
    encoding: np.ndarray = field(compare=False)
    quality: float
    first_raw_ts: float
    last_raw_ts: float


def camera_clocks(index: Index) -> list[CameraClock]:
    """Every camera's clock state, by id."""
    obs = dict(index.db.execute("SELECT camera_id, COUNT(*) FROM clock_observations GROUP BY camera_id").fetchall())
    drifts: dict[str, list[float]] = {}
    for cid, drift in index.db.execute("SELECT camera_id, osd_drift_s FROM clips WHERE osd_drift_s IS NOT NULL"):
        drifts.setdefault(cid, []).append(float(drift))
    rows = index.db.execute(
        "SELECT id, clock_offset_s, clock_source, clock_uncertainty_s, clock_trusted FROM cameras ORDER BY id"
    )
    out = []
    for r in named_rows(rows):
        d = sorted(drifts.get(r["id"], []))
        median = None if not d else (d[len(d) // 2] + d[(len(d) - 1) // 2]) / 2
        out.append(CameraClock(r["id"], float(r["clock_offset_s"]), r["clock_source"], r["clock_uncertainty_s"],
                               bool(r["clock_trusted"]), int(obs.get(r["id"], 0)), median, len(d),
                               d[-1] - d[0] if d else None))
    return out


def latest_clock_estimates(index: Index) -> list[StoredClockEstimate]:
    """The most recent clock-fit run's rows, by camera (empty if ``clocks estimate`` never ran)."""
    rows = index.db.execute(
        "SELECT id, run_ts, camera_id, status, offset_s, uncertainty_s, n_cosightings, evidence_json, applied_ts "
        "FROM clock_estimates WHERE run_ts = (SELECT MAX(run_ts) FROM clock_estimates) ORDER BY camera_id"
    )
    return [
        StoredClockEstimate(int(r["id"]), from_ts(r["run_ts"]), r["camera_id"], r["status"], r["offset_s"],
                            r["uncertainty_s"], int(r["n_cosightings"]), tuple(json.loads(r["evidence_json"])),
                            None if r["applied_ts"] is None else from_ts(r["applied_ts"]))
        for r in named_rows(rows)
    ]


def plate_sightings(
    index: Index, time_from: TimeLike | None = None, time_to: TimeLike | None = None, min_confidence: float = 0.5
) -> list[TargetSighting]:
    """Tracks carrying a valid plate read at ``min_confidence`` or more (the window is on corrected
    time), and valid plate reads that belong to no track, in raw time order."""
    lo = -1e18 if time_from is None else _ts(time_from)
    hi = 1e18 if time_to is None else _ts(time_to)
    tracks = index.db.execute(
        "SELECT t.id, t.clip_id, t.camera_id, t.cls, t.plate_norm AS plate, t.plate_confidence AS confidence, "
        "t.first_ts + c.clock_offset_s AS first_raw, t.last_ts + c.clock_offset_s AS last_raw, t.speed_kmh "
        "FROM tracks t "
        "JOIN clips c ON c.id = t.clip_id WHERE t.plate_norm IS NOT NULL AND t.plate_norm != '' "
        "AND t.plate_valid = 1 AND t.plate_confidence >= ? AND t.last_ts >= ? AND t.first_ts <= ?",
        (min_confidence, lo, hi),
    )
    reads = index.db.execute(
        "SELECT -r.id AS id, r.clip_id, r.camera_id, 'unknown' AS cls, r.norm AS plate, r.confidence, "
        "r.ts + c.clock_offset_s AS first_raw, r.ts + c.clock_offset_s AS last_raw, NULL AS speed_kmh "
        "FROM plate_reads r JOIN clips c ON c.id = r.clip_id "
        "WHERE r.track_id IS NULL AND r.valid = 1 AND r.confidence >= ? AND r.ts BETWEEN ? AND ?",
        (min_confidence, lo, hi),
    )
    found = [TargetSighting(int(r["id"]), int(r["clip_id"]), r["camera_id"], r["cls"], r["plate"],
                            float(r["confidence"]), float(r["first_raw"]), float(r["last_raw"]), r["speed_kmh"])
             for rows in (tracks, reads) for r in list(named_rows(rows))]
    return sorted(found, key=lambda s: (s.first_raw_ts, s.camera_id, s.track_id))


def face_tracks(index: Index, time_from: TimeLike | None = None, time_to: TimeLike | None = None) -> list[FaceTrack]:
    """Tracks with a face, each with its best-quality face (window on corrected time), by track id."""
    lo = -1e18 if time_from is None else _ts(time_from)
    hi = 1e18 if time_to is None else _ts(time_to)
    rows = index.db.execute(
        "SELECT f.track_id, t.clip_id, t.camera_id, t.cls, f.encoding, f.quality, "
        "t.first_ts + c.clock_offset_s AS first_raw, t.last_ts + c.clock_offset_s AS last_raw "
        "FROM face_sightings f JOIN tracks t ON t.id = f.track_id "
        "JOIN clips c ON c.id = t.clip_id WHERE t.last_ts >= ? AND t.first_ts <= ? ORDER BY f.track_id, f.quality DESC",
        (lo, hi),
    )
    best: dict[int, FaceTrack] = {}
    for r in named_rows(rows):
        if int(r["track_id"]) not in best:
            best[int(r["track_id"])] = FaceTrack(
                int(r["track_id"]), int(r["clip_id"]), r["camera_id"], r["cls"],
                np.frombuffer(r["encoding"], dtype=np.float32), float(r["quality"]), float(r["first_raw"]),
                float(r["last_raw"]))
    return list(best.values())


# -- snapshots, runs, clocks and faces of the stages --------------------------------------------
@dataclass(frozen=True)
class SnapshotRecord:
    """A snapshot file as recorded: its clip, where it was written, and its SHA-256."""

    clip_id: int
    path: str
    sha256: str


def snapshot_records(index: Index) -> list[SnapshotRecord]:
    """Every recorded snapshot, in the order they were written."""
    rows = index.db.execute("SELECT clip_id, path, sha256 FROM snapshots ORDER BY id")
    return [SnapshotRecord(int(r["clip_id"]), str(r["path"]), str(r["sha256"])) for r in named_rows(rows)]


def snapshot_paths(index: Index, clip_id: int) -> set[str]:
    """The snapshot files recorded for one clip (any run)."""
    return {str(r[0]) for r in index.db.execute("SELECT path FROM snapshots WHERE clip_id = ?", (clip_id,))}


def referenced_snapshots(index: Index, paths: Sequence[str]) -> set[str]:
    """Of ``paths``, those some snapshot row points at (any clip, any run)."""
    if not paths:
        return set()
    cond, param = in_list(index.dialect, "path", list(paths))
    return {str(r[0]) for r in index.db.execute(f"SELECT path FROM snapshots WHERE {cond}", (param,))}


def run_status(index: Index, run_id: int) -> str | None:
    """The status of an analysis run (``running``, ``done``...), or None if there is no such run."""
    row = index.db.execute("SELECT status FROM analysis_runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def running_runs(index: Index, clip_ids: Sequence[int]) -> list[int]:
    """The runs of these clips still marked ``running``."""
    cond, param = in_list(index.dialect, "clip_id", list(clip_ids))
    return [int(r[0]) for r in index.db.execute(
        f"SELECT id FROM analysis_runs WHERE status = 'running' AND {cond} ORDER BY id", (param,))]


@dataclass(frozen=True)
class ClipClockRow:
    """A clip's clock facts as stored: its start's source, the offset applied, and its camera's
    clock uncertainty, source and trust."""

    clip_id: int
    camera_id: str
    time_source: str
    clock_offset_s: float
    uncertainty_s: float | None
    clock_source: str
    trusted: bool


def clip_clocks(index: Index, clip_ids: Sequence[int]) -> list[ClipClockRow]:
    """The clock facts of these clips."""
    cond, param = in_list(index.dialect, "c.id", list(clip_ids))
    rows = index.db.execute(
        "SELECT c.id, c.camera_id, c.time_source, c.clock_offset_s, k.clock_uncertainty_s, k.clock_source, "
        f"k.clock_trusted FROM clips c JOIN cameras k ON k.id = c.camera_id WHERE {cond}", (param,))
    return [ClipClockRow(int(r["id"]), r["camera_id"], r["time_source"], float(r["clock_offset_s"] or 0.0),
                         r["clock_uncertainty_s"], r["clock_source"], bool(r["clock_trusted"]))
            for r in named_rows(rows)]


def cameras_checked_against_true_time(index: Index) -> set[str]:
    """Cameras whose clock was read against true time, or that are trusted."""
    return {str(r[0]) for r in index.db.execute(
        "SELECT DISTINCT camera_id FROM clock_observations UNION SELECT id FROM cameras WHERE clock_trusted = 1")}


def track_encodings(index: Index, track_id: int) -> list[np.ndarray]:
    """The face encodings recorded on one track (faces kept without one left out)."""
    rows = index.db.execute(
        "SELECT encoding FROM face_sightings WHERE track_id = ? AND encoding IS NOT NULL ORDER BY id", (track_id,))
    return [np.frombuffer(bytes(r[0]), dtype=np.float32) for r in rows]


def audit_head(index: Index) -> tuple[int, str] | None:
    """The last audit entry's id and hash, or None for an empty log."""
    row = index.db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


# -- faces: encodings for the face matrix ----------------------------------------------------------
_ENCODED = "SELECT id, encoding FROM face_sightings WHERE encoding IS NOT NULL"


def face_encodings(index: Index, *, after_id: int | None = None,
                   ids: Sequence[int] | None = None) -> list[tuple[int, bytes]]:
    """``(face id, 128 float32 as bytes)`` of encoded faces in id order: all of them, those after
    ``after_id`` (new since a cached matrix), or those of ``ids``."""
    if ids is not None:
        cond, param = in_list(index.dialect, "id", [int(i) for i in ids])
        rows = index.db.execute(f"{_ENCODED} AND {cond} ORDER BY id", (param,))
    elif after_id is not None:
        rows = index.db.execute(f"{_ENCODED} AND id > ? ORDER BY id", (after_id,))
    else:
        rows = index.db.execute(f"{_ENCODED} ORDER BY id")
    return [(int(r[0]), bytes(r[1])) for r in rows]


def face_cache_key(index: Index) -> tuple[float, float, float]:
    """(when the index was created, faces deleted so far, highest face id given): three O(1)
    reads that change on any insert or delete, and differ between two indexes made at one place."""
    born = index.db.execute("SELECT MIN(applied_ts) FROM schema_migrations").fetchone()[0] or 0.0
    if index.dialect == "postgresql":  # ids come from an identity sequence; deletions are counted
        top = index.db.execute("SELECT MAX(id) FROM face_sightings").fetchone()[0]
    else:
        row = index.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'face_sightings'").fetchone()
        top = None if row is None else row[0]
    return float(born), float(index.meta("face_deletions") or 0), float(top or 0)


def audit_guard_triggers(index: Index) -> dict[str, tuple[bool, str]]:
    """The triggers on the audit log: by name, whether enabled, and their definition (SQLite: the
    trigger's SQL; PostgreSQL: the body of the function it runs)."""
    if index.dialect == "postgresql":
        rows = index.db.execute(
            "SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'audit'::regclass AND NOT t.tgisinternal")
        return {str(name): (str(enabled) != "D", str(body)) for name, enabled, body in rows}
    rows = index.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'")
    return {str(name): (True, " ".join(str(sql or "").split()).rstrip(";")) for name, sql in rows}


def track_ids(index: Index, clip_id: int) -> dict[int, int]:
    """A clip's tracks: index id by track number."""
    rows = index.db.execute("SELECT track_no, id FROM tracks WHERE clip_id = ?", (clip_id,))
    return {int(r[0]): int(r[1]) for r in rows}
