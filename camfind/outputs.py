"""Output files written atomically: a file appears whole under its name, or not at all.

Everything camfind writes for an investigator (timelines, hit lists, route reports, caches) is
written to a hidden temporary file beside the target and renamed over it only once complete, so a
full disk, a crash or Ctrl-C never leaves a truncated output or destroys the previous one, and the
temporary file is removed whatever happens (even where removing it fails in turn, the first error
is the one reported).

A target that already exists and is not a regular file is never renamed over: a character device
(``/dev/null``, ``/dev/full``, a terminal) or a named pipe is written directly, as a shell
redirection would, and every write is checked (a full device is an error, never a success); a
block device or a socket is refused. A symbolic link is followed: its target is what gets written.

>>> import pathlib, tempfile
>>> target = pathlib.Path(tempfile.mkdtemp()) / "hits.csv"
>>> write_atomic(target, "plate\\n51F12345\\n")
>>> target.read_text()
'plate\\n51F12345\\n'
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from camfind.errors import InputError

logger = logging.getLogger(__name__)


def partial_path(dest: Path) -> Path:
    """The temporary name ``dest`` is written under (hidden, beside it, unique to this process)."""
    return dest.with_name(f".{dest.name}.{os.getpid()}.partial")


@contextlib.contextmanager
def atomic_output(path: str | Path, *, binary: bool = False, newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file to write ``path``'s new content; it replaces ``path`` when the block ends.

    Text is UTF-8 (``newline`` as for :func:`open`). If the block raises (a full disk, Ctrl-C),
    the temporary file is removed, ``path`` is left as it was, and the error goes on; an
    ``OSError`` raised without a file name (``write()`` on a full disk) is given ``path``'s, so
    the message names the output that did not fit. A ``path`` that is a device or a named pipe
    is written directly (see the module's notes); a link is followed to its target.

    Raises:
        InputError: ``path`` is a folder, a block device or a socket.
        OSError: the folder cannot be created or written, the disk (or device) is full...
    """
    dest = Path(path)
    if dest.is_dir():
        raise InputError(f"{dest} is a folder: give a file name to write")
    if _special(dest):  # stat follows links, /proc/self/fd/N ones (/dev/stdout) included
        with _direct_output(dest, binary=binary, newline=newline) as f:
            yield f
        return
    real = Path(os.path.realpath(dest)) if dest.is_symlink() else dest
    real.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(real)
    try:
        if binary:
            with tmp.open("wb") as f:
                yield f
        else:
            with tmp.open("w", encoding="utf-8", newline=newline) as f:
                yield f
        _refuse_special_now(real, dest)
        os.replace(tmp, real)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # a read-only or vanished folder: the first error matters
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            _name_output(exc, tmp, dest)
        raise
    logger.debug("wrote %s", dest)


def _special(dest: Path) -> bool:
    """True for an existing target that is a character device or a named pipe (written directly).

    Raises:
        InputError: a block device or a socket (writing a report there is never what was meant).
    """
    try:
        mode = os.stat(dest).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISREG(mode):
        return False
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    if stat.S_ISDIR(mode):
        raise InputError(f"{dest} is a folder: give a file name to write")
    kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
    raise InputError(f"{dest} is {kind}: camfind writes only to regular files, character devices and pipes; "
                     "give a file name")


def _refuse_special_now(real: Path, dest: Path) -> None:
    """Just before the rename: a device or pipe put in the target's place meanwhile is never replaced."""
    try:
        mode = os.lstat(real).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise InputError(f"{dest} stopped being a regular file while it was written; nothing was replaced")


@contextlib.contextmanager
def _direct_output(dest: Path, *, binary: bool, newline: str | None) -> Iterator[IO[Any]]:
    """Write a device or a pipe in place: never created, truncated or replaced; every write checked.

    Buffered writes that the device refuses (``/dev/full``) raise when written or flushed, and the
    error names ``dest``; a block that raised leaves the error to its caller, never a success.
    """
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        exc.filename = str(dest)
        raise
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for a file meanwhile: would write unatomically
            raise InputError(f"{dest} became a regular file while it was opened; run the command again")
        f: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline=newline)
    except BaseException:
        os.close(fd)
        raise
    try:
        with f:
            yield f
            f.flush()
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(dest)
        raise
    logger.debug("wrote %s directly (not a regular file)", dest)


def _name_output(exc: OSError, tmp: Path, dest: Path) -> None:
    """Make the error name the output the user asked for, not the temporary file."""
    if exc.filename is None or (exc.filename == str(tmp) and exc.filename2 is None):
        exc.filename = str(dest)


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, binary=isinstance(data, bytes)) as f:
        f.write(data)
