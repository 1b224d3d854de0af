"""The size and sharpness gates: a face too small or blurred to encode is kept without an
encoding (YuNet), never matched; the size counts source pixels when the caller enlarged the
image; a probe without a usable face is a named error saying why. Real photo from
$CAMFIND_REALDATA/faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.errors import InputError, NoUsableFaceError
from camfind.recognition.faces import MIN_ENCODE_PX, FaceEngine, face_distance, load_face_engine, usable_faces
from camfind.types import Face


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return load_face_engine()


@pytest.fixture(scope="module")
def portrait(realdata: Path) -> np.ndarray:
    """Obama at 240p: one face about 53 px wide."""
    image = cv2.imread(str(realdata / "faces" / "obama" / "obama-240p.jpg"))
    assert image is not None
    return image


def _shrunk(image: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def test_the_portrait_face_is_encoded(engine: FaceEngine, portrait: np.ndarray) -> None:
    (face,) = engine.faces(portrait)
    assert face.encoding is not None and face.unencoded == "" and face.encoded
    assert face.box[2] - face.box[0] >= MIN_ENCODE_PX


def test_a_small_face_is_kept_without_an_encoding(engine: FaceEngine, portrait: np.ndarray) -> None:
    small = _shrunk(portrait, 0.4)  # the face ~21 px wide: found by YuNet, too small to encode
    (face,) = engine.faces(small)
    assert face.encoding is None and face.unencoded == "small" and not face.encoded
    assert face.box[2] - face.box[0] < MIN_ENCODE_PX and 0.0 < face.quality <= 1.0
    with pytest.raises(ValueError, match="no encoding"):
        face_distance(face, np.zeros(128))


def test_the_size_gate_counts_source_pixels(engine: FaceEngine, portrait: np.ndarray) -> None:
    """A small face enlarged by the caller (a head region of a CCTV frame) holds no more detail:
    told the factor, the engine keeps it unencoded; not told, it encodes the enlarged image."""
    enlarged = cv2.resize(_shrunk(portrait, 0.4), None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
    (told,) = engine.faces(enlarged, upscaled=2.5)
    assert told.encoding is None and told.unencoded == "small"
    (untold,) = engine.faces(enlarged)
    assert untold.encoding is not None


def test_a_blurred_face_is_kept_without_an_encoding(engine: FaceEngine, portrait: np.ndarray) -> None:
    (face,) = engine.faces(cv2.GaussianBlur(portrait, (0, 0), 5.0))
    assert face.encoding is None and face.unencoded == "blurred"


def test_hog_drops_what_it_cannot_encode(portrait: np.ndarray) -> None:
    """HOG's score is no confidence to keep a face on: a small or blurred one is dropped."""
    hog = load_face_engine("hog")
    assert [f.encoded for f in hog.faces(portrait)] == [True]
    assert hog.faces(_shrunk(portrait, 0.4), upsample=2) == []


def _face(width: float, reason: str = "", encoded: bool = False) -> Face:
    return Face((10.0, 10.0, 10.0 + width, 10.0 + width * 1.3), np.zeros(128) if encoded else None,
                0.5, "" if encoded else reason)


@pytest.mark.parametrize(
    ("faces", "reason", "message"),
    [
        ([], "none", "p.jpg: no face found in the probe image (try a larger, sharper, frontal photo)"),
        ([_face(20, "small"), _face(12, "small")], "small",
         f"p.jpg: the probe's face is too small to match (20 px wide, {MIN_ENCODE_PX} needed)"),
        ([_face(60, "blurred")], "blurred", "p.jpg: the probe's face is too blurred to match"),
    ],
)
def test_a_probe_without_a_usable_face_says_why(faces: list[Face], reason: str, message: str) -> None:
    with pytest.raises(NoUsableFaceError) as caught:
        usable_faces(faces, "p.jpg")
    assert caught.value.reason == reason and str(caught.value).startswith(message)
    assert isinstance(caught.value, InputError)  # one line at the CLI edge, exit 2


def test_usable_faces_are_the_encoded_ones() -> None:
    big, small = _face(90, encoded=True), _face(20, "small")
    assert usable_faces([small, big], "p.jpg") == [big]


def test_face_values_are_checked() -> None:
    with pytest.raises(ValueError, match="128-d"):
        Face((0.0, 0.0, 5.0, 5.0), np.zeros(64))
    with pytest.raises(ValueError, match="no unencoded reason"):
        Face((0.0, 0.0, 5.0, 5.0), np.zeros(128), 1.0, "small")


def test_threads_sharing_the_engine_take_turns_and_find_what_one_finds(
        engine: FaceEngine, portrait: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enrichment threads share one engine; dlib's models are not thread-safe, so its calls run
    one at a time, with the faces one thread alone finds."""
    import threading
    import time

    alone = engine.faces(portrait)
    active, most = [0], [0]
    lock = threading.Lock()
    real = engine.detector.detect

    def watched(*args: object, **kwargs: object) -> object:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.02)
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(engine.detector, "detect", watched)
    found: list[list[Face]] = []
    threads = [threading.Thread(target=lambda: found.append(engine.faces(portrait))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1 and len(found) == 4
    assert all([f.box for f in faces] == [f.box for f in alone] for faces in found) and alone
