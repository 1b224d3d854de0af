"""The one writer: every change to the index goes through :class:`Writer`, in transactions.

Writes are idempotent upserts: a clip is keyed on its SHA-256, so re-running ingest never
duplicates; a new analysis of a clip replaces the previous run's rows in one transaction.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from camfind.errors import InputError, NotFoundError
from camfind.geo import compass_word
from camfind.index.sql import Database
from camfind.pathtext import exact_bytes, shown
from camfind.timeutil import to_ts
from camfind.types import (
    AnalysisResult,  # (defined in camfind.types; imported from here too)
    AnalysisRun,
    Calibration,
    Camera,
    Clip,
    ClipCopy,
    FaceSighting,
    PlateRead,
    Snapshot,
    Track,
)

if TYPE_CHECKING:
    from camfind.index import Index

GENESIS_HASH = "0" * 64
#: Where a camera's clock offset can come from (``cameras.clock_source``).
CLOCK_SOURCES: tuple[str, ...] = ("none", "file", "set-clock", "osd", "estimate")
#: A DVR clock read against true time by hand is good to about a second.
OBSERVED_CLOCK_UNCERTAINTY_S = 1.0
#: Between a clip's integrity flags in the ``clips.flags`` column.
FLAG_SEPARATOR = "; "
#: The largest DVR clock offset accepted (as in a cameras file's clock_offset_s column).
MAX_CLOCK_OFFSET_S = 10 * 365 * 86400.0


def _now() -> float:
    return datetime.now(UTC).timestamp()


def audit_user() -> str:
    """The OS user recorded in audit entries (``unknown`` where the system has no login name)."""
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _storable(text: str) -> str:
    """``text`` as SQLite can store it: a name that is not valid UTF-8 (held by Python as
    surrogate escapes) keeps its undecodable bytes visible as ``\\xNN``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate no file name decodes to
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def audit_json(value: Mapping[str, object]) -> str:
    """An audit field as JSON: UTF-8 as it is, or, when it holds a file name that is not valid
    UTF-8, with every non-ASCII character escaped (``\\udce9``), so that reading it back gives the
    same Python strings, whose ``os.fsencode`` is the file name's original bytes."""
    text = json.dumps(dict(value), sort_keys=True, default=str, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(dict(value), sort_keys=True, default=str, ensure_ascii=True)
    return text


@dataclass(frozen=True)
class ClockEstimateRow:
    """One camera's outcome of one clock-fit run, as stored (``evidence``: the co-sightings behind it)."""

    camera_id: str
    status: str
    offset_s: float | None
    uncertainty_s: float | None
    n_cosightings: int
    evidence: Sequence[Mapping[str, object]] = ()


@dataclass(frozen=True)
class AnalysisCounts:
    """Rows one :meth:`Writer.write_analysis` wrote, per table."""

    tracks: int
    detections: int
    plate_reads: int
    faces: int
    snapshots: int


_SNAPSHOT_SQL = """INSERT INTO snapshots (clip_id, run_id, kind, frame, ts, path, sha256, x1, y1, x2, y2)
    VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id"""
_TRACK_SQL = """INSERT INTO tracks (clip_id, run_id, camera_id, track_no, cls, first_ts, last_ts,
    first_frame, last_frame, n_frames, confidence, entry_side, exit_side, direction_deg,
    direction, speed_kmh, color, plate_text, plate_norm, plate_confidence, plate_layout,
    plate_valid, best_frame, snapshot_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    RETURNING id"""
_PLATE_SQL = """INSERT INTO plate_reads (clip_id, track_id, camera_id, ts, frame, text, norm, confidence,
    layout, valid, x1, y1, x2, y2, snapshot_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"""
_FACE_SQL = """INSERT INTO face_sightings (clip_id, track_id, camera_id, ts, frame, x1, y1, x2, y2,
    quality, encoding, snapshot_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"""


class Writer:
    """All writes to an :class:`~camfind.index.Index`, each public method one unit of work.

    A method of several statements opens its own :meth:`~camfind.index.Index.transaction`
    (committed when it returns, rolled back on any exception), so it must not be called inside
    another. A method of one statement (``set_meta``, ``set_clip_status``, ``set_clip_osd``,
    ``begin_run``, ``fail_run``) opens none: on the index's autocommit connection it commits on
    its own, and inside a caller's ``with index.transaction():`` it joins that unit (analysis
    fails a run and its clip together that way). No method leaves a transaction open.
    """

    def __init__(self, index: Index) -> None:
        self.index = index
        self.db: Database = index.db

    # -- meta ---------------------------------------------------------------------------------
    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- cameras ------------------------------------------------------------------------------
    def upsert_cameras(self, cameras: Iterable[Camera]) -> tuple[int, int]:
        """Insert or update cameras and their declared neighbours. Returns (added, updated).

        A neighbour id not yet in the registry is linked once it is imported (links are kept
        only between known cameras); see :meth:`link`.
        """
        added = updated = 0
        cams = list(cameras)
        now = _now()
        with self.index.transaction():
            for cam in cams:
                exists = self.db.execute("SELECT clock_offset_s FROM cameras WHERE id = ?", (cam.id,)).fetchone()
                self.db.execute(
                    """INSERT INTO cameras (id, name, lat, lon, owner_type, owner_name, owner_contact,
                       address, heading_deg, fov_deg, clock_offset_s, extra_json, created_ts, updated_ts)
                       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                       ON CONFLICT (id) DO UPDATE SET name=excluded.name, lat=excluded.lat,
                       lon=excluded.lon, owner_type=excluded.owner_type, owner_name=excluded.owner_name,
                       owner_contact=excluded.owner_contact, address=excluded.address,
                       heading_deg=excluded.heading_deg, fov_deg=excluded.fov_deg,
                       clock_offset_s=excluded.clock_offset_s, extra_json=excluded.extra_json,
                       updated_ts=excluded.updated_ts""",
                    (cam.id, cam.name, cam.lat, cam.lon, cam.owner_type, cam.owner_name,
                     cam.owner_contact, cam.address, cam.heading_deg, cam.fov_deg,
                     cam.clock_offset_s, json.dumps(dict(cam.extra), ensure_ascii=False), now, now),
                )
                added, updated = (added, updated + 1) if exists else (added + 1, updated)
                if cam.clock_offset_s != (exists[0] if exists else 0.0):  # the file gave a new offset
                    self.db.execute("UPDATE cameras SET clock_source = ?, clock_uncertainty_s = NULL WHERE id = ?",
                                    ("file" if cam.clock_offset_s else "none", cam.id))
                if exists:  # a changed clock offset re-corrects the camera's clips
                    self._reapply_offset(cam.id, cam.clock_offset_s)
            known = {r[0] for r in self.db.execute("SELECT id FROM cameras")}
            for cam in cams:
                for other in cam.neighbors:
                    if other in known and other != cam.id:
                        self._link(cam.id, other, None, "neighbors")
        return added, updated

    def link(self, a: str, b: str, meters: float | None = None) -> None:
        """Declare two known cameras neighbours (NotFoundError for an unknown id).

        Raises:
            InputError: ``meters`` is negative, infinite or not a number.
        """
        if meters is not None and not (math.isfinite(meters) and meters >= 0):
            raise InputError(f"link length must be a finite number of metres >= 0, got {meters}")
        with self.index.transaction():
            for cam in (a, b):
                if self.db.execute("SELECT 1 FROM cameras WHERE id = ?", (cam,)).fetchone() is None:
                    raise NotFoundError(f"unknown camera {cam!r}: import it first (camfind cameras import)")
            self._link(a, b, meters, "declared")

    def _link(self, a: str, b: str, meters: float | None, source: str) -> None:
        lo, hi = sorted((a, b))
        self.db.execute(
            """INSERT INTO camera_links (a, b, meters, source) VALUES (?,?,?,?)
               ON CONFLICT (a, b) DO UPDATE SET meters = COALESCE(excluded.meters, camera_links.meters),
               source = CASE WHEN excluded.source = 'declared' THEN 'declared' ELSE camera_links.source END""",
            (lo, hi, meters, source),
        )

    def record_clock(self, camera_id: str, dvr: datetime, actual: datetime, note: str = "") -> float:
        """Record a DVR clock observation and make it the camera's offset. Returns the offset (s).

        Clips already registered for the camera keep their raw time; their corrected times are
        recomputed with the new offset (``start = start_raw - offset``).
        """
        offset = to_ts(dvr) - to_ts(actual)
        if abs(offset) > MAX_CLOCK_OFFSET_S:
            raise InputError(f"DVR time and actual time are {abs(offset) / 86400 / 365.25:.0f} years apart: "
                             "check both times (a clock offset over 10 years is refused)")
        with self.index.transaction():
            if self.db.execute("SELECT 1 FROM cameras WHERE id = ?", (camera_id,)).fetchone() is None:
                raise NotFoundError(f"unknown camera {camera_id!r}")
            self.db.execute(
                "INSERT INTO clock_observations (camera_id, dvr_ts, actual_ts, offset_s, recorded_ts, note)"
                " VALUES (?,?,?,?,?,?)",
                (camera_id, to_ts(dvr), to_ts(actual), offset, _now(), note),
            )
            self.db.execute(
                "UPDATE cameras SET clock_offset_s = ?, clock_source = 'set-clock', clock_uncertainty_s = ?, "
                "updated_ts = ? WHERE id = ?",
                (offset, OBSERVED_CLOCK_UNCERTAINTY_S, _now(), camera_id),
            )
            self._reapply_offset(camera_id, offset)
        return offset

    def set_clock_offset(self, camera_id: str, offset_s: float, source: str, uncertainty_s: float | None) -> None:
        """Make ``offset_s`` (DVR minus true time) the camera's clock offset, saying where it came from
        (``file``, ``set-clock``, ``osd``, ``estimate``) and how sure it is; clips keep their raw times and
        their corrected times (clips, tracks, plate reads, faces, snapshots) are recomputed.

        Raises:
            InputError: an offset over 10 years, an unknown source or a negative uncertainty;
            NotFoundError: an unknown camera.
        """
        if not (math.isfinite(offset_s) and abs(offset_s) <= MAX_CLOCK_OFFSET_S):
            raise InputError(f"clock offset {offset_s} s refused: it must be a finite number under 10 years")
        if source not in CLOCK_SOURCES:
            raise InputError(f"clock offset source must be one of {', '.join(CLOCK_SOURCES)}, got {source!r}")
        if uncertainty_s is not None and not (math.isfinite(uncertainty_s) and uncertainty_s >= 0):
            raise InputError(f"clock uncertainty must be a finite number of seconds >= 0, got {uncertainty_s}")
        with self.index.transaction():
            self._require_camera(camera_id)
            self.db.execute(
                "UPDATE cameras SET clock_offset_s = ?, clock_source = ?, clock_uncertainty_s = ?, updated_ts = ? "
                "WHERE id = ?",
                (offset_s, source, uncertainty_s, _now(), camera_id),
            )
            self._reapply_offset(camera_id, offset_s)

    def set_clock_trusted(self, camera_ids: Iterable[str], trusted: bool = True) -> int:
        """Mark cameras whose clocks are synchronised to true time (anchors of the clock fit), or
        unmark them. Returns how many cameras changed."""
        ids = list(dict.fromkeys(camera_ids))
        with self.index.transaction():
            for cid in ids:
                self._require_camera(cid)
            changed = 0
            for cid in ids:
                cur = self.db.execute("UPDATE cameras SET clock_trusted = ?, updated_ts = ? WHERE id = ? "
                                      "AND clock_trusted != ?", (int(trusted), _now(), cid, int(trusted)))
                changed += cur.rowcount
        return changed

    def record_clock_estimates(self, rows: Iterable[ClockEstimateRow]) -> float:
        """Store one run of the clock fit (one row per camera). Returns the run's time stamp."""
        run_ts = _now()
        with self.index.transaction():
            self.db.executemany(
                "INSERT INTO clock_estimates (run_ts, camera_id, status, offset_s, uncertainty_s, n_cosightings, "
                "evidence_json) VALUES (?,?,?,?,?,?,?)",
                [(run_ts, r.camera_id, r.status, r.offset_s, r.uncertainty_s, r.n_cosightings,
                  json.dumps(list(r.evidence), sort_keys=True, default=str)) for r in rows],
            )
        return run_ts

    def apply_clock_estimate(self, estimate_id: int) -> tuple[str, float]:
        """Make a stored estimate its camera's clock offset (source ``estimate``). Returns (camera, offset).

        Raises:
            NotFoundError: no such estimate; InputError: the estimate has no offset (unanchored).
        """
        row = self.db.execute("SELECT camera_id, offset_s, uncertainty_s FROM clock_estimates WHERE id = ?",
                              (estimate_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no clock estimate with id {estimate_id}")
        if row[1] is None:
            raise InputError(f"camera {row[0]}: its clock estimate has no offset (no path to a trusted clock)")
        with self.index.transaction():
            self.db.execute(
                "UPDATE cameras SET clock_offset_s = ?, clock_source = 'estimate', clock_uncertainty_s = ?, "
                "updated_ts = ? WHERE id = ?",
                (row[1], row[2], _now(), row[0]),
            )
            self.db.execute("UPDATE clock_estimates SET applied_ts = ? WHERE id = ?", (_now(), estimate_id))
            self._reapply_offset(row[0], float(row[1]))
        return str(row[0]), float(row[1])

    def _require_camera(self, camera_id: str) -> None:
        if self.db.execute("SELECT 1 FROM cameras WHERE id = ?", (camera_id,)).fetchone() is None:
            raise NotFoundError(f"unknown camera {camera_id!r}")

    def _reapply_offset(self, camera_id: str, offset: float) -> None:
        """Shift corrected times of a camera's clips and sightings to a new clock offset."""
        rows = self.db.execute(
            "SELECT id, start_raw_ts - ? - start_ts FROM clips WHERE camera_id = ?", (offset, camera_id)
        ).fetchall()
        for clip_id, shift in rows:
            if not shift:
                continue
            self.db.execute(
                "UPDATE clips SET start_ts = start_ts + ?, end_ts = end_ts + ?, clock_offset_s = ? "
                "WHERE id = ?",
                (shift, shift, offset, clip_id),
            )
            self.db.execute(
                "UPDATE tracks SET first_ts = first_ts + ?, last_ts = last_ts + ? WHERE clip_id = ?",
                (shift, shift, clip_id),
            )
            for table in ("plate_reads", "face_sightings", "snapshots"):
                self.db.execute(f"UPDATE {table} SET ts = ts + ? WHERE clip_id = ?", (shift, clip_id))

    def set_calibration(self, cal: Calibration, homography: Sequence[Sequence[float]], error_m: float) -> None:
        with self.index.transaction():
            if self.db.execute("SELECT 1 FROM cameras WHERE id = ?", (cal.camera_id,)).fetchone() is None:
                raise NotFoundError(f"unknown camera {cal.camera_id!r}")
            points = {"image": [list(p) for p in cal.image_points], "world": [list(p) for p in cal.world_points]}
            self.db.execute(
                """INSERT INTO calibrations (camera_id, points_json, homography_json, reprojection_error_m,
                   created_ts) VALUES (?,?,?,?,?) ON CONFLICT (camera_id) DO UPDATE SET
                   points_json=excluded.points_json, homography_json=excluded.homography_json,
                   reprojection_error_m=excluded.reprojection_error_m, created_ts=excluded.created_ts""",
                (cal.camera_id, json.dumps(points), json.dumps([list(r) for r in homography]), error_m, _now()),
            )

    # -- clips --------------------------------------------------------------------------------
    def add_clip(self, clip: Clip) -> tuple[int, bool]:
        """Register a clip, idempotent by SHA-256 (and segment). Returns (clip id, newly added).

        A clip whose content is already known is not added again and keeps its registered path:
        a byte-identical file met elsewhere is recorded with :meth:`add_copy`.
        """
        with self.index.transaction():
            return self._add_clip(clip)

    def add_segments(self, clips: Sequence[Clip]) -> list[tuple[int, bool]]:
        """Register the segments of one file (each its own clip) in one transaction: all or none.

        Idempotent by (SHA-256, segment). Returns (clip id, newly added) per segment.
        """
        with self.index.transaction():
            return [self._add_clip(c) for c in clips]

    def _add_clip(self, clip: Clip) -> tuple[int, bool]:
        row = self.db.execute("SELECT id FROM clips WHERE sha256 = ? AND segment = ?",
                              (clip.sha256, clip.segment)).fetchone()
        if row is not None:
            return int(row[0]), False
        self._require_camera(clip.camera_id)
        cur = self.db.execute(
            """INSERT INTO clips (sha256, size_bytes, path, path_bytes, camera_id, start_ts, end_ts,
               start_raw_ts, time_source, clock_offset_s, duration_s, fps, frames, width, height, codec,
               container, creation_ts, status, ingested_ts, flags, segment, seg_start_s, seg_end_s)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id""",
            (clip.sha256, clip.size_bytes, shown(clip.path), exact_bytes(clip.path), clip.camera_id,
             to_ts(clip.start), to_ts(clip.end), to_ts(clip.start_raw), clip.time_source, clip.clock_offset_s,
             clip.duration_s, clip.fps, clip.frames, clip.width, clip.height, clip.codec,
             clip.container, None if clip.creation_time is None else to_ts(clip.creation_time),
             clip.status, _now(), FLAG_SEPARATOR.join(clip.flags), clip.segment, clip.segment_start_s,
             clip.segment_end_s),
        )
        clip_id = int(cur.fetchone()[0])
        entry = {"clip_id": clip_id, "sha256": clip.sha256, "path": shown(clip.path), "camera_id": clip.camera_id}
        if clip.segment:
            entry["segment"] = clip.segment
        # the registration and its audit entry commit together
        self._audit_in_transaction(audit_user(), "register clip", {"argv": sys.argv[1:]}, entry)
        return clip_id, True

    def add_copy(self, copy: ClipCopy) -> bool:
        """Record a byte-identical copy of a registered clip at another path (idempotent by path).

        Returns True when this location is new. The registration itself is never changed.
        """
        with self.index.transaction():
            cur = self.db.execute(
                """INSERT INTO clip_copies (clip_id, path, path_bytes, camera_id, name_ts, conflict, recorded_ts)
                   VALUES (?,?,?,?,?,?,?) ON CONFLICT (clip_id, path) DO UPDATE SET
                   camera_id = excluded.camera_id, name_ts = excluded.name_ts, conflict = excluded.conflict
                   WHERE clip_copies.conflict != excluded.conflict
                      OR clip_copies.camera_id IS DISTINCT FROM excluded.camera_id""",
                (copy.clip_id, shown(copy.path), exact_bytes(copy.path), copy.camera_id,
                 None if copy.name_time is None else to_ts(copy.name_time), copy.conflict, _now()),
            )
            if cur.rowcount > 0:  # a new location of the evidence (or a changed verdict on one) is audited
                self._audit_in_transaction(
                    audit_user(), "record copy", {"argv": sys.argv[1:]},
                    {"clip_id": copy.clip_id, "path": shown(copy.path), "conflict": copy.conflict},
                )
            return bool(cur.rowcount > 0)

    def set_clip_status(self, clip_id: int, status: str) -> None:
        self.db.execute("UPDATE clips SET status = ? WHERE id = ?", (status, clip_id))

    def set_clip_osd(
        self, clip_id: int, drift_s: float, *, start: datetime | None = None, text: str = "",
        precision_s: float | None = None,
    ) -> None:
        """Record the on-screen clock's reading beside the clip: its drift from the filed start,
        and (when given) the time it showed at the first frame, the text read and its precision."""
        self.db.execute(
            "UPDATE clips SET osd_drift_s = ?, osd_start_ts = COALESCE(?, osd_start_ts), "
            "osd_text = COALESCE(?, osd_text), osd_precision_s = COALESCE(?, osd_precision_s) WHERE id = ?",
            (drift_s, None if start is None else to_ts(start), text or None, precision_s, clip_id),
        )

    def apply_osd_start(self, clip_id: int, *, revert: bool = False) -> tuple[float, float]:
        """Make the on-screen clock's reading the clip's raw start (``time_source`` ``osd``), or with
        ``revert`` go back to the start it was filed with. Returns (old raw, new raw) epoch seconds.

        The filed start is kept (``filed_start_raw_ts``); the corrected start and every sighting of
        the clip move by the same amount; the camera's clock offset still applies.

        Raises:
            NotFoundError: no such clip.
            InputError: no reading recorded (or, with ``revert``, none applied).
        """
        with self.index.transaction():
            row = self.db.execute(
                "SELECT start_raw_ts, osd_start_ts, filed_start_raw_ts, filed_time_source FROM clips WHERE id = ?",
                (clip_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no clip with id {clip_id}")
            raw, osd, filed, filed_source = row
            if revert and filed is None:
                raise InputError(f"clip {clip_id}: no on-screen clock reading was applied to it")
            if not revert and osd is None:
                raise InputError(f"clip {clip_id}: no on-screen clock reading is recorded: run "
                                 f"camfind analyze --clip {clip_id} --osd --force first")
            target = filed if revert else osd
            self._shift_clip(clip_id, target - raw)
            # osd_drift_s stays "OSD start minus raw start": nil once applied, the measured one back on revert
            if revert:
                self.db.execute("UPDATE clips SET start_raw_ts = ?, time_source = ?, filed_start_raw_ts = NULL, "
                                "filed_time_source = NULL, osd_drift_s = osd_start_ts - ? WHERE id = ?",
                                (filed, filed_source, filed, clip_id))
            else:
                self.db.execute(
                    "UPDATE clips SET filed_start_raw_ts = COALESCE(filed_start_raw_ts, start_raw_ts), "
                    "filed_time_source = COALESCE(filed_time_source, time_source), start_raw_ts = ?, "
                    "time_source = 'osd', osd_drift_s = 0 WHERE id = ?", (osd, clip_id))
        return float(raw), float(target)

    def _shift_clip(self, clip_id: int, shift: float) -> None:
        """Move a clip's corrected times and all its sightings by ``shift`` seconds."""
        if not shift:
            return
        self.db.execute("UPDATE clips SET start_ts = start_ts + ?, end_ts = end_ts + ? WHERE id = ?",
                        (shift, shift, clip_id))
        self.db.execute("UPDATE tracks SET first_ts = first_ts + ?, last_ts = last_ts + ? WHERE clip_id = ?",
                        (shift, shift, clip_id))
        for table in ("plate_reads", "face_sightings", "snapshots"):
            self.db.execute(f"UPDATE {table} SET ts = ts + ? WHERE clip_id = ?", (shift, clip_id))

    # -- analysis -----------------------------------------------------------------------------
    def begin_run(self, run: AnalysisRun) -> int:
        cur = self.db.execute(
            """INSERT INTO analysis_runs (clip_id, started_ts, status, camfind_version, models_json,
               settings_json, worker_host, worker_pid, worker_node) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id""",
            (run.clip_id, to_ts(run.started_at), "running", run.camfind_version,
             json.dumps(dict(run.models), sort_keys=True), json.dumps(dict(run.settings), sort_keys=True, default=str),
             run.worker_host, run.worker_pid, run.worker_node),
        )
        return int(cur.fetchone()[0])

    def fail_run(self, run_id: int, error: str) -> None:
        self.db.execute(
            "UPDATE analysis_runs SET status='failed', finished_ts=?, error=? WHERE id=?",
            (_now(), error[:2000], run_id),
        )

    def write_analysis(self, run_id: int, clip_id: int, result: AnalysisResult) -> AnalysisCounts:
        """Replace the clip's previous analysis with ``result``, in one transaction.

        Returns the counts of rows written per table.
        """
        with self.index.transaction():
            # A clip has one current analysis: drop what earlier runs wrote for it.
            for table in ("plate_reads", "face_sightings"):
                self.db.execute(f"DELETE FROM {table} WHERE clip_id = ?", (clip_id,))
            self.db.execute("DELETE FROM tracks WHERE clip_id = ? AND run_id != ?", (clip_id, run_id))
            self.db.execute("DELETE FROM snapshots WHERE clip_id = ? AND run_id IS DISTINCT FROM ?", (clip_id, run_id))
            self.db.execute(
                "UPDATE analysis_runs SET status = 'superseded' WHERE clip_id = ? AND id != ? AND status = 'done'",
                (clip_id, run_id),
            )
            new_snaps = self._insert_ids(_SNAPSHOT_SQL, [self._snapshot_params(run_id, s) for s in result.snapshots])
            snap_ids = dict(zip([s.path for s in result.snapshots], new_snaps, strict=True))
            new_tracks = self._insert_ids(_TRACK_SQL, [self._track_params(run_id, t, snap_ids) for t in result.tracks])
            track_ids = dict(zip([t.track_no for t in result.tracks], new_tracks, strict=True))
            self.db.executemany(
                """INSERT INTO detections (track_id, frame, offset_s, x1, y1, x2, y2, score, cls)
                   VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (track_id, frame) DO UPDATE SET
                   offset_s = excluded.offset_s, x1 = excluded.x1, y1 = excluded.y1, x2 = excluded.x2,
                   y2 = excluded.y2, score = excluded.score, cls = excluded.cls""",
                [(track_ids[d.track_no], d.frame, d.offset_s, *d.box, d.score, d.cls)
                 for d in result.detections if d.track_no in track_ids],
            )
            if result.plate_reads:
                self.db.executemany(_PLATE_SQL,
                                    [self._plate_params(p, track_ids, snap_ids) for p in result.plate_reads])
            if result.faces:
                self.db.executemany(_FACE_SQL, [self._face_params(f, track_ids, snap_ids) for f in result.faces])
            self.db.execute(
                "UPDATE analysis_runs SET status='done', finished_ts=? WHERE id=?", (_now(), run_id)
            )
            self.db.execute("UPDATE clips SET status='analyzed' WHERE id=?", (clip_id,))
        return AnalysisCounts(
            tracks=len(result.tracks), detections=len(result.detections),
            plate_reads=len(result.plate_reads), faces=len(result.faces), snapshots=len(result.snapshots),
        )

    def _insert_ids(self, sql: str, rows: Sequence[Sequence[object]]) -> list[int]:
        """Insert ``rows`` with ``sql`` (ending ``RETURNING id``); their new ids, in order. On
        PostgreSQL the rows go in one pipelined batch, not one round trip each."""
        insert_many = getattr(self.db, "insert_returning_ids", None)
        if insert_many is not None:
            return list(insert_many(sql, rows))
        return [int(self.db.execute(sql, tuple(r)).fetchone()[0]) for r in rows]

    def _snapshot_params(self, run_id: int, s: Snapshot) -> tuple[object, ...]:
        box = s.box or (None, None, None, None)
        return (s.clip_id, run_id, s.kind, s.frame, to_ts(s.time), s.path, s.sha256, *box)

    def _track_params(self, run_id: int, t: Track, snap_ids: Mapping[str, int]) -> tuple[object, ...]:
        p = t.plate
        return (t.clip_id, run_id, t.camera_id, t.track_no, t.cls, to_ts(t.first_time), to_ts(t.last_time),
                t.first_frame, t.last_frame, t.n_frames, t.confidence, t.entry_side, t.exit_side,
                t.direction_deg, None if t.direction_deg is None else compass_word(t.direction_deg),
                t.speed_kmh, t.color, None if p is None else p.text, None if p is None else p.norm,
                None if p is None else p.confidence, None if p is None else p.layout,
                None if p is None else int(p.valid), t.best_frame,
                None if t.snapshot is None else snap_ids.get(t.snapshot.path))

    def _plate_params(
        self, r: PlateRead, track_ids: Mapping[int, int], snap_ids: Mapping[str, int]
    ) -> tuple[object, ...]:
        box = r.plate.box or (None, None, None, None)
        return (r.clip_id, None if r.track_id is None else track_ids.get(r.track_id), r.camera_id,
                to_ts(r.time), r.frame, r.plate.text, r.plate.norm, r.plate.confidence, r.plate.layout,
                int(r.plate.valid), *box, None if r.snapshot is None else snap_ids.get(r.snapshot.path))

    def _face_params(
        self, f: FaceSighting, track_ids: Mapping[int, int], snap_ids: Mapping[str, int]
    ) -> tuple[object, ...]:
        return (f.clip_id, None if f.track_id is None else track_ids.get(f.track_id), f.camera_id,
                to_ts(f.time), f.frame, *f.face.box, f.face.quality,
                None if f.face.encoding is None else np.asarray(f.face.encoding, dtype=np.float32).tobytes(),
                None if f.snapshot is None else snap_ids.get(f.snapshot.path))

    # -- audit --------------------------------------------------------------------------------
    def append_audit(self, user: str, command: str, args: Mapping[str, object], counts: Mapping[str, object]) -> str:
        """Append an audit entry chained to the previous one by hash. Returns its hash.

        Arguments holding file names that are not valid UTF-8 are kept (see :func:`audit_json`).
        """
        with self.index.transaction():
            return self._audit_in_transaction(user, command, args, counts)

    def _audit_in_transaction(
        self, user: str, command: str, args: Mapping[str, object], counts: Mapping[str, object]
    ) -> str:
        """Append an audit entry inside the caller's open transaction. Returns its hash."""
        row = self.db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        prev = GENESIS_HASH if row is None else str(row[0])
        ts = _now()
        user, command = _storable(user), _storable(command)
        args_json, counts_json = audit_json(args), json.dumps(dict(counts), sort_keys=True, default=str)
        digest = audit_hash(prev, ts, user, command, args_json, counts_json)
        self.db.execute(
            "INSERT INTO audit (ts, \"user\", command, args_json, counts_json, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?)",
            (ts, user, command, args_json, counts_json, prev, digest),
        )
        return digest


def audit_hash(prev: str, ts: float, user: str, command: str, args_json: str, counts_json: str) -> str:
    """The chained hash of one audit entry (SHA-256 over the previous hash and the fields)."""
    payload = json.dumps([prev, repr(ts), user, command, args_json, counts_json], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()
