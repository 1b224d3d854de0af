"""The audit log covers every registered clip (even after SIGKILL), keeps names that are not
UTF-8, and has an anchor outside the index: the head printed by every command that writes,
recorded in packages, and checked by `audit --check --expect HASH`, with the append-only triggers."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_run import rows, run, run_json
from clipfactory import CAMERAS_CSV, write_clip
from street_db import make_street_db

from camfind.index.writer import audit_hash

HEAD = re.compile(r"audit head ([0-9a-f]{64}) \(entry (\d+)\)")


@pytest.fixture(scope="module")
def street_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The street index as an SQLite file: these tests copy and kill its file (PostgreSQL's audit
    chain: tests/index/test_postgres.py)."""
    return make_street_db(tmp_path_factory.mktemp("street"))


@pytest.fixture
def case(index_path: Path, tmp_path: Path) -> Path:
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    assert run("cameras", "import", tmp_path / "cameras.csv").exit_code == 0
    return index_path


def _head(stderr: str) -> str:
    found = HEAD.search(stderr)
    assert found, stderr
    return found.group(1)


def test_every_clip_registered_before_a_sigkill_is_in_an_audit_entry(case: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bulk" / "CAM01"
    for i in range(40):
        write_clip(folder / f"ch01_202401251{i // 60:01d}{i % 60:02d}00.mp4", seed=i, frames=20)
    proc = subprocess.Popen([sys.executable, "-m", "camfind", "ingest", str(folder.parent), "--no-analyze"],
                            env={**os.environ, "CAMFIND_DB": str(case)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not _count(case):
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    clips = rows(case, "SELECT id, sha256, path FROM clips ORDER BY id")
    assert 1 <= len(clips) < 40, "the kill landed too late"
    audited = {json.loads(c)["clip_id"]: json.loads(c) for (c,) in
               rows(case, "SELECT counts_json FROM audit WHERE command = 'register clip'")}
    for clip_id, sha, path in clips:
        assert audited[clip_id]["sha256"] == sha and audited[clip_id]["path"] == path
    assert run("audit", "--check").exit_code == 0


def _count(db: Path) -> int:
    try:
        con = sqlite3.connect(db, timeout=0.05)
        try:
            return int(con.execute("SELECT COUNT(*) FROM clips").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def test_a_name_that_is_not_utf8_keeps_its_audit_entry(case: Path) -> None:
    name = os.fsdecode(b"/exports/CAM01/c\xe0m\xe9ra_01.mp4")  # a legacy code page's bytes
    result = run("search", "--camera", name)
    assert isinstance(result.exception, SystemExit), result.exception
    args = json.loads(rows(case, "SELECT args_json FROM audit ORDER BY id DESC LIMIT 1")[0][0])
    assert os.fsencode(args["argv"][-1]) == b"/exports/CAM01/c\xe0m\xe9ra_01.mp4"
    listed = run_json("audit")
    assert os.fsencode(listed[-1]["args"][-1]) == os.fsencode(name)
    for fmt in ((), ("--csv",)):
        shown = run("audit", *fmt)
        assert shown.exit_code == 0 and "ra_01.mp4" in shown.stdout, shown.exception
    assert run("audit", "--check").exit_code == 0


def test_the_head_anchors_the_chain(case: Path, tmp_path: Path) -> None:
    older = tmp_path / "older.db"
    shutil.copyfile(case, older)
    linked = run("cameras", "link", "CAM01", "CAM03", "--meters", "120")
    head = _head(linked.stderr)
    assert "audit head" not in run("clips").stderr, "a command that writes nothing prints no head"
    ok = run("audit", "--check", "--expect", head, "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["expected_found"] is True

    con = sqlite3.connect(case)  # rewrite history: drop the guard, edit entry 2, recompute every hash
    con.execute("DROP TRIGGER audit_no_update")
    entries = con.execute("SELECT id, ts, user, command, args_json, counts_json FROM audit ORDER BY id").fetchall()
    prev = "0" * 64
    for eid, ts, user, command, args, counts in entries:
        if eid == 2:
            counts = json.dumps({"outcome": "ok", "meters": 999})
        digest = audit_hash(prev, ts, user, command, args, counts)
        con.execute("UPDATE audit SET counts_json = ?, prev_hash = ?, hash = ? WHERE id = ?",
                    (counts, prev, digest, eid))
        prev = digest
    con.commit()
    guard = run("audit", "--check", "--json")
    assert guard.exit_code == 1 and "audit_no_update is missing" in json.loads(guard.stdout)["reason"]
    con.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
                "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END")
    con.commit()
    con.close()
    assert run("audit", "--check").exit_code == 0, "a rewritten chain is consistent with itself"
    rewritten = run("audit", "--check", "--expect", head)
    assert rewritten.exit_code == 1 and "is not in the chain" in rewritten.stdout

    shutil.copyfile(older, case)  # an older copy of the index put back
    restored = run("audit", "--check", "--expect", head.upper())
    assert restored.exit_code == 1 and "older copy" in restored.stdout
    bad = run("audit", "--check", "--expect", "abc")
    assert bad.exit_code == 2 and "64 hexadecimal digits" in bad.stderr


def test_a_changed_guard_fails_the_check(case: Path) -> None:
    con = sqlite3.connect(case)
    con.execute("DROP TRIGGER audit_no_delete")
    con.execute("CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit WHEN 0 BEGIN SELECT RAISE(ABORT, 'x'); END")
    con.commit()
    con.close()
    result = run("audit", "--check")
    assert result.exit_code == 1 and "audit_no_delete was changed" in result.stdout


def test_packages_record_the_head(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "case.db"
    shutil.copyfile(db, copy)
    monkeypatch.setenv("CAMFIND_DB", str(copy))
    pkg = tmp_path / "pkg"
    result = run("export", "timeline", "--plate", "51F-123.45", "--package", pkg, "--margin", "0")
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((pkg / "manifest.json").read_text(encoding="utf-8"))
    last = json.loads((pkg / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert manifest["audit_head"] == {"id": last["id"], "hash": last["hash"]}
    assert last["hash"] in (pkg / "README.txt").read_text(encoding="utf-8")
    prev, digest = rows(copy, "SELECT prev_hash, hash FROM audit WHERE command = 'export timeline'")[-1]
    assert prev == last["hash"] and _head(result.stderr) == digest
