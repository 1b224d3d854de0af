"""The CLI edge: which failures become one line on stderr, which keep their traceback.

The machine's refusals (full disk, read-only file system, permission, a locked or full index)
are not bugs: one line naming the file. Anything else is a bug and must keep its traceback, so a
throwaway app on the same edge raises each kind and the outcome is checked. SIGTERM unwinds like
Ctrl-C; standard output that cannot be written is named.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import typer
from cli_run import rows, run
from clipfactory import CAMERAS_CSV, write_clip
from typer.testing import CliRunner

from camfind.cli import _Edge
from camfind.commands._common import jsonable


def _edge_app(action: Callable[[], None]) -> typer.Typer:
    app = typer.Typer(cls=_Edge, add_completion=False, pretty_exceptions_enable=False)

    @app.command("boom")
    def boom() -> None:
        action()

    @app.command("other")
    def other() -> None:  # a second command so that "boom" stays a subcommand
        """Unused."""

    return app


def _full_disk_while_writing(path: Path) -> Callable[[], None]:
    def action() -> None:
        with path.open("w") as f:
            f.write("partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as f.write() raises it: no file name

    return action


def _raise(exc: BaseException) -> Callable[[], None]:
    def action() -> None:
        raise exc

    return action


@pytest.mark.parametrize(
    ("make", "fragments"),
    [
        (lambda tmp: _full_disk_while_writing(tmp / "timeline.csv"), ["timeline.csv", "No space left on device",
                                                                        "free some space"]),
        (lambda tmp: _raise(PermissionError(errno.EACCES, "Permission denied", str(tmp / "out.html"))),
         ["out.html: Permission denied", "fix the permissions"]),
        (lambda tmp: _raise(OSError(errno.EROFS, "Read-only file system", "/media/usb/pkg")),
         ["/media/usb/pkg: Read-only file system", "writable folder"]),
        (lambda tmp: _raise(sqlite3.OperationalError("database or disk is full")), ["cannot write the index"]),
        (lambda tmp: _raise(sqlite3.OperationalError("database is locked")), ["locked by another program"]),
    ],
)
def test_machine_refusals_are_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], Callable[[], None]],
    fragments: list[str],
) -> None:
    monkeypatch.setenv("CAMFIND_DB", str(tmp_path / "case.db"))
    result = CliRunner().invoke(_edge_app(make(tmp_path)), ["boom"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    (line,) = result.stderr.splitlines()
    assert line.startswith("camfind: error: ")
    for fragment in fragments:
        assert fragment in line, line


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("a bug"),
        sqlite3.OperationalError("no such column: plate_txt"),
        OSError(errno.EBADF, "Bad file descriptor"),
        FileNotFoundError(errno.ENOENT, "No such file or directory"),  # no file name: nothing to name
    ],
)
def test_bugs_keep_their_traceback(exc: BaseException) -> None:
    result = CliRunner().invoke(_edge_app(_raise(exc)), ["boom"])
    assert result.exception is exc, "a programming error must not be dressed up as a user mistake"


def test_empty_db_option_is_refused() -> None:
    result = run("--db", "", "clips")
    assert result.exit_code == 2 and "--db" in result.stderr and "empty" in result.stderr


@pytest.fixture
def case(index_path: Path, tmp_path: Path) -> Path:
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    assert run("cameras", "import", tmp_path / "cameras.csv").exit_code == 0
    return index_path


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_stdout_that_cannot_be_written_is_named(case: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "camfind", "cameras", "list", "--json"], stdout=full,
                              stderr=subprocess.PIPE, env={**os.environ, "CAMFIND_DB": str(case)}, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "camfind: error: cannot write to standard output: No space left on device\n"


@pytest.mark.parametrize(
    ("signum", "code", "said", "audited"),
    [(signal.SIGINT, 130, b"camfind: interrupted", "error: KeyboardInterrupt"),
     (signal.SIGTERM, 143, b"camfind: terminated", "error: Terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_signal_mid_ingest_keeps_whole_clips_and_resumes(
    case: Path, tmp_path: Path, signum: int, code: int, said: bytes, audited: str
) -> None:
    """A real signal to a real ingest, made deterministic with the index lock: the ingest waits on
    it after the clips it already has, and the signal lands there."""
    folder = tmp_path / "bulk" / "CAM02"
    n = 12
    for i in range(n):
        write_clip(folder / f"ch01_20240125{12 + i // 60:02d}{i % 60:02d}00.mkv", seed=i, frames=4)
    first = sorted(folder.iterdir())[:4]
    assert run("ingest", *first, "--no-analyze").exit_code == 0
    env = {**os.environ, "CAMFIND_DB": str(case)}
    holder = sqlite3.connect(case, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer: the ingest blocks at its next clip
    try:
        proc = subprocess.Popen([sys.executable, "-m", "camfind", "ingest", str(folder), "--no-analyze"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stderr is not None and b"is locked" in proc.stderr.readline()
        proc.send_signal(signum)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = proc.stderr.read()
    proc.wait(timeout=30)
    assert proc.returncode == code and err.startswith(said) and b"Traceback" not in err, err
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(4,)]
    (outcome,) = rows(case, "SELECT json_extract(counts_json, '$.outcome') FROM audit ORDER BY id DESC LIMIT 1")
    assert outcome[0].startswith(audited), "the interrupted run is in the audit log"
    assert run("ingest", folder, "--no-analyze").exit_code == 0
    assert rows(case, "SELECT COUNT(*), COUNT(DISTINCT sha256) FROM clips") == [(n, n)]


def test_library_warnings_carry_the_prefix() -> None:
    code = ("import logging; from camfind import cli;"
            "cli.app = lambda: logging.getLogger('camfind.x').warning('odd thing %s', 42); cli.main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode() == "camfind: warning: odd thing 42\n"


def test_locked_index_waits_says_so_and_honours_ctrl_c(case: Path) -> None:
    env = {**os.environ, "CAMFIND_DB": str(case)}
    holder = sqlite3.connect(case, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        waiting = [subprocess.Popen([sys.executable, "-m", "camfind", "cameras", "link", "CAM01", "CAM03"],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        for proc in waiting:
            assert proc.stderr is not None
            assert b"locked by another camfind command; waiting" in proc.stderr.readline()
        waiting[0].send_signal(signal.SIGINT)
        began = time.monotonic()
        _, err = waiting[0].communicate(timeout=30)
        assert waiting[0].returncode == 130 and b"interrupted" in err
        assert time.monotonic() - began < 5, "Ctrl-C must not wait for the lock"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, _ = waiting[1].communicate(timeout=30)
    assert waiting[1].returncode == 0 and out.startswith(b"linked CAM01 - CAM03")
    assert rows(case, "SELECT a, b FROM camera_links WHERE a = 'CAM01' AND b = 'CAM03'") == [("CAM01", "CAM03")]


def test_json_output_has_no_nan() -> None:
    value = {"speed_kmh": float("nan"), "bearing": np.float32("inf"), "boxes": np.array([[np.nan, 2.0]]), "ok": 1.5}
    text = json.dumps(jsonable(value), allow_nan=False)  # strict JSON, as other tools parse it
    assert json.loads(text) == {"speed_kmh": None, "bearing": None, "boxes": [[None, 2.0]], "ok": 1.5}
