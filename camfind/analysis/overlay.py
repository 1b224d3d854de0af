"""Burned-in overlays: what a DVR or a viewer drew on the picture is neither a track nor a plate.

DVRs burn in a timestamp and a camera name, vendors add logos and banners, a screen recording of
a viewer shows its progress bar. Each clip gets an :class:`OverlayMask`:

* declared per camera, in the cameras file's ``mask`` column: boxes as fractions of the frame,
  ``x1 y1 x2 y2`` (or comma-separated), several separated by ``;`` (e.g. ``0 0 0.4 0.1`` for a
  timestamp across the top-left);
* learned from the clip: text the text detector finds at the same place on frames seconds apart
  and within the frame's outer band (top and bottom fifth, where DVRs, vendors and viewers put
  theirs): a parked car's plate in mid-frame is never learned as an overlay.

Detections, moving blobs and plate reads lying mostly inside the mask are dropped.

Example:
    >>> mask = OverlayMask(((0.0, 0.0, 200.0, 30.0),))
    >>> mask.covers((10.0, 5.0, 150.0, 25.0)), mask.covers((10.0, 100.0, 150.0, 200.0))
    (True, False)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from camfind.analysis.boxes import iou
from camfind.types import Box, Detection

log = logging.getLogger(__name__)

#: Outer band of the frame (share of its height, top and bottom) where overlays are learned: a
#: text box whose centre lies in it and that is no taller than MAX_TEXT_H of the frame.
BAND = 0.2
MAX_TEXT_H = 0.12
#: Seconds into the clip of the frames compared when learning (text present on all of them).
LEARN_AT_S = (0.5, 2.0, 3.5)
#: Longer side the frames are scaled to for the text detector (overlay text is large).
LEARN_SIDE = 640
#: Same place: IoU of a text box on one frame with one on every other frame.
SAME_PLACE_IOU = 0.5
#: A box at least this much inside the mask is the overlay's.
COVER_SHARE = 0.5

TextDetector = Callable[[np.ndarray], list[Box]]


@dataclass(frozen=True)
class OverlayMask:
    """Overlay boxes of one clip, in frame pixels."""

    boxes: tuple[Box, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.boxes)

    def covers(self, box: Box, share: float = COVER_SHARE) -> bool:
        """Whether at least ``share`` of ``box`` lies inside the mask's boxes."""
        area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-6)
        inside = sum(_intersection(box, m) for m in self.boxes)
        return inside >= share * area

    def keep(self, dets: Sequence[Detection]) -> list[Detection]:
        """The detections the overlay does not explain."""
        return [d for d in dets if not self.covers(d.box)] if self.boxes else list(dets)

    def keep_boxes(self, boxes: Sequence[Box]) -> list[Box]:
        return [b for b in boxes if not self.covers(b)] if self.boxes else list(boxes)

    def __add__(self, other: OverlayMask) -> OverlayMask:
        return OverlayMask(self.boxes + other.boxes)


def learn_overlays(frames: Sequence[np.ndarray], detect_text: TextDetector) -> OverlayMask:
    """Text found at the same place on every one of ``frames`` (seconds apart), in the outer band.

    Fewer than two frames teach nothing (a still of one moment cannot tell overlay from scene).
    """
    if len(frames) < 2 or not _static_edges_in_band(frames):
        return OverlayMask()
    h = frames[0].shape[0]
    found = [[b for b in detect_text(f) if _in_band(b, h)] for f in frames]
    kept: list[Box] = []
    for box in found[0]:
        matches = [max((b for b in other if iou(box, b) >= SAME_PLACE_IOU), key=lambda b: iou(box, b), default=None)
                   for other in found[1:]]
        if all(m is not None for m in matches):
            kept.append(_union([box, *(m for m in matches if m is not None)], grow=0.15))
    if kept:
        log.info("overlay: %d text boxes burned in at %s", len(kept), [tuple(round(v) for v in b) for b in kept])
    return OverlayMask(tuple(kept))


def progress_bars(blobs: Sequence[Box], width: int, height: int) -> list[Box]:
    """Moving blobs shaped like a player's progress bar: a thin strip along the top or bottom edge."""
    out = []
    for b in blobs:
        bw, bh = b[2] - b[0], b[3] - b[1]
        edge = b[1] <= BAND * height * 0.5 or b[3] >= height * (1 - BAND * 0.5)
        if edge and bh <= 0.04 * height and bw >= 6 * max(bh, 1.0) and bw >= 0.05 * width:
            out.append((0.0, b[1] - bh, float(width), b[3] + bh))
    return out


def _static_edges_in_band(frames: Sequence[np.ndarray], min_share: float = 0.03) -> bool:
    """Whether the outer band holds edges that stay put on every frame (cheap, at 320 px wide):
    a panning or handheld camera has few (0.5-1.6% of the band's pixels on real walks, pans and
    overpass footage; 10-22% on fixed CCTV), so its frames need no text detection."""
    import cv2

    def small(img: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
        scale = 320 / grey.shape[1]
        return cv2.resize(grey, (320, max(8, round(grey.shape[0] * scale))), interpolation=cv2.INTER_AREA)

    first, *rest = (small(f).astype(np.int16) for f in frames)
    edges = np.abs(cv2.Sobel(first.astype(np.float32), cv2.CV_32F, 1, 0)) > 60
    static = np.ones_like(edges)
    for other in rest:
        static &= np.abs(first - other) < 10
    band = max(1, round(BAND * first.shape[0]))
    rows = np.r_[0:band, first.shape[0] - band : first.shape[0]]
    return float((edges & static)[rows].mean()) >= min_share


def _in_band(box: Box, height: int) -> bool:
    centre = (box[1] + box[3]) / 2
    thin = box[3] - box[1] <= MAX_TEXT_H * height
    return thin and (centre <= BAND * height or centre >= (1 - BAND) * height)


def _intersection(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _union(boxes: Sequence[Box], grow: float = 0.0) -> Box:
    x1, y1 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x2, y2 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    g = grow * (y2 - y1)
    return (x1 - g, y1 - g, x2 + g, y2 + g)


class OverlayWatch:
    """Learns a clip's overlays while it streams: the declared mask from the start, the burned-in
    text once the sample frames (:data:`LEARN_AT_S`) have passed, progress bars as they move.

    What was detected before the text was learned is filtered at the end (:meth:`mask` then
    holds everything learned).
    """

    def __init__(self, declared: OverlayMask, detect_text: TextDetector | None, duration_s: float) -> None:
        self.mask = declared
        self._detect = detect_text
        self._times = sample_times(duration_s) if detect_text is not None else []
        self._frames: list[np.ndarray] = []

    def see(self, offset_s: float, image: np.ndarray, blobs: Sequence[Box]) -> None:
        """Look at one analysed frame (and its moving blobs)."""
        if self._times and offset_s >= self._times[0]:
            self._frames.append(image.copy())
            self._times.pop(0)
            if not self._times and self._detect is not None:
                self.mask = self.mask + learn_overlays(self._frames, self._detect)
                self._frames.clear()
        h, w = image.shape[:2]
        bars = [b for b in progress_bars(blobs, w, h) if not self.mask.covers(b)]
        if bars:
            log.info("overlay: a progress bar at %s", [tuple(round(v) for v in b) for b in bars])
            self.mask = self.mask + OverlayMask(tuple(bars))


def sample_times(duration_s: float) -> list[float]:
    """When to sample a clip of ``duration_s`` for learning (within it; spread when it is short)."""
    usable = [t for t in LEARN_AT_S if t < duration_s]
    if len(usable) < 2 and duration_s > 0:
        usable = [duration_s * k / 4 for k in (1, 3)]
    return [t for t in usable if math.isfinite(t)]
