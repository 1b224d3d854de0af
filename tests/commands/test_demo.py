"""`camfind demo` end to end on the generated sample: routes checked against the ground truth."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cli_run import rows, run

#: A hop's seen-interval must contain the ground-truth crossing time, give or take this much.
TIME_SLACK_S = 3.0


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("demo") / "case"
    result = run("demo", "--workdir", workdir)
    assert result.exit_code == 0, result.stderr + result.stdout
    (workdir / "stdout.txt").write_text(result.stdout, encoding="utf-8")
    return workdir


@pytest.fixture(scope="module")
def truth(demo_dir: Path) -> dict[str, Any]:
    return {s["id"]: s for s in json.loads((demo_dir / "ground_truth.json").read_text())["subjects"]}


def _trace(demo_dir: Path, *target: str) -> dict[str, Any]:
    result = run("--db", demo_dir / "camfind.db", "trace", *target, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _check_route(route: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    assert [h["camera_id"] for h in route["hops"]] == [p["camera_id"] for p in expected]
    for hop, point in zip(route["hops"], expected, strict=True):
        t = datetime.fromisoformat(point["time"]).timestamp()
        first = datetime.fromisoformat(hop["first_seen"]).timestamp()
        last = datetime.fromisoformat(hop["last_seen"]).timestamp()
        assert first - TIME_SLACK_S <= t <= last + TIME_SLACK_S, (hop, point)
        assert hop["direction"] == point["direction"], (hop, point)
        assert hop["feasible"] is True


def test_demo_leaves_a_queryable_case(demo_dir: Path) -> None:
    for name in ("camfind.db", "ground_truth.json", "report.html"):
        assert (demo_dir / name).is_file(), name
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert "59-X3 472.18" in html and "http://" not in html and "https://" not in html
    assert rows(demo_dir / "camfind.db", "SELECT command FROM audit WHERE command = 'demo'") == [("demo",)]


def test_corrupt_clip_is_reported_and_skipped(demo_dir: Path) -> None:
    stdout = (demo_dir / "stdout.txt").read_text(encoding="utf-8")
    corrupt = demo_dir / "clips" / "CAM06" / "ch01_20261114094000.mp4"
    assert corrupt.is_file()
    assert "1 failed" in stdout and "ch01_20261114094000.mp4" in stdout
    paths = [r[0] for r in rows(demo_dir / "camfind.db", "SELECT path FROM clips")]
    assert len(paths) == 8 and str(corrupt) not in paths


def test_vehicle_route_matches_ground_truth(demo_dir: Path, truth: dict[str, Any]) -> None:
    for subject in (s for s in truth.values() if s["kind"] == "vehicle"):
        _check_route(_trace(demo_dir, "--plate", subject["plate"]), subject["route"])


def test_person_route_matches_ground_truth(demo_dir: Path, truth: dict[str, Any]) -> None:
    for subject in (s for s in truth.values() if s["kind"] == "person"):
        probe = demo_dir / subject["face_image"]
        _check_route(_trace(demo_dir, "--face", str(probe)), subject["route"])


def test_clock_offset_camera_is_corrected(demo_dir: Path, truth: dict[str, Any]) -> None:
    """CAM05's DVR runs 317 s fast: its file name says 09:27:32, the hop must sit at the true time."""
    raw, corrected, offset = rows(
        demo_dir / "camfind.db", "SELECT start_raw_ts, start_ts, clock_offset_s FROM clips WHERE camera_id = 'CAM05'"
    )[0]
    assert offset == pytest.approx(317) and raw - corrected == pytest.approx(317)
    route = _trace(demo_dir, "--plate", truth["V1"]["plate"])
    cam05 = [h for h in route["hops"] if h["camera_id"] == "CAM05"]
    assert cam05 and route["hops"][-1]["camera_id"] == "CAM05"
    assert route["next_cameras"][0]["camera_id"] == "CAM07"
    assert route["next_cameras"][0]["footage_ingested"] is False


def test_demo_refuses_to_clobber_without_force(demo_dir: Path) -> None:
    result = run("demo", "--workdir", demo_dir)
    assert result.exit_code == 2
    assert "--force" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (demo_dir / "camfind.db").is_file()
