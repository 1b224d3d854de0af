"""Motion gating and moving-blob boxes by MOG2 background subtraction on a downscaled frame.

The gate tells the pipeline when a frame is worth running the detector on; the blob boxes feed
the ``unknown``-class fallback: something moving that the detector did not name is kept, so
plates and faces are still looked for on it (see :func:`unknown_detections`).

Example:
    >>> gate = MotionGate()
    >>> result = gate.update(frame.image)  # doctest: +SKIP
    >>> result.moving, result.boxes  # doctest: +SKIP
    (True, [(212.0, 80.0, 260.0, 190.0)])
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from camfind.types import Box, Detection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MotionResult:
    """Whether a frame shows motion, and the boxes (full-frame pixels) of clear moving blobs."""

    moving: bool
    boxes: list[Box] = field(default_factory=list)
    fraction: float = 0.0


class MotionGate:
    """MOG2 on a frame downscaled to ``width`` pixels, shadows ignored.

    Args:
        width: Width the frame is scaled to before subtraction (speed; blobs scale back).
        history: Frames (at the rate ``update`` is called) the background model remembers.
        var_threshold: MOG2's squared Mahalanobis distance for a pixel to be foreground.
        min_fraction: Foreground share of the frame above which it counts as moving.
        min_blob: Smallest blob kept, as a share of the downscaled frame's area.
        warmup: First frames always reported moving (the model is still learning).
    """

    def __init__(
        self,
        *,
        width: int = 320,
        history: int = 100,
        var_threshold: float = 25.0,
        min_fraction: float = 0.0015,
        min_blob: float = 0.0015,
        warmup: int = 5,
    ) -> None:
        self.width = width
        self.min_fraction = min_fraction
        self.min_blob = min_blob
        self.warmup = warmup
        self._mog = cv2.createBackgroundSubtractorMOG2(
            history=history, varThreshold=var_threshold, detectShadows=True
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._seen = 0

    def update(self, image: np.ndarray) -> MotionResult:
        """Feed the next frame; report motion and moving-blob boxes in ``image`` pixels."""
        h, w = image.shape[:2]
        scale = min(1.0, self.width / w)
        small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        mask = self._mog.apply(small)
        self._seen += 1
        fg = (mask == 255).astype(np.uint8)  # 127 marks shadows
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, self._kernel)
        fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, self._kernel, iterations=2)
        fraction = float(fg.mean())
        boxes = self._blobs(fg, scale)
        if self._seen <= self.warmup:
            return MotionResult(moving=True, boxes=[], fraction=fraction)
        return MotionResult(moving=fraction >= self.min_fraction or bool(boxes), boxes=boxes,
                            fraction=fraction)

    def _blobs(self, fg: np.ndarray, scale: float) -> list[Box]:
        n, _labels, stats, _centroids = cv2.connectedComponentsWithStats(fg, connectivity=8)
        min_area = self.min_blob * fg.shape[0] * fg.shape[1]
        boxes: list[Box] = []
        for i in range(1, n):
            x, y, bw, bh, area = (int(v) for v in stats[i])
            if area < min_area or area < 0.3 * bw * bh:
                continue
            boxes.append((x / scale, y / scale, (x + bw) / scale, (y + bh) / scale))
        return boxes


def unknown_detections(
    boxes: Sequence[Box], detections: Sequence[Detection], *, max_overlap: float = 0.3
) -> list[Detection]:
    """Moving blobs no detection explains, as ``unknown`` detections (score 0.5).

    A blob is explained when a detection covers at least ``max_overlap`` of it.
    """
    out: list[Detection] = []
    for box in boxes:
        area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-6)
        if any(_intersection(box, d.box) / area >= max_overlap for d in detections):
            continue
        out.append(Detection(frame=0, offset_s=0.0, box=box, cls="unknown", score=0.5))
    return out


def _intersection(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)
