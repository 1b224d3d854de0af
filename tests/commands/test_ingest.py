"""`camfind ingest`: a Hikvision-style export with broken files, re-runs, kills, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from backends import DRIVER_ERRORS
from cli_run import rows, run, run_json
from clipfactory import CAMERAS_CSV, corrupt_header, truncate, write_clip

from camfind.errors import CamfindError

CLIP_KEYS = {"id", "camera_id", "path", "sha256", "start", "end", "start_raw", "time_source", "fps", "frames",
             "width", "height", "status"}


@pytest.fixture
def case(case: str, tmp_path: Path) -> str:
    """A case with the three cameras imported, on each backend ($CAMFIND_DB points at it)."""
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    assert run("cameras", "import", tmp_path / "cameras.csv").exit_code == 0
    return case


@pytest.fixture
def export(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    for n, minute in enumerate((15, 20, 25)):
        write_clip(root / "CAM01" / f"ch01_202401251{minute:03d}00.mp4", seed=n)
    write_clip(root / "CAM02" / "2024-01-25.10.15.00-2024-01-25.10.20.00.mkv", seed=7)
    corrupt_header(write_clip(root / "CAM02" / "ch01_20240125110000.mp4", seed=8))
    truncate(write_clip(root / "CAM03" / "CAM03_20240125_101500.avi", seed=9, frames=40))
    (root / "CAM01" / "readme.txt").write_text("exported by the shop owner")
    return root


def test_export_with_broken_files(case: Path, export: Path) -> None:
    result = run("ingest", export, "--no-analyze", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["ingested"], summary["known"]) == (4, 0)
    failed = {Path(f["path"]).name: f["reason"] for f in summary["failed"]}
    assert set(failed) == {"ch01_20240125110000.mp4", "CAM03_20240125_101500.avi"}
    assert "truncated" in failed["CAM03_20240125_101500.avi"]
    lines = [line for line in result.stderr.splitlines() if line.startswith("camfind: failed:")]
    assert len(lines) == 2 and all(str(export) in line for line in lines)
    assert rows(case, "SELECT camera_id, COUNT(*) FROM clips GROUP BY camera_id") == [("CAM01", 3), ("CAM02", 1)]
    clips = run_json("clips")
    assert all(set(c) >= CLIP_KEYS for c in clips)
    first = min(clips, key=lambda c: c["start"])
    assert first["start"] == "2024-01-25T10:15:00+07:00" and first["time_source"] == "filename"
    assert first["frames"] == 20 and first["status"] == "registered"
    audit = rows(case, "SELECT command, counts_json FROM audit WHERE command='ingest'")
    assert json.loads(audit[0][1])["ingested"] == 4


def test_two_runs_no_duplicates(case: Path, export: Path) -> None:
    run("ingest", export, "--no-analyze")
    second = run("ingest", export, "--no-analyze", "--json")
    summary = json.loads(second.stdout)
    assert (summary["ingested"], summary["known"], len(summary["failed"])) == (0, 4, 2)
    assert rows(case, "SELECT COUNT(*), COUNT(DISTINCT sha256) FROM clips") == [(4, 4)]


def test_unknown_camera(case: Path, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in" / "ch01_20240125101500.mp4")
    named = run("ingest", clip, "--camera", "CAM99", "--no-analyze")
    assert named.exit_code == 2 and "unknown camera 'CAM99'" in named.stderr
    folder = write_clip(tmp_path / "CAM99" / "ch01_20240125101500.mp4", seed=3)
    ruled = run("ingest", folder, "--no-analyze")
    assert ruled.exit_code == 1 and "no camera" in ruled.stderr
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(0,)]
    assert rows(case, "SELECT COUNT(*) FROM cameras") == [(3,)]


def test_start_option(case: Path, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in" / "video.mp4")
    bad = run("ingest", clip, "--camera", "CAM01", "--start", "25/01/2024 10h15", "--no-analyze")
    assert bad.exit_code == 2 and "malformed time" in bad.stderr
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(0,)]
    none = run("ingest", clip, "--camera", "CAM01", "--no-analyze")
    assert none.exit_code == 1 and "--start" in none.stderr
    ok = run("ingest", clip, "--camera", "CAM01", "--start", "2024-01-25 10:15:30", "--no-analyze")
    assert ok.exit_code == 0, ok.stderr
    assert rows(case, "SELECT time_source, start_raw_ts FROM clips") == [("cli", 1706152530.0)]


def test_clock_offset_applied(case: Path, export: Path) -> None:
    run("cameras", "set-clock", "CAM01", "--dvr-time", "2024-01-25 10:00:30", "--actual-time", "2024-01-25 10:00:00")
    run("ingest", export / "CAM01", "--no-analyze")
    got = rows(case, "SELECT start_raw_ts - start_ts, clock_offset_s FROM clips")
    assert got == [(30.0, 30.0)] * 3


def test_missing_index(index_path: Path, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "CAM01" / "ch01_20240125101500.mp4")
    result = run("ingest", clip, "--no-analyze")
    assert result.exit_code == 2 and "no index" in result.stderr
    assert not index_path.exists()


def test_analysis_unavailable_is_an_error_not_a_silent_skip(
    case: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "camfind.analysis", None)
    result = run("ingest", export / "CAM01")
    assert result.exit_code == 2 and "--no-analyze" in result.stderr
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(3,)], "registration is kept"


def test_analysis_hook_gets_new_and_unanalysed_clips(
    case: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import camfind.analysis

    calls: list[dict[str, Any]] = []

    def fake(index: Any, clip_ids: list[int], *, settings: Any, workers: int, progress: Any) -> dict[str, int]:
        calls.append({"ids": clip_ids, "osd": settings.osd, "workers": workers})
        return {"analyzed": len(clip_ids)}

    monkeypatch.setattr(camfind.analysis, "analyze_clips", fake, raising=False)
    run("ingest", export / "CAM01", "--no-analyze")
    out = run_json("ingest", export / "CAM01", export / "CAM02", "--osd", "--workers", "2")
    assert calls == [{"ids": [1, 2, 3, 4], "osd": True, "workers": 2}]
    assert out["analysis"] == {"analyzed": 4}


def test_kill_mid_ingest_then_resume(case: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bulk" / "CAM01"
    n = 80
    for i in range(n):
        write_clip(folder / f"ch01_20240125{10 + i // 60:02d}{i % 60:02d}00.mp4", seed=i, frames=30)
    env = {**os.environ, "CAMFIND_DB": str(case)}
    proc = subprocess.Popen([sys.executable, "-m", "camfind", "ingest", str(folder.parent), "--no-analyze"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    committed = _wait_for_first_clip(case, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    survived = rows(case, "SELECT COUNT(*) FROM clips")[0][0]
    assert committed >= 1 and 1 <= survived < n, f"kill landed too late ({survived} of {n})"
    summary = run_json("ingest", folder.parent, "--no-analyze")
    assert (summary["known"], summary["ingested"], summary["failed"]) == (survived, n - survived, [])
    assert rows(case, "SELECT COUNT(*), COUNT(DISTINCT sha256), COUNT(DISTINCT path) FROM clips") == [(n, n, n)]
    for path, sha, frames in rows(case, "SELECT path, sha256, frames FROM clips"):
        assert frames == 30 and len(sha) == 64 and Path(path).is_file()


def test_ctrl_c_while_hashing_a_clip_keeps_only_whole_clips(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of reading the third clip: the two before it stay, nothing half-written."""
    import camfind.ingest.register as register

    folder = tmp_path / "bulk" / "CAM02"
    n = 6
    for i in range(n):
        write_clip(folder / f"ch01_20240125{11 + i // 60:02d}{i % 60:02d}00.mkv", seed=i, frames=30)
    real = register.hash_and_probe
    calls = []

    def interrupted_on_third(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(register, "hash_and_probe", interrupted_on_third)
    result = run("ingest", folder, "--no-analyze")
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(2,)]
    monkeypatch.setattr(register, "hash_and_probe", real)
    assert run_json("ingest", folder, "--no-analyze")["ingested"] == n - 2
    assert rows(case, "SELECT COUNT(*), COUNT(DISTINCT sha256) FROM clips") == [(n, n)]


def _wait_for_first_clip(db: Path, proc: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            count = rows(db, "SELECT COUNT(*) FROM clips")[0][0]
        except (CamfindError, *DRIVER_ERRORS):  # locked, or not created yet
            count = 0
        if count:
            return int(count)
        time.sleep(0.002)
    return 0


def test_copy_under_another_camera_is_one_line_naming_both_files(case: Path, export: Path, tmp_path: Path) -> None:
    original = export / "CAM01" / "ch01_20240125101500.mp4"
    assert run("ingest", original, "--no-analyze").exit_code == 0
    copy = tmp_path / "usb" / "clip.mp4"
    copy.parent.mkdir()
    copy.write_bytes(original.read_bytes())
    result = run("ingest", copy, "--camera", "CAM02", "--no-analyze")
    assert result.exit_code == 1
    (line,) = [line for line in result.stderr.splitlines() if "camfind: failed:" in line]
    assert str(copy) in line and str(original) in line and "CAM02" in line
    assert rows(case, "SELECT camera_id, path FROM clips") == [("CAM01", str(original))]
    (clip,) = run_json("clips")
    assert [c["path"] for c in clip["copies"]] == [str(copy)] and "CAM02" in clip["copies"][0]["conflict"]
    assert run("verify").exit_code == 0
    copy.unlink()
    gone = run_json("verify")
    assert gone["missing"] == [str(copy)] and gone["changed"] == []


def test_folder_with_a_name_that_is_not_utf8(case: Path, tmp_path: Path) -> None:
    folder = tmp_path / "CAM01"
    write_clip(Path(os.fsdecode(os.fsencode(folder) + b"/ch01_20240125101000_\xff.mp4")), seed=1)
    write_clip(folder / "ch01_20240125102000.mp4", seed=2)
    summary = run_json("ingest", folder, "--no-analyze")
    assert (summary["ingested"], summary["failed"]) == (2, [])
    shown = sorted(c["path"] for c in run_json("clips"))
    assert shown == [str(folder / "ch01_20240125101000_\\xff.mp4"), str(folder / "ch01_20240125102000.mp4")]
    assert run_json("verify")["ok"] == 2


def test_clip_cut_short_is_reported_and_flagged_in_clips(case: Path, tmp_path: Path) -> None:
    path = write_clip(tmp_path / "CAM01" / "ch01_20240125101500.mkv", frames=100, fps=10, seed=1)
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.95)])
    result = run("ingest", path, "--no-analyze")
    assert result.exit_code == 0
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("camfind: warning:")]
    assert str(path) in line and "declared 10.00 s, decoded 9.50 s" in line
    (clip,) = run_json("clips")
    assert clip["flags"] == ["declared 10.00 s, decoded 9.50 s: 0.50 s missing (cut short?)"]
    assert "flags" in run("clips").stdout


def test_ingest_shows_what_analysis_found(case: Path, export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import camfind.analysis
    from camfind.analysis.run import AnalysisSummary, ClipOutcome

    def fake(index: Any, clip_ids: list[int], *, settings: Any, workers: int, progress: Any) -> AnalysisSummary:
        outcomes = (ClipOutcome(clip_ids[0], "CAM01", "a.mp4", "done", 1, tracks=2, plate_reads=1, faces=1,
                                plates=("51F12345",), osd_drift_s=-125.0),
                    ClipOutcome(clip_ids[1], "CAM01", "b.mp4", "failed", 2, error="decoding failed"))
        return AnalysisSummary(outcomes, 1, 1, 2, 1, 1, 0.5, 1)

    monkeypatch.setattr(camfind.analysis, "analyze_clips", fake, raising=False)
    result = run("ingest", export / "CAM01")
    assert result.exit_code == 0, result.stderr
    table = result.stdout
    assert "Analysis" in table and "51F12345" in table and "OSD drift -125.0 s" in table
    assert "decoding failed" in table
    assert "analysed 1, failed 1: 2 tracks, 1 plate reads, 1 faces" in table
    assert "ingested 3" in table
    assert "on-screen clock is -125.0 s from the recorded start" in result.stderr


def test_ingest_shows_tracks_per_class_of_a_real_clip(case: Path, realdata: Path, tmp_path: Path) -> None:
    import cv2

    source = cv2.VideoCapture(str(realdata / "video" / "street_pedestrians_640x360.mp4"))
    path = tmp_path / "export" / "CAM01" / "ch01_20240125101500.mp4"
    path.parent.mkdir(parents=True)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), source.get(cv2.CAP_PROP_FPS), (640, 360))
    for _ in range(84):
        ok, img = source.read()
        if ok:
            out.write(img)
    out.release()
    source.release()
    result = run("ingest", tmp_path / "export")
    assert result.exit_code == 0, result.stderr
    people = rows(case, "SELECT COUNT(*) FROM tracks WHERE cls = 'person'")[0][0]
    assert people > 0 and f"{people} person" in result.stdout


def test_start_as_the_dvr_shows_it(case: Path, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in" / "video.mp4")
    ok = run("ingest", clip, "--camera", "CAM01", "--start", "2/12/2023 3:52:27 PM", "--no-analyze")
    assert ok.exit_code == 0, ok.stderr
    (clip_row,) = run_json("clips")
    assert clip_row["start_raw"] == "2023-12-02T15:52:27+07:00"
    other = write_clip(tmp_path / "in2" / "video.mp4", seed=5)
    us = run("ingest", other, "--camera", "CAM01", "--start", "2/12/2023 3:52:27 PM", "--date-order", "mdy",
             "--no-analyze")
    assert us.exit_code == 0, us.stderr
    assert sorted(c["start_raw"] for c in run_json("clips"))[0] == "2023-02-12T15:52:27+07:00"
    bad = run("ingest", other, "--camera", "CAM01", "--date-order", "ymd", "--no-analyze")
    assert bad.exit_code == 2 and "unknown date order 'ymd'" in bad.stderr


def test_camera_date_order_column(index_path: Path, tmp_path: Path) -> None:
    cams = tmp_path / "cameras.csv"
    cams.write_text("id,lat,lon,date_order\nCAM01,10.77,106.70,mdy\nCAM02,10.78,106.70,\n")
    assert run("cameras", "import", cams).exit_code == 0
    a = write_clip(tmp_path / "a" / "video.mp4", seed=1)
    b = write_clip(tmp_path / "b" / "video.mp4", seed=2)
    assert run("ingest", a, "--camera", "CAM01", "--start", "2/12/2023 10:00", "--no-analyze").exit_code == 0
    assert run("ingest", b, "--camera", "CAM02", "--start", "2/12/2023 10:00", "--no-analyze").exit_code == 0
    starts = {c["camera_id"]: c["start_raw"] for c in run_json("clips")}
    assert starts == {"CAM01": "2023-02-12T10:00:00+07:00", "CAM02": "2023-12-02T10:00:00+07:00"}


def test_segments_become_clips_searched_and_extracted_within_their_range(case: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from camfind.index import Index
    from camfind.index.writer import AnalysisResult
    from camfind.types import AnalysisRun, Track

    viewer = write_clip(tmp_path / "usb" / "ch01_20240125101500.mp4", frames=100, fps=10, seed=3)
    plan = tmp_path / "segments.csv"
    plan.write_text("start_s,end_s,camera\n0,4,CAM01\n4,10,CAM02\n")
    summary = run_json("ingest", viewer, "--segments", plan, "--no-analyze")
    assert (summary["ingested"], summary["failed"]) == (2, [])
    clips = {c["camera_id"]: c for c in run_json("clips")}
    assert clips["CAM02"]["segment"] == {"start_s": 4.0, "end_s": 10.0}
    assert clips["CAM02"]["start"] == "2024-01-25T10:15:04+07:00"
    assert clips["CAM02"]["sha256"] == clips["CAM01"]["sha256"]
    seen = datetime(2024, 1, 25, 3, 15, 7, tzinfo=UTC)  # 3 s into CAM02's segment, 7 s into the file
    with Index.open(case) as idx:
        cid = clips["CAM02"]["id"]
        run_id = idx.writer.begin_run(AnalysisRun(clip_id=cid, started_at=seen, settings={}, models={},
                                                  camfind_version="test"))
        idx.writer.write_analysis(run_id, cid, AnalysisResult(tracks=[
            Track(cid, "CAM02", 1, "motorcycle", seen, seen + timedelta(seconds=1), 70, 80, 11, 0.9)]))
    (hit,) = run_json("search", "--camera", "CAM02")
    assert hit["clip_sha256"] == clips["CAM02"]["sha256"]
    package = tmp_path / "pkg"
    assert run("export", "timeline", "--camera", "CAM02", "--out", tmp_path / "t.csv", "--package", package,
               "--margin", "0.5").exit_code == 0
    manifest = json.loads((package / "manifest.json").read_text())
    entries = manifest["files"] if isinstance(manifest, dict) and "files" in manifest else manifest
    (extract,) = [e for e in (entries.values() if isinstance(entries, dict) else entries)
                  if isinstance(e, dict) and e.get("kind") == "extract"]
    assert 5.0 <= extract["start_s"] <= 6.5 and 8.0 <= extract["end_s"] <= 9.0, extract
