"""The analysis pipeline on a drawn clip (fast stand-in models that look at real pixels) and on
real footage with the real models (PETS direction of travel against world ground truth, the
Intel cars, the street pedestrians)."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.analysis.frames import Frame
from camfind.analysis.models import Models
from camfind.analysis.pipeline import analyze_clip
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.snapshots import SnapshotStore, sha256_file
from camfind.analysis.trackbook import TrackBook
from camfind.types import Camera, Clip, Detection, Face, PlateText

START = datetime(2024, 1, 25, 3, 0, 0, tzinfo=UTC)
W, H, FPS, SECS = 640, 360, 10.0, 8.0


def _scene(t: float, noise: np.ndarray) -> np.ndarray:
    """Frame at time t: a red car driving right, a blue person walking up, a green thing falling."""
    img = noise.copy()
    if t <= 5.0:
        x = int(20 + 96 * t)
        cv2.rectangle(img, (x, 40), (x + 120, 110), (30, 30, 210), -1)
        cv2.rectangle(img, (x + 40, 90), (x + 80, 102), (240, 240, 240), -1)  # plate
    if 0.5 <= t <= 5.0:
        bottom = int(340 - 30 * (t - 0.5))
        cv2.rectangle(img, (300, bottom - 100), (340, bottom), (200, 110, 30), -1)
        cv2.circle(img, (320, bottom - 88), 9, (150, 170, 220), -1)  # a head
    if t <= 4.5:
        y = int(130 + 40 * t)
        cv2.rectangle(img, (560, y - 40), (600, y), (40, 200, 40), -1)
    return img


@pytest.fixture(scope="module")
def drawn_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    path = tmp_path_factory.mktemp("drawn") / "drawn.avi"
    rng = np.random.default_rng(1)
    noise = rng.integers(90, 110, size=(H, W, 3), dtype=np.uint8)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (W, H))
    n = int(SECS * FPS)
    for i in range(n):
        out.write(_scene(i / FPS, noise))
    out.release()
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return Clip(camera_id="CAM01", path=str(path), sha256=sha, size_bytes=path.stat().st_size, start=START,
                start_raw=START, time_source="cli", clock_offset_s=0.0, duration_s=n / FPS, fps=FPS, frames=n,
                width=W, height=H, codec="mjpeg", container="avi", id=1)


def _blobs(image: np.ndarray, lo: tuple[int, int, int], hi: tuple[int, int, int]) -> list[tuple[float, ...]]:
    mask = cv2.inRange(image, np.array(lo), np.array(hi))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    return [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h, a in stats[1:n] if a > 300]


class PaintDetector:
    """Finds the red car and the blue person by colour; never the green thing."""

    name, version, weights_sha = "paint", "1", "0" * 64

    def detect(self, image: np.ndarray) -> list[Detection]:
        cars = [Detection(0, 0.0, b, "car", 0.9) for b in _blobs(image, (0, 0, 170), (80, 80, 255))]
        people = [Detection(0, 0.0, b, "person", 0.8) for b in _blobs(image, (160, 80, 0), (240, 140, 70))]
        return cars + people


class PaintPlates:
    """Reads a plate where a white plate is on red paint; every third read misreads a digit."""

    backend = "paint"

    def __init__(self) -> None:
        self.calls = 0

    def read(self, image: np.ndarray, *, crop_kind: str = "auto") -> list[PlateText]:
        plates = _blobs(image, (225, 225, 225), (255, 255, 255))
        red = cv2.inRange(image, np.array((0, 0, 170)), np.array((80, 80, 255))).mean() / 255
        if not plates or red < 0.2:
            return []
        self.calls += 1
        text = "51F-123.46" if self.calls % 3 == 0 else "51F-123.45"
        return [PlateText(text, 0.9, "one-row", True, plates[0])]


class PaintFaces:
    """A face wherever the skin-coloured head is in view."""

    def faces(self, image: np.ndarray) -> list[Face]:
        heads = _blobs(image, (130, 150, 200), (170, 190, 240))
        return [Face(b, np.full(128, 0.1), 0.9) for b in heads]


@pytest.fixture(scope="module")
def drawn_result(drawn_clip: Clip, tmp_path_factory: pytest.TempPathFactory) -> tuple:  # type: ignore[type-arg]
    store = SnapshotStore(tmp_path_factory.mktemp("snaps"), drawn_clip.sha256, 1)
    models = Models(PaintDetector(), PaintPlates(), PaintFaces())
    camera = Camera("CAM01", 10.77, 106.70, heading_deg=90.0)  # looks east
    result, stats = analyze_clip(drawn_clip, camera, models=models, settings=AnalysisSettings(rate_fps=5.0),
                                 store=store)
    store.commit()
    return result, stats


def _by_class(result: object) -> dict[str, object]:
    return {t.cls: t for t in result.tracks}  # type: ignore[attr-defined]


def test_one_track_per_object_with_class_direction_and_colour(drawn_result: tuple) -> None:  # type: ignore[type-arg]
    result, _ = drawn_result
    tracks = _by_class(result)
    assert sorted(tracks) == ["car", "person", "unknown"], [(t.cls, t.n_frames) for t in result.tracks]
    car, person, unknown = tracks["car"], tracks["person"], tracks["unknown"]
    assert (car.direction, car.color, car.entry_side) == ("S", "red", "left")  # right = heading + 90
    assert (person.direction, person.color, person.entry_side) == ("E", "blue", "bottom")  # up = heading
    assert unknown.direction == "W"  # down the picture = towards the camera
    assert [t.track_no for t in result.tracks] == [1, 2, 3]  # numbered in order of appearance


def test_times_are_clip_start_plus_offset(drawn_result: tuple, drawn_clip: Clip) -> None:  # type: ignore[type-arg]
    result, _ = drawn_result
    for track in result.tracks:
        dets = [d for d in result.detections if d.track_no == track.track_no]
        assert track.first_time == drawn_clip.start + timedelta(seconds=dets[0].offset_s)
        assert track.last_time == drawn_clip.start + timedelta(seconds=dets[-1].offset_s)
        assert track.first_frame == dets[0].frame and track.n_frames == len(dets)
    assert _by_class(result)["person"].first_time >= START + timedelta(seconds=0.5)


def test_plates_are_voted_over_frames_and_kept_off_people(drawn_result: tuple) -> None:  # type: ignore[type-arg]
    result, _ = drawn_result
    car = _by_class(result)["car"]
    reads = [r for r in result.plate_reads if r.track_id == car.track_no]
    assert len(reads) >= 2
    assert car.plate is not None and car.plate.norm == "51F12345"
    assert all(r.track_id == car.track_no for r in result.plate_reads)
    for read in reads:  # the plate box is in frame pixels, inside the car
        box = read.plate.box
        det = next(d for d in result.detections if d.frame == read.frame and d.track_no == car.track_no)
        assert box is not None and det.box[0] - 2 <= box[0] and box[2] <= det.box[2] + 2


def test_faces_on_the_person_with_snapshots(drawn_result: tuple) -> None:  # type: ignore[type-arg]
    result, _ = drawn_result
    person = _by_class(result)["person"]
    assert result.faces and all(f.track_id == person.track_no for f in result.faces)
    face = result.faces[0]
    det = next(d for d in result.detections if d.frame == face.frame and d.track_no == person.track_no)
    assert det.box[1] - 2 <= face.face.box[1] <= det.box[1] + 0.4 * (det.box[3] - det.box[1])
    assert face.snapshot is not None and face.snapshot.kind == "face"


def test_snapshots_are_traceable_files(drawn_result: tuple, drawn_clip: Clip) -> None:  # type: ignore[type-arg]
    result, _ = drawn_result
    assert {s.kind for s in result.snapshots} == {"track", "plate", "face"}
    for snap in result.snapshots:
        name = f"{drawn_clip.sha256[:12]}/(\\d+)_{snap.kind}_(\\d+)\\.jpg$"
        match = re.search(name, snap.path)
        assert match, snap.path
        assert int(match[1]) == snap.frame
        assert Path(snap.path).is_file() and sha256_file(snap.path) == snap.sha256
        assert snap.time == drawn_clip.start + timedelta(seconds=snap.frame / FPS)
    for track in result.tracks:
        assert track.snapshot is not None and f"_track_{track.track_no}.jpg" in track.snapshot.path
        assert track.first_frame <= track.snapshot.frame <= track.last_frame
    files = {p.name for p in Path(result.snapshots[0].path).parent.iterdir()}
    assert files == {Path(s.path).name for s in result.snapshots}  # no orphan files


def test_static_stretches_are_skipped(drawn_result: tuple) -> None:  # type: ignore[type-arg]
    _, stats = drawn_result
    # The last three seconds are empty and static: the gate lets the detector rest there.
    assert stats.frames == 40 and stats.detected_frames <= stats.frames - 5


def test_track_memory_is_bounded() -> None:
    book = TrackBook(width=640, height=360, k=4)
    rng = np.random.default_rng(0)
    for i in range(300):
        image = rng.integers(0, 255, size=(360, 640, 3), dtype=np.uint8)
        det = Detection(i, i / 4, (10.0 + i, 50.0, 110.0 + i, 150.0), "car", 0.5 + (i % 7) / 20, track_no=1)
        book.add(Frame(i, i / 4, image), [det])
    (frag,) = book.close_all()
    assert len(frag.samples) == 4 and len(frag.detections) == 300
    assert sum(s.image.nbytes for s in frag.samples) < 4 * 140 * 140 * 3
    offsets = sorted(s.offset_s for s in frag.samples)
    assert all(b - a >= 0.5 for a, b in zip(offsets, offsets[1:]))  # spread in time


def _angle(a: float, b: float) -> float:
    d = abs(a - b) % 360
    return min(d, 360 - d)


def test_angle_helper() -> None:
    assert _angle(350, 10) == 20 and math.isclose(_angle(90, 270), 180)
