"""`camfind clocks estimate|apply|list|trust`: output, the rows left in the index, the audit trail."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_run import rows, run, run_json

from camfind.index import Index
from camfind.sample.clockscene import CLONE_PLATE, build_clock_scenario


@pytest.fixture
def scene_db(index_path: Path):
    with Index.open(index_path, create=True) as idx:
        scene = build_clock_scenario(idx, vehicles=60, seed=3)
    return index_path, scene


def test_estimate_json_reports_offsets_uncertainty_evidence_and_rejections(scene_db) -> None:
    db, scene = scene_db
    out = run_json("clocks", "estimate")
    cams = {c["camera_id"]: c for c in out["cameras"]}
    assert set(cams) == set(scene.offsets)
    d = cams["D"]
    assert d["status"] == "estimated" and abs(d["offset_s"] - scene.offsets["D"]) <= 5
    assert d["uncertainty_s"] > 0 and d["n_cosightings"] == len(d["cosightings"]) > 0
    assert d["current_offset_s"] == 0.0 and d["current_source"] == "none" and d["anchor"] == "A"
    assert {"plate", "camera_a", "track_a", "raw_a", "camera_b", "track_b", "raw_b"} <= set(d["cosightings"][0])
    assert cams["Y1"]["status"] == "unanchored" and cams["Y1"]["offset_s"] is None
    assert any(r["plate"] == CLONE_PLATE and "cloned plate" in r["reason"] for r in out["rejected"])
    assert {"a", "b", "delta_s", "sigma_s", "n_cosightings", "two_way"} <= set(out["pairs"][0])
    # the run is stored (for apply), no offset changed, and the audit log has it
    assert rows(db, "SELECT COUNT(*) FROM clock_estimates")[0][0] == len(cams)
    assert rows(db, "SELECT COUNT(*) FROM cameras WHERE clock_source = 'estimate'")[0][0] == 0
    assert rows(db, "SELECT command FROM audit ORDER BY id DESC LIMIT 1") == [("clocks estimate",)]


def test_estimate_table_lists_rejections(scene_db) -> None:
    result = run("clocks", "estimate")
    assert result.exit_code == 0, result.stderr
    assert "Clock offsets estimated" in result.stdout and f"rejected: plate {CLONE_PLATE}" in result.stdout


def test_apply_records_offsets_and_list_shows_their_source(scene_db) -> None:
    db, scene = scene_db
    assert run("clocks", "estimate").exit_code == 0
    raw_before = rows(db, "SELECT id, start_raw_ts FROM clips ORDER BY id")
    applied = run_json("clocks", "apply", "D", "E")
    assert [a["camera_id"] for a in applied] == ["D", "E"]
    assert abs(applied[0]["offset_s"] - scene.offsets["D"]) <= 5 and applied[0]["previous_source"] == "none"
    assert rows(db, "SELECT id, start_raw_ts FROM clips ORDER BY id") == raw_before
    (start, raw, offset), = rows(db, "SELECT start_ts, start_raw_ts, clock_offset_s FROM clips WHERE camera_id = 'D'")
    assert start == pytest.approx(raw - offset) and offset == applied[0]["offset_s"]
    audit = rows(db, "SELECT command, counts_json FROM audit ORDER BY id DESC LIMIT 1")[0]
    assert audit[0] == "clocks apply" and json.loads(audit[1])["applied"][0][0] == "D"
    listed = {r["camera_id"]: r for r in run_json("clocks", "list")}
    assert listed["D"]["source"] == "estimate" and listed["D"]["uncertainty_s"] == applied[0]["uncertainty_s"]
    assert listed["F"]["source"] == "set-clock" and listed["F"]["uncertainty_s"] == 1.0
    assert listed["A"]["trusted"] is True and listed["B"]["source"] == "none"
    table = list(csv.DictReader(io.StringIO(run("clocks", "list", "--csv").stdout)))
    assert {r["camera_id"]: r["source"] for r in table}["E"] == "estimate"


def test_apply_all_and_refusals_are_one_line(scene_db) -> None:
    db, _ = scene_db
    result = run("clocks", "apply", "--all")
    assert result.exit_code != 0 and "run 'camfind clocks estimate' first" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert run("clocks", "estimate").exit_code == 0
    result = run("clocks", "apply", "Y2")
    assert result.exit_code != 0 and "no path of co-sightings to a trusted clock" in result.stderr
    result = run("clocks", "apply")
    assert result.exit_code != 0 and "or pass --all" in result.stderr
    result = run("clocks", "apply", "--all")
    assert result.exit_code == 0, result.stderr
    assert "D: offset +0.0 s (none) -> +361" in result.stdout
    sources = dict(rows(db, "SELECT id, clock_source FROM cameras"))
    assert sources == {"A": "none", "B": "estimate", "C": "estimate", "D": "estimate", "E": "estimate",
                       "F": "set-clock", "G": "estimate", "Y1": "none", "Y2": "none"}


def test_trust_marks_an_anchor(scene_db) -> None:
    db, _ = scene_db
    result = run("clocks", "trust", "Y1")
    assert result.exit_code == 0 and "1 camera(s) marked trusted (1 changed)" in result.stdout
    assert rows(db, "SELECT clock_trusted FROM cameras WHERE id = 'Y1'") == [(1,)]
    cams = {c["camera_id"]: c for c in run_json("clocks", "estimate")["cameras"]}
    assert cams["Y1"]["status"] == "anchor" and cams["Y2"]["status"] == "estimated"
    assert run("clocks", "trust", "Y1", "--untrusted").exit_code == 0
    assert rows(db, "SELECT clock_trusted FROM cameras WHERE id = 'Y1'") == [(0,)]
    result = run("clocks", "trust", "NOPE")
    assert result.exit_code != 0 and "unknown camera 'NOPE'" in result.stderr


def test_set_clock_and_the_cameras_file_record_their_source(index_path: Path, tmp_path: Path) -> None:
    cams = tmp_path / "cams.csv"
    cams.write_text("id,lat,lon,clock_offset_s\nK1,10.77,106.70,45\nK2,10.78,106.70,\n")
    assert run("cameras", "import", cams).exit_code == 0
    assert run("cameras", "set-clock", "K2", "--dvr-time", "2024-03-01 10:00:30",
               "--actual-time", "2024-03-01 10:00:00").exit_code == 0
    listed = {r["camera_id"]: r for r in run_json("clocks", "list")}
    assert (listed["K1"]["source"], listed["K1"]["offset_s"], listed["K1"]["uncertainty_s"]) == ("file", 45.0, None)
    assert (listed["K2"]["source"], listed["K2"]["offset_s"], listed["K2"]["observations"]) == ("set-clock", 30.0, 1)
    assert run("cameras", "import", cams).exit_code == 0  # re-import: the file's K1 offset unchanged
    assert dict(rows(index_path, "SELECT id, clock_source FROM cameras")) == {"K1": "file", "K2": "set-clock"}


def test_osd_drift_readings_are_reported_as_checks(scene_db) -> None:
    db, _ = scene_db
    with Index.open(db) as idx:
        (clip_id,) = idx.db.execute("SELECT id FROM clips WHERE camera_id = 'D'").fetchone()
        idx.writer.set_clip_osd(clip_id, 12.0)  # the burnt-in clock says 12 s more than the recorded start
    cams = {c["camera_id"]: c for c in run_json("clocks", "estimate")["cameras"]}
    assert cams["D"]["osd_drift_s"] == 12.0
    assert any("+12 s off the on-screen clock" in c for c in cams["D"]["checks"]) and not cams["C"]["checks"]
    listed = {r["camera_id"]: r for r in run_json("clocks", "list")}
    assert listed["D"]["osd_drift_s"] == 12.0 and listed["C"]["osd_drift_s"] is None
