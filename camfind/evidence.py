"""Evidence files read-only, and their SHA-256 in one pass that the prober can share (shared by
ingest, verification, extracts and stills: nothing here knows about ingest or the index).

:class:`HashingReader` is a read-only file object that hashes bytes as they are read in file
order, so a demuxer reading through it (PyAV) hashes the file while probing it; whatever the
demuxer skipped is hashed afterwards by :meth:`HashingReader.finish`. Bytes it re-reads after a
seek are not hashed twice, and bytes read ahead of the hashed prefix (an index at the end of an
MP4) are hashed in order later, so the digest always equals ``sha256sum``'s.

>>> import tempfile, hashlib
>>> with tempfile.NamedTemporaryFile(delete=False) as f:
...     _ = f.write(b"evidence" * 1000)
>>> digest, size = sha256_file(f.name)
>>> digest == hashlib.sha256(b"evidence" * 1000).hexdigest(), size
(True, 8000)
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

CHUNK = 1 << 20  # 1 MiB reads: the OpenSSL hash runs at its full speed with these
#: Where this machine finds evidence registered elsewhere: ``REGISTERED=LOCAL`` folder pairs,
#: separated by ``;`` (a shared case's clips were registered on the machine that ingested them).
PATH_MAP_VAR = "CAMFIND_PATH_MAP"


def path_map(text: str | None = None) -> list[tuple[str, str]]:
    """The folder pairs of ``$CAMFIND_PATH_MAP`` (or ``text``), longest registered prefix first.

    >>> path_map("/srv/evidence=/mnt/case7; /srv/evidence/cam2=/media/usb")
    [('/srv/evidence/cam2', '/media/usb'), ('/srv/evidence', '/mnt/case7')]
    """
    raw = os.environ.get(PATH_MAP_VAR, "") if text is None else text
    pairs = []
    for item in raw.split(";"):
        registered, sep, local = item.strip().partition("=")
        if sep and registered.strip() and local.strip():
            pairs.append((registered.strip().rstrip("/") or "/", local.strip().rstrip("/") or "/"))
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)


def local_path(path: str, pairs: list[tuple[str, str]] | None = None) -> str:
    """Where this machine finds a file registered at ``path`` (``path`` itself unless a folder
    of :data:`PATH_MAP_VAR` holds it).

    >>> local_path("/srv/evidence/cam2/a.mp4", [("/srv/evidence", "/mnt/case7")])
    '/mnt/case7/cam2/a.mp4'
    >>> local_path("/srv/evidencex/a.mp4", [("/srv/evidence", "/mnt/case7")])
    '/srv/evidencex/a.mp4'
    """
    for registered, local in path_map() if pairs is None else pairs:
        if path == registered or path.startswith(registered.rstrip("/") + "/"):
            return local + path[len(registered):]
    return path


def unreachable(path: str) -> str | None:
    """Why a missing evidence file cannot even be looked for here: its registered folder is not on
    this machine (a shared case ingested elsewhere), or None when the folder is here."""
    here = Path(path).parent
    while not here.exists() and here != here.parent:
        here = here.parent
    if here == Path(path).parent:
        return None
    missing = next(p for p in [Path(path).parent, *Path(path).parents] if p.parent == here)
    return (f"not reachable from this machine ({socket.gethostname()}): its folder {missing} is not here; "
            f"map it with {PATH_MAP_VAR}=REGISTERED=LOCAL")


def open_readonly(path: str | Path) -> io.FileIO:
    """Open an evidence file for reading only (unbuffered; never created, truncated or touched).

    Where the system allows it (Linux, for the file's owner) the read does not even update the
    file's access time (``O_NOATIME``); otherwise the file is read normally.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(name, flags | noatime)
    except PermissionError:
        if not noatime:
            raise
        fd = os.open(name, flags)  # O_NOATIME needs ownership (EPERM): read normally
    raw = io.FileIO(fd, "rb", closefd=True)
    raw.name = name  # errors and demuxers show the path, not the descriptor
    return raw


def sha256_file(
    path: str | Path, on_bytes: Callable[[int], None] | None = None, stop: threading.Event | None = None
) -> tuple[str, int]:
    """SHA-256 hex digest and size of a file, read once, read-only.

    ``stop``, when set from another thread, ends the read early (the digest is then partial
    and must be discarded).
    """
    with open_readonly(path) as f:
        reader = HashingReader(f, on_bytes=on_bytes)
        return reader.finish(stop), reader.size


class HashingReader:
    """A read-only, seekable file object that hashes the file as it is read.

    It has no ``write`` and no ``close``: a demuxer given it can neither write nor close the
    evidence file; the caller closes ``raw``.

    Args:
        raw: an open binary file (read-only).
        on_bytes: called with the number of newly hashed bytes (for progress bars).
    """

    def __init__(self, raw: io.FileIO, on_bytes: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self._pos = 0
        self._hashed = 0  # bytes [0, _hashed) are in the digest
        self._on_bytes = on_bytes
        self.size = os.fstat(raw.fileno()).st_size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = self._raw.seek(offset, whence)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size) if size is not None and size >= 0 else self._raw.readall()
        data = data or b""
        self._take(memoryview(data))
        return data

    def _take(self, view: memoryview) -> None:
        """Hash the part of ``view`` (read at ``_pos``) that extends the hashed prefix."""
        start, end = self._pos, self._pos + len(view)
        if start <= self._hashed < end:
            self._hash.update(view[self._hashed - start:])
            if self._on_bytes is not None:
                self._on_bytes(end - self._hashed)
            self._hashed = end
        self._pos = end

    @property
    def hashed_bytes(self) -> int:
        """How much of the file is in the digest so far."""
        return self._hashed

    def finish(self, stop: threading.Event | None = None) -> str:
        """Hash whatever was not read yet, to the end of the file; returns the hex digest."""
        self._raw.seek(self._hashed)
        self._pos = self._hashed
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while True:
            n = self._raw.readinto(buf) or 0
            if not n or (stop is not None and stop.is_set()):
                break
            self._take(view[:n])
        if self._hashed != self.size and not (stop is not None and stop.is_set()):
            logger.warning("file size changed while hashing: %d bytes read, %d expected", self._hashed, self.size)
            self.size = self._hashed
        return self._hash.hexdigest()
