"""Burned-in overlays (timestamps, logos, banners, progress bars) become neither tracks nor plates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camfind.analysis.frames import iter_frames
from camfind.analysis.overlay import OverlayMask, OverlayWatch, learn_overlays, progress_bars
from camfind.errors import InputError
from camfind.masks import parse_mask
from camfind.types import Box, Detection

W, H = 640, 360
STAMP: Box = (400.0, 10.0, 620.0, 30.0)  # a DVR timestamp along the top
PLATE: Box = (300.0, 200.0, 340.0, 215.0)  # a parked car's plate mid-frame


SCENE = np.random.default_rng(0).integers(0, 255, size=(H, W, 3), dtype=np.uint8)


def frame(seed: int) -> np.ndarray:
    """A fixed camera: the scene stays, traffic changes the middle, the overlay's text stays put."""
    img = SCENE.copy()
    img[80:280] = np.random.default_rng(seed).integers(0, 255, size=(200, W, 3), dtype=np.uint8)
    img[12:28, 400:620] = 250
    img[14:26, 402:618:6] = 0
    return img


def text_everywhere(img: np.ndarray) -> list[Box]:
    return [STAMP, PLATE]


def test_learns_text_that_stays_in_the_outer_band_only() -> None:
    mask = learn_overlays([frame(1), frame(2), frame(3)], text_everywhere)
    assert mask.covers(STAMP) and not mask.covers(PLATE)


def test_one_frame_or_moving_band_teaches_nothing() -> None:
    assert not learn_overlays([frame(1)], text_everywhere)
    rng = np.random.default_rng(5)
    moving = [rng.integers(0, 255, size=(H, W, 3), dtype=np.uint8) for _ in range(3)]  # a panning camera
    assert not learn_overlays(moving, text_everywhere)


def test_text_on_one_frame_only_is_scene() -> None:
    calls = iter([[STAMP], [], [STAMP]])
    assert not learn_overlays([frame(1), frame(2), frame(3)], lambda img: next(calls))


def test_mask_drops_what_it_covers() -> None:
    mask = OverlayMask((STAMP,))
    inside = Detection(0, 0.0, (410.0, 12.0, 500.0, 28.0), "person", 0.6)
    car = Detection(0, 0.0, (380.0, 0.0, 640.0, 300.0), "car", 0.9)  # passes under the stamp
    assert mask.keep([inside, car]) == [car]
    assert mask.keep_boxes([inside.box, car.box]) == [car.box]


def test_progress_bar_is_masked_as_the_watch_sees_it() -> None:
    bar: Box = (0.0, 350.0, 200.0, 356.0)
    assert progress_bars([bar], W, H) and not progress_bars([(0.0, 150.0, 200.0, 156.0)], W, H)
    watch = OverlayWatch(OverlayMask(), None, 10.0)
    watch.see(1.0, frame(1), [bar])
    assert watch.mask.covers((50.0, 349.0, 120.0, 357.0))


def test_watch_learns_after_its_sample_frames() -> None:
    watch = OverlayWatch(OverlayMask(), text_everywhere, 10.0)
    for k, t in enumerate((0.0, 0.5, 1.0, 2.0, 3.0)):
        watch.see(t, frame(k), [])
    assert not watch.mask  # 3.5 s not reached yet
    watch.see(3.5, frame(9), [])
    assert watch.mask.covers(STAMP)


@pytest.mark.parametrize("bad", ["0 0 0.4", "0 0 1.2 0.1", "0.5 0 0.4 0.1", "a b c d", "0 0 0,4 0.1 0.2"])
def test_declared_mask_is_checked(bad: str) -> None:
    with pytest.raises(InputError, match="mask"):
        parse_mask(bad, W, H)


def test_declared_mask_in_pixels() -> None:
    assert parse_mask("0 0 0.5 0.1;", W, H) == ((0.0, 0.0, 320.0, 36.0),)


def _frames(path: Path, times: tuple[float, ...]) -> list[np.ndarray]:
    out, wanted = [], list(times)
    for f in iter_frames(path, rate_fps=2.0):
        if wanted and f.offset_s >= wanted[0]:
            out.append(f.image)
            wanted.pop(0)
        if not wanted:
            break
    return out


@pytest.mark.slow
def test_vendor_banner_and_logo_of_a_real_gate_camera(realdata: Path) -> None:
    from camfind.recognition.ocr import load_backend

    ocr = load_backend("rapidocr")
    detect = lambda img: ocr.detect(img, max_side=640)  # noqa: E731
    gate = _frames(realdata / "vn/video/c07_school_road_cctv_somico_overlay_20s.mp4", (0.5, 2.0, 3.5))
    mask = learn_overlays(gate, detect)
    assert mask.covers((440.0, 295.0, 595.0, 330.0))  # "HOTLINE 0815.079.970 / SOMICO.COM.VN"
    assert mask.covers((50.0, 10.0, 190.0, 50.0))  # the SOMICO logo, top left
    assert not mask.covers((300.0, 150.0, 400.0, 250.0))  # the road
    walk = _frames(realdata / "vn/video/B_parked_motorbikes_walk.mp4", (0.5, 2.0, 3.5))
    assert not learn_overlays(walk, detect)  # a phone walking past parked bikes: nothing burned in
