"""A damaged index (pages overwritten) gives every command one line saying to restore it from a
backup, never a traceback; `camfind index backup` makes that backup, audited and hashed."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_run import rows, run

#: These tests copy or damage the index file itself.
pytestmark = pytest.mark.sqlite_file



def _damage_table(path: Path, table: str) -> None:
    """Overwrite the root page of ``table`` with bytes that are no SQLite page."""
    con = sqlite3.connect(path)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    con.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(bytes((i * 97 + 13) % 256 for i in range(page_size)))


@pytest.fixture
def copy(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "case.db"
    shutil.copyfile(db, path)
    monkeypatch.setenv("CAMFIND_DB", str(path))
    return path


@pytest.mark.parametrize(
    ("table", "command"),
    [
        ("clips", ("clips",)),
        ("clips", ("verify",)),
        ("tracks", ("search", "--camera", "B")),
        ("tracks", ("trace", "--plate", "51F-123.45")),
        ("audit", ("audit",)),
        ("cameras", ("cameras", "list", "--json")),
    ],
)
def test_every_command_says_damaged_in_one_line(copy: Path, table: str, command: tuple[str, ...]) -> None:
    _damage_table(copy, table)
    result = run(*command)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"the index {copy} is damaged" in lines[0] and "restore it from a backup" in lines[0]


def test_index_backup(copy: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backups" / "case-1.db"
    result = run("index", "backup", dest, "--json")
    assert result.exit_code == 0, result.stderr
    made = json.loads(result.stdout)
    assert made["sha256"] == hashlib.sha256(dest.read_bytes()).hexdigest() and made["integrity"] == "ok"
    assert rows(dest, "SELECT count(*) FROM clips") == rows(copy, "SELECT count(*) FROM clips")
    command, counts = rows(copy, "SELECT command, counts_json FROM audit ORDER BY id DESC LIMIT 1")[0]
    assert command == "index backup" and json.loads(counts)["sha256"] == made["sha256"]
    assert "audit head" in result.stderr, "a backup is a command that writes: it prints the head"
    before = dest.read_bytes()
    for target in (dest, copy):
        again = run("index", "backup", target)
        assert again.exit_code == 2 and "never overwrites" in again.stderr
    assert dest.read_bytes() == before
