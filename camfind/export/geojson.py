"""A route as GeoJSON: a point per hop, the route as a LineString, the cameras to check.

>>> from camfind.types import Route
>>> route_geojson(Route("plate X", ()), {})["features"]
[]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from camfind.timeutil import DEFAULT_TZ, iso_local
from camfind.types import Camera, CameraToCheck, Route


def route_geojson(route: Route, cameras: Mapping[str, Camera], tz: str = DEFAULT_TZ) -> dict[str, Any]:
    """A FeatureCollection (coordinates are ``[lon, lat]``, times ISO 8601 in the case zone)."""
    features: list[dict[str, Any]] = []
    line: list[list[float]] = []
    for n, hop in enumerate(route.hops, start=1):
        cam = cameras.get(hop.camera_id)
        if cam is None:
            continue
        line.append([cam.lon, cam.lat])
        features.append(_point(cam, {
            "kind": "hop", "order": n, "camera_id": hop.camera_id, "name": cam.name,
            "first_seen": iso_local(hop.first_seen, tz), "last_seen": iso_local(hop.last_seen, tz),
            "direction": hop.direction, "direction_deg": hop.direction_deg,
            "distance_m_from_prev": hop.distance_m_from_prev, "speed_kmh_from_prev": hop.speed_kmh_from_prev,
            "feasible": hop.feasible, "note": hop.note, "sightings": len(hop.sightings),
        }))
    if len(line) >= 2:
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {"kind": "route", "target": route.target, "hops": len(route.hops),
                           "feasible": all(h.feasible for h in route.hops)},
        })
    for kind, group in (("next", route.next_cameras), ("previous", route.previous_cameras)):
        for c in group:
            cam = cameras.get(c.camera_id)
            if cam is not None:
                features.append(_point(cam, _to_check(kind, c, cam, tz)))
    return {"type": "FeatureCollection", "properties": {"target": route.target}, "features": features}


def _point(cam: Camera, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [cam.lon, cam.lat]}, "properties": props}


def _to_check(kind: str, c: CameraToCheck, cam: Camera, tz: str) -> dict[str, Any]:
    return {
        "kind": kind, "camera_id": c.camera_id, "name": cam.name, "owner_type": c.owner_type,
        "owner_name": c.owner_name, "owner_contact": c.owner_contact,
        "window_from": iso_local(c.window_from, tz), "window_to": iso_local(c.window_to, tz),
        "footage_ingested": c.footage_ingested, "distance_m": c.distance_m, "reason": c.reason,
    }
