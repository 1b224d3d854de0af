"""What is known about the clock behind a sighting's time: could a clock error explain a hop?

>>> ClockInfo("C", 1, "container", 0.0, observed=False).could_explain(90)
True
>>> ClockInfo("C", 1, "container", 0.0, observed=True).could_explain(90)
False
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from camfind.types import Sighting

if TYPE_CHECKING:
    from camfind.index import Index

#: DVR clocks drift by a few seconds even when set: a shortfall this small is always explainable.
DRIFT_S = 10.0


@dataclass(frozen=True)
class ClockInfo:
    """The clock of one clip: where its start time came from and the offset applied to it."""

    camera_id: str
    clip_id: int
    time_source: str
    offset_s: float
    observed: bool  # a DVR-vs-true clock reading was recorded for the camera

    def could_explain(self, shortfall_s: float) -> bool:
        """Whether an error in this clock of ``shortfall_s`` seconds is plausible: the clock was
        never checked, the applied offset is at least that large (if it were wrong), or the
        shortfall is within ordinary drift."""
        return shortfall_s <= DRIFT_S or not self.observed or abs(self.offset_s) >= shortfall_s

    def describe(self) -> str:
        applied = f"offset {self.offset_s:+.0f} s applied" if self.offset_s else "no offset applied"
        checked = "checked against true time" if self.observed else "never checked against true time"
        return f"camera {self.camera_id} clock: {applied}, start time from {self.time_source}, {checked}"


def clock_info(index: Index, sightings: Iterable[Sighting]) -> dict[int, ClockInfo]:
    """Clock facts for the clips behind some sightings, by clip id."""
    ids = sorted({s.clip_id for s in sightings})
    if not ids:
        return {}
    observed = {r[0] for r in index.db.execute("SELECT DISTINCT camera_id FROM clock_observations")}
    rows = index.db.execute(
        "SELECT id, camera_id, time_source, clock_offset_s FROM clips WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    )
    return {
        int(r[0]): ClockInfo(r[1], int(r[0]), r[2], float(r[3] or 0.0), r[1] in observed) for r in rows
    }
