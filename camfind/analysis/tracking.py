"""Multi-object tracking: a maintained tracker per class group, class votes, appearance, linking.

The online tracker is Roboflow's ``trackers`` ByteTrack (Apache-2.0, numpy/scipy only: no torch).
One instance runs per confusion group (people, cars/buses/trucks, two-wheelers, unknown movers),
so a rider and the motorbike under them never swap ids, while a car the detector calls a truck
in one frame stays one track; each track's class is its score-weighted vote.

Online trackers break an object into fragments when the detector misses it for a while or it is
occluded (the raw ByteTrack gives 153 ids for 19 people on PETS). :func:`link_fragments` joins
fragments offline: the end of one near the start of another in time and space, along its motion,
with a similar colour histogram.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from camfind.analysis.detectors import NMS_GROUPS, Detector
from camfind.analysis.frames import Frame, container_fps, iter_frames
from camfind.analysis.motion import MotionGate, unknown_detections
from camfind.types import Box, Detection

log = logging.getLogger(__name__)

#: Histogram bins (hue, saturation, value) of the appearance descriptor.
HIST_BINS = (8, 4, 4)


class Tracker:
    """Assigns track numbers to each frame's detections (one ByteTrack per class group).

    Args:
        fps: The effective analysis rate (frames passed per second of clip).
        lost_s: Seconds a lost track is kept for re-association.
        activation: Minimum score for a detection to start a track.
        high: Scores at or above go to ByteTrack's first association, lower ones to the second.
        min_iou: Minimum IoU between a predicted track box and a detection to match them.
        min_hits: Consecutive matched frames before a track gets a number.

    Example:
        >>> tracker = Tracker(fps=4.0)
        >>> tracked = tracker.update(frame, detector.detect(frame.image))  # doctest: +SKIP
    """

    def __init__(
        self,
        fps: float,
        *,
        lost_s: float = 2.0,
        activation: float = 0.4,
        high: float = 0.5,
        min_iou: float = 0.1,
        min_hits: int = 2,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"expected a positive analysis fps, got {fps}")
        self.fps = fps
        self._params = {
            "lost_track_buffer": max(1, round(lost_s * 30)),
            "frame_rate": fps,
            "track_activation_threshold": activation,
            "minimum_consecutive_frames": min_hits,
            "minimum_iou_threshold": min_iou,
            "high_conf_det_threshold": high,
        }
        self._trackers: dict[str, object] = {}
        self._numbers: dict[tuple[str, int], int] = {}
        self._votes: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self._hist_sum: dict[int, np.ndarray] = {}
        self._hist_n: Counter[int] = Counter()

    def update(self, frame: Frame, detections: list[Detection]) -> list[Detection]:
        """Track one frame; returns the detections that belong to a numbered track.

        Returned detections carry ``frame``/``offset_s`` of ``frame``, ``track_no`` and the
        track's voted class so far.
        """
        by_group: dict[str, list[Detection]] = defaultdict(list)
        for det in detections:
            by_group[NMS_GROUPS.get(det.cls, det.cls)].append(det)
        out: list[Detection] = []
        for group in sorted(set(by_group) | set(self._trackers)):
            dets = by_group.get(group, [])
            for det, local in self._update_group(group, dets, frame.offset_s):
                number = self._numbers.setdefault((group, local), len(self._numbers) + 1)
                self._votes[number][det.cls] += det.score
                self._add_appearance(number, frame.image, det.box)
                out.append(
                    replace(
                        det,
                        frame=frame.index,
                        offset_s=frame.offset_s,
                        track_no=number,
                        cls=self.track_class(number),
                    )
                )
        return out

    def track_class(self, track_no: int) -> str:
        """The class with the highest summed score among a track's detections."""
        return _winner(self._votes.get(track_no, {}))

    def classes(self) -> dict[int, str]:
        """Voted class of every track so far."""
        return {n: self.track_class(n) for n in self._votes}

    def votes(self) -> dict[int, dict[str, float]]:
        """Summed scores per class of every track (to re-vote after linking)."""
        return {n: dict(v) for n, v in self._votes.items()}

    def appearance(self) -> dict[int, np.ndarray]:
        """Mean normalised HSV colour histogram of every track (for :func:`link_fragments`)."""
        return {n: self._hist_sum[n] / self._hist_n[n] for n in self._hist_sum}

    def _update_group(
        self, group: str, dets: list[Detection], timestamp: float
    ) -> list[tuple[Detection, int]]:
        import supervision as sv

        tracker = self._trackers.get(group)
        if tracker is None:
            from trackers import ByteTrackTracker

            tracker = self._trackers[group] = ByteTrackTracker(**self._params)  # type: ignore[arg-type]
        if dets:
            svd = sv.Detections(
                xyxy=np.array([d.box for d in dets], dtype=np.float32),
                confidence=np.array([d.score for d in dets], dtype=np.float32),
                class_id=np.zeros(len(dets), dtype=int),
                data={"i": np.arange(len(dets))},
            )
        else:
            svd = sv.Detections.empty()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            result = tracker.update(svd, timestamp=timestamp)  # type: ignore[attr-defined]
        if len(result) == 0:
            return []
        pairs = zip(result.data["i"], result.tracker_id, strict=True)
        return [(dets[int(i)], int(t)) for i, t in pairs if int(t) >= 0]

    def _add_appearance(self, number: int, image: np.ndarray, box: Box) -> None:
        hist = appearance_histogram(image, box)
        if hist is None:
            return
        if number in self._hist_sum:
            self._hist_sum[number] += hist
        else:
            self._hist_sum[number] = hist.copy()
        self._hist_n[number] += 1


def _winner(votes: Mapping[str, float]) -> str:
    """The class with the largest summed score ("unknown" when there are no votes)."""
    return max(sorted(votes), key=lambda c: votes[c]) if votes else "unknown"


def appearance_histogram(image: np.ndarray, box: Box) -> np.ndarray | None:
    """L1-normalised HSV histogram of the central part of a box (None if too small)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    # The centre (drop 15% each side, 10% top/bottom): less background, for people and cars alike.
    cx1, cx2 = int(x1 + 0.15 * w), int(x2 - 0.15 * w)
    cy1, cy2 = int(y1 + 0.1 * h), int(y2 - 0.1 * h)
    crop = image[max(cy1, 0) : max(cy2, 0), max(cx1, 0) : max(cx2, 0)]
    if crop.shape[0] < 4 or crop.shape[1] < 3:
        return None
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256])
    hist = hist.reshape(-1).astype(np.float64)
    total = hist.sum()
    return hist / total if total > 0 else None


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

    A fragment B continues fragment A when B starts after A ends (by at most ``max_gap_s``, or
    overlapping by at most one analysed frame), both ends agree once each is extrapolated along
    its own motion to the other's time (within about half a body height, more for longer gaps),
    their sizes agree, and (when ``appearance`` is given) their colour histograms are close.
    Links are made cheapest first, each fragment with at most one successor and predecessor.

    Args:
        tracks: Detections of each track (any order), as returned by :meth:`Tracker.update`.
        fps: Analysis rate the tracks were made at.
        appearance: Per-track descriptor, e.g. :meth:`Tracker.appearance`.
        max_gap_s: Longest time between the end of one fragment and the start of the next.
        max_app: Largest Bhattacharyya distance between the two fragments' histograms.

    Returns:
        ``{track_no: canonical track_no}`` for every input track (the earliest fragment's).
    """
    frags = {no: _fragment(no, dets) for no, dets in tracks.items() if dets}
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
    succ: dict[int, int] = {}
    pred: dict[int, int] = {}
    head = {no: no for no in frags}
    for _cost, a_no, b_no in sorted(candidates):
        if a_no in succ or b_no in pred or _root(head, a_no) == _root(head, b_no):
            continue
        succ[a_no], pred[b_no] = b_no, a_no
        head[_root(head, b_no)] = _root(head, a_no)
    return _canonical(frags, pred, tracks)


def _root(head: dict[int, int], no: int) -> int:
    while head[no] != no:
        head[no] = head[head[no]]
        no = head[no]
    return no


def _canonical(
    frags: Mapping[int, _Fragment], pred: Mapping[int, int], tracks: Mapping[int, object]
) -> dict[int, int]:
    out: dict[int, int] = {}
    for no in tracks:
        first = no
        while first in pred:
            first = pred[first]
        out[no] = first
    if frags:
        log.debug("linked %d fragments into %d tracks", len(frags), len(set(out.values())))
    return out


def _fragment(no: int, dets: Sequence[Detection]) -> _Fragment:
    dets = sorted(dets, key=lambda d: d.offset_s)
    t = np.array([d.offset_s for d in dets])
    c = np.array([((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in dets])
    h = np.array([d.box[3] - d.box[1] for d in dets])
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
    if gap > max_gap_s or gap < -1.01 / fps or b.t1 <= a.t1 or len(a.frames & b.frames) > 1:
        return None
    height = (a.h_end + b.h_start) / 2
    if not 0.7 <= b.h_start / max(a.h_end, 1e-6) <= 1.43:
        return None
    # Bridge the gap at the mean of the two fragments' velocities; they must roughly agree.
    bridge = (a.v_end + b.v_start) / 2 * max(gap, 0.0)
    dist = float(np.linalg.norm(b.start - a.end - bridge)) / height
    turn = float(np.linalg.norm(a.v_end - b.v_start)) / height  # body heights per second
    if dist > 0.6 + 0.4 * max(gap, 0.0) or turn > 1.2:
        return None
    return dist + 0.5 * turn + 0.1 * max(gap, 0.0)


def _groups_compatible(a: str, b: str) -> bool:
    return a == b or "unknown" in (a, b)


@dataclass(frozen=True)
class TrackedClip:
    """All tracks of one clip after linking, with what was analysed and how long each stage took.

    ``tracks`` maps the final track number to its detections in frame order (class = the
    track's vote). ``frames`` are the frame indices analysed (decoded at the rate, whether or not
    the motion gate let the detector run). ``ms_per_frame`` holds mean milliseconds per analysed
    frame for ``decode``, ``motion``, ``detect`` (per frame it ran on) and ``track``.
    """

    path: str
    rate_fps: float
    frames: tuple[int, ...]
    detected_frames: int
    tracks: dict[int, tuple[Detection, ...]]
    ms_per_frame: dict[str, float]

    def by_frame(self, classes: Sequence[str] | None = None) -> dict[int, list[Detection]]:
        """Tracked detections per frame index, optionally only of some classes."""
        out: dict[int, list[Detection]] = defaultdict(list)
        for dets in self.tracks.values():
            for det in dets:
                if classes is None or det.cls in classes:
                    out[det.frame].append(det)
        return dict(out)

    def classes(self) -> dict[int, str]:
        """Class of every final track."""
        return {no: dets[0].cls for no, dets in self.tracks.items()}


def track_clip(
    path: str,
    detector: Detector,
    *,
    rate_fps: float | None,
    motion_gate: bool = True,
    fps_override: float | None = None,
) -> TrackedClip:
    """Run frames -> (motion gate) -> detect -> track -> link over a clip.

    Args:
        path: The clip.
        detector: Any :class:`~camfind.analysis.detectors.Detector`.
        rate_fps: Analysis rate (``None``: every frame).
        motion_gate: Skip the detector on frames without motion and add ``unknown`` detections
            for moving blobs the detector does not explain.
        fps_override: The clip's true frame rate where its header is wrong.
    """
    fps = fps_override or container_fps(path)
    rate = min(rate_fps, fps) if rate_fps else fps
    tracker = Tracker(fps=rate)
    gate = MotionGate() if motion_gate else None
    clock: dict[str, float] = defaultdict(float)
    frames: list[int] = []
    detected = 0
    raw: dict[int, list[Detection]] = defaultdict(list)
    tick = time.perf_counter()
    for frame in iter_frames(path, rate_fps=rate_fps, fps_override=fps_override):
        clock["decode"] += time.perf_counter() - tick
        frames.append(frame.index)
        dets = _detect_gated(frame, detector, gate, clock)
        detected += dets is not None
        tick = time.perf_counter()
        for det in tracker.update(frame, dets or []):
            raw[det.track_no or 0].append(det)
        clock["track"] += time.perf_counter() - tick
        tick = time.perf_counter()
    tick = time.perf_counter()
    tracks = _finalise(raw, tracker, rate)
    clock["track"] += time.perf_counter() - tick
    ms = {k: 1000 * v / max(len(frames), 1) for k, v in clock.items()}
    ms["detect"] = 1000 * clock["detect"] / max(detected, 1)
    return TrackedClip(str(path), rate, tuple(frames), detected, tracks, ms)


def _detect_gated(
    frame: Frame, detector: Detector, gate: MotionGate | None, clock: dict[str, float]
) -> list[Detection] | None:
    """Detections of one frame (plus unknown movers); None where the gate skipped it."""
    tick = time.perf_counter()
    motion = gate.update(frame.image) if gate is not None else None
    clock["motion"] += time.perf_counter() - tick
    if motion is not None and not motion.moving:
        return None
    tick = time.perf_counter()
    dets = detector.detect(frame.image)
    clock["detect"] += time.perf_counter() - tick
    if motion is not None:
        dets = dets + unknown_detections(motion.boxes, dets)
    return dets


def _finalise(
    raw: Mapping[int, list[Detection]], tracker: Tracker, fps: float
) -> dict[int, tuple[Detection, ...]]:
    """Link fragments, re-vote each final track's class, drop unknown blobs that do not travel."""
    canon = link_fragments(raw, fps=fps, appearance=tracker.appearance())
    votes = tracker.votes()
    merged: dict[int, list[Detection]] = defaultdict(list)
    total: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for no, dets in raw.items():
        merged[canon[no]].extend(dets)
        for cls, score in votes.get(no, {}).items():
            total[canon[no]][cls] += score
    out: dict[int, tuple[Detection, ...]] = {}
    for no, dets in sorted(merged.items()):
        named = {c: s for c, s in total[no].items() if c != "unknown"}
        cls = _winner(named or total[no])
        if cls == "unknown" and not _travels(dets):
            continue
        out[no] = tuple(
            replace(d, cls=cls, track_no=no) for d in sorted(dets, key=lambda d: d.frame)
        )
    return out


def _travels(dets: Sequence[Detection], min_hits: int = 3) -> bool:
    """An unknown blob counts when seen a few times and it moved by about its own size."""
    if len(dets) < min_hits:
        return False
    first, last = min(dets, key=lambda d: d.frame), max(dets, key=lambda d: d.frame)
    size = max(first.box[2] - first.box[0], first.box[3] - first.box[1], 1.0)
    dx = (last.box[0] + last.box[2] - first.box[0] - first.box[2]) / 2
    dy = (last.box[1] + last.box[3] - first.box[1] - first.box[3]) / 2
    return float(np.hypot(dx, dy)) >= 0.75 * size
