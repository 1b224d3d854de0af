"""`camfind analyze`: (re)analysis of registered clips, run records, workers, failures, --osd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli_run import rows, run, run_json
from clipfactory import CAMERAS_CSV, write_clip

SUMMARY_KEYS = {"analyzed", "failed", "skipped", "clips", "tracks", "plate_reads", "faces", "seconds", "settings"}


@pytest.fixture
def case(case: str, tmp_path: Path) -> str:
    """A case with cameras, on each backend."""
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    assert run("cameras", "import", tmp_path / "cameras.csv").exit_code == 0
    return case


def _street_parts(realdata: Path, folder: Path) -> list[Path]:
    """The real street clip cut in two ~3.5 s clips named by the DVR start rule."""
    cap = cv2.VideoCapture(str(realdata / "video" / "street_pedestrians_640x360.mp4"))
    fps = cap.get(cv2.CAP_PROP_FPS)
    parts = [folder / "ch01_20240125101500.mp4", folder / "ch01_20240125101600.mp4"]
    folder.mkdir(parents=True, exist_ok=True)
    for path in parts:
        out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 360))
        for _ in range(84):
            ok, img = cap.read()
            if ok:
                out.write(img)
        out.release()
    cap.release()
    return parts


def test_workers_then_forced_rerun(case: Path, realdata: Path, tmp_path: Path) -> None:
    _street_parts(realdata, tmp_path / "export" / "CAM01")
    assert run("ingest", tmp_path / "export", "--no-analyze").exit_code == 0
    first = run_json("analyze", "--workers", "2")
    assert set(first) >= SUMMARY_KEYS and first["workers"] == 2
    assert (first["analyzed"], first["failed"]) == (2, 0), first
    assert all(c["status"] == "done" and c["tracks"] > 0 for c in first["clips"])
    runs = rows(case, "SELECT clip_id, status, models_json, settings_json FROM analysis_runs ORDER BY clip_id")
    assert [(r[0], r[1]) for r in runs] == [(1, "done"), (2, "done")]
    models = json.loads(runs[0][2])
    assert len(models["detector.weights_sha256"]) == 64 and "faces" in models
    assert json.loads(runs[0][3])["rate_fps"] == 4.0
    people = rows(case, "SELECT COUNT(*) FROM tracks WHERE cls='person'")[0][0]
    assert people >= 4
    # Nothing left to do without --force.
    again = run("analyze")
    assert again.exit_code == 0 and "nothing to analyse" in again.stderr
    # --force re-runs one clip and replaces its rows (one writer, one current run per clip).
    before = rows(case, "SELECT COUNT(*) FROM tracks WHERE clip_id=1")[0][0]
    forced = run_json("analyze", "--force", "--clip", "1", "--no-faces")
    assert forced["analyzed"] == 1 and forced["clips"][0]["clip_id"] == 1
    assert rows(case, "SELECT status FROM analysis_runs WHERE clip_id=1 ORDER BY id") == [("superseded",), ("done",)]
    new_run = rows(case, "SELECT id FROM analysis_runs WHERE clip_id=1 AND status='done'")[0][0]
    assert rows(case, "SELECT DISTINCT run_id FROM tracks WHERE clip_id=1") == [(new_run,)]
    assert rows(case, "SELECT COUNT(*) FROM tracks WHERE clip_id=1")[0][0] == before
    assert rows(case, "SELECT COUNT(*) FROM face_sightings WHERE clip_id=1")[0][0] == 0
    for path, in rows(case, "SELECT path FROM snapshots"):
        assert Path(path).is_file()
    audit = rows(case, "SELECT counts_json FROM audit WHERE command='analyze'")
    assert json.loads(audit[0][0])["analyzed"] == 2


def test_a_failing_clip_is_recorded_and_the_others_go_on(case: Path, tmp_path: Path) -> None:
    export = tmp_path / "export" / "CAM01"
    write_clip(export / "ch01_20240125101500.mp4", frames=30, size=(320, 240), seed=1)
    gone = write_clip(export / "ch01_20240125102000.mp4", frames=30, size=(320, 240), seed=2)
    assert run("ingest", tmp_path / "export", "--no-analyze").exit_code == 0
    gone.unlink()  # the evidence file went missing after registration
    result = run("analyze", "--no-plates", "--no-faces", "--json")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert (out["analyzed"], out["failed"]) == (1, 1)
    failed = next(c for c in out["clips"] if c["status"] == "failed")
    assert str(gone) in failed["error"]
    assert rows(case, "SELECT status, error != '' FROM analysis_runs ORDER BY clip_id") == [("done", 0), ("failed", 1)]
    assert rows(case, "SELECT status FROM clips ORDER BY id") == [("analyzed",), ("failed",)]
    table = run("analyze", "--no-plates", "--no-faces")  # the failed clip is retried without --force
    assert table.exit_code == 1 and "analysed 0, failed 1" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rate", "0"), "analysis rate"),
        (("--detector", "yolo"), "weights file"),
        (("--detector", "yolo", "--weights", "/nonexistent/yolo11n.pt"), "no such weights file"),
        (("--detector", "rcnn"), "detector"),
        (("--clip", "99"), "no clip with id 99"),
        (("--camera", "NOPE"), "NOPE"),
        (("--workers", "0"), "--workers"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(case: Path, tmp_path: Path, args: tuple[str, ...],
                                                   message: str) -> None:
    write_clip(tmp_path / "export" / "CAM01" / "ch01_20240125101500.mp4", frames=10)
    assert run("ingest", tmp_path / "export", "--no-analyze").exit_code == 0
    result = run("analyze", *args)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert rows(case, "SELECT COUNT(*) FROM analysis_runs")[0][0] == 0


def test_a_snapshot_folder_that_cannot_be_used_is_refused_before_any_clip(case: Path, tmp_path: Path) -> None:
    write_clip(tmp_path / "export" / "CAM01" / "ch01_20240125101500.mp4", frames=10)
    assert run("ingest", tmp_path / "export", "--no-analyze").exit_code == 0
    (tmp_path / "cams.csv").write_text(CAMERAS_CSV)
    for target, why in ((tmp_path / "cams.csv", "is a file, not a folder"),
                        (tmp_path / "cams.csv" / "snaps", "cannot create the snapshot folder")):
        result = run("analyze", "--snapshots", target, "--no-plates", "--no-faces")
        assert result.exit_code == 2, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(target) in lines[0] and why in lines[0], result.stderr
        assert rows(case, "SELECT COUNT(*) FROM analysis_runs")[0][0] == 0
    assert (tmp_path / "cams.csv").read_text() == CAMERAS_CSV


def test_a_weights_file_that_is_not_a_model_is_one_line_before_any_clip(case: Path, tmp_path: Path) -> None:
    """--weights cams.csv: one line naming the file, no run records; ultralytics (a fresh process, its
    settings in camfind's own folder, sync off) prints nothing of its own on stderr."""
    write_clip(tmp_path / "export" / "CAM01" / "ch01_20240125101500.mp4", frames=10)
    assert run("ingest", tmp_path / "export", "--no-analyze").exit_code == 0
    weights = tmp_path / "cams.csv"
    weights.write_text(CAMERAS_CSV)
    ssd = run("analyze", "--weights", weights)  # the SSD takes a folder
    assert ssd.exit_code == 2 and len(ssd.stderr.strip().splitlines()) == 1 and "is a folder holding" in ssd.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOLO_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), CAMFIND_DB=str(case))
    yolo = subprocess.run([sys.executable, "-m", "camfind", "analyze", "--detector", "yolo", "--weights", str(weights)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert yolo.returncode == 2, yolo.stdout
    assert yolo.stderr.startswith(f"camfind: error: {weights}: not a yolo weights file"), yolo.stderr
    assert len(yolo.stderr.strip().splitlines()) == 1, yolo.stderr  # no "Creating new Ultralytics Settings"
    settings = tmp_path / "config" / "camfind" / "ultralytics" / "Ultralytics" / "settings.json"
    assert json.loads(settings.read_text())["sync"] is False
    assert rows(case, "SELECT COUNT(*) FROM analysis_runs")[0][0] == 0


def test_osd_drift_is_recorded(case: Path, tmp_path: Path) -> None:
    """The DVR clock on screen reads 10:15:07.4 at the first frame; the file name says 10:15:00."""
    path = tmp_path / "export" / "CAM02" / "ch01_20240125101500.mp4"
    path.parent.mkdir(parents=True)
    shown = datetime(2024, 1, 25, 10, 15, 7, 400000)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (960, 540))
    for i in range(75):
        img = np.full((540, 960, 3), 80, np.uint8)
        text = (shown + timedelta(seconds=i / 25)).strftime("%d-%m-%Y %H:%M:%S")
        cv2.putText(img, text, (20, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
        out.write(img)
    out.release()
    assert run("ingest", path, "--camera", "CAM02", "--no-analyze").exit_code == 0
    result = run_json("analyze", "--osd", "--no-plates", "--no-faces")
    clip = result["clips"][0]
    assert clip["osd_drift_s"] == pytest.approx(7.4, abs=0.1)
    assert clip["osd_start"].startswith("2024-01-25T03:15:07.4")
    drift = rows(case, "SELECT osd_drift_s FROM clips")[0][0]
    assert drift == pytest.approx(7.4, abs=0.1)
    models = json.loads(rows(case, "SELECT models_json FROM analysis_runs")[0][0])
    assert any(k.startswith("osd.weights.") for k in models)
