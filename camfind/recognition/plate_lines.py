"""Geometry for plate reading: grouping text boxes into lines, pairing the two lines of a
motorbike plate, splitting a two-row plate crop by horizontal projection, cropping.

Pure numpy/OpenCV, no models.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from camfind.types import Box


def group_lines(boxes: Sequence[Box], *, max_gap: float = 1.5, min_overlap: float = 0.5) -> list[Box]:
    """Merge text boxes that sit on one line into one box per line.

    Two boxes share a line when their vertical extents overlap by at least ``min_overlap`` of
    the smaller height and the horizontal gap between them is at most ``max_gap`` times the
    line height.

    Returns:
        One union box per line, top to bottom (then left to right).
    """
    lines: list[list[float]] = []
    for x1, y1, x2, y2 in sorted(boxes, key=lambda b: b[0]):
        for line in lines:
            overlap = min(y2, line[3]) - max(y1, line[1])
            height = min(y2 - y1, line[3] - line[1])
            gap = x1 - line[2]
            if overlap >= min_overlap * height and gap <= max_gap * max(y2 - y1, line[3] - line[1]):
                line[:] = [min(x1, line[0]), min(y1, line[1]), max(x2, line[2]), max(y2, line[3])]
                break
        else:
            lines.append([x1, y1, x2, y2])
    return sorted(
        ((a, b, c, d) for a, b, c, d in lines), key=lambda b: ((b[1] + b[3]) / 2, b[0])
    )


def stacked_pairs(lines: Sequence[Box], *, max_overlap: float = 0.35) -> list[tuple[int, int]]:
    """Index pairs (upper, lower) of lines that look like the two rows of one plate.

    The lower line starts just under the upper one (or overlaps it by at most ``max_overlap``
    of the lower height: text detectors grow their boxes), the heights are alike and the two
    overlap horizontally by at least half the narrower line.
    """
    pairs: list[tuple[int, int]] = []
    for i, (ax1, ay1, ax2, ay2) in enumerate(lines):
        ha = ay2 - ay1
        for j, (bx1, by1, bx2, by2) in enumerate(lines):
            hb = by2 - by1
            if i == j or not (0.5 <= hb / max(ha, 1e-6) <= 2.0):
                continue
            gap = by1 - ay2
            if not -max_overlap * min(ha, hb) <= gap <= 0.6 * max(ha, hb):
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
    return int(max(1, min(h - 1, round(cut / scale))))


def tile_grid(width: int, height: int, tile: int, overlap: int) -> list[Box]:
    """Tiles of at most ``tile`` px a side covering a ``width`` x ``height`` image, neighbours
    overlapping by at least ``overlap`` px (so a thing smaller than ``overlap`` lies whole in
    one tile). An image no larger than ``tile`` is one tile.

    Raises:
        ValueError: ``overlap`` is not smaller than ``tile``.
    """
    if not 0 <= overlap < tile:
        raise ValueError(f"expected 0 <= overlap < tile, got overlap {overlap}, tile {tile}")
    xs = _starts(width, tile, overlap)
    ys = _starts(height, tile, overlap)
    return [
        (float(x), float(y), float(min(x + tile, width)), float(min(y + tile, height)))
        for y in ys
        for x in xs
    ]


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    n = int(np.ceil((length - overlap) / (tile - overlap)))
    step = (length - tile) / (n - 1)
    return [int(round(i * step)) for i in range(n)]


def grow(box: Box, share: float, width: float, height: float) -> Box:
    """``box`` grown by ``share`` of its width and height on every side, clipped to the image."""
    x1, y1, x2, y2 = box
    dx, dy = share * (x2 - x1), share * (y2 - y1)
    return (max(0.0, x1 - dx), max(0.0, y1 - dy), min(float(width), x2 + dx), min(float(height), y2 + dy))


def merge_overlapping(boxes: Sequence[Box]) -> list[Box]:
    """Unite boxes that overlap (or touch) until none do: each region is searched once."""
    merged: list[Box] = [(b[0], b[1], b[2], b[3]) for b in boxes]
    changed = True
    while changed:
        changed = False
        out: list[Box] = []
        for box in merged:
            for k, other in enumerate(out):
                if box[0] <= other[2] and other[0] <= box[2] and box[1] <= other[3] and other[1] <= box[3]:
                    out[k] = union([box, other])
                    changed = True
                    break
            else:
                out.append((box[0], box[1], box[2], box[3]))
        merged = out
    return merged


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 where they do not overlap)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def overlap_of_smaller(a: Box, b: Box) -> float:
    """Share of the smaller box's area that lies inside the other."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / max(smaller, 1e-9)


def text_angle(quads: Sequence[np.ndarray]) -> float:
    """The tilt of detected text, in degrees (image axes, y down: negative rises to the right).

    Each quad's longer edge gives an angle; the result is their median weighted by edge length.
    Quads taller than wide at more than 45 degrees (vertical text) are left out; 0 where none.
    """
    angles: list[float] = []
    weights: list[float] = []
    for quad in quads:
        q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
        edges = [q[(k + 1) % 4] - q[k] for k in range(4)]
        dx, dy = max(edges, key=lambda e: float(np.hypot(*e)))
        if dx < 0:
            dx, dy = -dx, -dy
        angle = float(np.degrees(np.arctan2(dy, dx)))
        if abs(angle) <= 45:
            angles.append(angle)
            weights.append(float(np.hypot(dx, dy)))
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][int(np.searchsorted(cum, cum[-1] / 2))])


def rotate(image: np.ndarray, angle: float) -> np.ndarray:
    """``image`` turned by ``angle`` degrees (as :func:`text_angle` measures it, so a tilt of
    ``angle`` becomes level) on a canvas grown to hold it, edges repeated."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(w * cos + h * sin)), int(np.ceil(w * sin + h * cos))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def quad_box(quad: np.ndarray) -> Box:
    """The axis-aligned box around a 4x2 quad."""
    q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    x1, y1 = q.min(axis=0)
    x2, y2 = q.max(axis=0)
    return (float(x1), float(y1), float(x2), float(y2))


def warp_quad(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The text inside a (tilted) quad, cut out and turned level by a perspective warp.

    Corners are taken in order top-left, top-right, bottom-right, bottom-left whatever order
    they come in; the output is as wide and high as the quad's longer edges.
    """
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    centre = q.mean(axis=0)
    q = q[np.argsort(np.arctan2(q[:, 1] - centre[1], q[:, 0] - centre[0]))]  # clockwise on screen
    start = int(np.argmin(q.sum(axis=1)))
    tl, tr, br, bl = np.roll(q, -start, axis=0)
    w = int(round(max(np.hypot(*(tr - tl)), np.hypot(*(br - bl)), 2)))
    h = int(round(max(np.hypot(*(bl - tl)), np.hypot(*(br - tr)), 2)))
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl], dtype=np.float32), dst)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def slant(image: np.ndarray, *, max_shear: float = 0.6, step: float = 0.04) -> float:
    """The horizontal shear (x shift per unit of y) that stands a slanted plate's strokes upright.

    A plate seen from the side, or italic characters, lean: their vertical strokes and the
    plate's side edges run at a slant. The crop is binarised (ink: dark on light, or the
    reverse) and sheared by each value in [-``max_shear``, ``max_shear``]; the shear whose
    column sums of ink are the most concentrated (largest sum of squares: the strokes stand on
    few columns) wins. 0 where nothing beats upright. Pass the result to :func:`shear`.
    """
    grey = image if image.ndim == 2 else cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    side = 96
    small = cv2.resize(grey, (max(8, int(round(w * side / h))), side), interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 10)
    if ink.mean() > 127:  # light text on a dark plate
        ink = 255 - ink
    ink_f = ink.astype(np.float32) / 255.0
    best, best_k = -1.0, 0.0
    n = int(round(max_shear / step))
    for k in sorted((i * step for i in range(-n, n + 1)), key=abs):  # upright first on ties
        col = _sheared(ink_f, k, cv2.INTER_LINEAR, cv2.BORDER_CONSTANT).sum(axis=0)
        score = float(np.dot(col, col))
        if score > best * (1.0 + 1e-6):
            best, best_k = score, k
    return float(best_k)


def shear(image: np.ndarray, k: float) -> np.ndarray:
    """``image`` sheared horizontally by ``k`` (x shift per unit of y, as :func:`slant` gives it)
    about its middle row, on a canvas widened to hold it (edges repeated). Rows stay where
    they were, so a text row's y extent is the same before and after."""
    return _sheared(image, k, cv2.INTER_CUBIC, cv2.BORDER_REPLICATE)


def _sheared(image: np.ndarray, k: float, interpolation: int, border: int) -> np.ndarray:
    h, w = image.shape[:2]
    extra = int(np.ceil(abs(k) * h))
    m = np.array([[1.0, k, extra / 2 - k * h / 2], [0.0, 1.0, 0.0]], dtype=np.float32)
    return cv2.warpAffine(image, m, (w + extra, h), flags=interpolation, borderMode=border)
