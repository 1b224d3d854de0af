"""`camfind plates batch`: CSV and JSON out, a summary on stderr, exit 0, bad lists."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TextIO

import pytest
from cli_run import run

HIT_KEYS = {"watch", "plate", "camera_id", "time", "confidence", "snapshot"}


@pytest.fixture
def watchlist(tmp_path: Path) -> Path:
    p = tmp_path / "watch.csv"
    p.write_text("plate,label,note\n51F-123.45,red car,stolen 2024-02-28\n59G1*,bike,\n77A00000,nobody,\n")
    return p


def test_batch_json(db: Path, watchlist: Path) -> None:
    result = run("plates", "batch", watchlist, "--json")
    assert result.exit_code == 0, result.stderr
    hits = json.loads(result.stdout)
    assert all(set(h) >= HIT_KEYS for h in hits)
    assert [(h["watch"], h["camera_id"]) for h in hits] == [
        ("51F-123.45", "A"), ("51F-123.45", "B"), ("59G1*", "B"), ("51F-123.45", "D"), ("51F-123.45", "D")]
    assert hits[0]["time"] == "2024-03-01T10:00:02+07:00" and hits[0]["label"] == "red car"  # the read's time
    assert hits[0]["first_seen"] == "2024-03-01T10:00:01+07:00"
    assert result.stderr.strip() == "3 watchlist entries, 2 with hits, 5 hits at 3 camera(s)"


def test_batch_csv_file_stdout_and_window(db: Path, watchlist: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.csv"
    result = run("plates", "batch", watchlist, "--out", out, "--from", "2024-03-01 10:00:30")
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(out.open()))
    assert set(table[0]) >= HIT_KEYS and [r["camera_id"] for r in table] == ["B", "B", "D", "D"]
    assert "written to" in result.stderr
    stdout = run("plates", "batch", watchlist)
    assert len(list(csv.DictReader(io.StringIO(stdout.stdout)))) == 5


def test_no_hits_is_still_exit_0(db: Path, tmp_path: Path) -> None:
    p = tmp_path / "w.csv"
    p.write_text("plate\n99Z99999\n")
    result = run("plates", "batch", p, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert "1 watchlist entries, 0 with hits, 0 hits" in result.stderr


def test_bad_watchlist_names_file_and_row(db: Path, tmp_path: Path) -> None:
    p = tmp_path / "w.csv"
    p.write_text("plate\n51F12345\n51F*~2\n")
    result = run("plates", "batch", p)
    assert result.exit_code == 2 and f"{p} row 3" in result.stderr and "Traceback" not in result.stderr


def test_out_replaces_a_previous_file_whole(db: Path, watchlist: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.json"
    out.write_text("previous run\n")
    result = run("plates", "batch", watchlist, "--json", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(out.read_text())) == 5 and result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hits.json", "watch.csv"]


def test_full_disk_keeps_the_previous_hits_file(
    db: Path, watchlist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    import camfind.search.batch

    def half_then_full(hits: object, tz: str, target: TextIO) -> int:
        target.write("watch,")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    out = tmp_path / "hits.csv"
    out.write_text("watch,plate\nearlier,51F12345\n")
    monkeypatch.setattr(camfind.search.batch, "write_hits_csv", half_then_full)
    result = run("plates", "batch", watchlist, "--out", out)
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{out}: No space left on device" in result.stderr
    assert out.read_text() == "watch,plate\nearlier,51F12345\n", "the previous hits file was destroyed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hits.csv", "watch.csv"], "a temporary file was left"


def test_watchlist_without_plate_column_is_refused(db: Path, tmp_path: Path) -> None:
    p = tmp_path / "w.csv"
    p.write_text("label\nx\n")  # was read headerless: the word "label" searched as a plate, exit 0
    result = run("plates", "batch", p)
    assert result.exit_code == 2 and result.stdout == "", result.stdout
    assert f"{p} row 1: expected one plate column, found none" in result.stderr
    shown = " ".join(run("plates", "batch", "--help").stdout.split())
    assert "no header and each row is plate,label,note" in shown and "no column twice" in shown
