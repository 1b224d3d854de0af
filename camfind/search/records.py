"""Sightings and routes as plain records: the JSON shapes of ``camfind search`` and ``camfind
trace`` (keys per the CLI contract; times ISO 8601 in the case's zone).

>>> from camfind.types import Route
>>> route_record(Route("plate X", ()))["hops"]
[]
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from camfind.timeutil import DEFAULT_TZ, iso_local
from camfind.types import CameraToCheck, Gap, Hop, Route, Sighting

#: The keys of one search result, in order (the contract's, then extras).
SIGHTING_KEYS: tuple[str, ...] = (
    "camera_id", "time", "end_time", "class", "color", "direction", "direction_deg", "plate", "confidence",
    "track_id", "clip_sha256", "clip_path", "frame", "snapshot", "snapshot_sha256", "plate_confidence",
    "face_distance", "clip_id", "plate_time", "plate_frame", "plate_snapshot", "plate_snapshot_sha256",
    "face_distance", "clip_id", "time_dvr", "clock_offset_s", "clock_uncertainty_s",
)  # fmt: skip


def sighting_record(s: Sighting, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    """One search result as a JSON object."""
    return {
        "camera_id": s.camera_id, "time": iso_local(s.time, tz), "end_time": iso_local(s.end_time, tz),
        "class": s.cls, "color": s.color, "direction": s.direction,
        "direction_deg": None if s.direction_deg is None else round(s.direction_deg, 1), "plate": s.plate,
        "confidence": round(s.confidence, 3), "track_id": s.track_id or None, "clip_sha256": s.clip_sha256,
        "clip_path": s.clip_path, "frame": s.frame, "snapshot": s.snapshot, "snapshot_sha256": s.snapshot_sha256,
        "plate_confidence": None if s.plate_confidence is None else round(s.plate_confidence, 3),
        "face_distance": None if s.face_distance is None else round(s.face_distance, 4), "clip_id": s.clip_id,
        "plate_time": None if s.plate_time is None else iso_local(s.plate_time, tz), "plate_frame": s.plate_frame,
        "plate_snapshot": s.plate_snapshot, "plate_snapshot_sha256": s.plate_snapshot_sha256,
        "time_dvr": None if s.clock_offset_s is None else iso_local(s.time + timedelta(seconds=s.clock_offset_s), tz),
        "clock_offset_s": s.clock_offset_s, "clock_uncertainty_s": s.clock_uncertainty_s,
    }


def hop_record(hop: Hop, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    """One hop of a route."""
    return {
        "camera_id": hop.camera_id, "first_seen": iso_local(hop.first_seen, tz),
        "last_seen": iso_local(hop.last_seen, tz), "direction": hop.direction,
        "direction_deg": None if hop.direction_deg is None else round(hop.direction_deg, 1),
        "distance_m_from_prev": hop.distance_m_from_prev, "speed_kmh_from_prev": hop.speed_kmh_from_prev,
        "feasible": hop.feasible, "note": hop.note,
        "evidence": list(dict.fromkeys(p for s in hop.sightings for p in (s.snapshot, s.plate_snapshot) if p)),
        "sightings": [sighting_record(s, tz) for s in hop.sightings],
    }


def gap_record(gap: Gap, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    return {
        "after_camera_id": gap.after_camera_id, "before_camera_id": gap.before_camera_id,
        "from": iso_local(gap.time_from, tz), "to": iso_local(gap.time_to, tz), "note": gap.note,
    }


def to_check_record(c: CameraToCheck, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    return {
        "camera_id": c.camera_id, "owner_type": c.owner_type, "owner_name": c.owner_name,
        "owner_contact": c.owner_contact, "window_from": iso_local(c.window_from, tz),
        "window_to": iso_local(c.window_to, tz), "footage_ingested": c.footage_ingested,
        "distance_m": c.distance_m, "reason": c.reason,
    }


def route_record(route: Route, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    """The ``camfind trace --json`` object."""
    last = route.hops[-1] if route.hops else None
    first = route.hops[0] if route.hops else None
    return {
        "target": route.target,
        "hops": [hop_record(h, tz) for h in route.hops],
        "gaps": [gap_record(g, tz) for g in route.gaps],
        "first_seen": None if first is None else iso_local(first.first_seen, tz),
        "first_camera_id": None if first is None else first.camera_id,
        "last_seen": None if last is None else iso_local(last.last_seen, tz),
        "last_camera_id": None if last is None else last.camera_id,
        "next_cameras": [to_check_record(c, tz) for c in route.next_cameras],
        "previous_cameras": [to_check_record(c, tz) for c in route.previous_cameras],
        "feasible": all(h.feasible for h in route.hops),
    }
