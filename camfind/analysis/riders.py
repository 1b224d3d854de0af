"""Riders and their two-wheelers: one object, not a pedestrian beside a motorbike.

The detector boxes a motorbike's rider as a ``person`` and, where it sees it, the bike as a
``motorcycle``: two boxes for what a person calls one motorbike. Per frame,
:func:`merge_riders` joins each two-wheeler with the people riding it (their box sits on the
bike's: head above it, centred over it, feet within its lower part) into one two-wheeler box
spanning bike and riders, so the rider's head lies at the top of the object (faces are looked
for there) and the plate within it. People the detector found without their bike are told from
pedestrians over a whole track (:func:`track_class`): a person track that rode a two-wheeler on
some of its frames, or that moves faster than anyone walks or runs, is a motorbike.

Example:
    >>> bike = Detection(0, 0.0, (100.0, 140.0, 160.0, 220.0), "motorcycle", 0.6)
    >>> rider = Detection(0, 0.0, (105.0, 90.0, 155.0, 200.0), "person", 0.9)
    >>> walker = Detection(0, 0.0, (300.0, 90.0, 340.0, 220.0), "person", 0.9)
    >>> [(d.cls, d.box) for d in merge_riders([bike, rider, walker])]
    [('motorcycle', (100.0, 90.0, 160.0, 220.0)), ('person', (300.0, 90.0, 340.0, 220.0))]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from camfind.analysis.boxes import iou
from camfind.types import Box, Detection

TWO_WHEELERS = frozenset({"motorcycle", "bicycle"})
#: Riders one two-wheeler may carry (a driver and a passenger; three happen, rarely).
MAX_RIDERS = 3
#: Share of a person track's class votes that two-wheeler detections must reach for the track to
#: be a two-wheeler: the bike under a rider is found on fewer frames than the rider.
RIDE_SHARE = 0.2
#: Ground speed no pedestrian reaches, in the person's box heights per second (a runner makes
#: about 2; a motorbike in town 3-8).
RIDER_SPEED_HPS = 2.4
#: Track boxes needed before speed says anything.
MIN_SPEED_BOXES = 3


def rides(person: Box, bike: Box) -> bool:
    """Whether ``person``'s box sits on ``bike``'s the way a rider's does.

    Head above the bike's top, the body centred over the bike (horizontally within it, allowing
    a tenth of its width), the feet between a quarter of the way down the bike and a little below
    its bottom, and a body size of one to a few bike heights.
    """
    px1, py1, px2, py2 = person
    bx1, by1, bx2, by2 = bike
    pw, ph, bw, bh = px2 - px1, py2 - py1, bx2 - bx1, by2 - by1
    if min(pw, ph, bw, bh) <= 0:
        return False
    cx = (px1 + px2) / 2
    overlap = min(px2, bx2) - max(px1, bx1)
    return (
        bx1 - 0.1 * bw <= cx <= bx2 + 0.1 * bw
        and overlap >= 0.5 * min(pw, bw)
        and py1 < by1 + 0.25 * bh
        and by1 + 0.25 * bh <= py2 <= by2 + 0.25 * bh
        and 0.5 * bh <= ph <= 4.0 * bh
    )


def merge_riders(dets: Sequence[Detection]) -> list[Detection]:
    """One frame's detections with each two-wheeler and its riders joined into one box.

    A person riding several two-wheelers' boxes (overlapping bikes) rides the one whose top is
    closest under its head. The joined box keeps the two-wheeler's class and score.
    """
    bikes = [i for i, d in enumerate(dets) if d.cls in TWO_WHEELERS]
    if not bikes:
        return list(dets)
    riders: dict[int, list[int]] = {}
    for i, d in enumerate(dets):
        if d.cls != "person":
            continue
        under = [j for j in bikes if rides(d.box, dets[j].box)]
        if under:
            j = min(under, key=lambda k: abs(dets[k].box[1] - (d.box[1] + d.box[3]) / 2))
            riders.setdefault(j, []).append(i)
    taken = {i for group in riders.values() for i in group[:MAX_RIDERS]}
    out: list[Detection] = []
    for i, d in enumerate(dets):
        if i in taken:
            continue
        group = riders.get(i, [])[:MAX_RIDERS]
        if group:
            d = replace(d, box=_union([d.box, *(dets[k].box for k in group)]), riders=len(group))
        out.append(d)
    return out


def track_class(votes: Mapping[str, float], dets: Sequence[Detection] = ()) -> str:
    """A track's class from its detections' score-weighted class votes and its motion.

    The largest vote wins ("unknown" only when nothing else was named), except that a person
    track is a two-wheeler when two-wheeler detections hold at least :data:`RIDE_SHARE` of the
    named votes (its bike was seen under it), or when it moves faster than anyone on foot.
    """
    named = {c: v for c, v in votes.items() if c != "unknown" and v > 0}
    pool = named or {c: v for c, v in votes.items() if v > 0}
    if not pool:
        return "unknown"
    cls = max(sorted(pool), key=lambda c: pool[c])
    if cls != "person":
        return cls
    two = {c: v for c, v in named.items() if c in TWO_WHEELERS}
    if two and sum(two.values()) >= RIDE_SHARE * sum(named.values()):
        return max(sorted(two), key=lambda c: two[c])
    if len(dets) >= MIN_SPEED_BOXES and speed_hps(dets) > RIDER_SPEED_HPS:
        return "motorcycle"
    return cls


def speed_hps(dets: Sequence[Detection]) -> float:
    """Median ground speed of a track in box heights per second (box bottom centre, steps of at
    least half a second so detector jitter does not count)."""
    pts = sorted(dets, key=lambda d: d.offset_s)
    speeds: list[float] = []
    last = pts[0]
    for d in pts[1:]:
        dt = d.offset_s - last.offset_s
        if dt < 0.5:
            continue
        height = max((d.box[3] - d.box[1] + last.box[3] - last.box[1]) / 2, 1.0)
        dx = (d.box[0] + d.box[2] - last.box[0] - last.box[2]) / 2
        dy = d.box[3] - last.box[3]
        speeds.append(math.hypot(dx, dy) / height / dt)
        last = d
    if not speeds:
        return 0.0
    speeds.sort()
    return speeds[len(speeds) // 2]


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


#: Second looks at lone people per frame (each one detector pass on a zoomed crop), and how long
#: what a look found holds for a box in about the same place.
LOOKS_PER_FRAME = 2
LOOK_HOLDS_S = 2.0
MIN_LOOK_H = 32.0  # px: smaller people are too small for the zoomed detector to find a bike under
SAME_PLACE = 0.3  # IoU

Detect = Callable[[Sequence[tuple[int, int, int, int]]], list[Detection]]


@dataclass
class _Look:
    t: float
    person: Box
    bike: Box | None  # the bike found under it, or None: nobody rides here


@dataclass
class SecondLook:
    """Looks again, zoomed in, under people the whole-frame pass found without a two-wheeler.

    At a distance the detector boxes a motorbike's rider and misses the bike (a queue at a red
    light: the riders are people standing still). A crop around the person, seen larger, shows the
    bike. What a look found is remembered for a box in about the same place for
    :data:`LOOK_HOLDS_S` (the bike moved with it), so each rider costs a look every few seconds.
    """

    looks: list[_Look] = field(default_factory=list)

    def __call__(self, t: float, dets: list[Detection], detect: Detect, width: int, height: int) -> list[Detection]:
        self.looks = [k for k in self.looks if t - k.t <= LOOK_HOLDS_S]
        lone = [d for d in dets if d.cls == "person" and d.box[3] - d.box[1] >= MIN_LOOK_H]
        out = [d for d in dets if d not in lone]
        budget = LOOKS_PER_FRAME
        for person in sorted(lone, key=lambda d: -(d.box[3] - d.box[1])):
            known = max(self.looks, key=lambda k: iou(k.person, person.box), default=None)
            if known is None or iou(known.person, person.box) < SAME_PLACE:
                if budget == 0:
                    out.append(person)
                    continue
                budget -= 1
                known = _Look(t, person.box, _bike_under(person, detect(  # one zoomed pass
                    [_look_region(person.box, width, height)])))
                self.looks.append(known)
            if known.bike is None:
                out.append(person)
            else:  # the bike found under this rider, moved as the rider did
                dx, dy = person.box[0] - known.person[0], person.box[1] - known.person[1]
                b = known.bike
                bike = (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)
                out.append(replace(person, cls="motorcycle", box=_union([person.box, bike])))
        return out


def _look_region(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """A square-ish crop around a person and the space under them, where a bike would be."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    side = max(1.3 * h, 2.0 * w)
    cx, top = (x1 + x2) / 2, y1 - 0.1 * h
    return (max(0, int(cx - side / 2)), max(0, int(top)), min(width, int(cx + side / 2)),
            min(height, int(top + side)))


def _bike_under(person: Detection, found: Sequence[Detection]) -> Box | None:
    bikes = [d for d in found if d.cls in TWO_WHEELERS and rides(person.box, d.box)]
    return max(bikes, key=lambda d: d.score).box if bikes else None


def implausible_person(det: Detection, width: int) -> bool:
    """A 'person' box wider than tall spanning a good part of the frame: the detector's guess at
    a crowd or a whole scene, not one person."""
    w, h = det.box[2] - det.box[0], det.box[3] - det.box[1]
    return det.cls == "person" and w > 1.2 * h and w > 0.3 * width
