"""Custody and health: check the index, re-hash registered clips and snapshots, and measure
footage coverage and its gaps.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> verify(idx)
VerifyReport(checked=0, ok=0, changed=(), missing=(), problems=(), snapshots_checked=0, snapshots_ok=0)
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from camfind.errors import InputError
from camfind.evidence import local_path, sha256_file, unreachable
from camfind.pathtext import shown
from camfind.timeutil import from_ts, to_ts

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

#: Gaps shorter than this (seconds) are not reported: DVR files rarely butt up to the frame.
GAP_TOLERANCE_S = 2.0


@dataclass(frozen=True)
class ClipProblem:
    """A registered clip (or, ``what="snapshot"``, one of its snapshots) whose file no longer
    matches: ``kind`` is ``changed`` or ``missing``."""

    clip_id: int
    path: str
    kind: str
    expected_sha256: str
    actual_sha256: str | None = None
    detail: str = ""
    what: str = "clip"


@dataclass(frozen=True)
class VerifyReport:
    """Result of re-hashing every clip and snapshot: ``changed`` and ``missing`` hold clip paths;
    ``problems`` holds the clips' and then the snapshots' (``what="snapshot"``)."""

    checked: int
    ok: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    problems: tuple[ClipProblem, ...] = ()
    snapshots_checked: int = 0
    snapshots_ok: int = 0

    @property
    def clean(self) -> bool:
        return not self.problems and not self.changed and not self.missing

    @property
    def snapshot_problems(self) -> tuple[ClipProblem, ...]:
        return tuple(p for p in self.problems if p.what == "snapshot")


def verify(index: Index, progress: Callable[[int, int, str], None] | None = None) -> VerifyReport:
    """Check the index with SQLite's integrity check, then re-hash every registered clip's file
    and every snapshot (read-only) and compare each with its recorded SHA-256.

    Args:
        index: the case index.
        progress: called with (clips done, clips total, current path).

    Raises:
        DamagedIndexError: SQLite's integrity check fails (the list of clips itself cannot be trusted).
    """
    from camfind.index.backup import integrity_problems
    from camfind.index.queries import list_clips
    from camfind.index.storage import damaged_index

    damage = integrity_problems(index)
    if damage:
        raise damaged_index(index.path, "integrity check: " + "; ".join(damage[:3]))
    clips = list_clips(index)
    copies = _copy_paths(index)
    problems: list[ClipProblem] = []
    bad_clips = 0
    seen: dict[tuple[str, str], ClipProblem | None] = {}  # a file split in segments is hashed once
    for n, clip in enumerate(clips, start=1):
        found = _check_locations(clip.id or 0, [clip.path, *copies.get(clip.id or 0, ())], clip.sha256, seen)
        for bad in found:
            logger.info("clip %s %s: %s", clip.id, bad.kind, bad.path)  # the report names it
        problems.extend(found)
        bad_clips += bool(found)
        if progress is not None:
            progress(n, len(clips), clip.path)
    changed = tuple(p.path for p in problems if p.kind == "changed")
    missing = tuple(p.path for p in problems if p.kind == "missing")
    clip_ok = len(clips) - bad_clips
    clip_problems = len(problems)
    from camfind.index.queries import snapshot_records

    snapshots = snapshot_records(index)
    for snap in snapshots:
        problem = _check(snap.clip_id, local_path(snap.path), snap.sha256)
        if problem is not None:
            logger.info("snapshot %s: %s", problem.kind, snap.path)
            detail = "content differs from analysis" if problem.kind == "changed" else problem.detail
            problems.append(dataclasses.replace(problem, what="snapshot", detail=detail))
    snap_ok = len(snapshots) - (len(problems) - clip_problems)
    return VerifyReport(len(clips), clip_ok, changed, missing, tuple(problems), len(snapshots), snap_ok)


def _copy_paths(index: Index) -> dict[int, list[str]]:
    """Paths of the byte-identical copies recorded for each clip (verified with the clip)."""
    from camfind.index.queries import clip_copies

    return {cid: [c.path for c in found] for cid, found in clip_copies(index).items()}


def _check_locations(
    clip_id: int, paths: Sequence[str], expected: str, seen: dict[tuple[str, str], ClipProblem | None]
) -> list[ClipProblem]:
    """Every location of one clip's bytes (the registered file first, then its copies); a file
    already checked for another clip (the segments of one recording) is not read again."""
    found = []
    for path in paths:
        if (path, expected) not in seen:
            seen[(path, expected)] = _check(clip_id, path, expected)
        problem = seen[(path, expected)]
        if problem is not None:
            found.append(dataclasses.replace(problem, clip_id=clip_id, path=shown(problem.path)))
    return found


def _check(clip_id: int, path: str, expected: str) -> ClipProblem | None:
    found = Path(path)
    if not found.is_file():
        detail = unreachable(path) or "file not found"
        if found.exists():
            detail = "a folder is in its place" if found.is_dir() else "not a regular file"
        return ClipProblem(clip_id, path, "missing", expected, detail=detail)
    try:
        actual, _ = sha256_file(path)
    except OSError as exc:
        return ClipProblem(clip_id, path, "missing", expected, detail=f"unreadable: {exc.strerror or exc}")
    if actual != expected:
        return ClipProblem(clip_id, path, "changed", expected, actual, "content differs from registration")
    return None


def evidence_at(index: Index, path: str | os.PathLike[str]) -> str | None:
    """What writing a file at ``path`` would destroy: the index (or a file SQLite keeps beside it),
    a registered clip or a snapshot, also through a symbolic or hard link; None if nothing.

    >>> from camfind.index import Index
    >>> evidence_at(Index.open(":memory:", create=True), "timeline.csv") is None
    True
    """
    from camfind.index.queries import evidence_named, evidence_paths

    target = Path(path).resolve()
    if index.is_file:
        db = Path(index.path).resolve()
        if target.parent == db.parent and target.name.startswith(db.name):
            return f"the index {index.path}" + ("" if target == db else " (a file SQLite keeps beside it)")
    named = evidence_named(index, str(target))
    if named is not None:
        return named
    try:
        stat = target.stat()
    except OSError:
        return None
    if stat.st_nlink > 1:  # a hard link: another name for some evidence file?
        for what, other in evidence_paths(index):
            try:
                if os.path.samefile(other, target):
                    return f"{what} ({other})"
            except OSError:
                continue
    return None


# -- coverage ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Coverage:
    """Footage of one camera over a window: seconds covered and the uncovered stretches."""

    camera_id: str
    window_from: datetime
    window_to: datetime
    footage_s: float
    gaps: tuple[tuple[datetime, datetime], ...]
    clips: int

    @property
    def ratio(self) -> float:
        span = (self.window_to - self.window_from).total_seconds()
        return self.footage_s / span if span > 0 else 0.0


def coverage(
    index: Index,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
    camera: str | None = None,
    *,
    tolerance_s: float = GAP_TOLERANCE_S,
) -> list[Coverage]:
    """Footage per camera in a window and the gaps in it (corrected, true times).

    The window defaults to the span of all registered footage, so a camera whose recording
    stops early (a camera that lost signal) shows the gap to the end. Every camera of the
    registry is reported (or just ``camera``), those without footage as one whole-window gap.

    Raises:
        InputError: ``time_to`` is not after ``time_from``.
        NotFoundError: ``camera`` is unknown.
    """
    from camfind.index.queries import clip_time_span, clips_covering, get_camera, list_cameras

    ids = [get_camera(index, camera).id] if camera is not None else [c.id for c in list_cameras(index)]
    span = clip_time_span(index)
    start = time_from or (span[0] if span else None)
    end = time_to or (span[1] if span else None)
    if start is None or end is None:
        return []
    if end <= start:
        raise InputError(f"--to ({end.isoformat()}) must be after --from ({start.isoformat()})")
    lo, hi = to_ts(start), to_ts(end)
    out = []
    for cid in ids:
        clips = clips_covering(index, cid, lo, hi)
        spans = [(max(lo, to_ts(c.start)), min(hi, to_ts(c.end))) for c in clips]
        footage, gaps = _union_and_gaps(spans, lo, hi, tolerance_s)
        out.append(Coverage(cid, start, end, round(footage, 3),
                            tuple((from_ts(a), from_ts(b)) for a, b in gaps), len(clips)))
    return out


def _union_and_gaps(
    spans: Sequence[tuple[float, float]], lo: float, hi: float, tolerance_s: float
) -> tuple[float, list[tuple[float, float]]]:
    """Length of the union of ``spans`` within [lo, hi], and the uncovered stretches longer
    than ``tolerance_s``.

    >>> _union_and_gaps([(0, 10), (5, 20), (30, 40)], 0, 50, 1.0)
    (30.0, [(20, 30), (40, 50)])
    """
    covered = 0.0
    gaps: list[tuple[float, float]] = []
    cursor = lo
    for a, b in sorted(spans):
        if b <= cursor:
            continue
        if a > cursor:
            if a - cursor > tolerance_s:
                gaps.append((cursor, a))
            cursor = a
        covered += b - cursor
        cursor = b
    if hi - cursor > tolerance_s:
        gaps.append((cursor, hi))
    return float(covered), gaps
