"""Per-track memory while a clip streams: boxes, and the best few crops in bounded memory.

Each track fragment keeps all of its boxes (small) but only its ``k`` best crops, chosen by a
quality score (detector score x size x sharpness, halved when the box is cut by the frame edge)
and spread in time so voting sees different frames. A box whose content looks like none of the
kept crops (a camera pan or cut under a standing box, a tracker box handed from one parked
vehicle to the next) is a new view of the fragment: its crop is kept too, even when its quality
is lower, up to ``extra_views`` more crops, so the plates of what the box came to hold are read.
A fragment not seen for ``close_after_s`` is closed and handed on, so the expensive stages
(colour, plates, faces) run while the clip streams and its crops are freed: memory does not grow
with the clip's length.

Example:
    >>> book = TrackBook(width=1280, height=720)
    >>> book.add(frame, tracked)               # doctest: +SKIP
    >>> for fragment in book.close_stale(frame.offset_s):  # doctest: +SKIP
    ...     enrich(fragment)
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np

from camfind.analysis.boxes import iou
from camfind.analysis.frames import Frame
from camfind.types import Box, Detection

log = logging.getLogger(__name__)

MAX_CROP_SIDE = 960  # crops are downscaled beyond this (a 4K frame's bus is still readable)
#: A box that has not moved (IoU with the last kept box at least STILL_IOU) is kept only once
#: every STILL_KEEP_S: a car parked for hours does not pile up a box per analysed frame.
STILL_IOU = 0.9
STILL_KEEP_S = 2.0
#: A new view: a box standing where a kept crop's box stood (IoU at least VIEW_IOU) whose grey
#: thumbnail correlates below NEW_VIEW with every kept crop's. A moving box's content changes
#: with the background behind it; a box under VIEW_MIN_SIDE pixels is mostly noise and
#: compression at thumbnail size (and too small for a legible plate).
NEW_VIEW = 0.7
VIEW_IOU = 0.7
VIEW_MIN_SIDE = 48.0
THUMB = 16  # thumbnail side, pixels
EXTRA_VIEWS = 4  # crops kept beyond ``k`` for new views


@dataclass
class Sample:
    """One kept crop of a track: where it came from in the frame, and at what scale."""

    frame: int
    offset_s: float
    quality: float
    box: Box  # the object's box, frame pixels
    origin: tuple[int, int]  # top-left of the crop, frame pixels
    scale: float  # crop pixels per frame pixel
    image: np.ndarray
    view: int = 0  # which view of the fragment it shows (a new number when the box's content changed)
    thumb: np.ndarray | None = field(default=None, repr=False)  # normalised grey thumbnail of the box
    ridden: bool = False  # someone rode the two-wheeler in this frame (their box joined its box)

    def to_crop(self, box: Box) -> Box:
        """A frame-pixel box in this crop's pixels."""
        ox, oy = self.origin
        return tuple((v - o) * self.scale for v, o in zip(box, (ox, oy, ox, oy), strict=True))  # type: ignore[return-value]

    def to_frame(self, box: Box) -> Box:
        """A crop-pixel box in frame pixels."""
        ox, oy = self.origin
        return tuple(v / self.scale + o for v, o in zip(box, (ox, oy, ox, oy), strict=True))  # type: ignore[return-value]


@dataclass
class Fragment:
    """A track as the online tracker numbered it (one object may span several fragments)."""

    track_no: int
    detections: list[Detection] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    seen: int = 0  # analysed frames it was seen on (kept boxes are fewer when it stands still)
    tail: Detection | None = None  # the latest box, when it was not kept
    views: int = 1  # distinct views its boxes showed (see :func:`thumbnail`)

    @property
    def last_offset(self) -> float:
        last = self.tail or (self.detections[-1] if self.detections else None)
        return last.offset_s if last is not None else -math.inf

    @property
    def cls(self) -> str:
        return self.detections[-1].cls if self.detections else "unknown"

    def add(self, det: Detection) -> None:
        """Keep ``det`` unless it repeats the last kept box of a standing object."""
        self.seen += 1
        prev = self.detections[-1] if self.detections else None
        if prev is not None and det.offset_s - prev.offset_s < STILL_KEEP_S and iou(prev.box, det.box) >= STILL_IOU:
            self.tail = det
            return
        self.detections.append(det)
        self.tail = None

    def close(self) -> Fragment:
        """The fragment with its latest box kept (so its last time is right)."""
        if self.tail is not None:
            self.detections.append(self.tail)
            self.tail = None
        return self


def _small_grey(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, 96.0 / max(h, w))
    small = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small


def sharpness(image: np.ndarray, *, grey: np.ndarray | None = None) -> float:
    """Focus measure in [0, 1): variance of the Laplacian of a small grey copy (``grey``, when
    the caller has it)."""
    if image.size == 0:
        return 0.0
    grey = _small_grey(image) if grey is None else grey
    var = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    return var / (var + 150.0)


def thumbnail(grey: np.ndarray) -> np.ndarray | None:
    """A box's content as a THUMB x THUMB grey thumbnail of zero mean and unit norm (None when
    it is flat: nothing to compare). Two thumbnails' dot product is their correlation: the same
    vehicle seen a moment later correlates highly (light and size change little), another
    vehicle or another part of the scene does not."""
    if grey.size == 0:
        return None
    t = cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    t -= t.mean()
    norm = float(np.linalg.norm(t))
    return t / norm if norm > 1e-3 * THUMB else None


def similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Correlation of two thumbnails (1.0 when either is flat: no evidence of a change)."""
    return 1.0 if a is None or b is None else float(a @ b)


def crop_with_margin(image: np.ndarray, box: Box, margin: float = 0.15) -> tuple[np.ndarray, tuple[int, int], float]:
    """Crop ``box`` plus a margin (clipped to the frame), downscaled beyond MAX_CROP_SIDE."""
    h, w = image.shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    x1, y1 = max(0, int(box[0] - margin * bw)), max(0, int(box[1] - margin * bh))
    x2, y2 = min(w, int(math.ceil(box[2] + margin * bw))), min(h, int(math.ceil(box[3] + margin * bh)))
    crop = image[y1:y2, x1:x2]
    scale = 1.0
    side = max(crop.shape[:2]) if crop.size else 0
    if side > MAX_CROP_SIDE:
        scale = MAX_CROP_SIDE / side
        crop = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), max(1, int(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop), (x1, y1), scale


def touches_edge(box: Box, width: int, height: int, pad: float = 2.0) -> bool:
    return box[0] <= pad or box[1] <= pad or box[2] >= width - pad or box[3] >= height - pad


def _new_view(box: Box, thumb: np.ndarray | None, samples: list[Sample]) -> bool:
    """Whether a box shows what none of the kept crops shows, standing where one of them stood."""
    if min(box[2] - box[0], box[3] - box[1]) < VIEW_MIN_SIDE or thumb is None:
        return False
    return (max(iou(box, s.box) for s in samples) >= VIEW_IOU
            and all(similarity(thumb, s.thumb) < NEW_VIEW for s in samples))


class TrackBook:
    """Fragments of the tracks seen so far; closes the ones not seen for a while."""

    def __init__(self, *, width: int, height: int, k: int = 4, close_after_s: float = 3.0,
                 min_gap_s: float = 0.5, extra_views: int = EXTRA_VIEWS) -> None:
        self.width, self.height = width, height
        self.k, self.close_after_s, self.min_gap_s = k, close_after_s, min_gap_s
        self.extra_views = extra_views
        self._open: dict[int, Fragment] = {}

    @property
    def open_count(self) -> int:
        return len(self._open)

    def add(self, frame: Frame, tracked: list[Detection]) -> None:
        """Record one frame's tracked detections (``track_no`` set) and maybe keep their crops."""
        for det in tracked:
            if det.track_no is None:
                continue
            frag = self._open.setdefault(det.track_no, Fragment(det.track_no))
            frag.add(det)
            self._offer(frag, frame, det)

    def _look(self, frame: Frame, det: Box, score: float) -> tuple[float, np.ndarray | None]:
        """The quality of a box's crop, and its thumbnail."""
        x1, y1, x2, y2 = (int(v) for v in det)
        view = frame.image[max(0, y1):max(0, y2), max(0, x1):max(0, x2)]
        if view.size == 0:
            return 0.0, None
        grey = _small_grey(view)
        area = max(0.0, (det[2] - det[0]) * (det[3] - det[1]))
        edge = 0.5 if touches_edge(det, self.width, self.height) else 1.0
        return score * math.sqrt(area) * edge * (0.5 + sharpness(view, grey=grey)), thumbnail(grey)

    def _offer(self, frag: Fragment, frame: Frame, det: Detection) -> None:
        quality, thumb = self._look(frame, det.box, det.score)
        samples = frag.samples
        like = max(samples, key=lambda s: similarity(thumb, s.thumb), default=None)
        novel = like is not None and _new_view(det.box, thumb, samples)
        view = frag.views if novel else (like.view if like is not None else 0)
        slot = self._slot(samples, det.offset_s, quality, view, novel,
                          self.k + min(frag.views - 1 + novel, self.extra_views))
        if slot is None:
            return
        image, origin, scale = crop_with_margin(frame.image, det.box)
        if image.size == 0:
            return
        frag.views += novel
        sample = Sample(frame.index, det.offset_s, quality, det.box, origin, scale, image, view, thumb,
                        ridden=det.riders > 0)
        if slot == len(samples):
            samples.append(sample)
        else:
            samples[slot] = sample

    def _slot(self, samples: list[Sample], t: float, quality: float, view: int, novel: bool, cap: int) -> int | None:
        """Where a crop of ``quality`` showing ``view`` goes among ``samples`` (``len(samples)``:
        added), or None: not kept. A new view is added while the fragment has room for it
        (``cap``); otherwise a crop replaces a worse one of its view taken less than
        ``min_gap_s`` before or after it, else fills a free slot, else replaces the worst crop
        whose view keeps another crop."""
        if novel and len(samples) < cap:
            return len(samples)
        near = [i for i, s in enumerate(samples) if abs(s.offset_s - t) < self.min_gap_s and (novel or s.view == view)]
        if near:
            slot = min(near, key=lambda i: samples[i].quality)
        elif len(samples) < self.k:
            return len(samples)
        else:
            per_view = Counter(s.view for s in samples)
            pool = [i for i, s in enumerate(samples) if per_view[s.view] > 1 or s.view == view]
            slot = min(pool or range(len(samples)), key=lambda i: samples[i].quality)
        return None if samples[slot].quality >= quality else slot

    def close_stale(self, now_s: float) -> list[Fragment]:
        """Fragments last seen more than ``close_after_s`` before ``now_s`` (removed from the book)."""
        stale = [n for n, f in self._open.items() if now_s - f.last_offset > self.close_after_s]
        return [self._open.pop(n).close() for n in stale]

    def close_all(self) -> list[Fragment]:
        """Every open fragment (the clip ended)."""
        out = [f.close() for f in self._open.values()]
        self._open.clear()
        return out
