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
from dataclasses import dataclass
from datetime import UTC, datetime

from rapidfuzz.distance import Levenshtein

from camfind.recognition.vnplate import CONFUSABLE
from camfind.types import PlateRead, PlateText

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


def _read(frame: int, norm: str, confidence: float = 0.9) -> PlateRead:
    """A valid read for examples and tests."""
    text = PlateText(norm, confidence, "two-row", True, None, norm)
    return PlateRead(1, "CAM", datetime(2024, 1, 1, tzinfo=UTC), frame, text)
