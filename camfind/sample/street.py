"""Drawn street scenery: a row of shophouses across a road, seen from a camera on the other side.

Each camera gets its own scene from a :class:`StreetStyle` (building colours, shop signs, road
width, lighting) and a seeded random generator, so the same seed draws the same pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from camfind.sample.assets import bold_font

#: Facade colours common on Saigon shophouses (BGR).
_FACADES: tuple[tuple[int, int, int], ...] = (
    (120, 200, 235), (200, 180, 120), (170, 190, 230), (150, 210, 170), (210, 210, 215),
    (110, 160, 220), (190, 150, 200), (140, 200, 220), (225, 225, 200),
)
_FONT_LOCK = threading.Lock()  # clips render in threads; one FreeType face is not shared safely
_SIGN_COLOURS: tuple[tuple[int, int, int], ...] = (
    (40, 40, 200), (160, 60, 20), (30, 140, 40), (20, 120, 220), (120, 30, 120),
)


@dataclass(frozen=True)
class StreetStyle:
    """How one camera's street looks.

    Attributes:
        signs: shop-sign texts, one per shophouse (cycled).
        kerb_y: fraction of the frame height where the far kerb is.
        road_bottom_y: fraction of the height where the road meets the near pavement.
        gain: overall brightness multiplier (lighting, exposure of that DVR).
        tint: BGR multipliers (cheap sensors' colour cast).
    """

    signs: tuple[str, ...]
    kerb_y: float = 0.42
    road_bottom_y: float = 0.86
    gain: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(bold_font()), size)


def _sign(text: str, width: int, height: int, colour: tuple[int, int, int]) -> np.ndarray:
    """A shop sign: coloured board, white lettering (PIL, so Vietnamese diacritics render)."""
    board = Image.new("RGB", (width, height), colour[::-1])
    draw = ImageDraw.Draw(board)
    with _FONT_LOCK:
        size = int(height * 0.62)
        while size > 8 and draw.textlength(text, font=_font(size)) > width * 0.9:
            size -= 1
        font = _font(size)
        tw = draw.textlength(text, font=font)
        draw.text(((width - tw) / 2, (height - size) / 2 - size * 0.1), text, font=font,
                  fill=(255, 255, 255))
    return np.asarray(board)[:, :, ::-1]


def _shophouse(canvas: np.ndarray, x1: int, x2: int, ground: int, rng: np.random.Generator,
               sign: str) -> None:
    """One narrow tube house: facade, roll-up shutter, sign board, balcony, upper windows."""
    facade = _FACADES[int(rng.integers(len(_FACADES)))]
    top = int(rng.integers(0, max(1, ground // 6)))
    cv2.rectangle(canvas, (x1, top), (x2, ground), facade, -1)
    cv2.rectangle(canvas, (x1, top), (x2, ground), (90, 90, 90), 2)
    w = x2 - x1
    shutter_top = int(ground - ground * 0.34)
    cv2.rectangle(canvas, (x1 + 8, shutter_top), (x2 - 8, ground), (150, 150, 150), -1)
    for y in range(shutter_top, ground, 6):
        cv2.line(canvas, (x1 + 8, y), (x2 - 8, y), (120, 120, 120), 1)
    sign_h = max(18, int(ground * 0.09))
    sign_y = shutter_top - sign_h - 4
    colour = _SIGN_COLOURS[int(rng.integers(len(_SIGN_COLOURS)))]
    canvas[sign_y:sign_y + sign_h, x1 + 4:x2 - 4] = _sign(sign, w - 8, sign_h, colour)
    balcony = sign_y - 10
    cv2.rectangle(canvas, (x1 + 4, balcony - 4), (x2 - 4, balcony), (60, 60, 60), -1)
    for bx in range(x1 + 10, x2 - 6, 12):
        cv2.line(canvas, (bx, balcony - 26), (bx, balcony), (70, 70, 70), 2)
    win_top = top + 20
    while win_top + 50 < balcony - 30:
        cv2.rectangle(canvas, (x1 + w // 5, win_top), (x2 - w // 5, win_top + 50),
                      (90, 70, 50), -1)
        cv2.rectangle(canvas, (x1 + w // 5, win_top), (x2 - w // 5, win_top + 50),
                      (240, 240, 240), 3)
        win_top += 80


def _pavement(canvas: np.ndarray, y1: int, y2: int, base: int, tile: int) -> None:
    canvas[y1:y2] = (base, base + 4, base + 10)
    for y in range(y1, y2, tile // 2):
        cv2.line(canvas, (0, y), (canvas.shape[1], y), (base - 25,) * 3, 1)
    for x in range(0, canvas.shape[1], tile):
        cv2.line(canvas, (x, y1), (x, y2), (base - 25,) * 3, 1)


def _wires(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """A power pole with the usual tangle of cables."""
    w = canvas.shape[1]
    x = int(rng.integers(w // 8, w - w // 8))
    cv2.rectangle(canvas, (x - 7, 0), (x + 7, int(canvas.shape[0] * 0.45)), (110, 115, 120), -1)
    for _ in range(6):
        y1, y2 = int(rng.integers(10, 90)), int(rng.integers(10, 90))
        sag = int(rng.integers(8, 40))
        pts = np.array([(0, y1), (x // 2, y1 + sag), (x, 20), ((x + w) // 2, y2 + sag), (w, y2)],
                       np.int32)
        cv2.polylines(canvas, [pts], False, (30, 30, 30), 1, cv2.LINE_AA)


def draw_street(style: StreetStyle, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The empty scene for one camera, BGR uint8 of ``size`` = (width, height)."""
    w, h = size
    canvas = np.zeros((h, w, 3), np.uint8)
    kerb = int(h * style.kerb_y)
    road_bottom = int(h * style.road_bottom_y)
    far_walk = kerb - int(h * 0.05)
    row = np.empty((far_walk, w + w // 2, 3), np.uint8)
    row[:] = (228, 214, 196)  # hazy morning sky
    x, i = 0, 0
    while x < row.shape[1] - w // 4:
        width = int(rng.integers(w // 7, w // 4))
        _shophouse(row, x, x + width, far_walk, rng, style.signs[i % len(style.signs)])
        x += width
        i += 1
    shift = int(rng.integers(0, w // 8))
    canvas[:far_walk] = row[:, shift:shift + w]
    _pavement(canvas, far_walk, kerb, 175, 40)
    cv2.rectangle(canvas, (0, kerb - 5), (w, kerb), (200, 200, 200), -1)
    texture = rng.normal(0.0, 6.0, (road_bottom - kerb, w)).astype(np.float32)
    road = np.clip(95 + cv2.GaussianBlur(texture, (0, 0), 1.5), 0, 255).astype(np.uint8)
    canvas[kerb:road_bottom] = road[:, :, None]
    lane_y = (kerb + road_bottom) // 2
    for lx in range(-int(rng.integers(0, 120)), w, 160):
        cv2.rectangle(canvas, (lx, lane_y - 3), (lx + 80, lane_y + 3), (225, 225, 225), -1)
    cv2.rectangle(canvas, (0, road_bottom), (w, road_bottom + 7), (190, 190, 190), -1)
    _pavement(canvas, road_bottom + 7, h, 160, 70)
    _wires(canvas, rng)
    lit = canvas.astype(np.float32) * style.gain * np.array(style.tint, np.float32)
    out: np.ndarray = np.clip(lit, 0, 255).astype(np.uint8)
    return out
