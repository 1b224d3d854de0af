"""Output files written atomically: a file appears whole under its name, or not at all.

Everything camfind writes for an investigator (timelines, hit lists, route reports, caches) is
written to a hidden temporary file beside the target and renamed over it only once complete, so a
full disk, a crash or Ctrl-C never leaves a truncated output or destroys the previous one, and the
temporary file is removed whatever happens (even where removing it fails in turn, the first error
is the one reported).

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
    the message names the output that did not fit.

    Raises:
        InputError: ``path`` is a folder.
        OSError: the folder cannot be created or written, the disk is full...
    """
    dest = Path(path)
    if dest.is_dir():
        raise InputError(f"{dest} is a folder: give a file name to write")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(dest)
    try:
        if binary:
            with tmp.open("wb") as f:
                yield f
        else:
            with tmp.open("w", encoding="utf-8", newline=newline) as f:
                yield f
        os.replace(tmp, dest)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # a read-only or vanished folder: the first error matters
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            _name_output(exc, tmp, dest)
        raise
    logger.debug("wrote %s", dest)


def _name_output(exc: OSError, tmp: Path, dest: Path) -> None:
    """Make the error name the output the user asked for, not the temporary file."""
    if exc.filename is None or (exc.filename == str(tmp) and exc.filename2 is None):
        exc.filename = str(dest)


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, binary=isinstance(data, bytes)) as f:
        f.write(data)
