"""Where a track came from, where it went, and which way it travelled.

Two ways to get a compass bearing of travel:

* from the image and the camera's heading: image up is away from the camera (the heading), image
  right is heading + 90 degrees. Good enough for "which way along the street" on most CCTV views.
* from the ground plane, when the camera has a calibration (``camfind cameras calibrate``): foot
  points (bottom centre of each box) are mapped to metres east/north, which also gives a speed.

The motion of a track is its robust net displacement: the median position of its first few boxes
to the median position of its last few, so one jittery box does not flip the direction.

Example:
    >>> image_bearing(dx=0.0, dy=-10.0, heading_deg=90.0)  # moving up the image, camera looks east
    90.0
    >>> image_bearing(dx=10.0, dy=0.0, heading_deg=90.0)  # moving right: heading + 90
    180.0
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from camfind.types import Box

log = logging.getLogger(__name__)

#: A ground-plane mapping: image pixel (x, y) -> (east_m, north_m).
ToWorld = Callable[[float, float], tuple[float, float]]

SIDES: tuple[str, ...] = ("left", "right", "top", "bottom", "inside")


@dataclass(frozen=True)
class Motion:
    """How a track moved: compass bearing (None when it did not move), speed and sides."""

    direction_deg: float | None
    speed_kmh: float | None
    entry_side: str | None
    exit_side: str | None
    source: str  # "ground", "image" or "none"


def image_bearing(dx: float, dy: float, heading_deg: float) -> float:
    """Compass bearing of an image displacement ``(dx, dy)`` (pixels, y down) for a camera heading.

    Image up (``dy < 0``) is away from the camera, i.e. ``heading_deg``; image right is
    ``heading_deg + 90``.
    """
    angle = math.degrees(math.atan2(dx, -dy))  # 0 = up, 90 = right
    return round((heading_deg + angle) % 360.0, 6)


def world_bearing(de: float, dn: float) -> float:
    """Compass bearing of a ground displacement (metres east, metres north)."""
    return math.degrees(math.atan2(de, dn)) % 360.0


def foot_point(box: Box) -> tuple[float, float]:
    """Bottom centre of a box: where the object touches the ground."""
    return (box[0] + box[2]) / 2.0, box[3]


def centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0


def frame_side(box: Box, width: int, height: int, margin: float = 0.08) -> str:
    """The frame edge a box touches or is nearest to, or ``inside`` when it is clear of all edges.

    ``margin`` is the fraction of the frame size counted as "at the edge".
    """
    gaps = {
        "left": box[0] / width,
        "right": (width - box[2]) / width,
        "top": box[1] / height,
        "bottom": (height - box[3]) / height,
    }
    side, gap = min(gaps.items(), key=lambda kv: kv[1])
    return side if gap <= margin else "inside"


def _end_count(n: int, share: float = 0.2, most: int = 5) -> int:
    """How many points at each end are pooled: 3 or more once a track is long enough."""
    return max(1, min(most, n // 3, max(3, int(round(n * share)))))


def _ends(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of the first and of the last few points (robust start and end positions)."""
    k = _end_count(len(points))
    return np.median(points[:k], axis=0), np.median(points[-k:], axis=0)


def _box_scale(boxes: Sequence[Box]) -> float:
    """The smaller side of a track's typical box (a person's width, a car's height)."""
    heights = [b[3] - b[1] for b in boxes]
    widths = [b[2] - b[0] for b in boxes]
    return float(max(min(np.median(heights), np.median(widths)), 1.0))


def image_motion(
    boxes: Sequence[Box], heading_deg: float | None, min_move: float = 0.75
) -> float | None:
    """Bearing of a track from its boxes (time order) in the image, or None.

    None when the camera has no heading or the track moved less than ``min_move`` times the
    smaller side of its typical box (standing still, or jitter): a person close to the camera
    who crosses half the picture has moved, though by less than their height.
    """
    if heading_deg is None or len(boxes) < 2:
        return None
    pts = np.array([centre(b) for b in boxes], dtype=float)
    start, end = _ends(pts)
    d = end - start
    if math.hypot(d[0], d[1]) < min_move * _box_scale(boxes):
        return None
    return image_bearing(float(d[0]), float(d[1]), heading_deg)


def ground_motion(
    boxes: Sequence[Box], times_s: Sequence[float], to_world: ToWorld, min_move_m: float = 1.0
) -> tuple[float | None, float | None]:
    """Bearing and speed (km/h) of a track on the ground plane, from its foot points.

    Returns (None, None) when a foot point does not map to the ground (beyond the horizon) or the
    track moved less than ``min_move_m`` metres.
    """
    if len(boxes) < 2:
        return None, None
    try:
        world = np.array([to_world(*foot_point(b)) for b in boxes], dtype=float)
    except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
        log.debug("foot point off the ground plane: %s", exc)
        return None, None
    if not np.all(np.isfinite(world)):
        return None, None
    start, end = _ends(world)
    d = end - start
    dist = math.hypot(d[0], d[1])
    if dist < min_move_m:
        return None, 0.0
    speed = path_speed(world, times_s)
    if speed is None:
        k = _end_count(len(boxes))
        dt = float(np.median(times_s[-k:]) - np.median(times_s[:k]))
        speed = dist / dt * 3.6 if dt > 0 else None
    return world_bearing(float(d[0]), float(d[1])), speed


def path_speed(world: np.ndarray, times_s: Sequence[float], bin_s: float = 1.0) -> float | None:
    """Speed (km/h) along the path: the median position of each ``bin_s`` joined up, over time.

    Someone who walks a curve, or there and back, is not slower than their pace; the medians
    keep box jitter from adding length. None for tracks shorter than two bins.
    """
    t = np.asarray(times_s, dtype=float)
    bins = np.floor((t - t[0]) / bin_s)
    keys = np.unique(bins)
    if len(keys) < 2:
        return None
    pts = np.array([np.median(world[bins == b], axis=0) for b in keys])
    ts = np.array([np.median(t[bins == b]) for b in keys])
    dt = float(ts[-1] - ts[0])
    if dt <= 0:
        return None
    return float(np.sum(np.hypot(*np.diff(pts, axis=0).T))) / dt * 3.6


def track_motion(
    boxes: Sequence[Box],
    times_s: Sequence[float],
    *,
    width: int,
    height: int,
    heading_deg: float | None,
    to_world: ToWorld | None = None,
) -> Motion:
    """Direction, speed and entry/exit sides of one track (boxes in time order).

    Uses the ground plane when ``to_world`` is given and the track maps onto it, else the image
    and the camera heading.
    """
    if not boxes:
        return Motion(None, None, None, None, "none")
    if len(boxes) != len(times_s):
        raise ValueError(f"expected one time per box, got {len(boxes)} boxes and {len(times_s)} times")
    entry = frame_side(boxes[0], width, height)
    exit_ = frame_side(boxes[-1], width, height)
    if to_world is not None:
        bearing, speed = ground_motion(boxes, times_s, to_world)
        if bearing is not None or speed == 0.0:
            return Motion(bearing, speed, entry, exit_, "ground")
    bearing = image_motion(boxes, heading_deg)
    return Motion(bearing, None, entry, exit_, "image" if bearing is not None else "none")
