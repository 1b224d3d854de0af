"""Estimate camera clock offsets from an index: exact-plate (and strong face) co-sightings, the
network's distances, per-class speed ranges, anchored on the clocks the index trusts (see
:mod:`camfind.clocks.fit`).

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> estimate_clocks(idx).fit.cameras
()

Anchors: a camera marked trusted (``camfind clocks trust``: a synchronised public camera) at the
offset in use; a camera with a DVR clock reading (``camfind cameras set-clock``) at its latest
reading; a camera whose offset in use was measured on screen (source ``osd``). Offsets typed in the
cameras file and offsets estimated before are not anchors: they are re-estimated. OSD drift readings
of the clips (on-screen clock minus the recorded raw start) are reported beside each camera as a check.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from camfind.clocks.fit import Anchor, ClockFit, CoSighting, FitOptions, fit_offsets
from camfind.index.queries import (
    CameraClock,
    FaceTrack,
    TargetSighting,
    camera_clocks,
    clock_observations,
    face_tracks,
    plate_sightings,
)
from camfind.index.writer import ClockEstimateRow
from camfind.network import CameraNetwork, load_network
from camfind.search.trace import MAX_SPEED_KMH
from camfind.timeutil import from_ts
from camfind.vocab import TRUSTED_UNCERTAINTY_S

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

#: Below these speeds (km/h) a target is taken to have stopped between two cameras (a co-sighting
#: slower than this is rejected as another trip).
MIN_SPEED_KMH: Mapping[str, float] = {
    "person": 2.0, "bicycle": 4.0, "motorcycle": 5.0, "car": 5.0, "bus": 5.0, "truck": 5.0, "unknown": 2.0,
}  # fmt: skip
#: Faces this close (128-d distance) are taken for one person; search matches at 0.6, and on real photos
#: the same person came within 0.53 and different people no closer than 0.68.
STRONG_FACE_DISTANCE = 0.4
#: A DVR reading or an on-screen reading is good to about a second.
READ_UNCERTAINTY_S = 1.0
#: OSD drift readings of one camera's clips further apart than this (or further from 0) are a doubt.
OSD_DRIFT_SPREAD_S = 5.0


@dataclass(frozen=True)
class EstimateOptions:
    """Which co-sightings to use and the speed ranges they are judged by."""

    max_offset_s: float = 12 * 3600.0
    max_pair_m: float = 3000.0
    min_plate_confidence: float = 0.5
    faces: bool = True
    strong_face_distance: float = STRONG_FACE_DISTANCE
    max_face_tracks: int = 20000
    max_speed_kmh: Mapping[str, float] = field(default_factory=lambda: dict(MAX_SPEED_KMH))
    min_speed_kmh: Mapping[str, float] = field(default_factory=lambda: dict(MIN_SPEED_KMH))
    fit: FitOptions = field(default_factory=FitOptions)


@dataclass(frozen=True)
class ClockEstimates:
    """The fit over the index, the clock state it started from, and the anchors used."""

    fit: ClockFit
    clocks: Mapping[str, CameraClock]
    anchors: Mapping[str, Anchor]
    sightings: int


def estimate_clocks(
    index: Index, time_from: datetime | None = None, time_to: datetime | None = None,
    options: EstimateOptions | None = None,
) -> ClockEstimates:
    """Fit every camera's clock offset from the plates seen at two or more cameras (window on corrected time)."""
    opts = options or EstimateOptions()
    clocks = {c.camera_id: c for c in camera_clocks(index)}
    anchors = find_anchors(index, clocks)
    found = plate_sightings(index, time_from, time_to, opts.min_plate_confidence)
    if opts.faces:
        plated = {s.track_id for s in found}
        faces = [f for f in face_tracks(index, time_from, time_to) if f.track_id not in plated]
        found += face_targets(faces, opts.strong_face_distance, opts.max_face_tracks)
    eqs = cosightings(found, load_network(index), opts)
    logger.info("clock fit: %d plate sightings, %d co-sightings, %d anchors", len(found), len(eqs), len(anchors))
    fit = fit_offsets(eqs, anchors.values(), clocks, opts.fit)
    return ClockEstimates(fit, clocks, anchors, len(found))


def find_anchors(index: Index, clocks: Mapping[str, CameraClock]) -> dict[str, Anchor]:
    """The clocks known to true time: trusted cameras, DVR readings (latest), on-screen measurements."""
    out: dict[str, Anchor] = {}
    for c in clocks.values():
        if c.source == "osd":
            out[c.camera_id] = Anchor(c.camera_id, c.offset_s, c.uncertainty_s or READ_UNCERTAINTY_S, "osd")
    for obs in clock_observations(index):  # oldest first: the latest reading wins
        out[obs.camera_id] = Anchor(obs.camera_id, obs.offset_s, READ_UNCERTAINTY_S, "set-clock")
    for c in clocks.values():
        if c.trusted:
            out[c.camera_id] = Anchor(c.camera_id, c.offset_s, c.uncertainty_s or TRUSTED_UNCERTAINTY_S, "trusted")
    return out


def face_targets(faces: Sequence[FaceTrack], strong: float, limit: int) -> list[TargetSighting]:
    """Tracks whose faces are strongly alike at two or more cameras, as sightings of one target each
    (``face:<first track id>``); chains of strong matches join (union-find). Above ``limit`` tracks,
    the highest-quality faces are kept."""
    if len(faces) > limit:
        logger.warning("clock fit: %d face tracks; the %d best faces are used", len(faces), limit)
        faces = sorted(faces, key=lambda f: -f.quality)[:limit]
    if len(faces) < 2:
        return []
    enc = np.stack([f.encoding for f in faces]).astype(np.float32)
    cams = np.array([f.camera_id for f in faces])
    root = list(range(len(faces)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    sq = (enc**2).sum(axis=1)
    for start in range(0, len(faces), 1024):
        block = enc[start:start + 1024]
        d2 = sq[start:start + 1024, None] + sq[None, :] - 2 * block @ enc.T
        for i, j in zip(*np.nonzero(d2 < strong * strong), strict=True):
            a, b = start + int(i), int(j)
            if a < b and cams[a] != cams[b]:
                root[find(a)] = find(b)
    groups: dict[int, list[FaceTrack]] = {}
    for i, f in enumerate(faces):
        groups.setdefault(find(i), []).append(f)
    out = []
    for members in groups.values():
        if len({f.camera_id for f in members}) < 2:
            continue
        label = f"face:{min(f.track_id for f in members)}"
        out += [TargetSighting(f.track_id, f.clip_id, f.camera_id, f.cls, label, f.quality, f.first_raw_ts,
                               f.last_raw_ts, kind="face") for f in members]
    return out


def cosightings(found: Sequence[TargetSighting], net: CameraNetwork, opts: EstimateOptions) -> list[CoSighting]:
    """One equation per pair of sightings of the same target (plate or face identity) at two cameras
    of the network, at most ``max_pair_m`` apart and ``max_offset_s`` apart in raw time."""
    by_target: dict[str, list[TargetSighting]] = {}
    for s in found:
        if s.camera_id in net:
            by_target.setdefault(s.target, []).append(s)
    dist: dict[tuple[str, str], float] = {}
    out = []
    for target, seen in sorted(by_target.items()):
        seen.sort(key=lambda s: s.first_raw_ts)
        for i, x in enumerate(seen):
            for y in seen[i + 1:]:
                if y.first_raw_ts - x.last_raw_ts > opts.max_offset_s:
                    break
                if y.camera_id == x.camera_id:
                    continue
                key = (x.camera_id, y.camera_id)
                if key not in dist:
                    dist[key] = dist[key[::-1]] = net.travel_m(*key)
                if dist[key] <= opts.max_pair_m:
                    out.append(_equation(target, x, y, dist[key], opts))
    return out


def _equation(target: str, x: TargetSighting, y: TargetSighting, meters: float, opts: EstimateOptions
              ) -> CoSighting:
    """The co-sighting of ``target`` at x's camera then y's (raw times), ``meters`` apart."""
    cls = x.cls if x.cls != "unknown" else y.cls
    vmax = opts.max_speed_kmh.get(cls, opts.max_speed_kmh.get("unknown", 110.0)) / 3.6
    vmin = opts.min_speed_kmh.get(cls, opts.min_speed_kmh.get("unknown", 2.0)) / 3.6
    mid = [(s.first_raw_ts + s.last_raw_ts) / 2 for s in (x, y)]
    spread = ((x.last_raw_ts - x.first_raw_ts) + (y.last_raw_ts - y.first_raw_ts)) / 2 + 1.0
    info = (("target", target), ("plate", target if x.kind == "plate" else None), ("class", cls),
            ("meters", round(meters, 1)),
            ("camera_a", x.camera_id), ("track_a", x.track_id), ("raw_a", from_ts(mid[0]).isoformat()),
            ("camera_b", y.camera_id), ("track_b", y.track_id), ("raw_b", from_ts(mid[1]).isoformat()))
    return CoSighting(x.camera_id, y.camera_id, mid[1] - mid[0], meters / vmax, meters / vmin,
                      key=f"{target}:{x.track_id}:{y.track_id}", spread_s=spread, target=target, info=info)


def cosighting_record(eq: CoSighting) -> dict[str, Any]:
    """A co-sighting as plain values: target (plate, or ``face:N``), plate, class, metres, each camera's
    track and raw (DVR) time."""
    return {**dict(eq.info), "key": eq.key}


def camera_records(est: ClockEstimates) -> list[dict[str, Any]]:
    """One plain record per camera: the estimate beside the offset in use, and its evidence."""
    rows = []
    for cam in est.fit.cameras:
        now = est.clocks.get(cam.camera_id)
        anchor = est.anchors.get(cam.camera_id)
        rows.append({
            "camera_id": cam.camera_id, "status": cam.status,
            "offset_s": None if cam.offset_s is None else round(cam.offset_s, 2),
            "uncertainty_s": None if cam.uncertainty_s is None else round(cam.uncertainty_s, 2),
            "n_cosightings": cam.n_cosightings,
            "current_offset_s": None if now is None else now.offset_s,
            "current_source": None if now is None else now.source,
            "change_s": None if cam.offset_s is None or now is None else round(cam.offset_s - now.offset_s, 2),
            "anchor_source": None if anchor is None else anchor.source,
            "anchor": cam.anchor, "path": list(cam.path), "linked_to": list(cam.linked_to),
            "osd_drift_s": None if now is None else now.osd_drift_s,
            "checks": checks(cam.camera_id, now, anchor),
            "cosightings": [cosighting_record(e) for e in cam.cosightings],
        })
    return rows


def checks(camera_id: str, clock: CameraClock | None, anchor: Anchor | None) -> list[str]:
    """What the on-screen clock readings say against the offset model: one line per doubt."""
    out = []
    if clock is not None and clock.osd_drift_spread_s is not None and clock.osd_drift_spread_s > OSD_DRIFT_SPREAD_S:
        out.append(f"the on-screen clock of {camera_id}'s {clock.osd_clips} clips disagrees with their recorded "
                   f"start times by {clock.osd_drift_spread_s:.0f} s more in some than in others: their raw times "
                   "come from different clocks, and one offset cannot fit them all")
    if clock is not None and clock.osd_drift_s is not None and abs(clock.osd_drift_s) > OSD_DRIFT_SPREAD_S:
        out.append(f"recorded start times are {clock.osd_drift_s:+.0f} s off the on-screen clock (median of "
                   f"{clock.osd_clips} clips): the raw times are not the DVR's own")
    if anchor is not None and anchor.source == "trusted" and clock is not None and clock.source == "estimate":
        out.append(f"{camera_id} is trusted but its offset in use is an estimate")
    return out


def stored_rows(est: ClockEstimates) -> list[ClockEstimateRow]:
    """The rows ``Writer.record_clock_estimates`` stores for this fit."""
    return [ClockEstimateRow(c.camera_id, c.status, c.offset_s, c.uncertainty_s, c.n_cosightings,
                             [cosighting_record(e) for e in c.cosightings]) for c in est.fit.cameras]


def record_estimates(index: Index, est: ClockEstimates) -> float:
    """Store the fit in ``clock_estimates`` (for ``clocks apply``). Returns the run's time stamp."""
    return index.writer.record_clock_estimates(stored_rows(est))
