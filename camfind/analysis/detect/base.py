"""What every detector runtime shares: the :class:`Detector` Protocol, camfind's classes, grouped
non-maximum suppression, crops (tiles and regions) and the small array type a runtime's raw
boxes pass through before they become :class:`camfind.types.Detection` rows.

The runtimes themselves (``ssd``, ``yolo``) are plugins in this package, one module each,
loaded by name through :func:`camfind.analysis.detect.load_detector`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from camfind.types import Box, Detection

#: COCO category ids (TF object-detection numbering) -> camfind classes.
COCO_TO_CLASS: Mapping[int, str] = {
    1: "person",
    2: "bicycle",
    3: "car",
    4: "motorcycle",
    6: "bus",
    8: "truck",
}
YOLO_NAMES = frozenset(COCO_TO_CLASS.values())
YOLO_NAMES = frozenset(COCO_TO_CLASS.values())
#: Classes one object may be confused between: boxes of one group are suppressed together.
NMS_GROUPS: Mapping[str, str] = {
    "person": "person",
    "bicycle": "two-wheeler",
    "motorcycle": "two-wheeler",
    "car": "vehicle",
    "bus": "vehicle",
    "truck": "vehicle",
    "unknown": "unknown",
}
DEFAULT_CONF = 0.3


class Detector(Protocol):
    """Finds objects of camfind's classes in one BGR image."""

    name: str
    version: str
    weights_sha: str

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections in ``image`` pixels; ``frame`` and ``offset_s`` are 0 (the caller sets them)."""
        ...


def file_hashes(path: Path) -> tuple[str, str]:
    """(SHA-1, SHA-256) hex digests of a file, read once."""
    sha1, sha256 = hashlib.sha1(), hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha1.update(block)
            sha256.update(block)
    return sha1.hexdigest(), sha256.hexdigest()


@dataclass(frozen=True)
class RawDetections:
    """Detections of one image as arrays (boxes in that image's pixels)."""

    boxes: np.ndarray  # (N, 4) x1 y1 x2 y2
    scores: np.ndarray  # (N,)
    classes: list[str]


def detect_in_regions(
    detector: Detector,
    image: np.ndarray,
    regions: Sequence[tuple[int, int, int, int]],
    found: Sequence[Detection] = (),
) -> list[Detection]:
    """Run ``detector`` on crops of ``image`` (zoomed in) and merge with ``found``.

    A crop shows small far objects larger to the detector. Boxes from a crop are mapped back to
    frame pixels; boxes cut by a crop edge that is not a frame edge are dropped (the object is
    partly outside the crop); the rest are merged with ``found`` by grouped NMS.

    Args:
        detector: Any detector.
        image: The whole frame.
        regions: Crops ``(x1, y1, x2, y2)`` in frame pixels.
        found: Detections already made on the whole frame.
    """
    return merge_detections(found, [d for per in detect_regions(detector, image, regions) for d in per])


def detect_regions(
    detector: Detector, image: np.ndarray, regions: Sequence[tuple[int, int, int, int]]
) -> list[list[Detection]]:
    """Per crop of ``image``: the detector's boxes in frame pixels, those cut by an inner crop
    edge dropped (see :func:`detect_in_regions`); a crop under 8 px a side gives none."""
    h, w = image.shape[:2]
    out: list[list[Detection]] = []
    for x1, y1, x2, y2 in regions:
        kept: list[Detection] = []
        out.append(kept)
        if x2 - x1 < 8 or y2 - y1 < 8:
            continue
        for det in detector.detect(image[y1:y2, x1:x2]):
            bx1, by1, bx2, by2 = det.box
            cut = (
                (bx1 <= 1 and x1 > 0)
                or (by1 <= 1 and y1 > 0)
                or (bx2 >= x2 - x1 - 1 and x2 < w)
                or (by2 >= y2 - y1 - 1 and y2 < h)
            )
            if not cut:
                kept.append(replace(det, box=(bx1 + x1, by1 + y1, bx2 + x1, by2 + y1)))
    return out


def merge_detections(found: Sequence[Detection], extra: Sequence[Detection]) -> list[Detection]:
    """``found`` and ``extra`` merged by grouped NMS (``found`` unchanged when ``extra`` is empty)."""
    if not extra:
        return list(found)
    every = list(found) + list(extra)
    boxes = np.array([d.box for d in every], dtype=np.float64)
    keep = nms_grouped(boxes, np.array([d.score for d in every]), [d.cls for d in every])
    return [every[i] for i in keep]


def tile_regions(
    width: int, height: int, tiles: tuple[int, int], overlap: float = 0.2
) -> list[tuple[int, int, int, int]]:
    """The whole frame, then a ``cols x rows`` grid of tiles overlapping by ``overlap``."""
    regions = [(0, 0, width, height)]
    cols, rows = tiles
    if cols * rows <= 1:
        return regions
    tw = width / (cols - (cols - 1) * overlap) if cols > 1 else width
    th = height / (rows - (rows - 1) * overlap) if rows > 1 else height
    for r in range(rows):
        for c in range(cols):
            x1 = round(c * tw * (1 - overlap))
            y1 = round(r * th * (1 - overlap))
            regions.append((x1, y1, min(width, round(x1 + tw)), min(height, round(y1 + th))))
    return regions


def nms_grouped(
    boxes: np.ndarray, scores: np.ndarray, classes: Sequence[str], iou: float = 0.5
) -> list[int]:
    """Indices kept by non-maximum suppression across the classes of one confusion group."""
    keep: list[int] = []
    groups: dict[str, list[int]] = {}
    for i, cls in enumerate(classes):
        groups.setdefault(NMS_GROUPS.get(cls, cls), []).append(i)
    for idx in groups.values():
        b = boxes[idx]
        rects = [[float(x1), float(y1), float(x2 - x1), float(y2 - y1)] for x1, y1, x2, y2 in b]
        kept = cv2.dnn.NMSBoxes(rects, [float(scores[i]) for i in idx], 0.0, iou)
        keep.extend(idx[int(k)] for k in np.array(kept).reshape(-1))
    return sorted(keep)


def merge_raw(raws: Sequence[RawDetections]) -> RawDetections:
    boxes = np.concatenate([r.boxes for r in raws]) if raws else np.zeros((0, 4))
    scores = np.concatenate([r.scores for r in raws]) if raws else np.zeros(0)
    classes = [c for r in raws for c in r.classes]
    if len(classes) > 1:
        keep = nms_grouped(boxes, scores, classes)
        boxes, scores, classes = boxes[keep], scores[keep], [classes[i] for i in keep]
    return RawDetections(boxes=boxes, scores=scores, classes=classes)


def clip_box(box: np.ndarray, width: int, height: int) -> Box:
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, x2 = min(max(x1, 0.0), width), min(max(x2, 0.0), width)
    y1, y2 = min(max(y1, 0.0), height), min(max(y2, 0.0), height)
    return (x1, y1, max(x1, x2), max(y1, y2))


def dist_version(name: str) -> str:
    try:
        return f"{name}-{importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{name}-unknown"


