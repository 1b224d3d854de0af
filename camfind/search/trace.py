"""Trace a target (plate, face or track) through the camera network: hops, feasibility, gaps and
the cameras to check next.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> trace(idx, TraceTarget(plate="51F-123.45")).hops
()

The route is built from sightings in corrected (true) time. Consecutive sightings at one camera
merge into a :class:`~camfind.types.Hop`. Each hop gets the distance from the previous one (along
the network's links when they connect, else straight) and the implied speed; a speed above the
class's maximum marks the hop infeasible, with a note naming the weaker of the two matches and
the clock error that would explain the hop. Gaps and the frontier come from
:mod:`camfind.search.frontier`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from camfind.errors import InputError
from camfind.index import queries
from camfind.network import CameraNetwork, load_network
from camfind.search.clocks import ClockInfo, clock_info, explained_within_uncertainty, offset_fix
from camfind.search.frontier import find_gaps, next_cameras, previous_cameras
from camfind.search.plates import PlatePattern, parse_plate_pattern
from camfind.search.query import SearchQuery, search, sightings_of_tracks
from camfind.types import Hop, Route, Sighting
from camfind.vocab import FACE_MATCH_THRESHOLD, normalize_plate

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

#: Above these speeds (km/h) a hop is impossible for the class, in a city.
MAX_SPEED_KMH: Mapping[str, float] = {
    "person": 20.0, "bicycle": 40.0, "motorcycle": 90.0, "car": 110.0, "bus": 90.0, "truck": 90.0,
    "unknown": 110.0,
}  # fmt: skip
#: Sightings at cameras this close may overlap in time (overlapping or adjacent views).
SAME_PLACE_M = 60.0


@dataclass(frozen=True)
class TraceTarget:
    """Who or what to trace: a plate pattern, a face probe's encodings, or a track id."""

    plate: str | None = None
    faces: tuple[np.ndarray, ...] = field(default=(), compare=False)
    track_id: int | None = None
    label: str = ""

    def __post_init__(self) -> None:
        given = sum([self.plate is not None, bool(self.faces), self.track_id is not None])
        if given != 1:
            raise InputError("trace needs exactly one target: --plate, --face or --track")
        if self.plate is not None:
            parse_plate_pattern(self.plate)

    def describe(self) -> str:
        if self.plate is not None:
            return f"plate {self.plate}"
        if self.track_id is not None:
            return f"track {self.track_id}"
        return f"face {self.label or 'probe'}"


@dataclass(frozen=True)
class TraceOptions:
    """Tunables: maximum speeds, hop merging, frontier reach."""

    max_speed_kmh: Mapping[str, float] = field(default_factory=lambda: dict(MAX_SPEED_KMH))
    merge_gap_s: float = 300.0
    frontier_rings: int = 2
    slack_s: float = 30.0
    face_threshold: float = FACE_MATCH_THRESHOLD


def trace(
    index: Index,
    target: TraceTarget,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
    options: TraceOptions | None = None,
) -> Route:
    """Reconstruct the target's route through the network.

    Raises:
        InputError: a bad target; NotFoundError: an unknown track id.
    """
    opts = options or TraceOptions()
    sightings = collect(index, target, time_from, time_to, opts.face_threshold)
    if not sightings:
        return Route(target=target.describe(), hops=())
    net = load_network(index)
    cls = target_class(sightings)
    strengths = {s: match_strength(s, target) for s in sightings}
    groups = group_hops(sightings, opts.merge_gap_s)
    clocks = clock_info(index, [s for g in groups for s in g])
    hops = build_hops(groups, net, cls, opts, strengths, clocks)
    return Route(
        target=target.describe(),
        hops=tuple(hops),
        gaps=tuple(find_gaps(index, net, hops, cls)),
        next_cameras=tuple(next_cameras(index, net, hops, cls, opts.frontier_rings, opts.slack_s)),
        previous_cameras=tuple(previous_cameras(index, net, hops, cls, opts.frontier_rings, opts.slack_s)),
    )


# -- collecting ---------------------------------------------------------------------------------
def collect(
    index: Index, target: TraceTarget, time_from: datetime | None, time_to: datetime | None, threshold: float
) -> list[Sighting]:
    """Every sighting of the target in the window, in time order (one per track)."""
    window = {"time_from": time_from, "time_to": time_to}
    if target.plate is not None:
        return search(index, SearchQuery(plate=target.plate, **window))  # type: ignore[arg-type]
    if target.faces:
        return search(index, SearchQuery(faces=target.faces, face_threshold=threshold, **window))  # type: ignore[arg-type]
    assert target.track_id is not None
    seed = sightings_of_tracks(index, [target.track_id])
    more: list[Sighting] = []
    plate = seed[0].plate
    if plate and normalize_plate(plate):
        more += search(index, SearchQuery(plate=normalize_plate(plate), **window))  # type: ignore[arg-type]
    encodings = track_encodings(index, target.track_id)
    if encodings:
        more += search(index, SearchQuery(faces=tuple(encodings), face_threshold=threshold, **window))  # type: ignore[arg-type]
    found: dict[tuple[int, int, int], Sighting] = {}
    for s in [*seed, *more]:  # one per track; reads with no track by clip and frame
        found.setdefault((s.track_id, s.clip_id if not s.track_id else 0, s.frame if not s.track_id else 0), s)
    return sorted(found.values(), key=lambda s: (s.time, s.camera_id, s.track_id))


def track_encodings(index: Index, track_id: int) -> list[np.ndarray]:
    """The face encodings recorded on one track (faces kept without one left out)."""
    return queries.track_encodings(index, track_id)


def target_class(sightings: Sequence[Sighting]) -> str:
    """The most common known class among the sightings (``unknown`` if none)."""
    counts = Counter(s.cls for s in sightings if s.cls != "unknown")
    return counts.most_common(1)[0][0] if counts else "unknown"


@dataclass(frozen=True)
class Strength:
    """How strongly a sighting matches the target: a score in [0, 1] and why, in words."""

    score: float
    reason: str


def match_strength(s: Sighting, target: TraceTarget) -> Strength:
    """How strongly a sighting matches the target (face distance, plate edits, OCR confidence)."""
    if s.face_distance is not None:
        return Strength(max(0.0, 1.0 - s.face_distance), f"face distance {s.face_distance:.2f}")
    conf = s.plate_confidence if s.plate_confidence is not None else s.confidence
    if target.plate is not None and s.plate:
        pattern: PlatePattern = parse_plate_pattern(target.plate)
        dist = pattern.match(normalize_plate(s.plate))
        dist = pattern.max_edits if dist is None else dist
        score = float(conf) / (1.0 + dist)
        edits = f", {dist:g} edits from {pattern.norm}" if dist else ""
        return Strength(score, f"plate read {s.plate!r}{edits}, OCR confidence {conf:.2f}")
    return Strength(float(conf), f"confidence {conf:.2f}")


# -- hops ---------------------------------------------------------------------------------------
def group_hops(sightings: Sequence[Sighting], merge_gap_s: float) -> list[list[Sighting]]:
    """Consecutive sightings at one camera (less than ``merge_gap_s`` apart) form one group."""
    groups: list[list[Sighting]] = []
    for s in sorted(sightings, key=lambda s: (s.time, s.camera_id, s.track_id)):
        last = groups[-1] if groups else None
        if last and last[-1].camera_id == s.camera_id and (
            (s.time - max(x.end_time for x in last)).total_seconds() <= merge_gap_s
        ):
            last.append(s)
        else:
            groups.append([s])
    return groups


def build_hops(
    groups: Sequence[Sequence[Sighting]],
    net: CameraNetwork,
    cls: str,
    opts: TraceOptions,
    strengths: Mapping[Sighting, Strength],
    clocks: Mapping[int, ClockInfo],
) -> list[Hop]:
    """Hops with distance, implied speed and feasibility from the previous hop."""
    hops: list[Hop] = []
    vmax = opts.max_speed_kmh.get(cls, MAX_SPEED_KMH["unknown"])
    for i, group in enumerate(groups):
        first = min(s.time for s in group)
        last = max(s.end_time for s in group)
        lead = max(group, key=lambda s: (s.direction_deg is not None, s.confidence))
        hop = Hop(camera_id=group[0].camera_id, first_seen=first, last_seen=last, sightings=tuple(group),
                  direction=lead.direction, direction_deg=lead.direction_deg)
        if i > 0:
            hop = _with_speed(hop, hops[-1], groups[i - 1], net, cls, vmax, strengths, clocks)
        hops.append(hop)
    return hops


def _with_speed(
    hop: Hop, prev: Hop, prev_group: Sequence[Sighting], net: CameraNetwork, cls: str, vmax: float,
    strengths: Mapping[Sighting, Strength], clocks: Mapping[int, ClockInfo],
) -> Hop:
    dist = net.travel_m(prev.camera_id, hop.camera_id) if prev.camera_id in net and hop.camera_id in net else None
    if dist is None:
        return _replace(hop, note="camera not in the network: no distance")
    dt = (hop.first_seen - prev.last_seen).total_seconds()
    if dt <= 0:
        feasible = dist <= SAME_PLACE_M
        speed = None if feasible else float("inf")
    else:
        speed = dist / dt * 3.6
        feasible = speed <= vmax
    note = "" if feasible else infeasible_note(
        prev, hop, prev_group, dist, dt, cls, vmax, strengths, clocks
    )
    if not feasible:
        feasible, note = clock_verdict(prev_group, hop, dist, dt, vmax, clocks, note)
    shown = None if speed is None or speed == float("inf") else round(speed, 1)
    return _replace(hop, distance_m_from_prev=round(dist, 1), speed_kmh_from_prev=shown, feasible=feasible, note=note)


def infeasible_note(
    prev: Hop, hop: Hop, prev_group: Sequence[Sighting], dist: float, dt: float, cls: str, vmax: float,
    strengths: Mapping[Sighting, Strength], clocks: Mapping[int, ClockInfo],
) -> str:
    """Why a hop is impossible, which of its two sightings is the weaker match, and whether a
    clock error could explain it."""
    need = dist / (vmax / 3.6)
    short = need - dt
    speed = "at the same time" if dt <= 0 else f"{dist / dt * 3.6:.0f} km/h"
    a = max(prev_group, key=lambda s: strengths[s].score)
    b = max(hop.sightings, key=lambda s: strengths[s].score)
    weaker, why = ((prev.camera_id, strengths[a].reason) if strengths[a].score < strengths[b].score
                   else (hop.camera_id, strengths[b].reason))
    parts = [
        f"{dist:.0f} m in {max(dt, 0):.0f} s ({speed}) is impossible for a {cls} (max {vmax:.0f} km/h)",
        f"weaker match: {weaker} ({why})",
    ]
    suspects = [c for c in (clocks.get(a.clip_id), clocks.get(b.clip_id)) if c is not None and c.could_explain(short)]
    if suspects:
        parts.append(
            f"a clock error of {short:.0f} s would explain it: "
            + "; ".join(c.describe() for c in suspects)
        )
    else:
        parts.append(f"clocks verified: a {short:.0f} s error is unlikely; the weaker match is more likely wrong")
    return "; ".join(parts)


def clock_verdict(
    prev_group: Sequence[Sighting], hop: Hop, dist: float, dt: float, vmax: float,
    clocks: Mapping[int, ClockInfo], note: str,
) -> tuple[bool, str]:
    """A too-quick hop stays impossible only when no offsets within the two cameras' clock
    uncertainties explain it; either way the note says which offset would. Returns (feasible, note)."""
    a = clocks.get(max(prev_group, key=lambda s: s.end_time).clip_id)
    b = clocks.get(min(hop.sightings, key=lambda s: s.time).clip_id)
    short = dist / (vmax / 3.6) - dt
    explained = explained_within_uncertainty(a, b, short)
    if explained is not None:
        return True, explained
    return False, note if a is None or b is None else f"{note}; {offset_fix(a, b, short)}"


def _replace(hop: Hop, **changes: object) -> Hop:
    return replace(hop, **changes)  # type: ignore[arg-type]
