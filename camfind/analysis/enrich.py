"""The expensive stages, run once per closed track fragment on its best crops only.

Colour (pixel votes on the body), plates (vehicle and ``unknown`` tracks: the reader searches
the vehicle crop, several frames are voted later), faces (people, and the upper part of
motorcycle/bicycle/unknown boxes where a rider's head is), and the snapshots that make each of
these traceable to the clip, frame and time.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2
import numpy as np

from camfind.analysis.boxes import iou
from camfind.analysis.color import box_votes, crop
from camfind.analysis.frames import Frame
from camfind.analysis.overlay import OverlayMask, OverlayWatch
from camfind.analysis.riders import TWO_WHEELERS, speed_hps
from camfind.analysis.snapshots import SnapshotStore
from camfind.analysis.trackbook import Fragment, Sample, similarity
from camfind.types import Box, Clip, Detection, Face, FaceSighting, PlateRead, PlateText, Snapshot

log = logging.getLogger(__name__)

PLATE_CLASSES = frozenset({"car", "motorcycle", "bus", "truck", "unknown"})
FACE_CLASSES = frozenset({"person", "motorcycle", "bicycle", "unknown"})
#: Ground speed (box heights per second) above which a two-wheeler is moving, not parked: well
#: above a still box's jitter, well below a bike in slow traffic.
PARKED_SPEED_HPS = 0.3
#: Seconds a two-wheeler must be seen standing to be taken as parked.
PARKED_MIN_S = 1.0
#: Share of the box height, from the top, where a face can be (a person's head; a rider's).
HEAD_SHARE = {"person": 0.4, "motorcycle": 0.5, "bicycle": 0.5, "unknown": 0.5}
MIN_PLATE_BOX_W = 48.0  # frame pixels: narrower vehicles cannot show a legible plate
MIN_HEAD_W = 20.0  # frame pixels: narrower heads have no usable face
FACE_INPUT_W = 200  # head regions are upscaled to about this width for the face detector


class PlateReaderLike(Protocol):
    def read(self, image_bgr: np.ndarray, *, crop_kind: str = "auto") -> list[PlateText]: ...


class FaceEngineLike(Protocol):
    def faces(self, image_bgr: np.ndarray, *, upscaled: float = 1.0) -> list[Face]: ...


@dataclass
class Findings:
    """What the stages learned about one fragment (small: crops are gone by now)."""

    track_no: int
    color_votes: Counter[str] = field(default_factory=Counter)
    plate_reads: list[PlateRead] = field(default_factory=list)
    faces: list[FaceSighting] = field(default_factory=list)
    snapshot: Snapshot | None = None
    #: the vehicle on the other frames a valid plate was read from its crop (the best sample is
    #: ``snapshot``): each part of a track cut by plate shows the vehicle whose plate it carries
    pictures: list[Snapshot] = field(default_factory=list)
    best_quality: float = 0.0
    best_frame: int | None = None


def is_ridden(fragment: Fragment) -> bool:
    """Whether someone may be on a two-wheeler (its colour is then under the rider, not in the
    panels a parked bike shows): unless it was seen standing for :data:`PARKED_MIN_S` with no
    rider's box joined to it on a kept frame, it is taken as ridden (a moving bike has a rider the
    detector may not have boxed apart)."""
    dets = fragment.detections
    if any(s.ridden for s in fragment.samples) or len(dets) < 2:
        return True
    if dets[-1].offset_s - dets[0].offset_s < PARKED_MIN_S:
        return True
    return speed_hps(dets) > PARKED_SPEED_HPS


class Enricher:
    """Runs colour, plates, faces and snapshots on fragments of one clip."""

    def __init__(
        self,
        clip: Clip,
        store: SnapshotStore,
        *,
        plates: PlateReaderLike | None,
        faces: FaceEngineLike | None,
        plate_frames: int = 3,
        face_frames: int = 3,
        faces_wanted: int = 2,
        overlays: OverlayWatch | None = None,
    ) -> None:
        self.clip = clip
        self.store = store
        self.overlays = overlays
        self._finder: Any = None  # loaded with the first plate search (False: none to be had)
        self._finder_lock = threading.Lock()  # fragments of one clip are enriched in parallel
        self.plates, self.faces = plates, faces
        self.plate_frames, self.face_frames, self.faces_wanted = plate_frames, face_frames, faces_wanted

    def __call__(self, fragment: Fragment, cls: str) -> Findings:
        found = Findings(fragment.track_no)
        samples = sorted(fragment.samples, key=lambda s: -s.quality)
        if not samples:
            return found
        best = samples[0]
        found.best_quality, found.best_frame = best.quality, best.frame
        found.snapshot = self._snap(best, best.image, "track", fragment.track_no, best.box)
        if self.plates is not None and cls in PLATE_CLASSES:
            found.plate_reads = self._plates(samples, fragment.track_no)
            at = {s.frame: s for s in samples}
            for frame in sorted({r.frame for r in found.plate_reads if r.plate.valid} - {best.frame}):
                if frame in at:
                    s = at[frame]
                    found.pictures.append(self._snap(s, s.image, "track", fragment.track_no, s.box))
        ridden = cls not in TWO_WHEELERS or is_ridden(fragment)
        for s in samples:  # colour on the body, white-balanced on the sample, the plates read left out
            plates = [s.to_crop(r.plate.box) for r in found.plate_reads if r.frame == s.frame and r.plate.box]
            votes = box_votes(s.image, s.to_crop(s.box), cls, exclude=plates, ridden=ridden)
            total = sum(votes.values())
            if total:  # a sample weighs by its quality (size, sharpness, not cut by the frame edge)
                weight = s.quality / best.quality if best.quality > 0 else 1.0
                found.color_votes.update({k: weight * v / total for k, v in votes.items()})
        if self.faces is not None and cls in FACE_CLASSES:
            found.faces = self._faces(samples, fragment.track_no, cls)
        return found

    def _snap(self, sample: Sample, image: np.ndarray, kind: str, track_no: int, box: Box) -> Snapshot:
        return self.store.save(image, frame=sample.frame, kind=kind, track_no=track_no,
                               time=self.clip.time_at(sample.offset_s), box=box, provisional=True)

    def _plates(self, samples: Sequence[Sample], track_no: int) -> list[PlateRead]:
        assert self.plates is not None
        order = plate_order([s for s in samples if s.box[2] - s.box[0] >= MIN_PLATE_BOX_W])
        # each view's largest crop is read first (as many views as there are reads)
        views = min(len({s.view for s in order}), self.plate_frames)
        reads: list[PlateRead] = []
        blank: list[Sample] = []  # crops read in vain
        for n, s in enumerate(order[: self.plate_frames]):
            if any(same_picture(s, b) for b in blank):
                continue  # the picture that showed no plate, again (a parked vehicle, a still camera)
            mask = self.overlays.mask if self.overlays is not None else OverlayMask()
            found = [p for p in self._read(s.image) if p.norm
                     and not (p.box is not None and mask.covers(s.to_frame(p.box)))]
            if not found:
                blank.append(s)
                continue
            # every valid plate in the crop (a box over two parked bikes shows both: the track is
            # cut or doubled by plate later), else the best reading as a raw read
            for plate in [p for p in found if p.valid] or found[:1]:
                frame_box = s.to_frame(plate.box) if plate.box is not None else None
                snap = None
                if plate.box is not None and frame_box is not None:
                    snap = self._snap(s, crop(s.image, _pad(plate.box, 0.15)), "plate", track_no, frame_box)
                located = PlateText(plate.text, plate.confidence, plate.layout, plate.valid, frame_box, plate.raw)
                reads.append(PlateRead(self.clip.id or 0, self.clip.camera_id, self.clip.time_at(s.offset_s),
                                       s.frame, located, track_id=track_no, snapshot=snap))
            if n + 1 >= views and _agree(reads) and len({r.plate.norm for r in reads if r.plate.valid}) == 1:
                break  # every view read, two valid reads of one plate and no other: a third would not change the vote
        return reads

    def sweep(self, frame: Frame, regions: Sequence[Box], tracked: Sequence[Detection]) -> Findings:
        """Plates found in a whole frame's ``regions`` (moving parts no vehicle track covers, or
        the frame itself where nothing is tracked): each read is given to the tracked box that
        holds it (``track_id``: the fragment's number), else it stays loose (``track_id`` None)
        for a plate-only sighting. Returned as the findings of fragment 0."""
        found = Findings(0)
        if self.plates is None:
            return found
        mask = self.overlays.mask if self.overlays is not None else OverlayMask()
        for plate in self._read(frame.image, regions=list(regions)):
            if plate.box is None or not plate.norm or mask.covers(plate.box):
                continue
            owner = plate_holder(plate.box, tracked)
            no = owner.track_no if owner is not None else None
            snap = self.store.save(crop(frame.image, _pad(plate.box, 0.15)), frame=frame.index, kind="plate",
                                   track_no=no or 0, time=self.clip.time_at(frame.offset_s), box=plate.box,
                                   provisional=True)
            found.plate_reads.append(PlateRead(self.clip.id or 0, self.clip.camera_id,
                                               self.clip.time_at(frame.offset_s), frame.index, plate,
                                               track_id=no, snapshot=snap))
        return found

    def _read(self, image: np.ndarray, regions: list[Box] | None = None) -> list[PlateText]:
        """The plates in a vehicle crop: found by the plate finder (text lines, paired rows), each
        cut at full resolution and read as a plate; the reader's own scene search without one."""
        assert self.plates is not None
        with self._finder_lock:
            if self._finder is None:
                finder: Any = False  # a reader without a text detector searches by itself
                if getattr(self.plates, "ocr", None) is not None:
                    from camfind.recognition.platefind import load_plate_finder

                    finder = load_plate_finder("text", self.plates)  # type: ignore[arg-type]
                self._finder = finder
        if not self._finder:
            return self.plates.read(image, crop_kind="scene")
        from camfind.recognition.platefind import read_plates_in_frame

        return read_plates_in_frame(image, finder=self._finder, reader=self.plates,  # type: ignore[arg-type]
                                    regions=regions)

    def _faces(self, samples: Sequence[Sample], track_no: int, cls: str) -> list[FaceSighting]:
        assert self.faces is not None
        usable = [s for s in samples if s.box[2] - s.box[0] >= MIN_HEAD_W]
        out: list[FaceSighting] = []
        for s in usable[: self.face_frames]:
            x1, y1, x2, y2 = s.box
            head = s.to_crop((x1, y1, x2, y1 + head_share(cls, s.box) * (y2 - y1)))
            region = crop(s.image, head)
            if region.size == 0:
                continue
            up = min(4.0, max(1.0, FACE_INPUT_W / region.shape[1]))
            big = cv2.resize(region, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC) if up > 1 else region
            faces = self.faces.faces(big, upscaled=up)  # the size gate counts the clip's own pixels
            if not faces:
                continue
            face = max(faces, key=lambda f: (f.encoding is not None, (f.box[2] - f.box[0]) * f.quality))
            ox, oy = max(0, int(head[0])), max(0, int(head[1]))  # where crop() cut the region
            in_crop = (face.box[0] / up + ox, face.box[1] / up + oy, face.box[2] / up + ox, face.box[3] / up + oy)
            frame_box = s.to_frame(in_crop)
            snap = self._snap(s, crop(s.image, _pad(in_crop, 0.3)), "face", track_no, frame_box)
            out.append(FaceSighting(self.clip.id or 0, self.clip.camera_id, self.clip.time_at(s.offset_s),
                                    s.frame, Face(frame_box, face.encoding, face.quality, face.unencoded),
                                    track_id=track_no, snapshot=snap))
            if sum(f.face.encoding is not None for f in out) >= self.faces_wanted:
                break  # encodings are the costly part; two views of a face are enough to match
        return out


def plate_order(samples: Sequence[Sample]) -> list[Sample]:
    """The order a fragment's crops are searched for plates: the largest crop of each view
    first (each view may show another vehicle: see :class:`~camfind.analysis.trackbook.TrackBook`),
    largest views first, then the other crops, largest first."""
    ranked = sorted(samples, key=lambda s: -(s.box[2] - s.box[0]) * (s.box[3] - s.box[1]))
    firsts: dict[int, Sample] = {}
    for s in ranked:
        firsts.setdefault(s.view, s)
    lead = list(firsts.values())
    return lead + [s for s in ranked if all(s is not f for f in lead)]


#: Two crops are the same picture when their boxes and thumbnails (see
#: :func:`~camfind.analysis.trackbook.thumbnail`) agree this closely.
SAME_BOX_IOU = 0.9
SAME_THUMB = 0.97


def same_picture(a: Sample, b: Sample) -> bool:
    """Whether two crops of a fragment show the same picture: the box where it was, its
    content unchanged (a parked vehicle under a still camera; a frame repeated by the encoder)."""
    return a.view == b.view and iou(a.box, b.box) >= SAME_BOX_IOU and similarity(a.thumb, b.thumb) >= SAME_THUMB


def plate_holder(plate: Box, tracked: Sequence[Detection]) -> Detection | None:
    """The tracked box holding a plate's centre (the smallest, of a class that carries plates or
    rides): the vehicle whose plate it is."""
    cx, cy = (plate[0] + plate[2]) / 2, (plate[1] + plate[3]) / 2
    holding = [d for d in tracked if d.track_no is not None and (d.cls in PLATE_CLASSES or d.cls == "person")
               and d.box[0] <= cx <= d.box[2] and d.box[1] <= cy <= d.box[3]]
    return min(holding, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]), default=None)


def _agree(reads: Sequence[PlateRead]) -> bool:
    """Two valid reads of the same plate."""
    valid = [r.plate.norm for r in reads if r.plate.valid]
    return len(valid) >= 2 and len(set(valid)) < len(valid)


def head_share(cls: str, box: Box) -> float:
    """Share of a box's height, from the top, where a face can be.

    A standing person's head and shoulders are the top 40%; a box not much taller than wide
    is a close-up (head and shoulders fill it); a rider's head is in the top half of the box.
    """
    w, h = box[2] - box[0], box[3] - box[1]
    if cls == "person" and h < 1.6 * w:
        return 0.85
    return HEAD_SHARE.get(cls, 0.5)


def _pad(box: Box, share: float) -> Box:
    w, h = box[2] - box[0], box[3] - box[1]
    return (box[0] - share * w, box[1] - share * h, box[2] + share * w, box[3] + share * h)
