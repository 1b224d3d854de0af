"""What is known about the clock behind a sighting's time: could a clock error explain a hop?

>>> ClockInfo("C", 1, "container", 0.0, observed=False).could_explain(90)
True
>>> ClockInfo("C", 1, "container", 0.0, observed=True).could_explain(90)
False
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from camfind.index.queries import cameras_checked_against_true_time, clip_clocks
from camfind.types import Sighting
from camfind.vocab import TRUSTED_UNCERTAINTY_S

if TYPE_CHECKING:
    from camfind.index import Index

#: DVR clocks drift by a few seconds even when set: a shortfall this small is always explainable.
DRIFT_S = 10.0
#: A trusted (synchronised) clock with no recorded uncertainty is good to about half a second.
#: A hop is explained by the clocks when its shortfall is within this many sigmas of both together.
UNCERTAINTY_SIGMAS = 2.0


@dataclass(frozen=True)
class ClockInfo:
    """The clock of one clip: where its start time came from and the offset applied to it."""

    camera_id: str
    clip_id: int
    time_source: str
    offset_s: float
    observed: bool  # a DVR-vs-true clock reading was recorded for the camera (or its clock is trusted)
    uncertainty_s: float | None = None  # of the camera's offset in use; None: unknown
    source: str = "none"  # where the camera's offset came from: none, file, set-clock, osd, estimate

    def could_explain(self, shortfall_s: float) -> bool:
        """Whether an error in this clock of ``shortfall_s`` seconds is plausible: the clock was
        never checked, the applied offset is at least that large (if it were wrong), or the
        shortfall is within ordinary drift."""
        return shortfall_s <= DRIFT_S or not self.observed or abs(self.offset_s) >= shortfall_s

    def describe(self) -> str:
        applied = f"offset {self.offset_s:+.0f} s applied" if self.offset_s else "no offset applied"
        if self.uncertainty_s is not None:
            applied += f" (+- {self.uncertainty_s:.1f} s, from {self.source})"
        checked = "checked against true time" if self.observed else "never checked against true time"
        return f"camera {self.camera_id} clock: {applied}, start time from {self.time_source}, {checked}"


def clock_info(index: Index, sightings: Iterable[Sighting]) -> dict[int, ClockInfo]:
    """Clock facts for the clips behind some sightings, by clip id."""
    ids = sorted({s.clip_id for s in sightings})
    if not ids:
        return {}
    observed = cameras_checked_against_true_time(index)
    return {
        r.clip_id: ClockInfo(r.camera_id, r.clip_id, r.time_source, r.clock_offset_s, r.camera_id in observed,
                             _uncertainty(r.uncertainty_s, r.trusted),
                             "trusted" if r.trusted and r.clock_source == "none" else r.clock_source)
        for r in clip_clocks(index, ids)
    }


def _uncertainty(stored: float | None, trusted: bool) -> float | None:
    if stored is not None:
        return float(stored)
    return TRUSTED_UNCERTAINTY_S if trusted else None


def explained_within_uncertainty(a: ClockInfo | None, b: ClockInfo | None, short_s: float) -> str | None:
    """Whether a hop ``short_s`` seconds too quick from clock ``a``'s camera to clock ``b``'s is explained
    by offsets within both clocks' uncertainties (two sigmas of the two together): the note to show, or
    None when either uncertainty is unknown or the shortfall is beyond them."""
    if a is None or b is None or a.uncertainty_s is None or b.uncertainty_s is None:
        return None
    within = UNCERTAINTY_SIGMAS * math.hypot(a.uncertainty_s, b.uncertainty_s)
    if short_s > within:
        return None
    return (f"{short_s:.0f} s too quick for the distance, within the clocks' uncertainty ({within:.0f} s): "
            + offset_fix(a, b, short_s))


def offset_fix(a: ClockInfo, b: ClockInfo, short_s: float) -> str:
    """The offsets that would make a hop ``short_s`` seconds longer: camera ``b``'s offset that much
    smaller (its times later), or camera ``a``'s that much larger (its times earlier)."""

    def now(c: ClockInfo) -> str:
        unc = "" if c.uncertainty_s is None else f" +- {c.uncertainty_s:.1f}"
        return f"now {c.offset_s:+.0f}{unc} s, {c.source}"

    return (f"camera {b.camera_id} offset {b.offset_s - short_s:+.0f} s ({now(b)}) or camera {a.camera_id} "
            f"offset {a.offset_s + short_s:+.0f} s ({now(a)}) would explain it")
