"""`camfind audit`: every command is logged with its counts; edited or removed entries are detected."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_run import rows, run, run_json
from clipfactory import CAMERAS_CSV


@pytest.fixture
def logged(case: str, tmp_path: Path) -> str:
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    run("cameras", "import", tmp_path / "cameras.csv")
    run("cameras", "list")
    run("clips")
    run("cameras", "link", "CAM01", "CAM99")  # fails: still logged, with its outcome
    run("coverage")
    return case


def test_every_command_is_logged(logged: Path) -> None:
    entries = run_json("audit")
    assert [e["command"] for e in entries] == ["cameras import", "cameras list", "clips", "cameras link", "coverage"]
    first = entries[0]
    assert first["counts"]["added"] == 3 and first["user"] and first["time"].endswith("+07:00")
    assert first["args"][:2] == ["cameras", "import"]
    assert entries[3]["counts"]["outcome"].startswith("error: NotFoundError")
    assert len(rows(logged, "SELECT id FROM audit")) == 6, "the audit listing is itself logged"


def test_check_passes_on_an_untouched_log(logged: Path) -> None:
    result = run("audit", "--check")
    assert result.exit_code == 0 and "intact" in result.stdout


def _tamper(db: str, sql: str) -> None:
    """Edit the log behind camfind's back (its guard lifted for the edit, as an intruder would)."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as pg:
            pg.execute("ALTER TABLE audit DISABLE TRIGGER USER")
            pg.execute(sql)
            pg.execute("ALTER TABLE audit ENABLE TRIGGER USER")
        return
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("DROP TRIGGER audit_no_delete")
    con.execute(sql)
    con.commit()
    con.close()


@pytest.mark.parametrize(
    ("sql", "broken", "why"),
    [
        ("UPDATE audit SET \"user\" = 'someone-else' WHERE id = 2", 2, "contents do not match"),
        ("UPDATE audit SET counts_json = '{\"rows\": 0}' WHERE id = 3", 3, "contents do not match"),
        ("DELETE FROM audit WHERE id = 2", 3, "previous-hash does not match"),
    ],
)
def test_check_detects_edits(logged: Path, sql: str, broken: int, why: str) -> None:
    _tamper(logged, sql)
    result = run("audit", "--check", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["first_broken"]) == (False, broken) and why in report["reason"]


def test_audit_needs_an_index(index_path: Path) -> None:
    result = run("audit")
    assert result.exit_code == 2 and "no index" in result.stderr
