"""Derived images (track, plate and face snapshots): written once, hashed, traceable.

Files are named ``<clip sha256[:12]>/<frame>_<kind>_<track>.jpg`` under the snapshot folder
(``settings.snapshot_dir``, else ``snapshots/`` beside the index file). One analysis run writes
into a staging folder first and moves its files into place only when the run is written to the
index (:meth:`SnapshotStore.commit`), so a failed re-analysis never overwrites the files that
the previous run's rows (and their hashes) point at.

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
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from camfind.errors import InputError
from camfind.types import Box, Snapshot

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("track", "plate", "face")
JPEG_QUALITY = 92


def default_snapshot_dir(index_path: str, snapshot_dir: str | None) -> Path:
    """Where snapshots go: the configured folder, else ``snapshots/`` beside the index file."""
    if snapshot_dir:
        return Path(snapshot_dir).expanduser().resolve()
    if index_path == ":memory:":
        return (Path.cwd() / "snapshots").resolve()
    return (Path(index_path).expanduser().resolve().parent / "snapshots").resolve()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SnapshotStore:
    """Writes one clip's snapshots for one analysis run (staged until :meth:`commit`).

    Staged files have private names; each maps to its final, traceable name, which can still
    change (:meth:`retag`) when linking gives a fragment its final track number.
    """

    def __init__(self, root: str | os.PathLike[str], clip_sha256: str, clip_id: int) -> None:
        self.root = Path(root)
        self.folder = self.root / clip_sha256[:12]
        self.clip_id = clip_id
        self._stage = self.root / f".staging-{clip_sha256[:12]}-{uuid.uuid4().hex[:8]}"
        self._files: dict[str, str] = {}  # final path -> staged file name
        self._count = 0

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
        self._count += 1
        staged = f"{self._count}.jpg"
        try:
            self._stage.mkdir(parents=True, exist_ok=True)
            (self._stage / staged).write_bytes(data)
        except OSError as exc:
            raise InputError(f"cannot write snapshots under {self.root}: {exc.strerror}") from None
        final = self._free(f"{frame}_{kind}_{'p' if provisional else ''}{track_no}")
        self._files[final] = staged
        return Snapshot(
            clip_id=self.clip_id, frame=frame, time=time, path=final,
            sha256=hashlib.sha256(data).hexdigest(), kind=kind, box=box,
        )

    def _free(self, stem: str) -> str:
        """A final path for ``stem`` no other snapshot of this run has taken."""
        final, n = str(self.folder / f"{stem}.jpg"), 2
        while final in self._files:
            final, n = str(self.folder / f"{stem}-{n}.jpg"), n + 1
        return final

    def retag(self, snap: Snapshot, track_no: int) -> Snapshot:
        """The same snapshot under another track number (after fragments are linked)."""
        frame, kind, _ = Path(snap.path).name[: -len(".jpg")].split("_", 2)
        staged = self._files.pop(snap.path)
        final = self._free(f"{frame}_{kind}_{track_no}")
        self._files[final] = staged
        return replace(snap, path=final)

    def drop(self, snap: Snapshot) -> None:
        """Forget a staged snapshot no row will point at."""
        staged = self._files.pop(snap.path, None)
        if staged is not None:
            (self._stage / staged).unlink(missing_ok=True)

    def commit(self) -> None:
        """Move this run's files into place, replacing what an earlier run of the clip left."""
        self.folder.mkdir(parents=True, exist_ok=True)
        keep = {Path(p).name for p in self._files}
        for old in self.folder.glob("*.jpg"):
            if old.name not in keep:
                old.unlink()
        for final, staged in self._files.items():
            os.replace(self._stage / staged, final)
        self.discard()

    def discard(self) -> None:
        """Drop the staged files (a failed run leaves the previous run's files untouched)."""
        shutil.rmtree(self._stage, ignore_errors=True)
