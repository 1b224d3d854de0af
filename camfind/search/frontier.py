"""Gaps in a route and its frontier: where the target could have gone after the last sighting
(and come from before the first), as a list of cameras whose footage to check or request.

A frontier camera is reachable from the last camera along the network (``rings`` links at most),
lies ahead in the direction of travel (within +-90 degrees), and gets the time window in which
the target would pass it at plausible speeds for its class, whether footage covering that window
is already ingested, and the owner's contact for a footage request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from camfind.custody import coverage
from camfind.geo import angle_diff, compass_word
from camfind.network import CameraNetwork
from camfind.types import CameraToCheck, Gap, Hop

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

#: Plausible travel speeds (km/h, slowest and fastest) in a city, for the frontier's windows.
PLAUSIBLE_KMH: Mapping[str, tuple[float, float]] = {
    "person": (2.0, 15.0), "bicycle": (6.0, 30.0), "motorcycle": (10.0, 60.0), "car": (10.0, 60.0),
    "bus": (8.0, 50.0), "truck": (8.0, 50.0), "unknown": (2.0, 60.0),
}  # fmt: skip
AHEAD_DEG = 90.0
#: A stop longer than this beyond the slowest plausible travel time is reported as a gap.
STOP_S = 120.0


def plausible(cls: str) -> tuple[float, float]:
    """Slowest and fastest plausible speed for a class, in metres per second."""
    lo, hi = PLAUSIBLE_KMH.get(cls, PLAUSIBLE_KMH["unknown"])
    return lo / 3.6, hi / 3.6


def heading(net: CameraNetwork, hops: Sequence[Hop], at_end: bool) -> float | None:
    """Direction of travel at the end (or start) of a route: the hop's own direction when known,
    else the bearing between the last two (first two) hops' cameras."""
    hop = hops[-1] if at_end else hops[0]
    if hop.direction_deg is not None:
        return hop.direction_deg
    if len(hops) < 2:
        return None
    a, b = (hops[-2], hops[-1]) if at_end else (hops[0], hops[1])
    if a.camera_id == b.camera_id or a.camera_id not in net or b.camera_id not in net:
        return None
    return net.bearing_deg(a.camera_id, b.camera_id)


def reach(net: CameraNetwork, start: str, rings: int) -> dict[str, tuple[float, str | None]]:
    """Cameras up to ``rings`` links from ``start``: camera -> (metres along links, first link)."""
    found: dict[str, tuple[float, str | None]] = {}
    frontier: list[tuple[str, float, str | None]] = [(start, 0.0, None)]
    seen = {start}
    for _ in range(rings):
        nxt: list[tuple[str, float, str | None]] = []
        for cam, dist, via in frontier:
            for nb in net.neighbors(cam):
                if nb in seen:
                    continue
                seen.add(nb)
                d = dist + (net.link_m(cam, nb) or net.distance_m(cam, nb))
                first = via if via is not None else nb
                found[nb] = (d, None if first == nb else first)
                nxt.append((nb, d, first))
        frontier = nxt
    return found


def next_cameras(
    index: Index, net: CameraNetwork, hops: Sequence[Hop], cls: str, rings: int, slack_s: float
) -> list[CameraToCheck]:
    """Where the target could have gone after its last sighting."""
    return _frontier(index, net, hops, cls, rings, slack_s, forward=True)


def previous_cameras(
    index: Index, net: CameraNetwork, hops: Sequence[Hop], cls: str, rings: int, slack_s: float
) -> list[CameraToCheck]:
    """Where the target could have come from before its first sighting."""
    return _frontier(index, net, hops, cls, rings, slack_s, forward=False)


def _frontier(
    index: Index, net: CameraNetwork, hops: Sequence[Hop], cls: str, rings: int, slack_s: float, forward: bool
) -> list[CameraToCheck]:
    if not hops:
        return []
    edge = hops[-1] if forward else hops[0]
    if edge.camera_id not in net:
        return []
    other = hops[-2] if forward and len(hops) > 1 else hops[1] if not forward and len(hops) > 1 else None
    skip = {edge.camera_id} | ({other.camera_id} if other else set())
    head = heading(net, hops, at_end=forward)
    want = None if head is None else (head if forward else (head + 180.0) % 360.0)
    cands = {c: v for c, v in reach(net, edge.camera_id, rings).items() if c not in skip}
    ahead = {
        c: v for c, v in cands.items()
        if want is None or angle_diff(net.bearing_deg(edge.camera_id, c), want) <= AHEAD_DEG
    }
    off_course = not ahead and bool(cands)
    chosen = cands if off_course else ahead
    out = [
        _to_check(index, net, edge, cam, dist, via, cls, slack_s, forward, off_course)
        for cam, (dist, via) in chosen.items()
    ]
    return sorted(out, key=lambda c: (c.window_from, c.camera_id))


def _to_check(
    index: Index, net: CameraNetwork, edge: Hop, cam: str, dist: float, via: str | None, cls: str,
    slack_s: float, forward: bool, off_course: bool,
) -> CameraToCheck:
    vmin, vmax = plausible(cls)
    fast, slow = timedelta(seconds=dist / vmax), timedelta(seconds=dist / vmin)
    pad = timedelta(seconds=slack_s)
    if forward:
        w_from, w_to = edge.last_seen + fast - pad, edge.last_seen + slow + pad
    else:
        w_from, w_to = edge.first_seen - slow - pad, edge.first_seen - fast + pad
    w_from, w_to = _floor_s(w_from), _ceil_s(w_to)
    ingested, footage = footage_state(index, cam, w_from, w_to)
    where = f"{dist:.0f} m {compass_word(net.bearing_deg(edge.camera_id, cam))} of {edge.camera_id}"
    route = "neighbour" if via is None else f"via {via}"
    course = "; not in the direction of travel (no camera ahead)" if off_course else ""
    camera = net.camera(cam)
    return CameraToCheck(
        camera_id=cam, owner_type=camera.owner_type, owner_name=camera.owner_name,
        owner_contact=camera.owner_contact, window_from=w_from, window_to=w_to, footage_ingested=ingested,
        distance_m=round(dist, 1), reason=f"{route}, {where}; {footage}{course}",
    )


def footage_state(index: Index, camera_id: str, w_from: datetime, w_to: datetime) -> tuple[bool, str]:
    """Whether the camera's ingested footage covers the window, and a phrase saying so.

    The window is worked out from sightings, never typed by the user: an empty or inverted one
    (sightings that overlap in time) has no footage to look for, and is said so.
    """
    if w_to <= w_from:
        return False, "an empty window: no footage to check"
    cov = coverage(index, w_from, w_to, camera_id)[0]
    if cov.clips and not cov.gaps:
        return True, "footage ingested (target not found in it)"
    if cov.clips:
        return False, f"footage covers {cov.ratio:.0%} of the window: request the rest"
    return False, "no footage ingested: request it"


def find_gaps(index: Index, net: CameraNetwork, hops: Sequence[Hop], cls: str) -> list[Gap]:
    """Stretches between hops where the target passed cameras unseen, or stopped."""
    gaps = []
    for prev, hop in zip(hops, hops[1:], strict=False):
        if prev.camera_id not in net or hop.camera_id not in net or prev.camera_id == hop.camera_id:
            continue
        dt = (hop.first_seen - prev.last_seen).total_seconds()
        if dt <= 0:  # overlapping sightings: nothing was passed unseen between them
            if not hop.feasible:
                gaps.append(Gap(prev.camera_id, hop.camera_id, prev.last_seen, hop.first_seen,
                                overlap_note(prev, hop)))
            continue
        notes = []
        path = net.shortest_path(prev.camera_id, hop.camera_id) or []
        for cam in path[1:-1]:
            _, footage = footage_state(index, cam, prev.last_seen, hop.first_seen)
            notes.append(f"passed {cam} unseen ({footage})")
        slowest = net.travel_m(prev.camera_id, hop.camera_id) / plausible(cls)[0]
        if dt > slowest + STOP_S:
            notes.append(f"{dt:.0f} s between sightings, slow travel needs {slowest:.0f} s: stopped or detoured")
        if not path:
            notes.append("cameras not connected in the network")
        if notes:
            gaps.append(Gap(prev.camera_id, hop.camera_id, prev.last_seen, hop.first_seen, "; ".join(notes)))
    return gaps


def overlap_note(prev: Hop, hop: Hop) -> str:
    """Why two hops seen at overlapping times at cameras too far apart cannot both be the target."""
    overlap = (prev.last_seen - hop.first_seen).total_seconds()
    dist = "" if hop.distance_m_from_prev is None else f", {hop.distance_m_from_prev:.0f} m apart"
    return (f"seen at {prev.camera_id} and {hop.camera_id} at overlapping times ({overlap:.0f} s overlap{dist}): "
            "one target cannot be at both; a cloned or misread plate, or a wrong camera clock")


def _floor_s(t: datetime) -> datetime:
    return t.replace(microsecond=0)


def _ceil_s(t: datetime) -> datetime:
    return t if not t.microsecond else t.replace(microsecond=0) + timedelta(seconds=1)
