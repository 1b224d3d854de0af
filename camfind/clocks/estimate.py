"""Estimate camera clock offsets from an index: exact-plate co-sightings, the network's distances,
per-class speed ranges, anchored on the clocks the index trusts (see :mod:`camfind.clocks.fit`).

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

from camfind.clocks.fit import Anchor, ClockFit, CoSighting, FitOptions, fit_offsets
from camfind.index.queries import CameraClock, PlateSighting, camera_clocks, clock_observations, plate_sightings
from camfind.index.writer import ClockEstimateRow
from camfind.network import CameraNetwork, load_network
from camfind.search.clocks import TRUSTED_UNCERTAINTY_S
from camfind.search.trace import MAX_SPEED_KMH
from camfind.timeutil import from_ts

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

#: Below these speeds (km/h) a target is taken to have stopped between two cameras (a co-sighting
#: slower than this is rejected as another trip).
MIN_SPEED_KMH: Mapping[str, float] = {
    "person": 2.0, "bicycle": 4.0, "motorcycle": 5.0, "car": 5.0, "bus": 5.0, "truck": 5.0, "unknown": 2.0,
}  # fmt: skip
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


def cosightings(found: Sequence[PlateSighting], net: CameraNetwork, opts: EstimateOptions) -> list[CoSighting]:
    """One equation per pair of sightings of the same plate at two cameras of the network, at most
    ``max_pair_m`` apart and ``max_offset_s`` apart in raw time."""
    by_plate: dict[str, list[PlateSighting]] = {}
    for s in found:
        if s.camera_id in net:
            by_plate.setdefault(s.plate, []).append(s)
    dist: dict[tuple[str, str], float] = {}
    out = []
    for plate, seen in sorted(by_plate.items()):
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
                    out.append(_equation(plate, x, y, dist[key], opts))
    return out


def _equation(plate: str, x: PlateSighting, y: PlateSighting, meters: float, opts: EstimateOptions) -> CoSighting:
    cls = x.cls if x.cls != "unknown" else y.cls
    vmax = opts.max_speed_kmh.get(cls, opts.max_speed_kmh.get("unknown", 110.0)) / 3.6
    vmin = opts.min_speed_kmh.get(cls, opts.min_speed_kmh.get("unknown", 2.0)) / 3.6
    mid = [(s.first_raw_ts + s.last_raw_ts) / 2 for s in (x, y)]
    spread = ((x.last_raw_ts - x.first_raw_ts) + (y.last_raw_ts - y.first_raw_ts)) / 2 + 1.0
    info = (("plate", plate), ("class", cls), ("meters", round(meters, 1)),
            ("camera_a", x.camera_id), ("track_a", x.track_id), ("raw_a", from_ts(mid[0]).isoformat()),
            ("camera_b", y.camera_id), ("track_b", y.track_id), ("raw_b", from_ts(mid[1]).isoformat()))
    return CoSighting(x.camera_id, y.camera_id, mid[1] - mid[0], meters / vmax, meters / vmin,
                      key=f"{plate}:{x.track_id}:{y.track_id}", spread_s=spread, target=plate, info=info)


def cosighting_record(eq: CoSighting) -> dict[str, Any]:
    """A co-sighting as plain values: plate, class, metres, each camera's track and raw (DVR) time."""
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
