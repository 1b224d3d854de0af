"""Output options (``export timeline --out``, ``trace --html/--geojson``, ``plates batch --out``)
never replace what is not a regular file, and never report success for bytes not written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cli_run import run

COMMANDS = {
    "export": ("export", "timeline", "--camera", "B", "--out"),
    "html": ("trace", "--plate", "51F-123.45", "--html"),
    "geojson": ("trace", "--plate", "51F-123.45", "--geojson"),
    "batch": ("plates", "batch", "{watchlist}", "--out"),
}


def _args(name: str, tmp_path: Path, target: Path) -> list[str]:
    watchlist = tmp_path / "watch.csv"
    watchlist.write_text("plate\n51F*\n", encoding="utf-8")
    return [a.format(watchlist=watchlist) for a in COMMANDS[name]] + [str(target)]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_full_device_fails_in_one_line_and_is_not_replaced(db: Path, tmp_path: Path, name: str) -> None:
    link = tmp_path / "out"
    link.symlink_to("/dev/full")
    result = run(*_args(name, tmp_path, link))
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and str(link) in lines[0], result.stderr
    assert "wrote" not in result.stderr and "Traceback" not in result.stderr
    assert link.is_symlink() and os.readlink(link) == "/dev/full" and stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_named_pipe_receives_the_output_and_stays_a_pipe(db: Path, tmp_path: Path, name: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with fifo.open("rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    result = run(*_args(name, tmp_path, fifo))
    thread.join(20)
    assert result.exit_code == 0, result.stderr
    assert got and len(got[0]) > 20 and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_dev_stdout_into_a_pipe(db: Path) -> None:
    """--out /dev/stdout with standard output a pipe (a link to pipe:[N]): written through."""
    proc = subprocess.run([sys.executable, "-m", "camfind", "export", "timeline", "--camera", "B", "--out",
                           "/dev/stdout"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CAMFIND_DB": str(db)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("time_local,") and len(proc.stdout.splitlines()) == 4
