"""Motion gate: still scenes are quiet, a moving object is found where it is, in full-frame pixels."""

from __future__ import annotations

import numpy as np
import pytest

from camfind.analysis.motion import MotionGate, MotionResult, ZoomMemory, unknown_detections, zoom_regions
from camfind.types import Detection


def _scene(rng: np.random.Generator, square_x: int | None = None) -> np.ndarray:
    """A 640x360 textured still scene with sensor noise, and optionally a 60x60 dark square."""
    base = np.tile(np.linspace(60, 200, 640, dtype=np.float32), (360, 1))
    image = base[..., None].repeat(3, axis=2) + rng.normal(0, 2.0, (360, 640, 3))
    if square_x is not None:
        image[150:210, square_x : square_x + 60] = (20, 30, 160)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_still_scene_is_not_moving_after_warmup() -> None:
    rng = np.random.default_rng(1)
    gate = MotionGate(warmup=3)
    results = [gate.update(_scene(rng)) for _ in range(30)]
    assert all(r.moving for r in results[:3])  # warm-up frames always pass
    assert not any(r.moving for r in results[10:])
    assert all(r.boxes == [] for r in results[10:])


def test_moving_square_is_boxed_in_full_frame_pixels() -> None:
    rng = np.random.default_rng(2)
    gate = MotionGate()
    for _ in range(20):
        gate.update(_scene(rng))
    result = MotionResult(moving=False)
    for step in range(6):
        x = 100 + 40 * step
        result = gate.update(_scene(rng, square_x=x))
    assert result.moving
    assert len(result.boxes) == 1
    x1, y1, x2, y2 = result.boxes[0]
    assert x1 == pytest.approx(300, abs=12) and x2 == pytest.approx(360, abs=12)
    assert y1 == pytest.approx(150, abs=12) and y2 == pytest.approx(210, abs=12)


def test_unknown_detections_keep_only_unexplained_blobs() -> None:
    person = Detection(frame=0, offset_s=0.0, box=(100, 100, 150, 220), cls="person", score=0.9)
    blobs = [(105.0, 110.0, 148.0, 215.0), (400.0, 200.0, 480.0, 260.0)]
    out = unknown_detections(blobs, [person])
    assert [d.box for d in out] == [(400.0, 200.0, 480.0, 260.0)]
    assert out[0].cls == "unknown" and out[0].track_no is None


def test_zoom_regions_surround_unexplained_small_blobs_only() -> None:
    person = Detection(frame=0, offset_s=0.0, box=(100, 100, 130, 180), cls="person", score=0.9)
    blobs = [
        (102.0, 105.0, 128.0, 178.0),  # explained by the person
        (300.0, 50.0, 320.0, 100.0),  # a small unexplained mover
        (310.0, 90.0, 330.0, 140.0),  # next to it: one merged crop
        (0.0, 0.0, 400.0, 300.0),  # too big to gain from zooming
    ]
    regions = zoom_regions(blobs[:3], [person], 480, 360)
    assert len(regions) == 1
    x1, y1, x2, y2 = regions[0]
    assert x1 <= 300 and y1 <= 50 and x2 >= 330 and y2 >= 140  # covers both blobs
    assert x1 >= 0 and y1 >= 0 and x2 <= 480 and y2 <= 360 and x2 - x1 >= 160
    assert zoom_regions(blobs[3:], [], 480, 360) == []


def test_zoom_regions_keep_the_largest_few() -> None:
    blobs = [(float(x), 20.0, x + 10.0 + i, 60.0) for i, x in enumerate(range(0, 2000, 400))]
    regions = zoom_regions(blobs, [], 2000, 360, max_regions=2)
    assert len(regions) == 2
    assert regions[0][0] >= 1400 and 1000 <= regions[1][0] < 1400  # widest blobs first


def test_zoom_memory_skips_a_fruitless_crop_for_a_while_only() -> None:
    memory = ZoomMemory(retry_s=1.0)
    here, there = (100, 100, 260, 260), (400, 100, 560, 260)
    assert memory.wanted([here, there], 0.0) == [here, there]
    memory.record(here, 0.0, found=False)
    memory.record(there, 0.0, found=True)
    moved = (110, 105, 270, 265)  # the same blob a frame later
    assert memory.wanted([moved, there], 0.25) == [there]
    assert memory.wanted([moved, there], 1.0) == [moved, there]  # tried again after retry_s


def _shaded_scene(rng: np.random.Generator, square_x: int | None = None) -> np.ndarray:
    """A flat bright grey 640x360 road with sensor noise, and optionally a 40x40 square of the
    same tint at 0.7 of its brightness (what MOG2 takes for a cast shadow, and what a dark
    motorbike on sunlit asphalt looks like to it)."""
    image = np.full((360, 640, 3), 170.0, np.float32) + rng.normal(0, 2.0, (360, 640, 3))
    if square_x is not None:
        image[160:200, square_x : square_x + 40] *= 0.7
    return np.clip(image, 0, 255).astype(np.uint8)


def test_a_mover_mog2_calls_shadow_opens_the_gate_but_makes_no_blob() -> None:
    rng = np.random.default_rng(3)
    gate = MotionGate()
    still = [gate.update(_shaded_scene(rng)) for _ in range(20)]
    assert not any(r.moving for r in still[10:])
    results = [gate.update(_shaded_scene(rng, square_x=100 + 50 * step)) for step in range(6)]
    assert all(r.moving for r in results)
    assert all(r.boxes == [] for r in results)  # a shadow is not an object: no blob, no unknown
    assert all(r.fraction < gate.min_fraction < r.shadow for r in results)  # MOG2 saw shadow, not foreground
