"""Offline joining of track fragments, and the colour descriptor it compares.

An online tracker breaks one object into fragments when the detector misses it for a while or it
is occluded (the raw ByteTrack gives 153 ids for 19 people on PETS). Two kinds of join:

* succession: fragment B starts shortly after fragment A ends, where A was heading, moving the
  same way, the same size and (when known) the same colours;
* absorption: an ``unknown`` motion-blob fragment and a named fragment (say one ``car`` frame
  the detector did find) that cover the same object at the same time.

``camfind.analysis.tracking`` re-exports :func:`link_fragments` (the public entry point).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from camfind.analysis.boxes import iou
from camfind.analysis.detect.base import NMS_GROUPS
from camfind.types import Box, Detection

log = logging.getLogger(__name__)

#: Fastest plausible image speed of each class group, in box sizes (the box's longer side) per
#: second: a runner is about 2 body heights per second, a car or motorbike several lengths.
MAX_SPEED: Mapping[str, float] = {"person": 2.5, "two-wheeler": 6.0, "vehicle": 6.0, "unknown": 6.0}
#: Displacement allowed on top of speed x time, in box sizes (detector jitter, partial boxes).
JUMP_ALLOWANCE = 0.5
#: Consecutive boxes of one track whose areas differ more than this are two objects.
MAX_AREA_RATIO = 3.0
#: Pixels added to each side length before comparing areas.
AREA_PAD_PX = 16.0
#: A fragment of a single box has no velocity: the other fragment's bridges the gap, and the
#: allowed miss (in box heights) grows by this much per second of gap (0.4 otherwise).
SINGLE_BOX_SLACK = 0.2

#: Hue, saturation, value bins of each of the two stripes (upper and lower body / car halves).
HIST_BINS = (8, 3, 3)
_STRIPES = ((0.1, 0.5), (0.5, 0.9))


def appearance_histogram(image: np.ndarray, box: Box) -> np.ndarray | None:
    """L1-normalised HSV histograms of a box's upper and lower central stripes, concatenated.

    Two stripes tell a dark jacket over jeans from jeans under a dark jacket. Returns None where
    the box is too small to say anything.
    """
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx1, cx2 = max(int(x1 + 0.2 * w), 0), max(int(x2 - 0.2 * w), 0)
    parts = []
    for top, bottom in _STRIPES:
        crop = image[max(int(y1 + top * h), 0) : max(int(y1 + bottom * h), 0), cx1:cx2]
        if crop.shape[0] < 2 or crop.shape[1] < 2:
            return None
        hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256])
        parts.append(hist.reshape(-1) / max(float(hist.sum()), 1.0))
    both = np.concatenate(parts).astype(np.float64)
    return np.asarray(both / both.sum(), dtype=np.float64)


def box_size(box: Box) -> float:
    """A box's longer side in pixels (a close person's box is cut by the frame's bottom edge)."""
    return max(box[2] - box[0], box[3] - box[1], 1.0)


def max_displacement(size: float, dt: float, group: str) -> float:
    """Farthest an object of ``size`` pixels can plausibly move in ``dt`` seconds, in pixels."""
    return size * (JUMP_ALLOWANCE + MAX_SPEED.get(group, MAX_SPEED["unknown"]) * max(dt, 0.0))


def implausible_jump(a: Box, b: Box, dt: float, group: str) -> bool:
    """Whether box ``b``, ``dt`` seconds after ``a`` in one track, cannot be the same object.

    Either its centre moved farther than the object could (scaled by the smaller box: the
    object's real size is no smaller) or its area (sides padded by ``AREA_PAD_PX``) changed more
    than ``MAX_AREA_RATIO`` times (an online tracker that swapped a standing person for one
    passing close to the camera).
    """
    pad = AREA_PAD_PX  # a few pixels of detector noise on a small far box are no new object
    area_a = (a[2] - a[0] + pad) * (a[3] - a[1] + pad)
    area_b = (b[2] - b[0] + pad) * (b[3] - b[1] + pad)
    if max(area_a / area_b, area_b / area_a) > MAX_AREA_RATIO:
        return True
    shift = float(np.hypot((b[0] + b[2] - a[0] - a[2]) / 2, (b[1] + b[3] - a[1] - a[3]) / 2))
    return shift > max_displacement(min(box_size(a), box_size(b)), dt, group)


def hist_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two normalised histograms (0 = same, 1 = disjoint)."""
    bc = float(np.sum(np.sqrt(np.clip(a, 0, None) * np.clip(b, 0, None))))
    return float(np.sqrt(max(0.0, 1.0 - bc)))


@dataclass(frozen=True)
class _Fragment:
    """What linking needs to know about one track: its ends, motion, size and group."""

    no: int
    group: str
    t0: float
    t1: float
    start: np.ndarray  # centre (x, y) at t0
    end: np.ndarray  # centre at t1
    v_start: np.ndarray  # px/s near the start
    v_end: np.ndarray  # px/s near the end
    h_start: float
    h_end: float
    s_start: float  # box size (longer side) near the start
    s_end: float
    n: int  # number of boxes
    frames: frozenset[int]


def link_fragments(
    tracks: Mapping[int, Sequence[Detection]],
    *,
    fps: float,
    appearance: Mapping[int, np.ndarray] | None = None,
    max_gap_s: float = 4.0,
    max_app: float = 0.55,
) -> dict[int, int]:
    """Map each track number to a canonical one, joining fragments of one object.

    A fragment B continues fragment A when B starts after A ends (within ``max_gap_s``, sharing
    no frame), the object could have covered the distance at its class's top speed
    (:data:`MAX_SPEED`), A's end and B's start agree once bridged at their mean velocity (within
    about half a body height, more for longer gaps; a single-box fragment is bridged at the other
    one's velocity, with less slack), their velocities and sizes agree, and (when
    ``appearance`` is given) their colour histograms are close. Links are made cheapest first,
    each fragment with at most one successor and one predecessor. An ``unknown`` fragment is
    also merged with a named fragment that covers the same object at the same time.

    Args:
        tracks: Detections of each track (any order), as returned by ``Tracker.update``.
        fps: Analysis rate the tracks were made at.
        appearance: Per-track descriptor, e.g. ``Tracker.appearance()``.
        max_gap_s: Longest time between the end of one fragment and the start of the next.
        max_app: Largest Bhattacharyya distance between the two fragments' histograms.

    Returns:
        ``{track_no: canonical track_no}`` for every input track: the number of the earliest
        fragment of its object.
    """
    frags = {no: _fragment(no, dets) for no, dets in tracks.items() if dets}
    sets = _Sets(frags)
    succ: set[int] = set()
    pred: set[int] = set()
    for _cost, a_no, b_no in _succession_candidates(frags, fps, appearance, max_gap_s, max_app):
        if a_no in succ or b_no in pred or sets.find(a_no) == sets.find(b_no):
            continue
        if not sets.disjoint_frames(a_no, b_no):
            continue
        succ.add(a_no)
        pred.add(b_no)
        sets.union(a_no, b_no)
    for u_no, n_no in _absorptions(tracks, frags, fps):
        if sets.find(u_no) != sets.find(n_no) and sets.disjoint_frames(u_no, n_no):
            sets.union(u_no, n_no)
    out = {no: sets.find(no) for no in tracks if no in frags}
    out.update({no: no for no in tracks if no not in frags})
    log.debug("linked %d fragments into %d tracks", len(frags), len(set(out.values())))
    return out


class _Sets:
    """Union-find over fragments; each set's root is its earliest fragment."""

    def __init__(self, frags: Mapping[int, _Fragment]) -> None:
        self._frags = frags
        self._parent = {no: no for no in frags}
        self._frames = {no: set(f.frames) for no, f in frags.items()}

    def find(self, no: int) -> int:
        while self._parent[no] != no:
            self._parent[no] = self._parent[self._parent[no]]
            no = self._parent[no]
        return no

    def disjoint_frames(self, a: int, b: int) -> bool:
        return not (self._frames[self.find(a)] & self._frames[self.find(b)])

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        first, second = sorted((ra, rb), key=lambda n: (self._frags[n].t0, n))
        self._parent[second] = first
        self._frames[first] |= self._frames.pop(second)


def _succession_candidates(
    frags: Mapping[int, _Fragment],
    fps: float,
    appearance: Mapping[int, np.ndarray] | None,
    max_gap_s: float,
    max_app: float,
) -> list[tuple[float, int, int]]:
    candidates: list[tuple[float, int, int]] = []
    for a in frags.values():
        for b in frags.values():
            cost = _link_cost(a, b, fps, max_gap_s)
            if cost is None:
                continue
            if appearance is not None and a.no in appearance and b.no in appearance:
                app = hist_distance(appearance[a.no], appearance[b.no])
                if app > max_app:
                    continue
                cost += app
            candidates.append((cost, a.no, b.no))
    return sorted(candidates)


def _absorptions(
    tracks: Mapping[int, Sequence[Detection]], frags: Mapping[int, _Fragment], fps: float
) -> list[tuple[int, int]]:
    """(unknown, named) pairs where the named fragment lies on the unknown one's path."""
    pairs: list[tuple[float, int, int]] = []
    unknowns = [f for f in frags.values() if f.group == "unknown"]
    named = [f for f in frags.values() if f.group != "unknown"]
    for u in unknowns:
        path = sorted(tracks[u.no], key=lambda d: d.offset_s)
        for n in named:
            if n.t1 < u.t0 - 1.01 / fps or n.t0 > u.t1 + 1.01 / fps:
                continue
            overlaps = [iou(d.box, _box_at(path, d.offset_s)) for d in tracks[n.no]]
            if np.mean(overlaps) >= 0.3:
                pairs.append((-float(np.mean(overlaps)), u.no, n.no))
    return [(u_no, n_no) for _score, u_no, n_no in sorted(pairs)]


def _box_at(path: Sequence[Detection], t: float) -> Box:
    """The box of a (time-sorted) track at time t: interpolated inside, held at the ends."""
    times = [d.offset_s for d in path]
    i = int(np.searchsorted(times, t))
    if i <= 0:
        return path[0].box
    if i >= len(path):
        return path[-1].box
    a, b = path[i - 1], path[i]
    w = (t - a.offset_s) / max(b.offset_s - a.offset_s, 1e-9)
    x1, y1, x2, y2 = ((1 - w) * p + w * q for p, q in zip(a.box, b.box, strict=True))
    return (x1, y1, x2, y2)


def _fragment(no: int, dets: Sequence[Detection]) -> _Fragment:
    dets = sorted(dets, key=lambda d: d.offset_s)
    t = np.array([d.offset_s for d in dets])
    c = np.array([((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in dets])
    h = np.array([d.box[3] - d.box[1] for d in dets])
    size = np.array([box_size(d.box) for d in dets])
    head = t <= t[0] + 1.5
    tail = t >= t[-1] - 1.5
    groups = Counter(NMS_GROUPS.get(d.cls, d.cls) for d in dets)
    return _Fragment(
        no=no,
        group=groups.most_common(1)[0][0],
        t0=float(t[0]),
        t1=float(t[-1]),
        start=c[head].mean(axis=0) if head.sum() < 3 else _fit_at(t[head], c[head], t[0]),
        end=c[tail].mean(axis=0) if tail.sum() < 3 else _fit_at(t[tail], c[tail], t[-1]),
        v_start=_velocity(t[head], c[head]),
        v_end=_velocity(t[tail], c[tail]),
        h_start=float(np.median(h[head])),
        h_end=float(np.median(h[tail])),
        s_start=float(np.median(size[head])),
        s_end=float(np.median(size[tail])),
        n=len(dets),
        frames=frozenset(d.frame for d in dets),
    )


def _velocity(t: np.ndarray, c: np.ndarray) -> np.ndarray:
    if len(t) < 2 or t[-1] - t[0] < 1e-6:
        return np.zeros(2)
    return np.array([np.polyfit(t, c[:, k], 1)[0] for k in (0, 1)])


def _fit_at(t: np.ndarray, c: np.ndarray, at: float) -> np.ndarray:
    return np.array([np.polyval(np.polyfit(t, c[:, k], 1), at) for k in (0, 1)])


def _link_cost(a: _Fragment, b: _Fragment, fps: float, max_gap_s: float) -> float | None:
    """Cost of B continuing A (lower is likelier), or None where it cannot."""
    if a.no == b.no or not _groups_compatible(a.group, b.group):
        return None
    gap = b.t0 - a.t1
    if gap > max_gap_s or gap < -1.01 / fps or b.t1 <= a.t1 or a.frames & b.frames:
        return None
    height = (a.h_end + b.h_start) / 2
    if not 0.7 <= b.h_start / max(a.h_end, 1e-6) <= 1.43:
        return None
    if not _physically_plausible(a, b, gap):
        return None
    # Bridge the gap at the mean of the two fragments' velocities; they must roughly agree. A
    # single box has no velocity: the other fragment's alone bridges, with less slack per second.
    single = min(a.n, b.n) < 2
    if single:
        v = b.v_start if a.n < 2 else a.v_end
        slack = 0.6 + SINGLE_BOX_SLACK * max(gap, 0.0)
    else:
        v = (a.v_end + b.v_start) / 2
        slack = 0.6 + 0.4 * max(gap, 0.0)
    dist = float(np.linalg.norm(b.start - a.end - v * max(gap, 0.0))) / height
    turn = 0.0 if single else float(np.linalg.norm(a.v_end - b.v_start)) / height  # heights/s
    if dist > slack or turn > 1.2:
        return None
    return dist + 0.5 * turn + 0.1 * max(gap, 0.0)


def _physically_plausible(a: _Fragment, b: _Fragment, gap: float) -> bool:
    """The object could cover the distance between the two ends in the gap at its class's top
    speed (scaled by the smaller end's box size)."""
    group = a.group if a.group != "unknown" else b.group
    shift = float(np.linalg.norm(b.start - a.end))
    return shift <= max_displacement(min(a.s_end, b.s_start), gap, group)


def _groups_compatible(a: str, b: str) -> bool:
    return a == b or "unknown" in (a, b)
