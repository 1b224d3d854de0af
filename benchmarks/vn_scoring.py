"""Scoring rules of the real Vietnamese footage benchmark (``benchmarks/realdata_vn.py``).

Pure functions over labels.json values and camfind's JSON output, so that each rule is tested on
hand-made inputs (tests/benchmarks/test_realdata_vn_scoring.py).

Plates
    A label plate is *legible* when it is a full text: not null, not ``partial: ...``; notes in
    parentheses (``66-VA 158.95 (faded)``) are dropped. Plates compare on letters and digits only,
    upper case (``51F-123.45`` == ``51f12345``). A read *surfaces* a legible plate when it is equal;
    a read that equals no label plate but lies within edit distance 2 of one is a *misread* of the
    nearest; a read that matches a ``partial:`` label (``?`` = any one character, same length) is
    neither right nor false; any other read is a *false plate*.

Colour
    The label names the vehicle's colour before any ``(...)`` note (rider's clothes) and before the
    first comma (``white cab, blue tarpaulin``: the cab is the body). Parts joined by ``/`` or ``-``
    are each accepted (``black/red`` is a two-tone bike: black or red; ``blue-grey``: blue or
    silver/grey). Words map to camfind's stored names (grey, gray, silver -> ``silver/grey``; cream,
    ivory -> white; beige, tan -> brown; gold -> yellow or brown; navy, light-blue -> blue; teal ->
    green or blue; maroon -> red). ``dark X`` also accepts black (a dark blue bike reads black on
    most cameras); a bare ``dark`` names no hue and accepts black or silver/grey (dark grey). A label
    with no colour word (``various``, ``unknown``) is not scored.

Direction
    An image-plane label (before any ``(...)`` or ``,``: ``up, then stationary`` is ``up``) maps to
    a compass bearing with the camera heading at 0: up = N (0), right = E (90), down = S (180),
    left = W (270), ``down-left`` = SW (225). A labelled moving object is matched when a sighting of
    its class, on its camera, overlapping its time window (+-1 s), has a bearing within 45 degrees
    (the tolerance ``search --direction`` uses); each sighting serves one label (maximum bipartite
    matching). ``stationary``, ``unknown`` and ``various`` are not scored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import Levenshtein

MISREAD_EDITS = 2
DIRECTION_TOLERANCE_DEG = 45.0
TIME_TOLERANCE_S = 1.0
VEHICLES = frozenset({"car", "motorcycle", "bus", "truck", "bicycle"})


# ---------------------------------------------------------------- plates

def norm_plate(text: str | None) -> str:
    """Letters and digits only, upper case; a trailing ``(note)`` is dropped."""
    if not text:
        return ""
    return re.sub(r"[^0-9A-Za-z]", "", re.sub(r"\(.*?\)", "", text)).upper()


def legible_plate(label: str | None) -> str | None:
    """The normalised plate of a fully legible label, else None (null or ``partial:``)."""
    if not label or label.strip().lower().startswith("partial:"):
        return None
    return norm_plate(label) or None


def partial_pattern(label: str | None) -> re.Pattern[str] | None:
    """A regex for a ``partial:`` label with ``?`` per unreadable character, else None.

    Labels that only say why nothing is legible (``partial: cut by frame edge``) give None.
    """
    if not label or not label.strip().lower().startswith("partial:"):
        return None
    body = re.sub(r"\(.*?\)", "", label.split(":", 1)[1])
    chars = re.sub(r"[^0-9A-Za-z?]", "", body).upper()
    if len(chars) < 6 or not re.search(r"[0-9]", chars):
        return None
    return re.compile("".join("." if c == "?" else re.escape(c) for c in chars))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions each cost 1)."""
    return int(Levenshtein.distance(a, b))


@dataclass
class PlateScore:
    """Legible label plates against the plates camfind reported for one item."""

    legible: list[str]
    surfaced: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    misread: list[tuple[str, str]] = field(default_factory=list)  # (label, read)
    partial_hits: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "legible": len(self.legible), "surfaced": len(self.surfaced), "missed": self.missed,
            "misread": [list(p) for p in self.misread], "partial_hits": self.partial_hits,
            "false": self.false, "surfaced_plates": self.surfaced,
        }


def score_plates(labels: Iterable[str | None], reads: Iterable[str | None]) -> PlateScore:
    """Score the distinct plates read (any layout, valid or not) against the labels of one item."""
    labels = list(labels)
    legible = sorted({p for p in (legible_plate(x) for x in labels) if p})
    partials = [p for p in (partial_pattern(x) for x in labels) if p is not None]
    seen = sorted({norm_plate(r) for r in reads if norm_plate(r)})
    score = PlateScore(legible=legible)
    score.surfaced = [p for p in legible if p in seen]
    score.missed = [p for p in legible if p not in seen]
    for read in seen:
        if read in legible:
            continue
        near = min(legible, key=lambda p: (edit_distance(p, read), p), default=None)
        if near is not None and edit_distance(near, read) <= MISREAD_EDITS:
            score.misread.append((near, read))
        elif any(p.fullmatch(read) for p in partials):
            score.partial_hits.append(read)
        else:
            score.false.append(read)
    return score


# ---------------------------------------------------------------- colour

_COLOUR_WORDS: dict[str, frozenset[str]] = {
    "white": frozenset({"white"}), "cream": frozenset({"white"}), "ivory": frozenset({"white"}),
    "silver": frozenset({"silver/grey"}), "grey": frozenset({"silver/grey"}), "gray": frozenset({"silver/grey"}),
    "black": frozenset({"black"}),
    "red": frozenset({"red"}), "maroon": frozenset({"red"}),
    "orange": frozenset({"orange"}), "yellow": frozenset({"yellow"}), "gold": frozenset({"yellow", "brown"}),
    "green": frozenset({"green"}), "teal": frozenset({"green", "blue"}),
    "blue": frozenset({"blue"}), "navy": frozenset({"blue"}),
    "purple": frozenset({"purple"}), "violet": frozenset({"purple"}), "pink": frozenset({"pink"}),
    "brown": frozenset({"brown"}), "beige": frozenset({"brown"}), "tan": frozenset({"brown"}),
}


def colour_accepts(label: str | None) -> frozenset[str] | None:
    """The stored colour names a label colour accepts (module docstring), or None if unscorable."""
    if not label:
        return None
    body = re.split(r"[(,]", label.lower(), maxsplit=1)[0]
    words = re.findall(r"[a-z]+", body)
    out: set[str] = set()
    for w in words:
        out |= _COLOUR_WORDS.get(w, frozenset())
    if "dark" in words:
        out |= {"black"} if out else {"black", "silver/grey"}
    return frozenset(out) or None


def colour_ok(label: str | None, got: str | None) -> bool | None:
    """Whether a stored colour fits the label; None when the label is not scored."""
    accepts = colour_accepts(label)
    if accepts is None:
        return None
    return got in accepts


# ---------------------------------------------------------------- direction

_IMAGE_VECTORS = {"up": (0.0, -1.0), "down": (0.0, 1.0), "left": (-1.0, 0.0), "right": (1.0, 0.0)}


def label_bearing(label: str | None, heading_deg: float = 0.0) -> float | None:
    """Compass bearing of an image-plane direction label, or None (stationary, unknown...)."""
    if not label:
        return None
    head = re.split(r"[(,]", label.lower(), maxsplit=1)[0]
    words = [w for w in re.findall(r"[a-z]+", head) if w in _IMAGE_VECTORS]
    if not words or head.strip().startswith("stationary"):
        return None
    dx = sum(_IMAGE_VECTORS[w][0] for w in words)
    dy = sum(_IMAGE_VECTORS[w][1] for w in words)
    if dx == 0 and dy == 0:
        return None
    return (heading_deg + math.degrees(math.atan2(dx, -dy))) % 360.0


def bearing_diff(a: float, b: float) -> float:
    """Smallest angle between two bearings, degrees."""
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


@dataclass(frozen=True)
class Window:
    """A labelled moving object (or a sighting) on one camera: class, time span and bearing."""

    cls: str
    t0: float
    t1: float
    bearing: float | None


def fits(label: Window, sighting: Window) -> bool:
    """A sighting of the label's class, overlapping its time window, moving its way."""
    if sighting.cls != label.cls or label.bearing is None or sighting.bearing is None:
        return False
    if sighting.t1 < label.t0 - TIME_TOLERANCE_S or sighting.t0 > label.t1 + TIME_TOLERANCE_S:
        return False
    return bearing_diff(label.bearing, sighting.bearing) <= DIRECTION_TOLERANCE_DEG


def match_count(labels: Sequence[Window], sightings: Sequence[Window]) -> int:
    """Labels matched one-to-one to fitting sightings (maximum bipartite matching, Kuhn)."""
    options = [[j for j, s in enumerate(sightings) if fits(lab, s)] for lab in labels]
    owner: dict[int, int] = {}

    def take(i: int, seen: set[int]) -> bool:
        for j in options[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or take(owner[j], seen):
                owner[j] = i
                return True
        return False

    return sum(take(i, set()) for i in range(len(labels)))
