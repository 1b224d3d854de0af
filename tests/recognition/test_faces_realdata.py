"""Faces on the real photos of $CAMFIND_REALDATA/faces: YuNet (the default detector) finds and
encodes the face of every labelled photo, every same-person pair matches and no different-person
pair does at the default threshold, with YuNet and with dlib's HOG; the gates keep textures out."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.errors import InputError, ModelError
from camfind.recognition.faces import (
    FaceEngine,
    face_distance,
    landmark_score,
    load_face_engine,
)
from camfind.types import Face
from camfind.vocab import FACE_MATCH_THRESHOLD


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return load_face_engine()


def _labelled(engine: FaceEngine, realdata: Path) -> dict[str, tuple[str, Face]]:
    with open(realdata / "faces" / "identities.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if "/multi/" not in r["file"] and "/video/" not in r["file"]]
    out: dict[str, tuple[str, Face]] = {}
    for row in rows:
        faces = engine.faces(cv2.imread(str(realdata / row["file"])))
        assert faces, f"no face found in {row['file']}"
        assert faces[0].encoding is not None, f"largest face of {row['file']} not encoded: {faces[0].unencoded}"
        out[row["file"]] = (row["identity"], faces[0])
    assert len(out) >= 19
    return out


@pytest.fixture(scope="module")
def labelled_faces(engine: FaceEngine, realdata: Path) -> dict[str, tuple[str, Face]]:
    return _labelled(engine, realdata)


def _decided_right(labelled: dict[str, tuple[str, Face]]) -> None:
    same, diff = [], []
    for (a, (ia, fa)), (b, (ib, fb)) in itertools.combinations(labelled.items(), 2):
        (same if ia == ib else diff).append((face_distance(fa, fb), a, b))
    assert len(same) >= 36 and len(diff) >= 135
    assert max(same)[0] <= FACE_MATCH_THRESHOLD, f"same person not matched: {max(same)}"
    assert min(diff)[0] > FACE_MATCH_THRESHOLD, f"different people matched: {min(diff)}"


def test_every_pair_decided_right_at_the_default_threshold(labelled_faces: dict[str, tuple[str, Face]]) -> None:
    _decided_right(labelled_faces)


def test_the_default_detector_is_yunet(engine: FaceEngine) -> None:
    assert engine.detector_name == "yunet" and engine.detector.name == "yunet"


def test_dlib_hog_stays_selectable_and_decides_every_pair_right(realdata: Path) -> None:
    hog = load_face_engine("hog")
    assert hog.detector_name == "hog"
    _decided_right(_labelled(hog, realdata))


def test_faces_carry_boxes_quality_and_unit_encodings(labelled_faces: dict[str, tuple[str, Face]]) -> None:
    for _identity, face in labelled_faces.values():
        x1, y1, x2, y2 = face.box
        assert x2 - x1 >= 30 and y2 - y1 >= 30
        assert 0.0 < face.quality <= 1.0
        assert face.encoding is not None and face.unencoded == ""
        assert face.encoding.shape == (128,) and 0.5 < float(np.linalg.norm(face.encoding)) < 3.0


def test_two_photos_at_two_resolutions_are_the_same_face(labelled_faces: dict[str, tuple[str, Face]]) -> None:
    small = labelled_faces["faces/obama/obama-240p.jpg"][1]
    large = labelled_faces["faces/obama/obama-1080p.jpg"][1]
    assert face_distance(small, large) < 0.25
    assert face_distance(small, small) == 0.0
    assert face_distance(small.encoding, large) == face_distance(large, small)


@pytest.mark.parametrize(
    ("name", "people"), [("obama_and_biden.jpg", 2), ("kit_with_rose.jpg", 2), ("two_people.jpg", 2)]
)
def test_group_photos_give_every_face(engine: FaceEngine, realdata: Path, name: str, people: int) -> None:
    faces = engine.faces(cv2.imread(str(realdata / "faces" / "multi" / name)))
    assert len(faces) >= people
    areas = [(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) for f in faces]
    assert areas == sorted(areas, reverse=True)


def test_probe_found_among_group_photo_faces(
    engine: FaceEngine, realdata: Path, labelled_faces: dict[str, tuple[str, Face]]
) -> None:
    group = engine.faces(cv2.imread(str(realdata / "faces" / "multi" / "obama_and_biden.jpg")))
    for probe_file in ("faces/obama/obama2.jpg", "faces/biden/biden2.jpg"):
        probe = labelled_faces[probe_file][1]
        assert min(face_distance(probe, f) for f in group if f.encoding is not None) <= FACE_MATCH_THRESHOLD


def _texture_images(realdata: Path) -> list[np.ndarray]:
    crops = sorted((realdata / "plates" / "vn_vitocolerole_crops").glob("*.jpg"))
    images = [cv2.imread(str(p)) for p in crops[:10]]
    cap = cv2.VideoCapture(str(realdata / "video" / "intel_car-detection_768x432.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    images.append(frame)
    images.append(np.random.default_rng(0).integers(0, 256, (360, 480, 3), dtype=np.uint8))
    return images


@pytest.mark.parametrize("detector", ["yunet", "hog"])
def test_textures_are_not_taken_for_faces(engine: FaceEngine, realdata: Path, detector: str) -> None:
    """Plate crops, a street frame from above and noise hold no face, for either detector."""
    used = engine if detector == "yunet" else load_face_engine(detector)
    assert sum(len(used.faces(img)) for img in _texture_images(realdata)) == 0


def test_gates_reject_textures_hog_proposes(realdata: Path) -> None:
    """With HOG's threshold lowered so that it proposes texture candidates, the gates still
    reject most of them (HOG candidates are dropped, never kept unencoded, when they fail)."""
    hog = load_face_engine("hog")
    proposed = passed = 0
    for img in _texture_images(realdata):
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        candidates = hog.detector.detect(rgb, upsample=1, max_side=None, min_score=-0.8)
        proposed += len(candidates)
        passed += sum(hog._gate_and_encode(rgb, grey, c, 1.0) is not None for c in candidates)
    assert proposed >= 8, "expected HOG to propose texture candidates at a score of -0.8"
    print(f"texture candidates: {proposed} proposed, {passed} passed the gates")
    assert passed <= 0.25 * proposed, f"gates let {passed} of {proposed} texture candidates through"


def test_landmark_score_rejects_an_upside_down_face() -> None:
    pts = np.zeros((68, 2))
    pts[36:42] = (30, 40)
    pts[42:48] = (70, 40)
    pts[30] = (50, 60)
    pts[48:68] = (50, 80)
    assert landmark_score(pts, (0, 0, 100, 100)) > 0.9
    flipped = pts.copy()
    flipped[:, 1] = 100 - flipped[:, 1]
    assert landmark_score(flipped, (0, 0, 100, 100)) == 0.0


def test_bad_inputs(engine: FaceEngine) -> None:
    with pytest.raises(InputError):
        engine.faces(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(InputError):
        engine.faces("face.jpg")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        face_distance(np.zeros(128), np.zeros(64))
    with pytest.raises(ModelError, match="yunet, hog, cnn"):
        load_face_engine("haar")
    assert engine.faces(np.full((60, 80), 128, np.uint8)) == []
