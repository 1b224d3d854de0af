"""The ``text`` plate finder (the default): plates found as text by the PP-OCRv4 detector.

The detector already used for reading runs over the frame at two scales (the fine one in
tiles, so small plates in a large photo are found); stacked lines are paired into two-row
plates and single lines kept where a quick recognition of them looks like a plate
(:func:`camfind.recognition.platefind.candidates_from_lines`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from camfind.recognition import plate_lines
from camfind.recognition.ocr import OcrBackend
from camfind.recognition.platefind import (
    LINE_GAP,
    LINE_OVERLAP,
    MAX_LINES,
    MIN_LINE_HEIGHT,
    TEXT_FINE_FROM,
    PlateCandidate,
    candidates_from_lines,
    check_frame,
    scaled_parts,
    search,
)
from camfind.types import Box


class TextPlateFinder:
    """Plates found as text: PP-OCRv4 detection at two scales, lines paired into two-row plates."""

    name = "text"

    def __init__(self, ocr: OcrBackend) -> None:
        self.ocr = ocr

    def find(self, image_bgr: np.ndarray, regions: Sequence[Box] | None = None) -> list[PlateCandidate]:
        return search(check_frame(image_bgr), regions, self._find_in)

    def _find_in(self, img: np.ndarray) -> list[PlateCandidate]:
        quads = self.text_quads(img)
        boxes = [plate_lines.quad_box(q) for q in quads]
        lines = plate_lines.group_lines(boxes, max_gap=LINE_GAP, min_overlap=LINE_OVERLAP)
        lines = [b for b in lines if b[3] - b[1] >= MIN_LINE_HEIGHT]
        lines = sorted(lines, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))[:MAX_LINES]
        if not lines:
            return []
        reads = self.ocr.recognize([_line_crop(img, line, quads, boxes) for line in lines])
        return candidates_from_lines(lines, reads)

    def text_quads(self, img: np.ndarray) -> list[np.ndarray]:
        """Text regions (4x2 corners, frame px) over the parts of :func:`scaled_parts`, the
        same text found at two scales kept once (its finer-scale, smaller box)."""
        quads: list[np.ndarray] = []
        for (x1, y1, x2, y2), side in scaled_parts(img.shape[1], img.shape[0], fine_from=TEXT_FINE_FROM):
            part = img[int(y1) : int(y2), int(x1) : int(x2)]
            quads.extend(q + np.array([x1, y1], dtype=np.float32) for q in self._detect(part, side))
        return _dedupe_quads(quads)

    def _detect(self, img: np.ndarray, side: int) -> list[np.ndarray]:
        quads_of = getattr(self.ocr, "detect_quads", None)
        if quads_of is not None:
            return [np.asarray(q, dtype=np.float32).reshape(4, 2) for q in quads_of(img, max_side=side)]
        return [_box_quad(b) for b in self.ocr.detect(img, max_side=side)]


def _box_quad(box: Box) -> np.ndarray:
    x1, y1, x2, y2 = box
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float32)


def _line_crop(img: np.ndarray, line: Box, quads: Sequence[np.ndarray], boxes: Sequence[Box]) -> np.ndarray:
    """A text line cut out for a quick reading: where one tilted detection makes (nearly) the
    whole line, that quad warped level, else the line's box."""
    best = max(range(len(boxes)), key=lambda k: plate_lines.iou(boxes[k], line), default=None)
    if (
        best is not None
        and plate_lines.iou(boxes[best], line) >= 0.8
        and abs(plate_lines.text_angle([quads[best]])) >= 4.0
    ):
        return plate_lines.warp_quad(img, quads[best])
    return plate_lines.crop(img, line, pad=0.05)


def _dedupe_quads(quads: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Drop a quad whose box mostly overlaps a smaller one kept already (one text, two scales)."""
    kept: list[np.ndarray] = []
    kept_boxes: list[Box] = []
    for quad in sorted(quads, key=lambda q: float(cv2.contourArea(q.astype(np.float32)))):
        box = plate_lines.quad_box(quad)
        if all(plate_lines.iou(box, k) < 0.5 for k in kept_boxes):
            kept.append(quad)
            kept_boxes.append(box)
    return kept
