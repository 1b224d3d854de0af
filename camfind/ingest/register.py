"""Register clips with chain of custody: hash, probe, time, camera; one transaction per clip.

Each clip is committed on its own (:meth:`~camfind.index.writer.Writer.add_clip`, idempotent by
SHA-256), so Ctrl-C or a kill part-way leaves only whole clips, and the next run skips what is
already registered and goes on. Sources are opened read-only and never modified.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from camfind.errors import CamfindError, ClipError, InputError, NotFoundError, StorageError
from camfind.index.storage import index_problem, is_storage_error
from camfind.ingest.probe import HashedProbe, hash_and_probe
from camfind.ingest.segments import Segment
from camfind.ingest.starttime import (
    Sidecar,
    SidecarReader,
    StartTime,
    camera_date_order,
    camera_from_path,
    resolve_start,
    time_from_name,
)
from camfind.pathtext import shown
from camfind.types import Camera, Clip, ClipCopy

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES: frozenset[str] = frozenset({
    ".mp4", ".m4v", ".avi", ".mkv", ".mov", ".ts", ".mts", ".dav",
    ".h264", ".264", ".h265", ".265", ".hevc",
})
#: Files that accompany clips in an export folder and are not reported as skipped.
_COMPANIONS = {".json", ".md5", ".sha256", ".txt", ".nfo", ".log"}
_MANIFEST_NAMES = {"manifest.csv"}

#: ``progress(done_bytes, total_bytes, current_file)``
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class FileProblem:
    """A file ingest did not register (failed) or passed over (skipped), and why, both as shown."""

    path: str
    reason: str


@dataclass(frozen=True)
class CopyFound:
    """A byte-identical copy of a registered clip met at another path (recorded beside the clip)."""

    path: str
    clip_id: int


@dataclass(frozen=True)
class FlaggedClip:
    """A registered clip whose probe raised an integrity warning (declared and decoded lengths
    disagree, a damaged header...)."""

    path: str
    flag: str


@dataclass(frozen=True)
class IngestSummary:
    """What an ingest run did.

    ``ingested``: newly registered clips; ``known``: clips already registered (same SHA-256),
    skipped; ``failed``: :class:`FileProblem` of files that could not be registered; ``skipped``:
    :class:`FileProblem` of non-video files found in folders; ``clip_ids``: ids of the new clips;
    ``known_ids``: ids of the clips found already registered; ``copies``: ``(path, clip id)`` of
    byte-identical copies of registered clips met at new paths (recorded beside the clip);
    ``flagged``: ``(path, warning)`` of new clips registered with an integrity flag (declared and
    decoded lengths that disagree, a damaged header, an assumed frame rate).
    """

    ingested: int
    known: int
    failed: tuple[FileProblem, ...]
    clip_ids: tuple[int, ...]
    known_ids: tuple[int, ...] = ()
    skipped: tuple[FileProblem, ...] = ()
    bytes_read: int = 0
    seconds: float = 0.0
    copies: tuple[CopyFound, ...] = ()
    flagged: tuple[FlaggedClip, ...] = ()


@dataclass
class _Tally:
    ingested: list[int] = field(default_factory=list)
    known: list[int] = field(default_factory=list)
    failed: list[FileProblem] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)
    done_bytes: int = 0


def find_clips(paths: Iterable[str | Path]) -> tuple[list[Path], list[FileProblem], list[FileProblem]]:
    """Expand files and folders (recursively) into video files.

    Returns ``(videos, skipped, failed)``: non-video files met in folders are skipped (sidecars
    and checksum files silently), as are links to folders (not followed) and things that are not
    regular files; a named path that is missing or not a video file, and a folder that cannot be
    read, fail (an unreadable folder may hold clips: it is never passed over in silence).
    """
    videos: list[Path] = []
    skipped: list[FileProblem] = []
    failed: list[FileProblem] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in _walk(p, skipped, failed):
                if f.suffix.lower() in VIDEO_SUFFIXES:
                    _add(videos, seen, f)
                elif not _companion(f):
                    skipped.append(FileProblem(shown(f), shown(f"not a video file ({f.suffix or 'no suffix'})")))
        elif p.is_file():
            if p.suffix.lower() in VIDEO_SUFFIXES:
                _add(videos, seen, p)
            else:
                kinds = ", ".join(sorted(VIDEO_SUFFIXES))
                why = f"unsupported file type {p.suffix or '(no suffix)'} (expected {kinds})"
                failed.append(FileProblem(shown(p), shown(why)))
        elif p.exists():
            failed.append(FileProblem(shown(p), "not a regular file (a device, pipe or socket)"))
        elif p.is_symlink():
            failed.append(FileProblem(shown(p), "broken link: its target does not exist"))
        else:
            failed.append(FileProblem(shown(p), "no such file or folder"))
    return videos, skipped, failed


def _walk(root: Path, skipped: list[FileProblem], failed: list[FileProblem]) -> list[Path]:
    """Regular files under ``root``, sorted; reports unreadable folders and odd entries."""

    def unreadable(exc: OSError) -> None:
        failed.append(FileProblem(shown(exc.filename or root), f"cannot read folder ({exc.strerror})"))

    files: list[Path] = []
    for folder, dirs, names in os.walk(root, onerror=unreadable):
        base = Path(folder)
        for d in dirs:
            if (base / d).is_symlink():
                skipped.append(FileProblem(shown(base / d), "link to a folder, not followed"))
        for name in names:
            f = base / name
            if f.is_file():
                files.append(f)
            elif not f.name.startswith("."):
                why = "broken link" if f.is_symlink() and not f.exists() else "not a regular file"
                skipped.append(FileProblem(shown(f), why))
    return sorted(files)


def _add(videos: list[Path], seen: set[Path], f: Path) -> None:
    key = f.resolve()
    if key not in seen:
        seen.add(key)
        videos.append(f)


def _companion(f: Path) -> bool:
    return f.name.startswith(".") or f.suffix.lower() in _COMPANIONS or f.name.lower() in _MANIFEST_NAMES


def ingest_paths(
    index: Index,
    paths: Sequence[str | Path],
    *,
    camera: str | None = None,
    start: datetime | str | None = None,
    progress: Progress | None = None,
    date_order: str | None = None,
    segments: Sequence[Segment] | str | Path | None = None,
) -> IngestSummary:
    """Register every video file under ``paths`` (no analysis).

    Args:
        index: the open case index.
        paths: files and/or folders (folders recurse).
        camera: camera id for every clip (else sidecar, file-name or folder rule).
        start: the clip's raw (DVR) start, a datetime or a user time string; only for one clip.
        progress: called with (done bytes, total bytes, current file) as files are read.
        date_order: ``dmy`` or ``mdy``: how ``D/M/YYYY`` in ``start`` and sidecars reads; else the
            camera's ``date_order`` (a cameras-file column), else the case zone's custom.
        segments: time ranges of the one file given that belong to different cameras (a segments
            file, see :mod:`camfind.ingest.segments`, or its rows): each becomes its own clip.

    Raises:
        NotFoundError: ``camera`` is not in the registry.
        InputError: ``start`` is malformed, ambiguous (a date that reads both ways) or given for
            more than one clip; ``date_order`` is not one.
    """
    from camfind.index.queries import camera_ids, get_camera
    from camfind.timeutil import check_date_order

    began = time.perf_counter()
    order = check_date_order(date_order)
    named = None if camera is None else get_camera(index, camera)
    start_dt = _cli_start(start, index.tz, order or (None if named is None else camera_date_order(named)))
    videos, skipped, failed = find_clips(paths)
    if start_dt is not None and len(videos) > 1:
        raise InputError(f"--start gives one clip's start time, but {len(videos)} video files were found")
    parts = _segments(index, segments, camera, len(videos))
    tally = _Tally(failed=list(failed), skipped=list(skipped))
    for item in skipped:
        logger.info("skipped %s: %s", item.path, item.reason)
    sizes = [_size(v) for v in videos]
    registrar = _Registrar(index, camera, start_dt, camera_ids(index), SidecarReader(), progress, sum(sizes),
                           date_order=order, segments=parts)
    for path, size in zip(videos, sizes, strict=True):
        try:
            registered = registrar.register(path, tally.done_bytes)
        except sqlite3.OperationalError as exc:
            if not is_storage_error(exc):
                raise
            problem = index_problem(index.path, exc)
            done = len(tally.ingested)
            raise StorageError(f"{problem} (stopped at {shown(path)} after registering {done} new clip"
                               f"{'' if done == 1 else 's'}: run the same ingest again to resume)") from None
        except StorageError as exc:  # the index refused (a shared server gone, say): stop, never skip on
            done = len(tally.ingested)
            raise StorageError(f"{exc} (stopped at {shown(path)} after registering {done} new clip"
                               f"{'' if done == 1 else 's'}: run the same ingest again to resume)") from None
        except CamfindError as exc:
            reason = shown(str(exc).removeprefix(f"{path}: "))
            tally.failed.append(FileProblem(shown(path), reason))
            logger.info("failed %s: %s", shown(path), reason)
        else:
            for clip_id, new in registered:
                (tally.ingested if new else tally.known).append(clip_id)
        tally.done_bytes += size
        if progress is not None:
            progress(tally.done_bytes, registrar.total, shown(path))
    return IngestSummary(
        ingested=len(tally.ingested), known=len(tally.known), failed=tuple(tally.failed),
        clip_ids=tuple(tally.ingested), known_ids=tuple(tally.known), skipped=tuple(tally.skipped),
        bytes_read=registrar.total, seconds=round(time.perf_counter() - began, 3),
        copies=tuple(registrar.copies), flagged=tuple(registrar.flagged),
    )


def _segments(
    index: Index, segments: Sequence[Segment] | str | Path | None, camera: str | None, files: int
) -> tuple[Segment, ...]:
    """The segments asked for, checked before any file is read: one file, known cameras."""
    from camfind.index.queries import get_camera
    from camfind.ingest.segments import read_segments

    if segments is None:
        return ()
    parts = tuple(read_segments(segments) if isinstance(segments, str | Path) else segments)
    if camera is not None:
        raise InputError("--segments names each segment's camera: leave out --camera")
    if files != 1:
        raise InputError(f"--segments splits one file, but {files} video files were found")
    for cam in dict.fromkeys(s.camera_id for s in parts):
        get_camera(index, cam)
    return parts


def _cli_start(start: datetime | str | None, tz: str, order: str | None) -> datetime | None:
    from camfind.timeutil import as_utc, parse_time

    if start is None:
        return None
    return parse_time(start, tz, date_order=order) if isinstance(start, str) else as_utc(start, tz)


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


@dataclass
class _Registrar:
    """Registers one clip at a time with the settings of one ingest run."""

    index: Index
    camera: str | None
    start: datetime | None
    known_ids: set[str]
    sidecars: SidecarReader
    progress: Progress | None
    total: int
    date_order: str | None = None
    segments: Sequence[Segment] = ()
    copies: list[CopyFound] = field(default_factory=list)
    flagged: list[FlaggedClip] = field(default_factory=list)

    def register(self, path: Path, done_bytes: int) -> list[tuple[int, bool]]:
        """Hash, probe, time and register one file in its own transaction: one clip, or one per
        segment. Returns (id, new) per clip.

        The hash is looked up before the start time is worked out: a clip already registered
        (with ``--start`` in an earlier run, say) is known by its content and needs no time.
        """
        from camfind.index.queries import find_clip_by_sha256, get_camera

        sidecar = self.sidecars.find(path)
        cam_id = None if self.segments else self._camera_of(path, sidecar)
        scanned = hash_and_probe(path, on_bytes=self._byte_counter(done_bytes, shown(path)))
        if self.segments:
            return self._register_segments(path, sidecar, scanned)
        known = find_clip_by_sha256(self.index, scanned.sha256)
        if known is not None and known.id is not None:
            logger.info("already known %s as clip %d", path, known.id)
            self._record_copy(known, known.id, path, cam_id)
            return [(known.id, False)]
        if cam_id is None:
            raise ClipError(
                f"{path}: no camera: pass --camera ID, name the folder or the file after a known camera "
                "(CAM03/... or CAM03_...), or give camera_id in a sidecar"
            )
        cam = get_camera(self.index, cam_id)
        order = self.date_order or camera_date_order(cam)
        when = resolve_start(path, self.index.tz, cli=self.start, sidecar=sidecar, probe=scanned.probe,
                             date_order=order)
        clip = _whole_clip(path, scanned, cam, when)
        clip_id, new = self.index.writer.add_clip(clip)
        self._flag(path, scanned.probe.warnings if new else ())
        logger.info("%s %s as clip %d (%s, %s)", "registered" if new else "already known", path, clip_id,
                    cam.id, when.source)
        return [(clip_id, new)]

    def _register_segments(self, path: Path, sidecar: Sidecar | None, scanned: HashedProbe) -> list[tuple[int, bool]]:
        """Each segment of the file its own clip (one transaction); the file hashed once."""
        from camfind.index.queries import clips_of_file, get_camera
        from camfind.ingest.segments import segment_clips

        cameras = {s.camera_id: get_camera(self.index, s.camera_id) for s in self.segments}
        first = cameras[self.segments[0].camera_id]

        def file_start() -> StartTime:
            return resolve_start(path, self.index.tz, cli=self.start, sidecar=sidecar, probe=scanned.probe,
                                 date_order=self.date_order or camera_date_order(first))

        whole = _whole_clip(path, scanned, first, StartTime(datetime(2000, 1, 1, tzinfo=UTC), "cli"))
        clips = segment_clips(whole, self.segments, cameras, self.index.tz, file_start, self.date_order)
        before = {c.segment: c.id for c in clips_of_file(self.index, scanned.sha256)}
        if before and set(before) != {c.segment for c in clips}:
            how = "whole" if "" in before else f"in {len(before)} other segments"
            raise ClipError(f"{path}: already registered {how} (clip {min(i or 0 for i in before.values())}): "
                            "segmenting it again would count its footage twice")
        added = self.index.writer.add_segments(clips)
        if any(new for _, new in added):
            self._flag(path, scanned.probe.warnings)
        logger.info("%s as %d segment clips", shown(path), len(added))
        return added

    def _flag(self, path: Path, warnings: Sequence[str]) -> None:
        for warning in warnings:
            logger.info("flagged %s: %s", shown(path), warning)
            self.flagged.append(FlaggedClip(shown(path), warning))

    def _record_copy(self, known: Clip, clip_id: int, path: Path, cam_id: str | None) -> None:
        """Record ``path`` as a copy of the registered clip; one that disagrees with the
        registration (camera, folder, name-derived or typed time) is recorded, then refused,
        naming both files. The registration is never changed.

        Met again at its registered path, only what was typed (``--camera``, ``--start``) is
        compared: the rules there were already weighed when it was registered.
        """
        where = str(path.resolve())
        same = where == known.path
        split = known.segment_end_s is not None  # a file split between cameras: its segments say who is who
        cams = (self.camera,) if same or split else (cam_id, camera_from_path(path.absolute(), self.known_ids))
        problems = [f"its camera is {cam} (registered as {known.camera_id})"
                    for cam in dict.fromkeys(cams) if cam is not None and cam != known.camera_id]
        named = time_from_name(path.name, self.index.tz)
        if not same and not split:
            problems += self._time_problems(known, named)
        if self.start is not None and not split:
            problems += self._differs("--start says", self.start, known.start_raw)
        conflict = "; ".join(problems)
        if same:
            if conflict:
                raise ClipError(f"{path}: registered as clip {clip_id}, but {conflict} (the registration is kept)")
            return
        if self.index.writer.add_copy(ClipCopy(clip_id, where, cam_id, None if named is None else named[0], conflict)):
            self.copies.append(CopyFound(shown(where), clip_id))
            logger.info("recorded %s as a copy of clip %d (%s)", where, clip_id, known.path)
        if conflict:
            raise ClipError(f"{path}: a byte-identical copy of clip {clip_id} {known.path}, but {conflict}: "
                            "check which file is right (the registration is kept)")

    def _time_problems(self, known: Clip, named: tuple[datetime, str] | None) -> list[str]:
        """The copy's name-derived time against the registration's (its file name's, else its start)."""
        if named is None:
            return []
        filed = time_from_name(Path(known.path).name, self.index.tz)
        return self._differs("its name says", named[0], filed[0] if filed is not None else known.start_raw)

    def _differs(self, what: str, value: datetime, registered: datetime) -> list[str]:
        from camfind.timeutil import show_local

        if abs((value - registered).total_seconds()) < 1.0:
            return []
        tz = self.index.tz
        return [f"{what} {show_local(value, tz)} (registered {show_local(registered, tz)})"]

    def _camera_of(self, path: Path, sidecar: Sidecar | None) -> str | None:
        """The clip's camera by the rules (None when none applies); an unknown one is refused."""
        cam_id = (
            self.camera
            or (sidecar.camera_id if sidecar else None)
            or camera_from_path(path.absolute(), self.known_ids)
        )
        if cam_id is not None and cam_id not in self.known_ids:
            raise NotFoundError(f"{path}: unknown camera {cam_id!r} (import it first: camfind cameras import)")
        return cam_id

    def _byte_counter(self, done_bytes: int, name: str) -> Callable[[int], None] | None:
        progress, total = self.progress, self.total
        if progress is None:
            return None
        done = [done_bytes]

        def on_bytes(n: int) -> None:
            done[0] += n
            progress(done[0], total, name)

        return on_bytes


def _whole_clip(path: Path, scanned: HashedProbe, cam: Camera, when: StartTime) -> Clip:
    info = scanned.probe
    return Clip(
        camera_id=cam.id, path=str(path.resolve()), sha256=scanned.sha256, size_bytes=scanned.size_bytes,
        start=when.raw - timedelta(seconds=cam.clock_offset_s), start_raw=when.raw,
        time_source=when.source, clock_offset_s=cam.clock_offset_s, duration_s=info.duration_s,
        fps=info.fps, frames=info.frames, width=info.width, height=info.height, codec=info.codec,
        container=info.container, creation_time=info.creation_time, flags=info.warnings,
    )


def pending_analysis(index: Index, summary: IngestSummary) -> list[int]:
    """Clips of this run that still need analysis: the new ones, and known ones never analysed
    (an earlier run registered them and was interrupted before analysing)."""
    from camfind.index.queries import get_clip

    waiting = [cid for cid in summary.known_ids if get_clip(index, cid).status == "registered"]
    return sorted(set(summary.clip_ids) | set(waiting))
