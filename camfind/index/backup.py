"""A consistent copy of a live index, with SQLite's online backup API, and the index's integrity check.

Copying the index file with ``cp`` while a command runs can catch it half-written, and misses
what is still in its ``-wal`` file; :func:`backup_index` copies the database as one consistent
snapshot (committed transactions only, the ``-wal`` included) into a single self-contained file,
checks the copy with SQLite's integrity check and hashes it.

>>> import pathlib, tempfile
>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> copy = backup_index(idx, pathlib.Path(tempfile.mkdtemp()) / "case-backup.db")
>>> len(copy.sha256), integrity_problems(idx)
(64, [])
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from camfind.errors import EvidenceError, InputError
from camfind.index.storage import damaged_index, is_damage_error

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)
#: How many problems ``PRAGMA integrity_check`` reports at most.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Backup:
    """A backup written by :func:`backup_index`: its file, SHA-256, size and SQLite pages."""

    path: Path
    sha256: str
    bytes: int
    pages: int


def integrity_problems(index: Index, *, quick: bool = False) -> list[str]:
    """What SQLite's integrity check finds wrong with the index (empty when it is sound).

    ``quick`` runs ``quick_check`` (no index-content cross-check: faster on a large index). A check
    that cannot even read the file is one problem naming SQLite's error. A PostgreSQL case has
    no file to check: the server keeps its own pages' checksums and the schema's constraints.
    """
    if index.dialect == "postgresql":
        return []
    return _check(cast(sqlite3.Connection, index.db), quick=quick)


def _check(db: sqlite3.Connection, *, quick: bool) -> list[str]:
    pragma = "quick_check" if quick else "integrity_check"
    try:
        rows = [str(r[0]) for r in db.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})")]
    except sqlite3.DatabaseError as exc:
        if not is_damage_error(exc):
            raise
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def backup_index(index: Index, dest: str | Path) -> Backup:
    """Copy the live index to ``dest``, a new file, as one consistent snapshot; check and hash it.

    The copy is made beside ``dest`` under a hidden name and linked into place only once whole and
    sound, so ``dest`` never holds a partial copy and an existing file is never overwritten.

    Raises:
        InputError: ``dest`` is a folder.
        EvidenceError: ``dest`` exists, or is the index itself (or a file SQLite keeps beside it), a
            registered clip or a snapshot.
        DamagedIndexError: the copy fails SQLite's integrity check (the index is damaged).
    """
    from camfind.custody import evidence_at
    from camfind.evidence import sha256_file

    target = Path(dest)
    if target.is_dir():
        raise InputError(f"{target} is a folder: give the name of the backup file to create")
    what = evidence_at(index, target)
    if what is not None:
        raise EvidenceError(f"{target} is {what}: a backup never overwrites evidence or the index; choose a new file")
    if target.exists() or target.is_symlink():
        raise EvidenceError(f"{target} already exists: a backup never overwrites a file; choose a new name")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        pages, problems = _copy_case(index, tmp) if index.dialect == "postgresql" else _copy(index, tmp)
        if problems:
            raise damaged_index(index.path, "; ".join(problems[:3]))
        sha, size = sha256_file(tmp)
        os.link(tmp, target)  # fails if dest appeared meanwhile: never overwritten
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    logger.info("backed up %s to %s (%d bytes, %d pages)", index.path, target, size, pages)
    return Backup(target, sha, size, pages)


def _copy_case(index: Index, tmp: Path) -> tuple[int, list[str]]:
    """A PostgreSQL case backed up as an SQLite file: every row copied and checked
    (:func:`camfind.index.copy.copy_index`), so the backup opens anywhere camfind runs."""
    from camfind.index.copy import copy_index

    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    copy_index(index, str(tmp))
    copy = sqlite3.connect(tmp, isolation_level=None)
    try:
        copy.execute("PRAGMA journal_mode=DELETE")
        return int(copy.execute("PRAGMA page_count").fetchone()[0]), _check(copy, quick=False)
    finally:
        copy.close()


def _copy(index: Index, tmp: Path) -> tuple[int, list[str]]:
    """Back the index up into ``tmp`` (one step: one read snapshot) as a file without a journal."""
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    copy = sqlite3.connect(tmp, isolation_level=None)
    try:
        try:
            cast(sqlite3.Connection, index.db).backup(copy)
        except sqlite3.DatabaseError as exc:
            if is_damage_error(exc):
                raise damaged_index(index.path, exc) from None
            raise
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file: no -wal to carry along
        pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
        return pages, _check(copy, quick=False)
    finally:
        copy.close()
