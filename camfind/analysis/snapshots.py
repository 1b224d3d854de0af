"""Derived images (track, plate and face snapshots): written once, hashed, traceable.

Files are named ``<clip sha256[:12]>/<frame>_<kind>_<track>.jpg`` under the snapshot folder
(``settings.snapshot_dir``, else ``snapshots/`` beside the index file). A new analysis run never
replaces a file with other bytes: where an earlier run's file holds the name, the new one is
``<frame>_<kind>_<track>.<sha256[:16]>.jpg``, so the index can keep pointing at the earlier
files until the new rows are committed. One run writes into a staging folder first
(``.staging-<owner>-<clip>-<random>``, ``owner`` being ``<pid>-<random>`` of the analysing
process). :meth:`SnapshotStore.place` moves the files into place just before the run is written
to the index; the run (:mod:`camfind.analysis.run`) removes them again if that write fails, and
deletes the previous run's files only after the index stopped pointing at them. Staging folders
left by a killed run are swept by :func:`sweep_staging`.

Example:
    >>> import numpy as np, tempfile
    >>> store = SnapshotStore(tempfile.mkdtemp(), "ab" * 32, clip_id=1)
    >>> from datetime import datetime, UTC
    >>> snap = store.save(np.zeros((8, 8, 3), np.uint8), frame=12, kind="track", track_no=3,
    ...                   time=datetime(2024, 1, 1, tzinfo=UTC))
    >>> snap.path.endswith("abababababab/12_track_3.jpg"), len(snap.sha256)
    (True, 64)
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time as _time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from camfind.errors import CamfindError, InputError
from camfind.index.storage import os_problem
from camfind.types import Box, Snapshot

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("track", "plate", "face")
JPEG_QUALITY = 92
STAGING_PREFIX = ".staging-"
#: Hex digits of the file's SHA-256 in a name that an earlier run's file holds.
NAME_HASH = 16
#: A staging folder untouched this long, whose owner is not a live process here, is swept.
STALE_STAGING_S = 3600.0
#: The private folder an analysis worker stages a clip's snapshots in, in the temporary folder
#: (``<prefix><pid>-<random>``): a worker killed outright (SIGKILL, power loss) cannot remove it.
WORKER_PREFIX = "camfind-worker-"


#: The folder snapshots go to when a command is given none (a shared case's shared folder).
SNAPSHOTS_VAR = "CAMFIND_SNAPSHOTS"


def default_snapshot_dir(index_path: str, snapshot_dir: str | None) -> Path:
    """Where snapshots go: the configured folder, else ``$CAMFIND_SNAPSHOTS``, else ``snapshots/``
    beside the index file (in the working folder for an index in memory or on a PostgreSQL server:
    a shared case is best given a shared folder)."""
    snapshot_dir = snapshot_dir or os.environ.get(SNAPSHOTS_VAR) or None
    if snapshot_dir:
        return Path(snapshot_dir).expanduser().resolve()
    if index_path == ":memory:" or index_path.startswith(("postgresql://", "postgres://")):
        return (Path.cwd() / "snapshots").resolve()
    return (Path(index_path).expanduser().resolve().parent / "snapshots").resolve()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_owner() -> str:
    """A token naming this process's staging folders: ``<pid>-<random>``."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _write_problem(root: Path, exc: OSError) -> CamfindError:
    return os_problem(exc) or InputError(f"cannot write snapshots under {root}: {exc.strerror or exc}")


class SnapshotStore:
    """Writes one clip's snapshots for one analysis run (staged until :meth:`place`).

    Staged files have private names; each maps to its final, traceable name, which can still
    change (:meth:`retag`) when linking gives a fragment its final track number. Several threads
    may save into one store (the enrichment threads): names are taken one at a time.
    """

    def __init__(
        self, root: str | os.PathLike[str], clip_sha256: str, clip_id: int, *, owner: str | None = None
    ) -> None:
        self.root = Path(root)
        self.folder = self.root / clip_sha256[:12]
        self.clip_id = clip_id
        self.owner = owner or new_owner()
        self._stage = self.root / f"{STAGING_PREFIX}{self.owner}-{clip_sha256[:12]}-{uuid.uuid4().hex[:8]}"
        self._files: dict[str, tuple[str, str]] = {}  # final path -> (staged file name, sha256)
        self._count = 0
        self._lock = threading.Lock()

    @property
    def staged(self) -> list[str]:
        """Final paths of the snapshots written so far in this run."""
        return list(self._files)

    def save(
        self,
        image: np.ndarray,
        *,
        frame: int,
        kind: str,
        track_no: int,
        time: datetime,
        box: Box | None = None,
        provisional: bool = False,
    ) -> Snapshot:
        """Encode ``image`` as JPEG into staging and return its :class:`Snapshot` (final path).

        ``provisional``: ``track_no`` is not final yet (a fragment's); the path is a placeholder
        until :meth:`retag` gives the final number.
        """
        if kind not in KINDS:
            raise ValueError(f"expected a snapshot kind in {KINDS}, got {kind!r}")
        if image.size == 0:
            raise ValueError(f"expected a non-empty image for the {kind} snapshot of track {track_no}")
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise ValueError(f"could not encode the {kind} snapshot of track {track_no}")
        data = buf.tobytes()
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            staged = self._stage_bytes(data)
            final = self._free(f"{frame}_{kind}_{'p' if provisional else ''}{track_no}", sha)
            self._files[final] = (staged, sha)
        return Snapshot(clip_id=self.clip_id, frame=frame, time=time, path=final, sha256=sha, kind=kind, box=box)

    def put(self, name: str, data: bytes) -> str:
        """Stage ``data`` (a snapshot encoded elsewhere, e.g. by a worker) under the file name
        ``name`` (``<frame>_<kind>_<track>.jpg``); returns its final path, which gets the
        ``.<sha256[:16]>`` mark where an earlier run's file holds the name with other bytes.

        Raises:
            StorageError, InputError: the staging folder cannot be written.
        """
        sha = hashlib.sha256(data).hexdigest()
        with self._lock:
            staged = self._stage_bytes(data)
            final = self._free(name.removesuffix(".jpg"), sha)
            self._files[final] = (staged, sha)
        return final

    def _stage_bytes(self, data: bytes) -> str:
        """Write ``data`` under the next private name in staging (the caller holds the lock)."""
        self._count += 1
        staged = f"{self._count}.jpg"
        try:
            self._stage.mkdir(parents=True, exist_ok=True)
            (self._stage / staged).write_bytes(data)
        except OSError as exc:
            raise _write_problem(self.root, exc) from None
        return staged

    def read_staged(self, path: str) -> bytes:
        """The bytes of a staged snapshot, by its final path (KeyError: not staged in this run)."""
        staged, _ = self._files[path]
        try:
            return (self._stage / staged).read_bytes()
        except OSError as exc:
            raise _write_problem(self.root, exc) from None

    def _free(self, stem: str, sha: str) -> str:
        """A final path for ``stem`` that no other snapshot of this run has taken and that no file
        on disk holds with other bytes (an earlier run's file the index may still point at)."""
        for n in range(1, 10_000):
            base = stem if n == 1 else f"{stem}-{n}"
            for name in (f"{base}.jpg", f"{base}.{sha[:NAME_HASH]}.jpg"):
                final = str(self.folder / name)
                if final not in self._files and _holds_or_free(final, sha):
                    return final
        raise InputError(f"{self.folder}: no free name for the snapshot {stem}.jpg (folder full of such names?)")

    def retag(self, snap: Snapshot, track_no: int) -> Snapshot:
        """The same snapshot under another track number (after fragments are linked)."""
        frame, kind, _ = Path(snap.path).name.split(".", 1)[0].split("_", 2)
        with self._lock:
            staged, sha = self._files.pop(snap.path)
            final = self._free(f"{frame}_{kind}_{track_no}", sha)
            self._files[final] = (staged, sha)
        return replace(snap, path=final)

    def drop(self, snap: Snapshot) -> None:
        """Forget a staged snapshot no row will point at."""
        with self._lock:
            entry = self._files.pop(snap.path, None)
        if entry is not None:
            (self._stage / entry[0]).unlink(missing_ok=True)

    def place(self) -> list[Path]:
        """Move this run's files to their final names (flushed to disk); the staging folder goes.

        A final name an earlier run already holds has the same bytes (names were chosen so) and
        is left as it is. Returns the files this call created: the caller removes them
        (:func:`remove_files`) if the run cannot be written to the index.

        Raises:
            StorageError, InputError: the folder refused (nothing this call created is left).
        """
        created: list[Path] = []
        if self._files and self.folder.exists() and not self.folder.is_dir():
            self.discard()
            raise InputError(f"{self.folder}: a file is in the way of the clip's snapshot folder; move it away")
        try:
            for final, (staged, sha) in self._files.items():
                target = Path(final)
                if target.exists():
                    if sha256_file(target) == sha:
                        continue
                    raise InputError(f"{target}: a snapshot file with other bytes took this name while the "
                                     "clip was analysed (another analysis of it running?): analyse it again")
                self.folder.mkdir(parents=True, exist_ok=True)
                _flush(self._stage / staged)
                os.replace(self._stage / staged, target)
                created.append(target)
            if created:
                _flush_folder(self.folder)
        except BaseException as exc:
            remove_files(created)
            if isinstance(exc, OSError):
                raise _write_problem(self.root, exc) from None
            raise
        finally:
            self.discard()
        return created

    def commit(self) -> list[Path]:
        """:meth:`place` (kept for callers that keep snapshots without an index)."""
        return self.place()

    def discard(self) -> None:
        """Drop the staged files (files already in place and earlier runs' files are untouched)."""
        shutil.rmtree(self._stage, ignore_errors=True)


def _holds_or_free(path: str, sha: str) -> bool:
    """True when nothing is at ``path`` or the file there has exactly these bytes."""
    try:
        return sha256_file(path) == sha
    except (FileNotFoundError, NotADirectoryError):  # (a file where the clip folder goes: place() says so)
        return True
    except OSError:  # a folder or an unreadable file in the way: choose another name
        return False


def _flush(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _flush_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder; the files themselves are synced
        pass
    finally:
        os.close(fd)


def remove_files(paths: Iterable[str | os.PathLike[str]]) -> int:
    """Delete files (missing ones are fine); returns how many were deleted. Problems are logged."""
    removed = 0
    for path in paths:
        try:
            Path(path).unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove the snapshot %s: %s", path, exc.strerror or exc)
    return removed


def check_snapshot_root(root: Path, owner: str) -> None:
    """Refuse a snapshot folder that is a file, cannot be created or cannot be written, before any work.

    Raises:
        InputError: one line naming the folder and why.
    """
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: the snapshot folder (--snapshots) is a file, not a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{root}: cannot create the snapshot folder (--snapshots): {exc.strerror or exc}") from None
    probe = root / f"{STAGING_PREFIX}{owner}-probe"
    try:
        probe.mkdir(exist_ok=True)
        (probe / "probe").write_bytes(b"camfind")
    except OSError as exc:
        raise InputError(f"{root}: cannot write in the snapshot folder (--snapshots): {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def discard_owned(root: Path, owner: str) -> list[Path]:
    """Remove every staging folder ``owner`` made under ``root`` (after its run ended, however)."""
    gone = sorted(root.glob(f"{STAGING_PREFIX}{owner}-*")) if root.is_dir() else []
    for folder in gone:
        shutil.rmtree(folder, ignore_errors=True)
    return gone


def sweep_staging(root: Path, *, max_age_s: float = STALE_STAGING_S, now: float | None = None,
                  prefix: str = STAGING_PREFIX) -> list[Path]:
    """Remove staging folders left by runs that were killed: named ``<prefix><pid>-...``,
    untouched for ``max_age_s`` and not owned by a live process on this machine (a folder named
    by an older camfind has no owner). ``prefix``: also the private folders of analysis workers
    in the temporary folder (:data:`WORKER_PREFIX`).

    Returns the folders removed (each is logged).
    """
    if not root.is_dir():
        return []
    now = _time.time() if now is None else now
    removed = []
    for folder in sorted(root.glob(f"{prefix}*")):
        try:
            if not folder.is_dir() or folder.is_symlink():
                continue
            age = now - folder.lstat().st_mtime
        except OSError:
            continue
        if age < max_age_s or _owner_alive(folder.name, prefix):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
            log.warning("removed %s, a snapshot staging folder left by an analysis that was stopped "
                        "(untouched for %.0f min); no index row pointed at it", folder, age / 60)
    return removed


def _owner_alive(name: str, prefix: str = STAGING_PREFIX) -> bool:
    """True when the staging folder ``name`` belongs to a process that still runs here."""
    head = name[len(prefix):].split("-", 1)[0]
    if not head.isdigit() or len(head) >= 12 or int(head) == 0:  # older name: <clip sha256[:12]>-<random>
        return False
    try:
        os.kill(int(head), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process: leave its folder alone
    return True
