"""`camfind clips`, `verify`, `coverage`: listing, re-hash after tampering, footage gaps."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from cli_run import rows, run, run_json
from clipfactory import CAMERAS_CSV, flip_byte, write_clip


@pytest.fixture
def case(case: str, tmp_path: Path) -> str:
    """Four clips ingested, on each backend."""
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    run("cameras", "import", tmp_path / "cameras.csv")
    root = tmp_path / "export"
    for n, minute in enumerate((15, 20, 25)):
        write_clip(root / "CAM01" / f"ch01_202401251{minute:03d}00.mp4", seed=n)  # 2 s each
    write_clip(root / "CAM02" / "ch01_20240125101500.mp4", seed=5, frames=100)  # 10 s
    assert run("ingest", root, "--no-analyze").exit_code == 0
    return case


def test_clips_filters_and_formats(case: Path) -> None:
    assert len(run_json("clips")) == 4
    cam1 = run_json("clips", "--camera", "CAM01")
    assert [c["start"] for c in cam1] == [f"2024-01-25T10:{m}:00+07:00" for m in (15, 20, 25)]
    assert cam1[0]["end"] == "2024-01-25T10:15:02+07:00" and cam1[0]["start_raw"] == cam1[0]["start"]
    assert run_json("clips", "--status", "analyzed") == []
    csv_out = run("clips", "--csv").stdout.splitlines()
    assert csv_out[0].startswith("id,camera_id,path,sha256,start,end,start_raw") and len(csv_out) == 5
    unknown = run("clips", "--camera", "CAM99")
    assert unknown.exit_code == 2 and "CAM99" in unknown.stderr


def test_verify_detects_changed_and_missing(case: Path) -> None:
    ok = run_json("verify")
    assert {k: ok[k] for k in ("checked", "ok", "changed", "missing", "problems")} == {
        "checked": 4, "ok": 4, "changed": [], "missing": [], "problems": []}
    assert ok["index"] == {"integrity": "ok"}
    paths = [r[0] for r in rows(case, "SELECT path FROM clips ORDER BY id")]
    registered = rows(case, "SELECT sha256 FROM clips ORDER BY id")
    Path(paths[0]).chmod(0o644)
    flip_byte(Path(paths[0]))
    Path(paths[1]).unlink()
    result = run("verify", "--json")
    assert result.exit_code == 1
    report = run_json("verify")
    assert (report["checked"], report["ok"], report["changed"], report["missing"]) == (4, 2, [paths[0]], [paths[1]])
    assert rows(case, "SELECT sha256 FROM clips ORDER BY id") == registered, "verify never rewrites the record"
    text = run("verify")
    assert text.exit_code == 1 and "CHANGED" in text.stdout and "MISSING" in text.stdout


def test_a_case_ingested_on_another_machine_is_found_through_the_path_map(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clips' folder is elsewhere on this machine: verify says it cannot reach it (and from
    which machine), then finds every clip once CAMFIND_PATH_MAP maps the registered folder."""
    export = tmp_path / "export"
    moved = tmp_path / "elsewhere" / "mount"
    moved.parent.mkdir()
    export.rename(moved)
    lost = run_json("verify")
    assert (lost["ok"], len(lost["missing"])) == (0, 4)
    assert all("not reachable from this machine" in p["detail"] and str(export) in p["detail"]
               for p in lost["problems"])
    monkeypatch.setenv("CAMFIND_PATH_MAP", f"{export}={moved}")
    found = run_json("verify")
    assert (found["checked"], found["ok"], found["missing"]) == (4, 4, [])
    assert all(c["path"].startswith(str(moved)) for c in run_json("clips"))
    assert {r[0].startswith(str(export)) for r in rows(case, "SELECT path FROM clips")} == {True}, \
        "the registration keeps the path it was made with"


def test_coverage_reports_gaps(case: Path) -> None:
    cov = {c["camera_id"]: c for c in run_json("coverage")}
    assert set(cov) == {"CAM01", "CAM02", "CAM03"}
    assert set(cov["CAM01"]) >= {"camera_id", "footage_s", "gaps"}
    assert cov["CAM01"]["footage_s"] == pytest.approx(6.0)
    assert cov["CAM01"]["gaps"] == [
        {"from": "2024-01-25T10:15:02+07:00", "to": "2024-01-25T10:20:00+07:00"},
        {"from": "2024-01-25T10:20:02+07:00", "to": "2024-01-25T10:25:00+07:00"},
    ]
    assert cov["CAM02"]["footage_s"] == pytest.approx(10.0)
    assert cov["CAM02"]["gaps"] == [{"from": "2024-01-25T10:15:10+07:00", "to": "2024-01-25T10:25:02+07:00"}]
    assert cov["CAM03"]["footage_s"] == 0 and len(cov["CAM03"]["gaps"]) == 1


def test_coverage_window_and_camera(case: Path) -> None:
    (one,) = run_json("coverage", "--from", "2024-01-25 10:19:00", "--to", "2024-01-25 10:21:00", "--camera", "CAM01")
    assert one["footage_s"] == pytest.approx(2.0)
    assert one["gaps"] == [{"from": "2024-01-25T10:19:00+07:00", "to": "2024-01-25T10:20:00+07:00"},
                           {"from": "2024-01-25T10:20:02+07:00", "to": "2024-01-25T10:21:00+07:00"}]
    backwards = run("coverage", "--from", "2024-01-25 11:00", "--to", "2024-01-25 10:00")
    assert backwards.exit_code == 2 and "must be after" in backwards.stderr


def test_verify_package_is_delegated(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from camfind.export.package import PackageReport

    def fake_verify(path: Path, **anchor: object) -> PackageReport:
        return PackageReport(checked=3, ok=1, changed=("snap/a.png",), missing=("clips/b.mp4",))

    fake = types.ModuleType("camfind.export.package")
    fake.verify_package = fake_verify  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "camfind.export.package", fake)
    bad = run("verify", "--package", tmp_path)
    assert bad.exit_code == 1 and "CHANGED: snap/a.png" in bad.stdout and "MISSING: clips/b.mp4" in bad.stdout
    report = run_json("verify", "--package", tmp_path)
    assert (report["checked"], report["ok"], report["clean"]) == (3, 1, False)

    monkeypatch.setitem(sys.modules, "camfind.export.package", None)
    missing = run("verify", "--package", tmp_path)
    assert missing.exit_code == 2 and "unavailable" in missing.stderr


def test_coverage_table_keeps_the_end_date_of_gaps_that_span_days(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    shown = run("coverage", "--from", "2024-01-25 10:15:00", "--to", "2024-01-27 08:00", "--camera", "CAM02")
    assert shown.exit_code == 0, shown.stderr
    assert "2024-01-25 10:15:10 - 2024-01-27 08:00:00" in shown.stdout
    same_day = run("coverage", "--camera", "CAM01")
    assert "2024-01-25 10:15:02 - 10:20:00" in same_day.stdout  # one day: the end's date is not repeated


def test_show_span_repeats_the_date_only_across_midnight() -> None:
    from datetime import UTC, datetime

    from camfind.commands._common import show_span

    tz = "Asia/Ho_Chi_Minh"  # UTC+7: 16:59 UTC is 23:59, 17:01 UTC is 00:01 the next day
    assert show_span(datetime(2024, 1, 25, 3, tzinfo=UTC), datetime(2024, 1, 25, 16, 59, tzinfo=UTC), tz) == (
        "2024-01-25 10:00:00 - 23:59:00")
    assert show_span(datetime(2024, 1, 25, 16, 59, tzinfo=UTC), datetime(2024, 1, 25, 17, 1, tzinfo=UTC), tz,
                     " .. ") == "2024-01-25 23:59:00 .. 2024-01-26 00:01:00"


def test_apply_osd_makes_the_on_screen_clock_the_start_audited_and_revertible(index_path: Path, tmp_path: Path) -> None:
    """The DVR clock on screen reads 10:15:07.4 at the first frame; the file name says 10:15:00."""
    import json
    from datetime import datetime, timedelta

    import cv2
    import numpy as np

    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    run("cameras", "import", tmp_path / "cameras.csv")
    path = tmp_path / "export" / "CAM02" / "ch01_20240125101500.mp4"
    path.parent.mkdir(parents=True)
    shown = datetime(2024, 1, 25, 10, 15, 7, 400000)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (960, 540))
    for i in range(75):
        img = np.full((540, 960, 3), 80, np.uint8)
        cv2.putText(img, (shown + timedelta(seconds=i / 25)).strftime("%d-%m-%Y %I:%M:%S %p"), (20, 36),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
        out.write(img)
    out.release()
    assert run("ingest", path, "--no-analyze").exit_code == 0
    refused = run("clips", "apply-osd", "1")
    assert refused.exit_code == 2 and "no on-screen clock reading is recorded" in refused.stderr
    assert run("analyze", "--osd", "--no-plates", "--no-faces").exit_code == 0
    (clip,) = run_json("clips")
    assert clip["start_raw"] == "2024-01-25T10:15:00+07:00" and clip["time_source"] == "filename"
    assert clip["osd"]["drift_s"] == pytest.approx(7.4, abs=0.1)
    assert clip["osd"]["start"].startswith("2024-01-25T10:15:07")
    applied = run_json("clips", "apply-osd", "1")
    assert applied[0]["shift_s"] == pytest.approx(7.4, abs=0.1)
    (clip,) = run_json("clips")
    assert clip["time_source"] == "osd" and clip["start_raw"].startswith("2024-01-25T10:15:07")
    assert clip["start_filed"] == "2024-01-25T10:15:00+07:00" and clip["time_source_filed"] == "filename"
    (entry,) = rows(index_path, "SELECT counts_json FROM audit WHERE command = 'clips apply-osd' AND "
                                "counts_json LIKE '%\"ok\"%'")
    assert json.loads(entry[0])["clips"] == [1]
    assert run("clips", "apply-osd", "1", "--revert").exit_code == 0
    (clip,) = run_json("clips")
    assert (clip["time_source"], clip["start_raw"], clip["start_filed"]) == ("filename", "2024-01-25T10:15:00+07:00",
                                                                           None)
