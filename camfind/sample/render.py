"""Render the sample clips: movers composited over each camera's street, encoded as H.264 mp4.

A mover crosses the picture sideways; its centre passes the middle of the frame at the pass
time. Moving right in the image means travelling towards heading + 90 degrees (CLI.md's rule),
so the side it enters from follows from the camera's heading and the direction of travel.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from camfind.sample.assets import Sprite
from camfind.sample.network import ClipPlan, camera_spec
from camfind.sample.street import draw_street

logger = logging.getLogger(__name__)

FRAME_SIZE = (1280, 720)
FPS = 12
PRESET = "ultrafast"
CRF = "28"
NOISE_SIGMA = 2.5
_NOISE_VARIANTS = 3


@dataclass(frozen=True)
class Look:
    """How a subject appears crossing a picture.

    Attributes:
        right: the cut-out when moving right in the picture.
        left: the cut-out when moving left (vehicles: mirrored, plate lettering still readable).
        speed_px_s: horizontal speed in the picture.
        bottom: where the cut-out's bottom edge sits: ``near`` lane, ``far`` lane, or ``walk``
            (near pavement, cut by the frame's bottom edge like someone close to the camera).
        bob_px: vertical bounce amplitude (walking).
    """

    right: Sprite
    left: Sprite
    speed_px_s: float
    bottom: str
    bob_px: float = 0.0


def image_direction(heading_deg: float, bearing_deg: float) -> int:
    """+1 when travel towards ``bearing_deg`` moves right in the picture, -1 when left.

    >>> image_direction(0, 90), image_direction(180, 90), image_direction(90, 0)
    (1, -1, -1)
    """
    rel = (bearing_deg - heading_deg) % 360.0
    if abs(rel - 90.0) <= 20.0:
        return 1
    if abs(rel - 270.0) <= 20.0:
        return -1
    raise ValueError(
        f"expected travel across the view (heading {heading_deg} +- 90), got bearing {bearing_deg}"
    )


def _lit(sprite: Sprite, gain: float, tint: tuple[float, float, float]) -> Sprite:
    scale = np.array(tint, np.float32) * gain
    img = np.clip(sprite.image.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    return Sprite(img, sprite.alpha, sprite.anchors)


@dataclass(frozen=True)
class _Placed:
    sprite: Sprite
    direction: int
    t_center: float
    speed: float
    bottom_y: int
    bob: float

    def position(self, t: float, frame_w: int) -> tuple[int, int] | None:
        """Top-left corner at time ``t`` s into the clip, or None when out of the picture."""
        w, h = self.sprite.size
        cx = frame_w / 2 + self.direction * self.speed * (t - self.t_center)
        if cx + w / 2 < 0 or cx - w / 2 > frame_w:
            return None
        bounce = self.bob * abs(np.sin(2 * np.pi * t))
        return round(cx - w / 2), round(self.bottom_y - h - bounce)


def _paste(frame: np.ndarray, sprite: Sprite, x: int, y: int) -> None:
    h, w = sprite.image.shape[:2]
    fh, fw = frame.shape[:2]
    x1, y1, x2, y2 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if x2 <= x1 or y2 <= y1:
        return
    a = sprite.alpha[y1 - y:y2 - y, x1 - x:x2 - x, None]
    roi = frame[y1:y2, x1:x2].astype(np.float32)
    src = sprite.image[y1 - y:y2 - y, x1 - x:x2 - x].astype(np.float32)
    frame[y1:y2, x1:x2] = (roi + (src - roi) * a).astype(np.uint8)


def _bottom_y(kind: str, kerb_y: float, road_bottom_y: float) -> int:
    h = FRAME_SIZE[1]
    lane = (kerb_y + road_bottom_y) / 2
    return {
        "near": int(h * (road_bottom_y - 0.015)),
        "far": int(h * (lane + 0.04)),
        "walk": h + 60,
    }[kind]


def _place(plan: ClipPlan, looks: dict[str, Look]) -> list[_Placed]:
    spec = camera_spec(plan.camera_id)
    placed = []
    for p in plan.passes:
        look = looks[p.subject]
        direction = image_direction(spec.camera.heading_deg or 0.0, p.bearing_deg)
        sprite = _lit(look.right if direction > 0 else look.left, spec.style.gain, spec.style.tint)
        t_center = (p.time - plan.start).total_seconds()
        bottom = _bottom_y(look.bottom, spec.style.kerb_y, spec.style.road_bottom_y)
        placed.append(_Placed(sprite, direction, t_center, look.speed_px_s, bottom, look.bob_px))
    return placed


def _osd(frame: np.ndarray, text_top: str, text_bottom: str) -> None:
    """DVR-style burned-in caption: date/time top left, camera name bottom right."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    for text, org in ((text_top, (24, 44)),):
        cv2.putText(frame, text, org, font, 1.0, (0, 0, 0), 5, cv2.LINE_AA)
        cv2.putText(frame, text, org, font, 1.0, (255, 255, 255), 2, cv2.LINE_AA)
    (tw, _), _ = cv2.getTextSize(text_bottom, font, 0.8, 2)
    org = (FRAME_SIZE[0] - tw - 24, FRAME_SIZE[1] - 24)
    cv2.putText(frame, text_bottom, org, font, 0.8, (0, 0, 0), 5, cv2.LINE_AA)
    cv2.putText(frame, text_bottom, org, font, 0.8, (255, 255, 255), 2, cv2.LINE_AA)


def frames(plan: ClipPlan, looks: dict[str, Look], rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The clip's frames (BGR uint8), streamed one at a time."""
    spec = camera_spec(plan.camera_id)
    street = draw_street(spec.style, FRAME_SIZE, rng).astype(np.float32)
    noise = rng.standard_normal(street.shape, dtype=np.float32) * NOISE_SIGMA
    variants = [np.clip(street + np.roll(noise, 97 * k, axis=1), 0, 255).astype(np.uint8)
                for k in range(_NOISE_VARIANTS)]
    placed = _place(plan, looks)
    dvr_start = plan.start + timedelta(seconds=spec.camera.clock_offset_s)
    captioned: dict[tuple[int, int], np.ndarray] = {}
    for i in range(round(plan.duration_s * FPS)):
        t = i / FPS
        key = (i % _NOISE_VARIANTS, int(t))
        if key not in captioned:
            captioned.clear()
            base = variants[key[0]].copy()
            stamp = dvr_start + timedelta(seconds=key[1])
            _osd(base, stamp.strftime("%Y-%m-%d %H:%M:%S"), spec.osd_name)
            captioned[key] = base
        frame = captioned[key].copy()
        for mover in placed:
            pos = mover.position(t, FRAME_SIZE[0])
            if pos is not None:
                _paste(frame, mover.sprite, *pos)
        yield frame


def encode(frame_iter: Iterator[np.ndarray], target: Path | io.BytesIO) -> int:
    """Encode BGR frames as H.264 (yuv420p, 12 fps, a key frame every 2 s) in mp4."""
    container = av.open(target, mode="w", format="mp4")
    count = 0
    try:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = FRAME_SIZE
        stream.pix_fmt = "yuv420p"
        # A fixed thread count keeps the bytes identical on machines with other core counts.
        stream.codec_context.thread_count = 2
        stream.options = {"preset": PRESET, "crf": CRF, "x264-params": f"keyint={2 * FPS}:scenecut=0"}
        for image in frame_iter:
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = count
            frame.time_base = Fraction(1, FPS)
            container.mux(stream.encode(frame))
            count += 1
        container.mux(stream.encode(None))
    finally:
        container.close()
    return count


def write_corrupt(plan: ClipPlan, looks: dict[str, Look], path: Path,
                  rng: np.random.Generator) -> None:
    """A broken DVR export: a real encode cut off half way, with junk where the end should be."""
    buffer = io.BytesIO()
    encode(frames(plan, looks, rng), buffer)
    data = buffer.getvalue()
    junk = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    path.write_bytes(data[: len(data) // 2] + junk)
    logger.debug("wrote corrupt clip %s (%d of %d bytes kept)", path, len(data) // 2, len(data))

