"""Geometry for plate reading: grouping text boxes into lines, pairing the two lines of a
motorbike plate, splitting a two-row plate crop by horizontal projection, cropping.

Pure numpy/OpenCV, no models.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from camfind.types import Box


def group_lines(boxes: Sequence[Box], *, max_gap: float = 1.5) -> list[Box]:
    """Merge text boxes that sit on one line into one box per line.

    Two boxes share a line when their vertical extents overlap by at least half the smaller
    height and the horizontal gap between them is at most ``max_gap`` times the line height.

    Returns:
        One union box per line, top to bottom (then left to right).
    """
    lines: list[list[float]] = []
    for x1, y1, x2, y2 in sorted(boxes, key=lambda b: b[0]):
        for line in lines:
            overlap = min(y2, line[3]) - max(y1, line[1])
            height = min(y2 - y1, line[3] - line[1])
            gap = x1 - line[2]
            if overlap >= 0.5 * height and gap <= max_gap * max(y2 - y1, line[3] - line[1]):
                line[:] = [min(x1, line[0]), min(y1, line[1]), max(x2, line[2]), max(y2, line[3])]
                break
        else:
            lines.append([x1, y1, x2, y2])
    return sorted(
        ((a, b, c, d) for a, b, c, d in lines), key=lambda b: ((b[1] + b[3]) / 2, b[0])
    )


def stacked_pairs(lines: Sequence[Box]) -> list[tuple[int, int]]:
    """Index pairs (upper, lower) of lines that look like the two rows of one plate.

    The lower line starts just under the upper one, the heights are alike and the two overlap
    horizontally by at least half the narrower line.
    """
    pairs: list[tuple[int, int]] = []
    for i, (ax1, ay1, ax2, ay2) in enumerate(lines):
        ha = ay2 - ay1
        for j, (bx1, by1, bx2, by2) in enumerate(lines):
            hb = by2 - by1
            if i == j or not (0.5 <= hb / max(ha, 1e-6) <= 2.0):
                continue
            gap = by1 - ay2
            if not -0.35 * min(ha, hb) <= gap <= 0.6 * max(ha, hb):
                continue
            overlap = min(ax2, bx2) - max(ax1, bx1)
            if overlap >= 0.5 * min(ax2 - ax1, bx2 - bx1):
                pairs.append((i, j))
    return pairs


def union(boxes: Sequence[Box]) -> Box:
    """The smallest box holding all ``boxes``."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def crop(image: np.ndarray, box: Box, *, pad: float = 0.0) -> np.ndarray:
    """The part of ``image`` inside ``box``, grown by ``pad`` times its height on every side.

    Where the grown box leaves the image, the edge pixels are repeated.
    """
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    p = pad * (y2 - y1)
    xa, ya = int(np.floor(x1 - p)), int(np.floor(y1 - p))
    xb, yb = max(int(np.ceil(x2 + p)), xa + 1), max(int(np.ceil(y2 + p)), ya + 1)
    inside = image[max(ya, 0) : max(min(yb, h), 1), max(xa, 0) : max(min(xb, w), 1)]
    border = (max(-ya, 0), max(yb - h, 0), max(-xa, 0), max(xb - w, 0))
    if any(border):
        inside = cv2.copyMakeBorder(inside, *border, borderType=cv2.BORDER_REPLICATE)
    return inside


def projection_split(image: np.ndarray) -> int:
    """The row where a two-row plate crop splits into its top and bottom lines.

    The crop is binarised (dark text on a light plate, or the reverse), and the split is the row
    with the least ink between 30% and 70% of the height, ignoring the outer tenth on each side.
    """
    grey = image if image.ndim == 2 else cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    scale = 200.0 / h
    small = cv2.resize(grey, (max(8, int(round(w * scale))), 200), interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(
        small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 10
    )
    if ink.mean() > 127:  # light text on a dark plate
        ink = 255 - ink
    inner = ink[:, int(0.1 * ink.shape[1]) : max(int(0.9 * ink.shape[1]), 1)]
    profile = np.convolve(inner.mean(axis=1), np.ones(7) / 7, mode="same")
    lo, hi = 60, 140
    cut = lo + int(np.argmin(profile[lo:hi]))
    return max(1, min(h - 1, int(round(cut / scale))))
