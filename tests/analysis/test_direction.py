"""Direction of travel: image bearings from the camera heading, ground bearings and speeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from camfind.analysis.direction import (
    frame_side,
    ground_motion,
    image_bearing,
    image_motion,
    path_speed,
    track_motion,
)
from camfind.calibration import fit_ground_model
from camfind.geo import angle_diff
from camfind.types import Box


@pytest.mark.parametrize(
    ("dx", "dy", "heading", "expected"),
    [
        (0, -10, 0, 0),  # up the picture = away from the camera = its heading
        (10, 0, 0, 90),  # right = heading + 90
        (0, 10, 0, 180),  # towards the camera
        (-10, 0, 0, 270),
        (0, -10, 90, 90),
        (10, 0, 90, 180),
        (10, -10, 270, 315),
        (0, -5, 350, 350),
        (5, 0, 350, 80),
    ],
)
def test_image_bearing(dx: float, dy: float, heading: float, expected: float) -> None:
    assert image_bearing(dx, dy, heading) == pytest.approx(expected)


def _walk(start: tuple[float, float], step: tuple[float, float], n: int, size: float = 40.0) -> list[Box]:
    boxes = []
    for i in range(n):
        cx, cy = start[0] + step[0] * i, start[1] + step[1] * i
        boxes.append((cx - size / 2, cy - size, cx + size / 2, cy))
    return boxes


def test_image_motion_needs_heading_and_movement() -> None:
    boxes = _walk((100, 300), (10, 0), 10)
    assert image_motion(boxes, None) is None
    assert image_motion(boxes, 0.0) == pytest.approx(90.0)
    still = _walk((100, 300), (0.5, 0.3), 10)  # jitter of a parked car: no direction
    assert image_motion(still, 0.0) is None


def test_one_bad_box_does_not_flip_the_direction() -> None:
    boxes = _walk((100, 300), (12, 0), 12)
    boxes[-1] = (0.0, 260.0, 40.0, 300.0)  # a tracker glitch jumps back to the start
    assert image_motion(boxes, 180.0) == pytest.approx(270.0, abs=5)


@pytest.mark.parametrize(
    ("box", "side"),
    [
        ((0, 100, 50, 200), "left"),
        ((600, 100, 640, 200), "right"),
        ((300, 0, 340, 40), "top"),
        ((300, 300, 340, 360), "bottom"),
        ((300, 150, 340, 200), "inside"),
    ],
)
def test_frame_side(box: Box, side: str) -> None:
    assert frame_side(box, 640, 360) == side


def _ground() -> object:
    # A 100x100 px square seen straight down, 1 px = ~1.11 m; up the picture is north.
    pts = [((0.0, 0.0), (10.7700, 106.7000)), ((100.0, 0.0), (10.7700, 106.7010)),
           ((100.0, 100.0), (10.7690, 106.7010)), ((0.0, 100.0), (10.7690, 106.7000))]
    return fit_ground_model("CAM01", pts)


def test_ground_bearing_and_speed() -> None:
    model = _ground()
    boxes = _walk((10, 50), (8, 0), 11, size=10)  # east, 8 px per step
    times = [i * 0.5 for i in range(11)]
    bearing, speed = ground_motion(boxes, times, model.to_world)  # type: ignore[attr-defined]
    assert bearing == pytest.approx(90.0, abs=1.0)
    metres_per_px = 109.3 / 100
    expected = 8 * metres_per_px / 0.5 * 3.6
    assert speed == pytest.approx(expected, rel=0.05)


def test_track_motion_prefers_the_ground_plane() -> None:
    model = _ground()
    boxes = _walk((50, 90), (0, -8), 10, size=10)  # up the picture = north on the ground
    times = [i * 0.25 for i in range(10)]
    # A wrong heading (east) must not matter when the camera is calibrated.
    motion = track_motion(boxes, times, width=100, height=100, heading_deg=90.0,
                          to_world=model.to_world)  # type: ignore[attr-defined]
    assert motion.source == "ground"
    assert angle_diff(motion.direction_deg or 0.0, 0.0) < 2.0
    assert motion.speed_kmh is not None and motion.speed_kmh > 10
    plain = track_motion(boxes, times, width=100, height=100, heading_deg=90.0)
    assert plain.source == "image" and plain.direction_deg == pytest.approx(90.0)
    assert plain.speed_kmh is None


def test_foot_points_above_the_horizon_fall_back_to_the_image() -> None:
    def beyond(x: float, y: float) -> tuple[float, float]:
        raise ValueError("above the horizon")

    motion = track_motion(_walk((50, 300), (10, 0), 6), [i * 0.25 for i in range(6)],
                          width=640, height=360, heading_deg=0.0, to_world=beyond)
    assert motion.source == "image" and motion.direction_deg == pytest.approx(90.0)


def test_mismatched_times_are_refused() -> None:
    with pytest.raises(ValueError, match="one time per box"):
        track_motion(_walk((0, 0), (1, 1), 3), [0.0], width=10, height=10, heading_deg=0.0)


def test_bearing_is_a_compass_angle() -> None:
    for dx, dy in [(3, -4), (-7, 2), (0.1, 9)]:
        b = image_bearing(dx, dy, 33.0)
        assert 0 <= b < 360
        assert math.isfinite(b)


def test_speed_follows_the_path_not_the_net_displacement() -> None:
    # 10 s east at 1 m/s, then 10 s back west: a walker's pace, whatever the net displacement.
    t = np.arange(0, 20, 0.25)
    east = np.where(t <= 10, t, 20 - t)
    world = np.stack([east, np.zeros_like(t)], axis=1)
    assert path_speed(world, list(t)) == pytest.approx(3.6, rel=0.05)
    assert path_speed(world[:3], list(t[:3])) is None  # shorter than two one-second bins
