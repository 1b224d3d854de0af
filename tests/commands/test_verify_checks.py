"""`camfind verify` checks the index itself (SQLite's integrity check) and every snapshot's hash,
not only the clips."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_run import rows, run, run_json

#: These tests copy or damage the index file itself.
pytestmark = pytest.mark.sqlite_file



@pytest.fixture
def copy(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "case.db"
    shutil.copyfile(db, path)
    monkeypatch.setenv("CAMFIND_DB", str(path))
    return path


def test_a_changed_or_missing_snapshot_fails_verify(copy: Path) -> None:
    clean = run_json("verify")
    assert clean["snapshots"]["checked"] > 2 and clean["snapshots"]["ok"] == clean["snapshots"]["checked"]
    first, second = (Path(p) for (p,) in rows(copy, "SELECT DISTINCT path FROM snapshots ORDER BY id LIMIT 2"))
    original = first.read_bytes()
    moved = second.with_name(second.name + ".away")
    try:
        data = bytearray(original)
        data[len(data) // 2] ^= 0x01
        first.write_bytes(bytes(data))
        second.rename(moved)
        result = run("verify", "--json")
        assert result.exit_code == 1, result.stdout
        report = run_json("verify")
        assert report["snapshots"]["changed"] == [str(first)] and report["snapshots"]["missing"] == [str(second)]
        assert report["changed"] == [] and report["missing"] == [] and report["ok"] == report["checked"]
        text = run("verify")
        assert "CHANGED: snapshot of clip" in text.stdout and str(first) in text.stdout
    finally:
        first.write_bytes(original)
        if moved.exists():
            moved.rename(second)
    assert run("verify").exit_code == 0


def test_a_damaged_index_fails_verify_in_one_line(copy: Path) -> None:
    con = sqlite3.connect(copy)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'snapshots_clip'").fetchone()[0]
    con.close()
    with copy.open("r+b") as f:  # an index b-tree no listing reads: every other command still works
        f.seek((root - 1) * page_size)
        f.write(bytes((i * 31 + 7) % 256 for i in range(page_size)))
    assert run("clips").exit_code == 0
    result = run("verify")
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"the index {copy} is damaged" in lines[0] and "integrity check" in lines[0]
    assert "restore it from a backup" in lines[0] and "Traceback" not in result.stderr
