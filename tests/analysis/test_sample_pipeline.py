"""The real pipeline (SSD, ByteTrack, PP-OCR plates, dlib faces) on the generated sample network,
every sighting compared with the generator's ground truth."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.analysis.settings import AnalysisSettings
from camfind.geo import angle_diff, parse_direction
from camfind.index import Index
from camfind.timeutil import from_ts

TIME_TOLERANCE_S = 2.0  # the route time is when the subject crosses mid-picture
VEHICLES = {"car", "motorcycle", "bus", "truck", "bicycle"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Index, dict, object]:  # type: ignore[type-arg]
    from camfind.analysis import analyze_clips
    from camfind.cameras import import_cameras
    from camfind.ingest import ingest_paths
    from camfind.sample import generate

    root = tmp_path_factory.mktemp("sample")
    scenario = generate(root / "net")
    index = Index.open(root / "case.db", create=True)
    import_cameras(index, scenario.cameras_csv)
    registered = ingest_paths(index, [scenario.clips_dir])
    assert [Path(f.path) for f in registered.failed] == [scenario.corrupt_clip]
    summary = analyze_clips(index, list(registered.clip_ids), settings=AnalysisSettings())
    assert summary.failed == 0, summary
    truth = json.loads(scenario.ground_truth.read_text(encoding="utf-8"))
    yield index, truth, scenario
    index.close()


def _tracks(index: Index) -> list[dict]:  # type: ignore[type-arg]
    cols = ("id", "camera_id", "first_ts", "last_ts", "cls", "direction", "direction_deg", "color", "plate_norm")
    return [dict(zip(cols, r, strict=True)) for r in index.db.execute(f"SELECT {', '.join(cols)} FROM tracks")]


def _at(tracks: list[dict], camera: str, when: datetime, kinds: set[str]) -> list[dict]:  # type: ignore[type-arg]
    tol = timedelta(seconds=TIME_TOLERANCE_S)
    return [t for t in tracks if t["camera_id"] == camera and t["cls"] in kinds
            and from_ts(t["first_ts"]) - tol <= when <= from_ts(t["last_ts"]) + tol]


def _probe_encoding(path: Path) -> np.ndarray:
    from camfind.recognition.faces import load_face_engine

    faces = load_face_engine().faces(cv2.imread(str(path)))
    assert faces, f"no face in the probe {path}"
    return faces[0].encoding


def test_every_route_point_is_a_sighting(sample: tuple) -> None:  # type: ignore[type-arg]
    index, truth, _ = sample
    tracks = _tracks(index)
    misses = []
    for subject in truth["subjects"]:
        kinds = VEHICLES if subject["kind"] == "vehicle" else {"person"}
        for point in subject["route"]:
            when = datetime.fromisoformat(point["time"])
            found = _at(tracks, point["camera_id"], when, kinds)
            if len(found) != 1:
                misses.append((subject["id"], point, len(found)))
                continue
            track = found[0]
            if track["direction_deg"] is None or angle_diff(track["direction_deg"],
                                                            parse_direction(point["direction"])) > 45:
                misses.append((subject["id"], point, track["direction"]))
            if subject["kind"] == "vehicle" and track["plate_norm"] != "".join(
                    ch for ch in subject["plate"] if ch.isalnum()):
                misses.append((subject["id"], point, track["plate_norm"]))
    assert not misses


def test_no_sighting_without_a_subject(sample: tuple) -> None:  # type: ignore[type-arg]
    index, truth, _ = sample
    points = [(p["camera_id"], datetime.fromisoformat(p["time"])) for s in truth["subjects"] for p in s["route"]]
    tol = timedelta(seconds=TIME_TOLERANCE_S)
    extra = [t for t in _tracks(index)
             if not any(cam == t["camera_id"] and from_ts(t["first_ts"]) - tol <= when <= from_ts(t["last_ts"]) + tol
                        for cam, when in points)]
    assert not extra


def test_vehicle_colours(sample: tuple) -> None:  # type: ignore[type-arg]
    index, _, scenario = sample
    tracks = _tracks(index)
    for subject in scenario.subjects:
        if subject.kind != "vehicle" or subject.color is None:
            continue
        for point in subject.route:
            (track,) = _at(tracks, point.camera_id, point.time, VEHICLES)
            assert track["color"] == subject.color, (subject.id, point.camera_id)


def test_faces_of_people_match_their_probe_photos(sample: tuple) -> None:  # type: ignore[type-arg]
    from camfind.vocab import FACE_MATCH_THRESHOLD

    index, _, scenario = sample
    tracks = _tracks(index)
    for subject in scenario.subjects:
        if subject.kind != "person":
            continue
        probe = _probe_encoding(subject.face_image)
        for point in subject.route:
            (track,) = _at(tracks, point.camera_id, point.time, {"person"})
            blobs = index.db.execute("SELECT encoding FROM face_sightings WHERE track_id=?", (track["id"],)).fetchall()
            assert blobs, (subject.id, point.camera_id)
            best = min(float(np.linalg.norm(np.frombuffer(b, np.float32) - probe)) for (b,) in blobs)
            assert best < FACE_MATCH_THRESHOLD, (subject.id, point.camera_id, best)


def test_plate_reads_and_snapshots_are_traceable(sample: tuple) -> None:  # type: ignore[type-arg]
    from camfind.analysis.snapshots import sha256_file

    index, _, _ = sample
    reads = index.db.execute(
        "SELECT p.frame, p.ts, s.frame, s.ts, s.path, s.sha256, s.kind, c.start_ts, c.fps FROM plate_reads p "
        "JOIN snapshots s ON s.id = p.snapshot_id JOIN clips c ON c.id = p.clip_id").fetchall()
    assert len(reads) >= 7
    for frame, ts, s_frame, s_ts, path, sha, kind, start, fps in reads:
        assert (frame, kind) == (s_frame, "plate") and ts == s_ts
        assert ts == pytest.approx(start + frame / fps, abs=1e-3)
        assert sha256_file(path) == sha
