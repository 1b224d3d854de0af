"""Why the disk refused: SQLite and OS storage failures as one line naming the file and the cause.

A full disk, a read-only index, a file-size limit or a busy index is not a bug: the investigator
needs to know which file, why, and that what was already committed is kept. Anything else (a
missing table, a bad SQL statement) is a programming error and is left alone.

>>> import sqlite3
>>> is_storage_error(sqlite3.OperationalError("database or disk is full"))
True
>>> is_storage_error(sqlite3.OperationalError("no such table: clips"))
False
"""

from __future__ import annotations

import errno
import io
import os
import resource
import sqlite3
import sys
from pathlib import Path

from camfind.errors import DamagedIndexError, StorageError

#: Fragments of SQLite messages that mean the disk or the file refused, not a bug.
_SQLITE_STORAGE = (
    "database or disk is full",
    "disk i/o error",
    "readonly database",
    "unable to open database file",
    "database is locked",
)

#: OS errors that are the user's or the machine's, with what to do about them.
OS_HINTS: dict[int, str] = {
    errno.ENOSPC: "free some space and run the command again",
    errno.EDQUOT: "free some space and run the command again",
    errno.EFBIG: "over the file system's limit or the file-size limit (ulimit -f)",
    errno.EROFS: "choose a writable folder",
    errno.EACCES: "choose a folder you may write to, or fix the permissions",
    errno.EPERM: "choose a folder you may write to, or fix the permissions",
    errno.EIO: "failing disk or removed drive?",
    errno.EISDIR: "",
    errno.ENOTDIR: "",
    errno.ENOENT: "",
    errno.EEXIST: "",
    errno.ENAMETOOLONG: "",
    errno.ELOOP: "",
}
#: Of those, the ones that say nothing about a path unless the error names one.
_PATH_ONLY = {errno.EISDIR, errno.ENOTDIR, errno.ENOENT, errno.EEXIST, errno.ENAMETOOLONG, errno.ELOOP}
_LOW_SPACE_BYTES = 1 << 20


def is_storage_error(exc: BaseException) -> bool:
    """True for an SQLite error meaning the disk or the index file refused (full, read-only, locked)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return any(fragment in text for fragment in _SQLITE_STORAGE)


#: SQLite's result codes for a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
_DAMAGE_CODES = frozenset({11, 26})
_DAMAGE_TEXT = ("malformed", "file is not a database", "database corruption")


def is_damage_error(exc: BaseException) -> bool:
    """True for an SQLite error meaning the index file itself is damaged (not a bug, not the disk).

    >>> is_damage_error(sqlite3.DatabaseError("database disk image is malformed"))
    True
    """
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _DAMAGE_CODES:
        return True
    text = str(exc).lower()
    return any(fragment in text for fragment in _DAMAGE_TEXT)


def damaged_index(path: str, detail: object) -> DamagedIndexError:
    """The one line for a damaged index: which file, what SQLite found, and what to do."""
    return DamagedIndexError(
        f"the index {path} is damaged (SQLite: {str(detail).strip() or 'integrity check failed'}): stop writing "
        "to it and restore it from a backup copy (camfind index backup DEST makes one of a healthy index)"
    )


def index_problem(path: str, exc: BaseException, *, doing: str = "write") -> StorageError:
    """A :class:`StorageError` naming the index file and, where it can be told, why it refused."""
    text = str(exc).lower()
    if "locked" in text:
        return StorageError(
            f"the index {path} is locked by another program (a camfind command still running?): "
            "wait for it to finish and run the command again"
        )
    why = readonly_reason(Path(path)) or _space_reason(Path(path), text) or _fallback_reason(text, str(exc))
    return StorageError(f"cannot {doing} the index {path}: {why}; what was already committed is kept")


def readonly_reason(path: Path) -> str | None:
    """Why ``path`` (a file or one to be created) cannot be written, or None if it looks writable.

    SQLite needs to write both the index file and its folder (it keeps ``-wal``/``-shm`` files
    beside it), so both are checked.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if _read_only_mount(folder):
        return "it is on a read-only file system; camfind records every command in the index's audit log, " \
            "so the index must be writable: copy it to a writable folder"
    for target in (path, folder):
        if target.exists() and not os.access(target, os.W_OK):
            kind = "folder" if target.is_dir() else "file"
            return f"no permission to write the {kind} {target}; camfind records every command in the " \
                "index's audit log, so the index must be writable: copy it to a writable folder or fix the permissions"
    return None


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _space_reason(path: Path, text: str) -> str | None:
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY and ("full" in text or "i/o" in text):
        return f"the file-size limit (ulimit -f) of {limit} bytes was reached"
    try:
        stat = os.statvfs(path.parent if str(path.parent) else ".")
    except OSError:
        return None
    free = stat.f_bavail * stat.f_frsize
    if free < _LOW_SPACE_BYTES or "full" in text:
        return f"the disk is full ({free // 1024} KiB free): free some space and run the command again"
    return None


def _fallback_reason(text: str, original: str) -> str:
    if "i/o" in text:
        return "disk input/output error (failing disk or removed drive?)"
    if "unable to open" in text:
        return "SQLite cannot open it (does its folder exist, and may you write there?)"
    return original


def os_problem(exc: OSError) -> StorageError | None:
    """The OS error as one line naming its file, or None when it is not a storage/path problem."""
    code = exc.errno
    if code not in OS_HINTS or (code in _PATH_ONLY and not exc.filename):
        return None
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f) or file_being_written(exc) or ""
    text = exc.strerror or str(exc)
    hint = OS_HINTS[code]
    return StorageError(f"{where + ': ' if where else ''}{text}{'; ' + hint if hint else ''}")


def file_being_written(exc: BaseException) -> str | None:
    """The name of the file open for writing nearest to where ``exc`` was raised, if any.

    A full disk raises ``OSError(ENOSPC)`` from ``write()``/``close()`` without a file name; the
    frame that called it still holds the open file, whose name tells the investigator which
    output did not fit. Frames are searched innermost first; standard streams are ignored.
    """
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            name = getattr(value, "name", None)
            mode = getattr(value, "mode", None)
            if (isinstance(value, io.IOBase) and isinstance(name, str) and isinstance(mode, str)
                    and any(m in mode for m in "wax+") and value not in (sys.stdout, sys.stderr)):
                return name
    return None
