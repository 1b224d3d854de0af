"""One clip -> :class:`~camfind.index.writer.AnalysisResult`: the analysis pipeline.

Frames stream at the analysis rate (never the whole clip in memory). A motion gate skips static
stretches; on the other frames the detector runs, moving blobs it did not name become
``unknown`` detections, and the tracker numbers them. Each track fragment keeps its best few
crops (:mod:`camfind.analysis.trackbook`); when it has not been seen for a few seconds the
expensive stages run on those crops (:mod:`camfind.analysis.enrich`) and they are freed. At the
end fragments of one object are linked, and each track gets its class, corrected times, sides,
direction (ground plane when calibrated, else image + heading), colour, voted plate, faces and
a best snapshot.

Example:
    >>> result, stats = analyze_clip(clip, camera, models=models, settings=AnalysisSettings(),
    ...                              store=store)  # doctest: +SKIP
    >>> [(t.cls, t.direction, t.color, t.plate and t.plate.text) for t in result.tracks]  # doctest: +SKIP
    [('car', 'N', 'red', '51F-598.81')]
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from camfind.analysis.color import decide
from camfind.analysis.detectors import detect_regions, merge_detections
from camfind.analysis.direction import ToWorld, image_motion, track_motion
from camfind.analysis.enrich import Enricher, Findings
from camfind.analysis.frames import Frame, iter_frames
from camfind.analysis.models import Models
from camfind.analysis.motion import MotionGate, MotionResult, ZoomMemory, unknown_detections, zoom_regions
from camfind.analysis.plategroups import plate_parts, same_plate
from camfind.analysis.riders import merge_riders, track_class
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.snapshots import SnapshotStore
from camfind.analysis.stages import Behind, prefetch
from camfind.analysis.trackbook import Fragment, TrackBook
from camfind.analysis.tracking import Tracker, link_fragments
from camfind.index.writer import AnalysisResult
from camfind.recognition.vnplate import vote
from camfind.types import Box, Camera, Clip, Detection, FaceSighting, PlateRead, Snapshot, Track

log = logging.getLogger(__name__)

MOTION_HOLD_S = 1.0  # keep detecting this long after the last motion
IDLE_DETECT_S = 5.0  # detect at least this often even when nothing moves (standing objects)
MAX_FACES_PER_TRACK = 5
MIN_UNKNOWN_FRAMES = 3

Progress = Callable[[float], None]


@dataclass
class ClipStats:
    """How much work one clip took."""

    frames: int = 0
    detected_frames: int = 0
    fragments: int = 0
    tracks: int = 0
    seconds: float = 0.0
    video_s: float = 0.0

    @property
    def speed(self) -> float:
        """Seconds of video per second of analysis (a multiple of real time)."""
        return self.video_s / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Stream:
    """What streaming a clip leaves: per-fragment boxes and findings, and the tracker's votes."""

    detections: dict[int, list[Detection]]
    findings: dict[int, list[Findings]]
    votes: Mapping[int, Mapping[str, float]]
    appearance: Mapping[int, object]
    width: int
    height: int
    seen: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def analyze_clip(
    clip: Clip,
    camera: Camera,
    *,
    models: Models,
    settings: AnalysisSettings,
    store: SnapshotStore,
    to_world: ToWorld | None = None,
    progress: Progress | None = None,
) -> tuple[AnalysisResult, ClipStats]:
    """Analyse one registered clip (read-only) into tracks, detections, plates, faces, snapshots.

    Raises:
        NotFoundError, ClipError: the clip file is missing or cannot be decoded.
    """
    started = time.perf_counter()
    stats = ClipStats()
    enrich = Enricher(clip, store, plates=models.plates if settings.plates else None,
                      faces=models.faces if settings.faces else None)
    stream = _stream(clip, models, settings, enrich, stats, progress)
    result = _assemble(clip, camera, stream, store, settings.rate_fps, to_world)
    stats.tracks = len(result.tracks)
    stats.seconds = time.perf_counter() - started
    stats.video_s = clip.duration_s
    log.info("clip %s: %d frames (%d detected), %d fragments -> %d tracks in %.1f s",
             clip.id, stats.frames, stats.detected_frames, stats.fragments, stats.tracks, stats.seconds)
    return result, stats


def _stream(
    clip: Clip, models: Models, settings: AnalysisSettings, enrich: Enricher, stats: ClipStats,
    progress: Progress | None,
) -> _Stream:
    """Decode (ahead, in a thread) -> gate -> detect -> track; closed fragments are enriched
    behind, in another thread."""
    tracker = Tracker(fps=settings.rate_fps)
    gate = MotionGate() if settings.motion_gate else None
    out = _Stream(defaultdict(list), defaultdict(list), {}, {}, clip.width, clip.height)
    book: TrackBook | None = None
    cadence = _Cadence()
    zooms = ZoomMemory()
    frames = iter_frames(clip.path, rate_fps=settings.rate_fps, fps_override=clip.fps or None)
    with Behind[Findings](max_pending=8) as behind:

        def finish(fragments: Iterable[Fragment]) -> None:
            for frag in fragments:
                stats.fragments += 1
                out.detections[frag.track_no].extend(frag.detections)
                out.seen[frag.track_no] += frag.seen
                cls = tracker.track_class(frag.track_no, frag.detections)
                behind.submit(frag.track_no, _enrich_and_free, enrich, frag, cls)

        for frame, motion in prefetch(_gated(frames, gate), depth=4):
            stats.frames += 1
            if book is None:
                out.height, out.width = frame.image.shape[:2]
                book = TrackBook(width=out.width, height=out.height)
            t = frame.offset_s
            if cadence.wants(t, motion):
                stats.detected_frames += 1
                blobs = motion.boxes if motion is not None else []
                tracked = tracker.update(frame, _detect(models, frame, blobs, zooms))
                book.add(frame, tracked)
                cadence.ran(t, [d.box for d in tracked])
            else:
                cadence.skipped()
            finish(book.close_stale(t))
            if progress is not None and clip.duration_s > 0:
                progress(min(1.0, t / clip.duration_s))
        if book is not None:
            finish(book.close_all())
        for no, found_ in behind.results():
            out.findings[no].append(found_)
    out.votes = tracker.votes()
    out.appearance = tracker.appearance()
    return out


@dataclass
class _Cadence:
    """When the detector runs on an analysed frame.

    Always without a motion gate. With one: not in static stretches (but once every
    IDLE_DETECT_S, for objects standing there); while things move, on every analysed frame
    when something new moves (a blob no followed track covers), else on every other frame: the
    tracker carries its tracks over the skipped one. The SSD is most of the cost, so busy
    street footage is analysed about twice as fast with the same tracks.
    """

    last_motion: float = float("-inf")
    last_detect: float = float("-inf")
    ran_last: bool = False
    tracked: list[Box] = field(default_factory=list)

    def wants(self, t: float, motion: MotionResult | None) -> bool:
        if motion is None:
            return True
        if motion.moving:
            self.last_motion = t
        if t - self.last_detect >= IDLE_DETECT_S:
            return True
        if t - self.last_motion > MOTION_HOLD_S:
            return False
        followed = bool(self.tracked and motion.boxes) and all(_covered(b, self.tracked) for b in motion.boxes)
        return not (self.ran_last and followed)

    def ran(self, t: float, tracked: list[Box]) -> None:
        self.last_detect, self.ran_last, self.tracked = t, True, tracked

    def skipped(self) -> None:
        self.ran_last = False


def _covered(blob: Box, boxes: list[Box], grow: float = 0.5) -> bool:
    """Whether a moving blob lies mostly inside some tracked box (grown: it moved since)."""
    area = max((blob[2] - blob[0]) * (blob[3] - blob[1]), 1e-6)
    for b in boxes:
        gw, gh = grow * (b[2] - b[0]), grow * (b[3] - b[1])
        w = min(blob[2], b[2] + gw) - max(blob[0], b[0] - gw)
        h = min(blob[3], b[3] + gh) - max(blob[1], b[1] - gh)
        if w > 0 and h > 0 and w * h >= 0.5 * area:
            return True
    return False


def _gated(frames: Iterator[Frame], gate: MotionGate | None) -> Iterator[tuple[Frame, MotionResult | None]]:
    """Frames with the motion gate's verdict (computed in the decoding thread)."""
    for frame in frames:
        yield frame, (gate.update(frame.image) if gate is not None else None)


def _enrich_and_free(enrich: Enricher, frag: Fragment, cls: str) -> Findings:
    try:
        return enrich(frag, cls)
    finally:
        frag.samples.clear()  # the crops are not needed any more


def _detect(models: Models, frame: Frame, motion_boxes: list[Box], zooms: ZoomMemory | None = None) -> list[Detection]:
    """Named detections of a frame (zooming in on moving blobs the whole-frame pass did not
    explain: small far objects; not again at once where zooming just found nothing), plus the
    moving blobs none of them explains as ``unknown``."""
    named = models.detector.detect(frame.image)
    if motion_boxes:
        h, w = frame.image.shape[:2]
        regions = zoom_regions(motion_boxes, named, w, h)
        if zooms is not None:
            regions = zooms.wanted(regions, frame.offset_s)
        per_region = detect_regions(models.detector, frame.image, regions)
        merged = merge_detections(named, [d for per in per_region for d in per])
        if zooms is not None:
            kept = {id(d) for d in merged}
            for region, found in zip(regions, per_region, strict=True):
                zooms.record(region, frame.offset_s, found=any(id(d) in kept for d in found))
        named = merged
    named = merge_riders(named)
    found = named + unknown_detections(motion_boxes, named)
    return [replace(d, frame=frame.index, offset_s=frame.offset_s) for d in found]


def _assemble(
    clip: Clip, camera: Camera, stream: _Stream, store: SnapshotStore, fps: float, to_world: ToWorld | None
) -> AnalysisResult:
    """Link fragments into tracks, cut them where their plate changes, number them in time
    order, and summarise each."""
    canon = link_fragments(stream.detections, fps=fps, appearance=stream.appearance)  # type: ignore[arg-type]
    groups: dict[int, list[int]] = defaultdict(list)
    for no in stream.detections:
        groups[canon.get(no, no)].append(no)
    ordered = sorted(groups.values(), key=lambda ms: min(d.offset_s for m in ms for d in stream.detections[m]))
    tracks: list[Track] = []
    detections: list[Detection] = []
    plates: list[PlateRead] = []
    faces: list[FaceSighting] = []
    for members in ordered:
        for built in _build_tracks(clip, camera, stream, members, store, to_world):
            number = len(tracks) + 1
            retag = _Retagger(store, number)
            tracks.append(replace(built.track, track_no=number, snapshot=retag(built.track.snapshot)))
            detections += [replace(d, track_no=number) for d in built.detections]
            plates += [replace(r, track_id=number, snapshot=retag(r.snapshot)) for r in built.reads]
            faces += [replace(f, track_id=number, snapshot=retag(f.snapshot)) for f in built.faces]
    snaps = [t.snapshot for t in tracks if t.snapshot] + [r.snapshot for r in plates if r.snapshot]
    snaps += [f.snapshot for f in faces if f.snapshot]
    return AnalysisResult(tracks, detections, plates, faces, snaps)


@dataclass(frozen=True)
class _Built:
    """One track as built, before its final number: its boxes, plate reads and faces."""

    track: Track
    detections: list[Detection]
    reads: list[PlateRead]
    faces: list[FaceSighting]


def _merged_detections(stream: _Stream, members: list[int]) -> list[Detection]:
    by_frame: dict[int, Detection] = {}
    for m in members:
        for d in stream.detections[m]:
            if d.frame not in by_frame or d.score > by_frame[d.frame].score:
                by_frame[d.frame] = d
    return [d for _, d in sorted(by_frame.items())]


def _keep(cls: str, dets: list[Detection]) -> bool:
    """Unknown movers must last a few frames and actually travel (not flicker, not leaves)."""
    if cls != "unknown":
        return len(dets) >= 2
    return len(dets) >= MIN_UNKNOWN_FRAMES and image_motion([d.box for d in dets], 0.0) is not None


def _build_tracks(
    clip: Clip, camera: Camera, stream: _Stream, members: list[int], store: SnapshotStore,
    to_world: ToWorld | None,
) -> list[_Built]:
    """The tracks of one linked object: one, or one per plate where its reads show several."""
    votes: dict[str, float] = defaultdict(float)
    for m in members:
        for name, weight in stream.votes.get(m, {}).items():
            votes[name] += weight
    found = [f for m in members for f in stream.findings[m]]
    dets = _merged_detections(stream, members)
    cls = track_class(votes, dets)  # a blob the detector named once is named; riders are bikes
    if not _keep(cls, dets):
        for f in found:
            _drop_all(store, f)
        return []
    reads = sorted((r for f in found for r in f.plate_reads), key=lambda r: r.frame)
    faces = [s for f in found for s in f.faces]
    parts = plate_parts(reads, dets[0].frame, dets[-1].frame)
    colour: Counter[str] = Counter()
    for f in found:
        colour.update(f.color_votes)
    snaps = sorted((f for f in found if f.snapshot is not None), key=lambda f: -f.best_quality)
    used: set[str] = set()
    placed: set[int] = set()  # faces given to a part (parts over one span share no face)
    built: list[_Built] = []
    for part in parts:
        held = [d for d in dets if part.first_frame <= d.frame <= part.last_frame]
        if not held:
            continue
        best = next((f for f in snaps if f.snapshot and f.snapshot.path not in used
                     and part.first_frame <= (f.best_frame or -1) <= part.last_frame), None)
        best = best or next((f for f in snaps if f.snapshot and f.snapshot.path not in used), None)
        if best is not None and best.snapshot is not None:
            used.add(best.snapshot.path)
        picture = best.snapshot if best is not None else _plate_picture(part.reads)
        offered = [s for s in faces if part.first_frame <= s.frame <= part.last_frame and id(s) not in placed]
        placed.update(id(s) for s in offered)
        part_faces = _best_faces(store, offered)
        motion = track_motion([d.box for d in held], [d.offset_s for d in held], width=stream.width,
                              height=stream.height, heading_deg=camera.heading_deg, to_world=to_world)
        part_reads = list(part.reads)
        valid = [r.plate for r in part_reads if r.plate.valid and (part.plate is None or
                                                                     same_plate(r.plate.norm, part.plate))]
        plate = vote(valid) if valid else None
        first, last = held[0], held[-1]
        track = Track(
            clip_id=clip.id or 0, camera_id=clip.camera_id, track_no=0, cls=cls,
            first_time=clip.time_at(first.offset_s), last_time=clip.time_at(last.offset_s),
            first_frame=first.frame, last_frame=last.frame,
            n_frames=max(len(held), sum(stream.seen.get(m, 0) for m in members) if len(parts) == 1 else 0),
            confidence=round(sum(d.score for d in held) / len(held), 4),
            entry_side=motion.entry_side, exit_side=motion.exit_side,
            direction_deg=None if motion.direction_deg is None else round(motion.direction_deg, 1),
            speed_kmh=None if motion.speed_kmh is None else round(motion.speed_kmh, 1),
            color=decide(colour), plate=plate if plate is not None and plate.valid else None,
            best_frame=best.best_frame if best is not None else (picture.frame if picture else None),
            snapshot=picture,
        )
        built.append(_Built(track, held, part_reads, part_faces))
    for f in snaps:
        if f.snapshot is not None and f.snapshot.path not in used:
            store.drop(f.snapshot)
    kept = {id(r) for b in built for r in b.reads} | {id(s) for b in built for s in b.faces}
    for r in reads:
        if id(r) not in kept and r.snapshot is not None:
            store.drop(r.snapshot)
    return built


class _Retagger:
    """Gives a track's snapshots their final track number (each file once: a track whose only
    picture is its plate read's shares that file)."""

    def __init__(self, store: SnapshotStore, number: int) -> None:
        self.store, self.number = store, number
        self._done: dict[str, Snapshot] = {}

    def __call__(self, snap: Snapshot | None) -> Snapshot | None:
        if snap is None:
            return None
        if snap.path not in self._done:
            self._done[snap.path] = self.store.retag(snap, self.number)
        return self._done[snap.path]


def _plate_picture(reads: Sequence[PlateRead]) -> Snapshot | None:
    """The snapshot of a part's most confident plate read (for a part no vehicle crop shows)."""
    shown = [r for r in reads if r.snapshot is not None]
    best = max(shown, key=lambda r: r.plate.confidence, default=None)
    return None if best is None else best.snapshot


def _best_faces(store: SnapshotStore, seen: list[FaceSighting]) -> list[FaceSighting]:
    """The best few face sightings of a track (by size x quality); the others' files dropped."""
    ranked = sorted(seen, key=lambda s: -(s.face.box[2] - s.face.box[0]) * s.face.quality)
    for extra in ranked[MAX_FACES_PER_TRACK:]:
        if extra.snapshot is not None:
            store.drop(extra.snapshot)
    return ranked[:MAX_FACES_PER_TRACK]


def _drop_all(store: SnapshotStore, found: Findings) -> None:
    snaps = [found.snapshot] + [r.snapshot for r in found.plate_reads] + [s.snapshot for s in found.faces]
    for snap in snaps:
        if snap is not None:
            store.drop(snap)
