"""Re-time a clip from its on-screen clock: the measured OSD start becomes its raw start.

``camfind analyze --osd`` reads the clock the DVR burned into the picture and records it beside
the clip (:func:`camfind.index.queries.clip_timings`); it changes nothing. Applying it
(:func:`apply_osd`) is a separate, audited step: the clip's raw start becomes the OSD time
(``time_source`` ``osd``), the start it was filed with is kept, and the corrected start and every
sighting move by the same amount. :func:`apply_osd` with ``revert`` puts the filed start back.

>>> from camfind.index import Index
>>> apply_osd(Index.open(":memory:", create=True), [])
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from camfind.errors import InputError
from camfind.timeutil import from_ts

if TYPE_CHECKING:
    from camfind.index import Index


@dataclass(frozen=True)
class Retimed:
    """One clip re-timed: its raw start before and after, and its corrected start now."""

    clip_id: int
    camera_id: str
    old_start_raw: datetime
    new_start_raw: datetime
    start: datetime
    time_source: str

    @property
    def shift_s(self) -> float:
        return (self.new_start_raw - self.old_start_raw).total_seconds()


def apply_osd(index: Index, clip_ids: Sequence[int], *, revert: bool = False) -> list[Retimed]:
    """Make each clip's recorded on-screen clock reading its raw start (or, with ``revert``, go
    back to the start it was filed with). Every clip is checked before any is changed.

    Raises:
        NotFoundError: a clip does not exist.
        InputError: a clip has no reading recorded (``revert``: none applied).
    """
    from camfind.index.queries import clip_timings, get_clip

    timings = clip_timings(index)
    for cid in clip_ids:
        get_clip(index, cid)
        timing = timings.get(cid)
        if revert and (timing is None or timing.filed_start_raw is None):
            raise InputError(f"clip {cid}: no on-screen clock reading was applied to it")
        if not revert and (timing is None or timing.osd_start is None):
            raise InputError(f"clip {cid}: no on-screen clock reading is recorded: run "
                             f"camfind analyze --clip {cid} --osd --force first")
    out = []
    for cid in dict.fromkeys(clip_ids):
        old, new = index.writer.apply_osd_start(cid, revert=revert)
        clip = get_clip(index, cid)
        out.append(Retimed(cid, clip.camera_id, from_ts(old), from_ts(new), clip.start, clip.time_source))
    return out
