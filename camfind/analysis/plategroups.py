"""One plate per sighting: a track whose reads settle on two plates is two vehicles.

A tracker box handed from one parked bike to the next (a phone walking past a row of them), or
one box over two bikes side by side, collects reads of several plates. Valid reads are grouped
by plate (the same text, or one OCR confusion or edit apart: misreads of one plate);
:func:`plate_parts` cuts the track's frames where the plate changes, so each part is the
sighting of one vehicle with its own reads. Where the plates' reads interleave in time (two
vehicles in one box), no cut separates them: each plate becomes a part over the whole span.

Example:
    >>> a = [_read(f, "59K134074") for f in (10, 14)] + [_read(30, "59GA18593")]
    >>> [(p.first_frame, p.last_frame, p.plate) for p in plate_parts(a, 0, 40)]
    [(0, 22, '59K134074'), (23, 40, '59GA18593')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rapidfuzz.distance import Levenshtein

from camfind.recognition.vnplate import CONFUSABLE, vehicle_kind, vote
from camfind.types import Box, Clip, Detection, PlateRead, PlateText, Track

#: A plate group needs this many reads, or one read at least this confident, to count as a
#: vehicle of its own (a lone unsure read is more likely a misread than another vehicle).
MIN_GROUP_READS = 2
SURE_READ = 0.75
_FOLD = str.maketrans({ch: group[0] for ch, group in CONFUSABLE.items()})


@dataclass(frozen=True)
class PlatePart:
    """Frames ``first_frame..last_frame`` of a track belong to the vehicle with ``plate`` (the
    normalised text of its reads; None for a track with no valid read)."""

    first_frame: int
    last_frame: int
    plate: str | None
    reads: tuple[PlateRead, ...] = ()


def same_plate(a: str, b: str) -> bool:
    """Two normalised readings of one plate: equal once look-alikes are folded, or one edit apart."""
    if a == b:
        return True
    fa, fb = a.translate(_FOLD), b.translate(_FOLD)
    return fa == fb or Levenshtein.distance(fa, fb) <= 1


def group_reads(reads: Sequence[PlateRead]) -> list[list[PlateRead]]:
    """Valid reads grouped by plate, strongest group first (by summed confidence)."""
    ranked = sorted((r for r in reads if r.plate.valid and r.plate.norm), key=lambda r: -r.plate.confidence)
    groups: list[list[PlateRead]] = []
    for read in ranked:
        home = next((g for g in groups if same_plate(g[0].plate.norm, read.plate.norm)), None)
        if home is None:
            groups.append([read])
        else:
            home.append(read)
    return sorted(groups, key=lambda g: -sum(r.plate.confidence for r in g))


def _counts(group: Sequence[PlateRead]) -> bool:
    return len(group) >= MIN_GROUP_READS or max(r.plate.confidence for r in group) >= SURE_READ


def plate_parts(reads: Sequence[PlateRead], first_frame: int, last_frame: int) -> list[PlatePart]:
    """Cut a track (frames ``first_frame..last_frame``) into one part per plate its reads show.

    Groups too weak to be a vehicle of their own (:data:`MIN_GROUP_READS`, :data:`SURE_READ`)
    stay with the track as raw reads; invalid reads go with the part whose frames hold them.
    """
    groups = group_reads(reads)
    strong = [g for g in groups if _counts(g)] or groups[:1]
    if len(strong) <= 1:
        return [PlatePart(first_frame, last_frame, strong[0][0].plate.norm if strong else None, tuple(reads))]
    spans = sorted(((min(r.frame for r in g), max(r.frame for r in g), g) for g in strong), key=lambda s: s[0])
    if any(spans[k][1] >= spans[k + 1][0] for k in range(len(spans) - 1)):
        return [PlatePart(first_frame, last_frame, g[0].plate.norm, tuple(g)) for g in strong]
    cuts = [(spans[k][1] + spans[k + 1][0]) // 2 for k in range(len(spans) - 1)]
    bounds = [first_frame, *(c + 1 for c in cuts), last_frame + 1]
    parts: list[PlatePart] = []
    for k, (_lo, _hi, group) in enumerate(spans):
        lo, hi = bounds[k], bounds[k + 1] - 1
        held = tuple(r for r in reads if lo <= r.frame <= hi)
        parts.append(PlatePart(lo, hi, group[0].plate.norm, held))
    return parts


#: Seconds between plate sweeps of whole frames; reads of one plate at most this far apart in
#: time are one plate-only sighting.
SWEEP_S = 2.0
SAME_SIGHTING_S = 5.0
#: Moving blobs a plate-carrying track covers this much are that vehicle's (its crops are read).
COVERED = 0.5
PLATE_CLASSES = frozenset({"car", "motorcycle", "bus", "truck", "bicycle"})


@dataclass
class PlateSweep:
    """When and where whole frames are searched for plates no vehicle track will read.

    The first analysed frame after ``first_s`` is searched whole (parked vehicles the detector
    missed, a plate filling the picture); later ones, at most every :data:`SWEEP_S`, only in the
    moving blobs that no plate-carrying track covers. Tracked vehicles are read from their own
    best crops (:mod:`camfind.analysis.enrich`).
    """

    first_s: float = 0.5
    every_s: float = SWEEP_S
    last: float | None = None
    _done_first: bool = field(default=False, repr=False)

    def regions(
        self, t: float, blobs: Sequence[Box], tracked: Sequence[Detection], width: int, height: int
    ) -> list[Box] | None:
        """The regions to search on the frame at ``t`` (the whole frame as one), or None: none now."""
        if not self._done_first:
            if t < self.first_s:
                return None
            self._done_first, self.last = True, t
            return [(0.0, 0.0, float(width), float(height))]
        if self.last is not None and t - self.last < self.every_s:
            return None
        carriers = [d.box for d in tracked if d.cls in PLATE_CLASSES]
        free = [b for b in blobs if _covered_share(b, carriers) < COVERED]
        if not free:
            return None
        self.last = t
        return free


def _covered_share(box: Box, others: Sequence[Box]) -> float:
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-6)
    best = 0.0
    for o in others:
        w = min(box[2], o[2]) - max(box[0], o[0])
        h = min(box[3], o[3]) - max(box[1], o[1])
        if w > 0 and h > 0:
            best = max(best, w * h / area)
    return best


def plate_only_tracks(clip: Clip, loose: Sequence[PlateRead]) -> list[tuple[Track, list[PlateRead]]]:
    """Sightings of plates read where no vehicle was tracked: valid reads of one plate, at most
    :data:`SAME_SIGHTING_S` apart, are one sighting. Its class is what the plate's shape says
    (a motorbike's two-row plate, a car's one-row plate), else ``unknown``; its picture is the
    most confident read's plate snapshot. Invalid loose reads are not sightings (dropped)."""
    out: list[tuple[Track, list[PlateRead]]] = []
    for group in group_reads(loose):
        group.sort(key=lambda r: r.time)
        runs: list[list[PlateRead]] = [[group[0]]]
        for r in group[1:]:
            if (r.time - runs[-1][-1].time).total_seconds() <= SAME_SIGHTING_S:
                runs[-1].append(r)
            else:
                runs.append([r])
        for run in runs:
            plate = vote([r.plate for r in run])
            if plate is None or not plate.valid:
                continue
            best = max(run, key=lambda r: r.plate.confidence)
            first, last = run[0], run[-1]
            track = Track(
                clip_id=clip.id or 0, camera_id=clip.camera_id, track_no=0, cls=vehicle_kind(plate) or "unknown",
                first_time=first.time, last_time=last.time, first_frame=first.frame, last_frame=last.frame,
                n_frames=len({r.frame for r in run}), confidence=round(plate.confidence, 4), plate=plate,
                best_frame=best.frame, snapshot=best.snapshot,
            )
            out.append((track, run))
    return out


def _read(frame: int, norm: str, confidence: float = 0.9) -> PlateRead:
    """A valid read for examples and tests."""
    text = PlateText(norm, confidence, "two-row", True, None, norm)
    return PlateRead(1, "CAM", datetime(2024, 1, 1, tzinfo=UTC), frame, text)
