"""End to end on real clip files: cameras imported, real MPEG-4 clips ingested with the DVR's start
time, tracks written as an analysis would, then `clocks trust`, `clocks estimate`, `clocks apply`,
and what `clips`, `verify`, `search` and `trace` show afterwards."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_run import run, run_json
from searchscene import write_clip

from camfind.index import Index
from camfind.index.writer import AnalysisResult
from camfind.types import AnalysisRun, PlateRead, PlateText, Track

T0 = datetime(2024, 3, 1, 3, 0, 0, tzinfo=UTC)  # 10:00 in Ho Chi Minh City
OFFSETS = {"A": 0.0, "B": 37.0, "C": -1250.0}  # DVR minus true time
SECONDS = 150
LINK_M = 333.6  # A - B - C, 0.003 degrees of latitude apart


def _local(t: datetime) -> str:
    return (t + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def case(index_path: Path, tmp_path: Path) -> Path:
    cams = tmp_path / "cameras.csv"
    cams.write_text("id,lat,lon,owner_type,neighbors\nA,10.7700,106.70,public,B\nB,10.7730,106.70,resident,C\n"
                    "C,10.7760,106.70,resident,\n")
    assert run("cameras", "import", cams).exit_code == 0
    for cam, off in OFFSETS.items():
        clip = tmp_path / "evidence" / f"{cam}.mp4"
        write_clip(clip, SECONDS, label=cam)
        ingest = run("ingest", clip, "--camera", cam, "--start", _local(T0 + timedelta(seconds=off)), "--no-analyze")
        assert ingest.exit_code == 0, ingest.stderr
    _write_tracks(index_path)
    return index_path


def _write_tracks(db: Path) -> None:
    """Six cars each way along A-B-C at 27-33 km/h, each read at every camera (raw = true + offset)."""
    rng = random.Random(4)
    seen: dict[str, list[tuple[datetime, str]]] = {c: [] for c in OFFSETS}
    for v in range(12):
        path = ["A", "B", "C"] if v % 2 == 0 else ["C", "B", "A"]
        t = T0 + timedelta(seconds=5 + v * 4)
        for i, cam in enumerate(path):
            if i:
                t += timedelta(seconds=LINK_M / (rng.uniform(27, 33) / 3.6))
            seen[cam].append((t, f"51F{20000 + v}"))
    with Index.open(db) as idx:
        for cam, passes in seen.items():
            clip_id, start = idx.db.execute("SELECT id, start_ts FROM clips WHERE camera_id = ?", (cam,)).fetchone()
            start_dt = datetime.fromtimestamp(start, UTC)
            tracks, reads = [], []
            for n, (true, plate) in enumerate(passes, start=1):
                at = true + timedelta(seconds=OFFSETS[cam])  # the DVR's time; nothing applied yet
                frame = int((at - start_dt).total_seconds() * 10)
                assert 0 <= frame < SECONDS * 10
                text = PlateText(plate, 0.92, "one-row", True)
                tracks.append(Track(clip_id, cam, n, "car", at - timedelta(seconds=1), at + timedelta(seconds=1),
                                    frame - 10, frame + 10, 21, 0.9, plate=text, best_frame=frame))
                reads.append(PlateRead(clip_id, cam, at, frame, text, track_id=n))
            with idx.transaction():
                run_id = idx.writer.begin_run(AnalysisRun(clip_id, datetime.now(UTC), {}, {}, "test"))
            idx.writer.write_analysis(run_id, clip_id, AnalysisResult(tracks=tracks, plate_reads=reads))


def test_estimate_apply_then_clips_verify_search_and_trace_agree(case: Path) -> None:
    assert run("clocks", "trust", "A").exit_code == 0
    before = run_json("trace", "--plate", "51F20000")  # C's DVR runs 21 min slow: C comes first
    assert [h["camera_id"] for h in before["hops"]] == ["C", "A", "B"]
    cams = {c["camera_id"]: c for c in run_json("clocks", "estimate")["cameras"]}
    for cid in ("B", "C"):
        assert cams[cid]["status"] == "estimated" and cams[cid]["n_cosightings"] >= 3
        assert cams[cid]["offset_s"] == pytest.approx(OFFSETS[cid], abs=5.0)
    applied = run("clocks", "apply", "--all")
    assert applied.exit_code == 0, applied.stderr
    clips = {c["camera_id"]: c for c in run_json("clips")}
    for cid, off in OFFSETS.items():
        start, raw = (datetime.fromisoformat(clips[cid][k]) for k in ("start", "start_raw"))
        assert raw == T0 + timedelta(seconds=off)  # the DVR's time, kept
        assert (raw - start).total_seconds() == pytest.approx(cams[cid]["offset_s"], abs=0.01)
        assert start == pytest.approx(T0, abs=timedelta(seconds=5))  # true time, within 5 s
    verify = run("verify", "--json")
    assert verify.exit_code == 0 and not run_json("verify")["changed"]  # evidence files untouched
    hits = run_json("search", "--plate", "51F20000")
    assert [h["camera_id"] for h in hits] == ["A", "B", "C"]  # corrected time puts them in driving order
    c = hits[2]
    assert c["clock_offset_s"] == pytest.approx(cams["C"]["offset_s"], abs=0.01)
    assert c["clock_uncertainty_s"] == pytest.approx(cams["C"]["uncertainty_s"], abs=0.01)
    dvr, true = datetime.fromisoformat(c["time_dvr"]), datetime.fromisoformat(c["time"])
    assert (dvr - true).total_seconds() == pytest.approx(cams["C"]["offset_s"], abs=0.01)
    route = run_json("trace", "--plate", "51F20000")
    assert [h["camera_id"] for h in route["hops"]] == ["A", "B", "C"] and all(h["feasible"] for h in route["hops"])
    listed = {r["camera_id"]: r for r in run_json("clocks", "list")}
    assert listed["C"]["source"] == "estimate" and listed["A"]["trusted"]
