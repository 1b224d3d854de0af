"""`backup_index`: a consistent, self-contained, checked copy of a live index; never over a file."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfind.errors import DamagedIndexError, EvidenceError
from camfind.index import Index
from camfind.index.backup import backup_index, integrity_problems
from camfind.types import Camera


@pytest.fixture
def index(index_path: Path) -> Iterator[Index]:
    """An SQLite index file: these tests are about SQLite's files (PostgreSQL's: test_postgres.py)."""
    idx = Index.open(index_path, create=True)
    yield idx
    idx.close()


def test_backup_of_a_live_index_is_consistent_and_self_contained(index: Index, index_path: Path,
                                                                 tmp_path: Path) -> None:
    index.writer.upsert_cameras([Camera("CAM01", 10.77, 106.70)])
    other = sqlite3.connect(index_path, isolation_level=None)  # another process, mid-transaction
    try:
        other.execute("PRAGMA wal_autocheckpoint=0")
        other.execute("INSERT INTO meta (key, value) VALUES ('committed', 'in the -wal only')")
        assert Path(f"{index_path}-wal").stat().st_size > 0
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO meta (key, value) VALUES ('uncommitted', 'x')")
        copy = backup_index(index, tmp_path / "b" / "case-backup.db")
    finally:
        other.close()
    assert copy.sha256 == hashlib.sha256(copy.path.read_bytes()).hexdigest() and copy.bytes == copy.path.stat().st_size
    con = sqlite3.connect(copy.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        keys = {k for (k,) in con.execute("SELECT key FROM meta")}
        assert "committed" in keys and "uncommitted" not in keys
        assert con.execute("SELECT id FROM cameras").fetchall() == [("CAM01",)]
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()
    assert sorted(p.name for p in copy.path.parent.iterdir()) == ["case-backup.db"]


def test_backup_never_overwrites(index: Index, index_path: Path, tmp_path: Path) -> None:
    existing = tmp_path / "old.db"
    existing.write_bytes(b"an older backup")
    for dest, why in ((existing, "already exists"), (index_path, "is the index"),
                      (Path(f"{index_path}-wal"), "a file SQLite keeps beside it")):
        with pytest.raises(EvidenceError, match=why):
            backup_index(index, dest)
    assert existing.read_bytes() == b"an older backup"


def _damage_table(path: Path, table: str) -> None:
    con = sqlite3.connect(path)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    con.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(bytes((i * 97 + 13) % 256 for i in range(page_size)))


def test_a_damaged_index_is_found_and_not_backed_up(index_path: Path, tmp_path: Path) -> None:
    idx = Index.open(index_path, create=True)
    idx.writer.upsert_cameras([Camera(f"CAM{n:02d}", 10.77, 106.70, name="x" * 500) for n in range(40)])
    assert integrity_problems(idx) == []
    idx.close()
    _damage_table(index_path, "cameras")
    idx = Index.open(index_path)
    try:
        assert integrity_problems(idx) and integrity_problems(idx, quick=True)
        with pytest.raises(DamagedIndexError, match="is damaged .* restore it from a backup"):
            backup_index(idx, tmp_path / "copy.db")
    finally:
        idx.close()
    assert not (tmp_path / "copy.db").exists() and not list(tmp_path.glob(".copy.db.*"))
