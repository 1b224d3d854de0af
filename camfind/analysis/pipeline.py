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
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from camfind.analysis.boxes import iou
from camfind.analysis.color import decide
from camfind.analysis.detect.base import detect_in_regions, detect_regions, merge_detections
from camfind.analysis.direction import ToWorld, image_motion, track_motion
from camfind.analysis.enrich import Enricher, Findings, plate_holder
from camfind.analysis.frames import Frame, iter_frames
from camfind.analysis.models import Models
from camfind.analysis.motion import MotionGate, MotionResult, ZoomMemory, unknown_detections, zoom_regions
from camfind.analysis.overlay import (
    LEARN_SIDE,
    OverlayMask,
    OverlayWatch,
)
from camfind.analysis.plategroups import (
    SAME_SIGHTING_S,
    PlatePart,
    PlateSweep,
    plate_only_tracks,
    plate_parts,
    same_plate,
)
from camfind.analysis.riders import SecondLook, implausible_person, merge_riders, track_class
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.snapshots import SnapshotStore
from camfind.analysis.stages import Behind, Stopped, give_back_free_memory, prefetch, streaming
from camfind.analysis.trackbook import Fragment, TrackBook
from camfind.analysis.tracking import Tracker, link_fragments
from camfind.masks import MASK_COLUMN, parse_mask
from camfind.recognition.vnplate import vehicle_kind, vote
from camfind.types import (
    AnalysisResult,
    Box,
    Camera,
    Clip,
    Detection,
    FaceSighting,
    PlateRead,
    PlateText,
    Snapshot,
    Track,
)

log = logging.getLogger(__name__)

MOTION_HOLD_S = 1.0  # keep detecting this long after the last motion
IDLE_DETECT_S = 5.0  # detect at least this often even when nothing moves (standing objects)
MAX_FACES_PER_TRACK = 5
MIN_UNKNOWN_FRAMES = 3
PENDING = 8  # fragments of one clip waiting for enrichment at most (the streaming thread waits beyond)

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
    loose: list[PlateRead] = field(default_factory=list)  # plates read where no track was


def analyze_clip(
    clip: Clip,
    camera: Camera,
    *,
    models: Models,
    settings: AnalysisSettings,
    store: SnapshotStore,
    to_world: ToWorld | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> tuple[AnalysisResult, ClipStats]:
    """Analyse one registered clip (read-only) into tracks, detections, plates, faces, snapshots.

    Decoding, detection and tracking hold the process's streaming turn
    (:func:`~camfind.analysis.stages.streaming`): a clip analysed in another thread meanwhile
    waits for it, and enriches its last fragments in the meantime.

    Raises:
        NotFoundError, ClipError: the clip file is missing or cannot be decoded.
        Stopped: ``stop`` was set (checked on every analysed frame and enrichment job).
    """
    started = time.perf_counter()
    stats = ClipStats()
    overlays = clip_overlays(clip, camera, models)
    enrich = Enricher(clip, store, plates=models.plates if settings.plates else None,
                      faces=models.faces if settings.faces else None, overlays=overlays)
    stream = _stream(clip, models, settings, enrich, stats, progress, overlays, stop)
    result = _assemble(clip, camera, stream, store, settings.rate_fps, to_world, overlays.mask)
    stats.tracks = len(result.tracks)
    stats.seconds = time.perf_counter() - started
    stats.video_s = clip.duration_s
    log.info("clip %s: %d frames (%d detected), %d fragments -> %d tracks in %.1f s",
             clip.id, stats.frames, stats.detected_frames, stats.fragments, stats.tracks, stats.seconds)
    return result, stats


def clip_overlays(clip: Clip, camera: Camera, models: Models) -> OverlayWatch:
    """The clip's overlay watch: the camera's declared ``mask``, and the text burned in at the same
    place on frames seconds apart (learned with the plate reader's text detector, when loaded).

    Raises:
        InputError: the camera's ``mask`` is malformed.
    """
    declared = camera.extra.get(MASK_COLUMN, "")
    mask = OverlayMask(parse_mask(declared, clip.width, clip.height)) if declared else OverlayMask()
    detect = getattr(getattr(models.plates, "ocr", None), "detect", None)
    text = None if detect is None else (lambda img: list(detect(img, max_side=LEARN_SIDE)))
    return OverlayWatch(mask, text, clip.duration_s)


def _stream(
    clip: Clip, models: Models, settings: AnalysisSettings, enrich: Enricher, stats: ClipStats,
    progress: Progress | None, overlays: OverlayWatch | None = None, stop: threading.Event | None = None,
) -> _Stream:
    """Decode (ahead, in a thread) -> gate -> detect -> track, in the streaming turn; closed
    fragments are enriched behind, in the enrichment thread, and awaited after the turn."""
    tracker = Tracker(fps=settings.rate_fps)
    gate = MotionGate() if settings.motion_gate else None
    out = _Stream(defaultdict(list), defaultdict(list), {}, {}, clip.width, clip.height)
    book: TrackBook | None = None
    cadence = _Cadence()
    sweep = PlateSweep()
    look = SecondLook()
    zooms = ZoomMemory()
    frames = iter_frames(clip.path, rate_fps=settings.rate_fps, fps_override=clip.fps or None,
                         start_s=clip.segment_start_s, end_s=clip.segment_end_s)
    with Behind[Findings](max_pending=PENDING, stop=stop) as behind:

        def finish(fragments: Iterable[Fragment]) -> None:
            for frag in fragments:
                stats.fragments += 1
                out.detections[frag.track_no].extend(frag.detections)
                out.seen[frag.track_no] += frag.seen
                cls = tracker.track_class(frag.track_no, frag.detections)
                behind.submit(frag.track_no, _enrich_and_free, enrich, frag, cls)

        with streaming(stop):
            for frame, motion in prefetch(_gated(frames, gate), depth=4):
                if stop is not None and stop.is_set():
                    raise Stopped
                stats.frames += 1
                if book is None:
                    out.height, out.width = frame.image.shape[:2]
                    book = TrackBook(width=out.width, height=out.height)
                t = frame.offset_s
                if overlays is not None:
                    overlays.see(t, frame.image, motion.boxes if motion is not None else [])
                if cadence.wants(t, motion):
                    stats.detected_frames += 1
                    mask = overlays.mask if overlays is not None else OverlayMask()
                    blobs = mask.keep_boxes(motion.boxes) if motion is not None else []
                    tracked = tracker.update(frame, mask.keep(_detect(models, frame, blobs, look, zooms)))
                    book.add(frame, tracked)
                    cadence.ran(t, [d.box for d in tracked])
                    regions = sweep.regions(t, blobs, tracked, out.width, out.height) if settings.plates else None
                    if regions is not None:
                        behind.submit(0, enrich.sweep, frame, regions, tracked)
                else:
                    cadence.skipped()
                finish(book.close_stale(t))
                give_back_free_memory()
                if progress is not None and clip.duration_s > 0:
                    progress(min(1.0, t / clip.duration_s))
            if book is not None:
                finish(book.close_all())
        for no, found_ in behind.results():
            if no == 0:  # a frame's sweep: each read to the fragment holding it, else loose
                for r in found_.plate_reads:
                    held = r.track_id is not None and r.track_id in out.detections
                    if held:
                        out.findings[r.track_id or 0].append(Findings(r.track_id or 0, plate_reads=[r]))
                    else:
                        out.loose.append(replace(r, track_id=None))
            else:
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


def _detect(
    models: Models, frame: Frame, motion_boxes: list[Box], look: SecondLook | None = None,
    zooms: ZoomMemory | None = None,
) -> list[Detection]:
    """Named detections of a frame (zooming in on moving blobs the whole-frame pass did not
    explain: small far objects, not again at once where zooming just found nothing; and under
    lone people, where a motorbike may be), plus the moving blobs none of them explains as
    ``unknown``."""
    h, w = frame.image.shape[:2]
    named = [d for d in models.detector.detect(frame.image) if not implausible_person(d, w)]
    if motion_boxes:
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
    if look is not None:
        named = look(frame.offset_s, named, lambda rs: detect_in_regions(models.detector, frame.image, rs), w, h)
    found = named + unknown_detections(motion_boxes, named)
    return [replace(d, frame=frame.index, offset_s=frame.offset_s) for d in found]


def _assemble(
    clip: Clip, camera: Camera, stream: _Stream, store: SnapshotStore, fps: float, to_world: ToWorld | None,
    mask: OverlayMask = OverlayMask(),
) -> AnalysisResult:
    """Link fragments into tracks (a plate read by overlapping fragments on one frame kept by the
    tightest box, :func:`one_holder`), cut them where their plate changes, number them in time
    order, and summarise each. Plate reads no track's box held join the track that read the same
    plate moments away (:func:`_carrier_of`), else make plate-only sightings."""
    one_holder(stream, store)
    canon = link_fragments(stream.detections, fps=fps, appearance=stream.appearance)  # type: ignore[arg-type]
    groups: dict[int, list[int]] = defaultdict(list)
    for no in stream.detections:
        groups[canon.get(no, no)].append(no)
    ordered = sorted(groups.values(), key=lambda ms: min(d.offset_s for m in ms for d in stream.detections[m]))
    tracks: list[Track] = []
    detections: list[Detection] = []
    plates: list[PlateRead] = []
    faces: list[FaceSighting] = []
    claimed, loose = _claim_loose(clip, stream, ordered)
    for k, members in enumerate(ordered):
        for built in _build_tracks(clip, camera, stream, members, store, to_world, mask, claimed.get(k, [])):
            number = len(tracks) + 1
            retag = _Retagger(store, number)
            tracks.append(replace(built.track, track_no=number, snapshot=retag(built.track.snapshot)))
            detections += [replace(d, track_no=number) for d in built.detections]
            plates += [replace(r, track_id=number, snapshot=retag(r.snapshot)) for r in built.reads]
            faces += [replace(f, track_id=number, snapshot=retag(f.snapshot)) for f in built.faces]
    used: set[int] = set()
    for built_track, held in plate_only_tracks(clip, loose):
        used.update(id(r) for r in held)
        at = _carrier_of(tracks, built_track)
        if at is not None:  # the vehicle a track follows, read before or after its boxes: one sighting
            carrier = tracks[at]
            tracks[at] = replace(
                carrier, first_time=min(carrier.first_time, built_track.first_time),
                last_time=max(carrier.last_time, built_track.last_time),
                first_frame=min(carrier.first_frame, built_track.first_frame),
                last_frame=max(carrier.last_frame, built_track.last_frame),
                n_frames=carrier.n_frames + len({r.frame for r in held} - {d.frame for d in detections
                                                                          if d.track_no == carrier.track_no}))
            retag = _Retagger(store, carrier.track_no)
            plates += [replace(r, track_id=carrier.track_no, snapshot=retag(r.snapshot)) for r in held]
            continue
        number = len(tracks) + 1
        retag = _Retagger(store, number)
        tracks.append(replace(built_track, track_no=number, snapshot=retag(built_track.snapshot)))
        detections += [replace(d, track_no=number) for d in _plate_boxes(clip, held, built_track.cls)]
        plates += [replace(r, track_id=number, snapshot=retag(r.snapshot)) for r in held]
    for r in loose:
        if id(r) not in used and r.snapshot is not None:
            store.drop(r.snapshot)
    snaps = [t.snapshot for t in tracks if t.snapshot] + [r.snapshot for r in plates if r.snapshot]
    snaps += [f.snapshot for f in faces if f.snapshot]
    return AnalysisResult(tracks, detections, plates, faces, snaps)


#: Plate boxes of one frame overlapping this much are one plate.
SAME_PLATE_IOU = 0.5


def one_holder(stream: _Stream, store: SnapshotStore | None = None) -> None:
    """A plate read on one frame by several fragments whose boxes overlap (a parked bike, and a
    box spanning it and its neighbour) stays only with the fragment whose box holds it
    (:func:`~camfind.analysis.enrich.plate_holder`: the smallest of that frame's boxes containing
    the plate's centre; the lowest-numbered fragment where none does); the others' copies of the
    read are dropped with their snapshots, so one plate is one sighting."""
    by_frame: dict[int, list[tuple[int, Findings, PlateRead]]] = defaultdict(list)
    for no, founds in stream.findings.items():
        for f in founds:
            for r in f.plate_reads:
                if r.plate.box is not None:
                    by_frame[r.frame].append((no, f, r))
    boxes = {(no, d.frame): replace(d, track_no=no) for no, dets in stream.detections.items() for d in dets}
    dropped: list[tuple[Findings, PlateRead]] = []
    for frame, reads in by_frame.items():
        for no, f, r in reads:
            plate = r.plate.box
            assert plate is not None
            readers = sorted({no, *(n for n, _, q in reads if n != no and q.plate.box is not None
                                    and iou(plate, q.plate.box) >= SAME_PLATE_IOU)})
            if len(readers) < 2:
                continue
            holder = plate_holder(plate, [boxes[n, frame] for n in readers if (n, frame) in boxes])
            if (holder.track_no if holder is not None else readers[0]) != no:
                dropped.append((f, r))
    for f, r in dropped:
        f.plate_reads = [x for x in f.plate_reads if x is not r]
        if store is not None and r.snapshot is not None:
            store.drop(r.snapshot)


def _carrier_of(tracks: Sequence[Track], sighting: Track, within_s: float = SAME_SIGHTING_S) -> int | None:
    """The index of the track that carries a plate-only sighting's plate within ``within_s`` of
    it (the nearest in time), or None. A plate read where no box of its vehicle was (the frame
    sweep saw it before the tracker did, or after, or the camera moved) belongs to the track that
    read the same plate moments away: a plate is one vehicle's."""
    assert sighting.plate is not None
    best: tuple[float, int] | None = None
    for k, t in enumerate(tracks):
        if t.plate is None or not t.plate.valid or t.plate.norm != sighting.plate.norm:
            continue
        gap = max(0.0, (t.first_time - sighting.last_time).total_seconds(),
                  (sighting.first_time - t.last_time).total_seconds())
        if gap <= within_s and (best is None or gap < best[0]):
            best = (gap, k)
    return None if best is None else best[1]


def _claim_loose(
    clip: Clip, stream: _Stream, groups: list[list[int]], within_s: float = 1.0
) -> tuple[dict[int, list[PlateRead]], list[PlateRead]]:
    """Loose plate reads (a sweep found them where no track was yet, or no longer) given to the
    linked object whose box, within ``within_s`` of the read, holds the plate's centre; the rest
    stay loose for plate-only sightings."""
    claimed: dict[int, list[PlateRead]] = defaultdict(list)
    loose: list[PlateRead] = []
    boxes = [[d for m in members for d in stream.detections[m]] for members in groups]
    for r in stream.loose:
        box, offset = r.plate.box, (r.time - clip.start).total_seconds()
        best: tuple[float, int] | None = None
        if box is not None:
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            for k, dets in enumerate(boxes):
                for d in dets:
                    dt = abs(d.offset_s - offset)
                    if dt <= within_s and d.box[0] <= cx <= d.box[2] and d.box[1] <= cy <= d.box[3]:
                        best = min(best or (dt, k), (dt, k))
        if best is None:
            loose.append(r)
        else:
            claimed[best[1]].append(r)
    return claimed, loose


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


def _plate_boxes(clip: Clip, reads: Sequence[PlateRead], cls: str) -> list[Detection]:
    """A plate-only sighting's boxes: where its plate was read."""
    out: dict[int, Detection] = {}
    for r in reads:
        if r.plate.box is not None and r.frame not in out:
            offset = (r.time - clip.start).total_seconds()
            out[r.frame] = Detection(r.frame, offset, r.plate.box, cls, round(r.plate.confidence, 4))
    return [out[f] for f in sorted(out)]


def plate_fits(plate: PlateText, cls: str) -> bool:
    """Whether a plate's shape can be on a vehicle of class ``cls``: a car's one-row plate read in
    a motorbike's crop is the car's beside it, a motorbike's plate in a car's crop the bike's."""
    kind = vehicle_kind(plate)
    if kind == "car":
        return cls not in ("motorcycle", "bicycle")
    if kind == "motorcycle":
        return cls not in ("car", "bus", "truck")
    return True


def _overlay(mask: OverlayMask, dets: list[Detection]) -> bool:
    """A track the overlay explains: most of its boxes lie inside the mask."""
    return bool(mask) and sum(mask.covers(d.box) for d in dets) > 0.5 * len(dets)


def _keep(cls: str, dets: list[Detection]) -> bool:
    """Unknown movers must last a few frames and actually travel (not flicker, not leaves)."""
    if cls != "unknown":
        return len(dets) >= 2
    return len(dets) >= MIN_UNKNOWN_FRAMES and image_motion([d.box for d in dets], 0.0) is not None


def _build_tracks(
    clip: Clip, camera: Camera, stream: _Stream, members: list[int], store: SnapshotStore,
    to_world: ToWorld | None, mask: OverlayMask = OverlayMask(), extra: Sequence[PlateRead] = (),
) -> list[_Built]:
    """The tracks of one linked object: one, or one per plate where its reads show several."""
    votes: dict[str, float] = defaultdict(float)
    for m in members:
        for name, weight in stream.votes.get(m, {}).items():
            votes[name] += weight
    found = [f for m in members for f in stream.findings[m]]
    dets = _merged_detections(stream, members)
    cls = track_class(votes, dets)  # a blob the detector named once is named; riders are bikes
    if not _keep(cls, dets) or _overlay(mask, dets):
        for f in found:
            _drop_all(store, f)
        for r in extra:
            if r.snapshot is not None:
                store.drop(r.snapshot)
        return []
    reads = sorted([*(r for f in found for r in f.plate_reads), *extra], key=lambda r: r.frame)
    if cls == "person" and any(vehicle_kind(r.plate) == "motorcycle" for r in reads):
        cls = "motorcycle"  # a motorbike's plate under a person: its rider
    for r in [r for r in reads if (r.plate.box is not None and mask.covers(r.plate.box))
              or not plate_fits(r.plate, cls)]:
        reads.remove(r)
        if r.snapshot is not None:
            store.drop(r.snapshot)
    faces = [s for f in found for s in f.faces]
    parts = plate_parts(reads, dets[0].frame, dets[-1].frame)
    colour: Counter[str] = Counter()  # the linked object's: votes cut by part named fewer bikes right
    for f in found:
        colour.update(f.color_votes)
    pictures = [(f.best_frame if f.best_frame is not None else f.snapshot.frame, f.best_quality, f.snapshot)
                for f in sorted(found, key=lambda f: -f.best_quality) if f.snapshot is not None]
    pictures += [(p.frame, 0.0, p) for f in found for p in f.pictures]
    used: set[str] = set()
    placed: set[int] = set()  # faces given to a part (parts over one span share no face)
    built: list[_Built] = []
    for part in parts:
        held = [d for d in dets if part.first_frame <= d.frame <= part.last_frame]
        if not held:
            continue
        picture = _part_picture(part, pictures, used, clip.fps or 0.0)
        if picture is not None:
            used.add(picture.path)
        else:
            picture = _plate_picture(part.reads)
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
            best_frame=picture.frame if picture is not None else None,
            snapshot=picture,
        )
        built.append(_Built(track, held, part_reads, part_faces))
    for _frame, _quality, snap in pictures:
        if snap.path not in used:
            store.drop(snap)
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


#: A plate sighting's picture is taken at most this long (s) from one of its plate's reads:
#: further away, the box may have slid onto the next parked bike (a handheld walk past a row of
#: them), and the plate's own crop is shown instead.
PICTURE_NEAR_READ_S = 1.0


def _part_picture(part: PlatePart, pictures: Sequence[tuple[int, float, Snapshot]], used: set[str],
                  fps: float) -> Snapshot | None:
    """The picture of one part of a linked object, or None (then the plate's crop is shown).

    ``pictures`` are (frame, quality, snapshot) of its fragments. Never one outside the part's
    frames (there another vehicle may hold the box: the next part's). A part with a plate shows
    the vehicle on the frame of its surest read (its plate was read from that crop), else the
    sharpest picture within :data:`PICTURE_NEAR_READ_S` of a read; a part without, its sharpest.
    """
    inside = [(frame, q, snap) for frame, q, snap in pictures
              if snap.path not in used and part.first_frame <= frame <= part.last_frame]
    if part.plate is None:
        best = max(inside, key=lambda p: p[1], default=None)
        return None if best is None else best[2]
    sure: dict[int, float] = {}
    for r in part.reads:
        if r.plate.valid and same_plate(r.plate.norm, part.plate):
            sure[r.frame] = max(sure.get(r.frame, 0.0), r.plate.confidence)
    at_read = sorted((p for p in inside if p[0] in sure), key=lambda p: (-sure[p[0]], -p[1]))
    if at_read:
        return at_read[0][2]
    near = int(PICTURE_NEAR_READ_S * (fps if fps > 0 else 25.0))
    close = [p for p in inside if any(abs(p[0] - frame) <= near for frame in sure)]
    best = max(close, key=lambda p: p[1], default=None)
    return None if best is None else best[2]


def _plate_picture(reads: Sequence[PlateRead]) -> Snapshot | None:
    """The snapshot of a part's most confident plate read (for a part no vehicle crop shows)."""
    shown = [r for r in reads if r.snapshot is not None]
    best = max(shown, key=lambda r: r.plate.confidence, default=None)
    return None if best is None else best.snapshot


def _best_faces(store: SnapshotStore, seen: list[FaceSighting]) -> list[FaceSighting]:
    """The best few face sightings of a track (encoded first, then by size x quality); the others'
    files dropped."""
    ranked = sorted(seen, key=lambda s: (s.face.encoding is None, -(s.face.box[2] - s.face.box[0]) * s.face.quality))
    for extra in ranked[MAX_FACES_PER_TRACK:]:
        if extra.snapshot is not None:
            store.drop(extra.snapshot)
    return ranked[:MAX_FACES_PER_TRACK]


def _drop_all(store: SnapshotStore, found: Findings) -> None:
    snaps = [found.snapshot, *found.pictures, *(r.snapshot for r in found.plate_reads)]
    snaps += [s.snapshot for s in found.faces]
    for snap in snaps:
        if snap is not None:
            store.drop(snap)
