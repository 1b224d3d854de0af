"""Dominant colour names: painted test objects, and real cars of the Intel clip."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.analysis.color import dominant_color, track_color
from camfind.types import Box
from camfind.vocab import COLOR_NAMES, normalize_color

ASPHALT = (70, 72, 75)  # BGR


def _car(body_bgr: tuple[int, int, int]) -> tuple[np.ndarray, Box]:
    """A car seen from behind on asphalt: body, dark rear window, tyres, a plate, shading."""
    img = np.full((240, 320, 3), ASPHALT, np.uint8)
    x1, y1, x2, y2 = 80, 50, 240, 200
    cv2.rectangle(img, (x1, y1 + 20), (x2, y2 - 15), body_bgr, -1)
    cv2.rectangle(img, (x1 + 25, y1), (x2 - 25, y1 + 60), (30, 30, 35), -1)  # rear window
    cv2.rectangle(img, (x1 + 5, y2 - 20), (x1 + 35, y2), (15, 15, 15), -1)  # tyres
    cv2.rectangle(img, (x2 - 35, y2 - 20), (x2 - 5, y2), (15, 15, 15), -1)
    cv2.rectangle(img, (140, 150), (180, 165), (235, 235, 235), -1)  # plate
    shade = np.linspace(0.85, 1.1, img.shape[0])[:, None, None]
    img = np.clip(img.astype(np.float32) * shade, 0, 255).astype(np.uint8)
    return img, (float(x1), float(y1), float(x2), float(y2))


@pytest.mark.parametrize(
    ("bgr", "name"),
    [
        ((30, 30, 200), "red"),
        ((190, 90, 20), "blue"),
        ((20, 200, 230), "yellow"),
        ((40, 150, 30), "green"),
        ((0, 120, 240), "orange"),
        ((245, 245, 245), "white"),
        ((25, 25, 25), "black"),
        ((170, 168, 165), "silver/grey"),
    ],
)
def test_painted_cars(bgr: tuple[int, int, int], name: str) -> None:
    img, box = _car(bgr)
    assert track_color([(img, box, "car")]) == name


@pytest.mark.parametrize(
    ("shirt", "name"), [((40, 40, 210), "red"), ((200, 120, 40), "blue"), ((250, 250, 250), "white")]
)
def test_person_colour_is_the_torso(shirt: tuple[int, int, int], name: str) -> None:
    img = np.full((200, 100, 3), (90, 140, 90), np.uint8)  # grass around
    cv2.rectangle(img, (30, 10), (70, 190), (40, 40, 60), -1)  # dark trousers and hair
    cv2.rectangle(img, (28, 45), (72, 110), shirt, -1)
    assert track_color([(img, (28.0, 10.0, 72.0, 190.0), "person")]) == name


def test_votes_over_frames_and_empty_input() -> None:
    red, box = _car((30, 30, 200))
    blue, _ = _car((190, 90, 20))
    assert track_color([(red, box, "car"), (red, box, "car"), (blue, box, "car")]) == "red"
    assert track_color([]) is None
    assert dominant_color(np.zeros((0, 0, 3), np.uint8)) is None


@pytest.mark.parametrize(("text", "name"), [("Gray", "silver/grey"), ("silver", "silver/grey"), ("RED", "red")])
def test_normalize_color(text: str, name: str) -> None:
    assert normalize_color(text) == name
    assert name in COLOR_NAMES


def test_unknown_colour_word_is_refused() -> None:
    with pytest.raises(ValueError, match="expected a colour"):
        normalize_color("mauve-ish")


# Cars of the Intel clip seen from above (frame, box in 768x432 pixels, what a witness says),
# boxes drawn by looking at the frames.
INTEL_CARS = [
    (200, (316, 216, 497, 432), {"red"}),
    (208, (314, 116, 480, 426), {"red"}),
    (336, (113, 140, 305, 432), {"white"}),
    (200, (115, 0, 262, 252), {"silver/grey"}),  # pale teal-silver hatchback
    (80, (280, 72, 440, 432), {"white", "silver/grey"}),  # white car, box loose on the road
]


@pytest.mark.parametrize(("frame", "box", "names"), INTEL_CARS)
def test_real_cars(realdata: Path, frame: int, box: Box, names: set[str]) -> None:
    cap = cv2.VideoCapture(str(realdata / "video" / "intel_car-detection_768x432.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
    ok, img = cap.read()
    cap.release()
    assert ok
    assert track_color([(img, box, "car")]) in names
