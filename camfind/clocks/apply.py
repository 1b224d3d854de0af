"""Record estimated clock offsets as the cameras' offsets, and list every camera's clock.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> clock_table(idx)
[]

Applying an estimate keeps every raw (DVR) time; the corrected times of the camera's clips, tracks,
plate reads, faces and snapshots are recomputed from them (as ``cameras set-clock`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from camfind.errors import InputError, NotFoundError
from camfind.index.queries import (
    CameraClock,
    StoredClockEstimate,
    camera_clocks,
    get_camera,
    latest_clock_estimates,
)

if TYPE_CHECKING:
    from camfind.index import Index


@dataclass(frozen=True)
class AppliedOffset:
    """An estimate made a camera's offset: the offset before and after, and its uncertainty."""

    camera_id: str
    previous_offset_s: float
    previous_source: str
    offset_s: float
    uncertainty_s: float | None
    n_cosightings: int


@dataclass(frozen=True)
class ClockRow:
    """``clocks list``: a camera's offset in use, where it came from and how sure it is, beside the
    latest estimate."""

    camera_id: str
    offset_s: float
    source: str
    uncertainty_s: float | None
    trusted: bool
    observations: int
    osd_drift_s: float | None
    estimate_status: str | None
    estimate_offset_s: float | None
    estimate_uncertainty_s: float | None
    estimate_applied: bool


def apply_estimates(index: Index, camera_ids: Sequence[str] = (), all_cameras: bool = False) -> list[AppliedOffset]:
    """Make the latest estimates the offsets of ``camera_ids`` (or of every estimated camera).

    Raises:
        InputError: neither cameras nor ``all_cameras`` given, both given, or a named camera has no
            usable estimate (unanchored, no co-sightings, an anchor already, or its clock was read since);
        NotFoundError: an unknown camera, or no estimate was ever made.
    """
    if bool(camera_ids) == all_cameras:
        raise InputError("name the cameras whose estimates to apply, or pass --all (not both)")
    latest = {e.camera_id: e for e in latest_clock_estimates(index)}
    if not latest:
        raise NotFoundError("no clock estimates in this index: run 'camfind clocks estimate' first")
    for cid in camera_ids:
        get_camera(index, cid)
    before = {c.camera_id: c for c in camera_clocks(index)}
    if all_cameras:
        chosen = [latest[c] for c in sorted(latest) if latest[c].status == "estimated" and not _read(before[c])]
    else:
        chosen = [_usable(latest.get(cid), cid) for cid in dict.fromkeys(camera_ids)]
        for est in chosen:
            if _read(before[est.camera_id]):
                raise InputError(f"camera {est.camera_id}: its clock was read or marked trusted since the estimate "
                                 f"(offset from {before[est.camera_id].source}); run 'camfind clocks estimate' again")
    out = []
    for est in chosen:
        prev = before[est.camera_id]
        cam, offset = index.writer.apply_clock_estimate(est.id)
        out.append(AppliedOffset(cam, prev.offset_s, prev.source, offset, est.uncertainty_s, est.n_cosightings))
    return out


def _read(clock: CameraClock) -> bool:
    """A clock known to true time (read, measured on screen or trusted): an estimate never replaces it."""
    return clock.trusted or clock.source in ("set-clock", "osd")


def _usable(est: StoredClockEstimate | None, camera_id: str) -> StoredClockEstimate:
    if est is None:
        raise InputError(f"camera {camera_id}: the latest clock estimate does not cover it "
                         "(run 'camfind clocks estimate' again)")
    why = {"anchor": "it is an anchor (its clock is trusted or was read): nothing to apply",
           "unanchored": "no path of co-sightings to a trusted clock, so its offset is unknown",
           "no-cosightings": "no plate was seen both there and at another camera"}
    if est.status != "estimated":
        raise InputError(f"camera {camera_id}: no estimate to apply: {why.get(est.status, est.status)}")
    return est


def clock_table(index: Index) -> list[ClockRow]:
    """Every camera's clock: the offset in use, its source and uncertainty, and the latest estimate."""
    latest = {e.camera_id: e for e in latest_clock_estimates(index)}
    rows = []
    for c in camera_clocks(index):
        e = latest.get(c.camera_id)
        rows.append(ClockRow(
            c.camera_id, c.offset_s, c.source, c.uncertainty_s, c.trusted, c.observations, c.osd_drift_s,
            None if e is None else e.status, None if e is None else e.offset_s,
            None if e is None else e.uncertainty_s, e is not None and e.applied is not None,
        ))
    return rows
