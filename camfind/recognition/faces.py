"""Faces: detection (YuNet by default; dlib HOG or CNN), quality gates, 128-d encodings, distance.

Detection is YuNet (``yuface``, BSD-3), which finds faces down to ~10 px where dlib's HOG needs
~40; dlib's HOG and CNN detectors stay selectable (:mod:`camfind.recognition.face_detectors`).
Landmarks and encodings are dlib's (5-point shape predictor + ResNet 128-d encoder), called
directly with the model files shipped by ``face_recognition_models``.

Gates, in order:
- size: a face under :data:`MIN_ENCODE_PX` pixels wide (in the source image) is kept but not
  encoded (``Face.encoding`` None, ``unencoded="small"``) when YuNet is confident of it
  (:data:`MIN_SMALL_CONFIDENCE`): too few pixels to tell people apart;
- landmarks: dlib's 68 points must look like a face and agree with its 5 points, else the
  candidate is dropped (YuNet and HOG both take some textures, plate characters, tail lights,
  for faces);
- sharpness (variance of the Laplacian): under :data:`MIN_SHARPNESS` the face is kept unencoded
  (``blurred``).
HOG and CNN candidates failing the size or sharpness gate are dropped: their scores are not a
confidence to keep a face on.

Example:
    >>> engine = load_face_engine()                                   # doctest: +SKIP
    >>> probe = engine.faces(cv2.imread("probe.jpg"))[0]               # doctest: +SKIP
    >>> face_distance(probe, engine.faces(cv2.imread("cctv.jpg"))[0])  # doctest: +SKIP
    0.41
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from camfind.errors import InputError, ModelError, NoUsableFaceError
from camfind.recognition.face_detectors import DEFAULT_DETECTOR, DETECTORS, Candidate, FaceDetector, load_detector
from camfind.types import Face

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "FaceEngine", "load_face_engine", "face_distance", "usable_faces"]

#: Faces narrower than this (source pixels, YuNet's box) are kept but not encoded. Measured on
#: realdata/faces shrunk so the face is N px wide, then enlarged again as the pipeline does
#: (benchmarks/recognition.py, faces by size): at 16 px 58/72 same-person pairs match and a
#: different pair does too; at 20 px 67/71; from 24 px 72/72 with no different pair, the photo's
#: own full-size encoding 0.34-0.40 away at 24 px, 0.29-0.35 at 28, 0.24-0.29 at 32. 28 leaves a
#: margin for CCTV blur and compression and is about where dlib's HOG boxes were gated before
#: (30 px; its boxes are ~1.14x YuNet's width).
MIN_ENCODE_PX = 28
#: A face too small to encode has only the detector's word for it: kept from this YuNet
#: confidence. On street and CCTV frames of realdata (video/, vn/) the small faces YuNet scores
#: 0.68-0.88 are faces; under 0.6 helmets and backs of heads come in with real faces.
MIN_SMALL_CONFIDENCE = 0.7
#: Variance of the Laplacian of the face resized to 128 px: under this it is too blurred.
MIN_SHARPNESS = 12.0
#: The 5-point and 68-point landmark models are fitted independently; on a face they agree
#: (eye corners and nose within 1-9% of the eye distance on realdata/faces, the worst a shadowed,
#: downcast child's face), on a texture that HOG took for a face they mostly do not (over 10% for
#: 37 of 44 candidates HOG proposed on plate crops at score -0.8). Over this share the candidate
#: fails the landmark gate.
MAX_LANDMARK_DISAGREEMENT = 0.10
#: Points of the 68-point model matching the 5-point model's (eye corners, base of the nose).
_FIVE_IN_68 = [45, 42, 36, 39, 33]
#: Why a face was kept without an encoding, as the probe error says it.
UNENCODED_REASONS = {
    "small": "too small to match",
    "blurred": "too blurred to match",
}
_ADVICE = {"small": "use a closer or larger photo of the face", "blurred": "use a sharper photo"}

MODEL_FILES = {
    "landmarks68": "shape_predictor_68_face_landmarks.dat",
    "landmarks5": "shape_predictor_5_face_landmarks.dat",
    "encoder": "dlib_face_recognition_resnet_model_v1.dat",
    "cnn": "mmod_human_face_detector.dat",
}


def model_path(key: str) -> Path:
    """Path of one of face_recognition_models' files (without importing that package, whose
    ``__init__`` needs ``pkg_resources``).

    Raises:
        ModelError: the package or the file is missing.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("face_recognition_models is not installed (pip install face_recognition_models)")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / MODEL_FILES[key]
    if not path.is_file():
        raise ModelError(f"face model file missing: {path}")
    return path


class FaceEngine:
    """Detects, gates and encodes faces. Load once with :func:`load_face_engine`.

    Safe to share between threads: dlib's models are not, so one call runs at a time.
    """

    def __init__(self, detector: str = DEFAULT_DETECTOR) -> None:
        if detector not in DETECTORS:
            raise ModelError(f"unknown face detector {detector!r}; expected one of {', '.join(DETECTORS)}")
        try:
            import dlib
        except ImportError as exc:
            raise ModelError(f"dlib is not installed (pip install dlib-bin): {exc}") from exc
        self.detector_name = detector
        self._dlib = dlib
        self.detector: FaceDetector = load_detector(detector)
        self._landmarks68 = dlib.shape_predictor(str(model_path("landmarks68")))
        self._landmarks5 = dlib.shape_predictor(str(model_path("landmarks5")))
        self._encoder = dlib.face_recognition_model_v1(str(model_path("encoder")))
        self._lock = threading.Lock()

    def faces(
        self,
        image_bgr: np.ndarray,
        *,
        upsample: int | None = None,
        max_side: int | None = -1,
        min_score: float | None = None,
        upscaled: float = 1.0,
    ) -> list[Face]:
        """Faces in a BGR image, largest first: encoded ones, and (YuNet) those kept without an
        encoding because they are too small or blurred (``Face.encoding`` None).

        Args:
            image_bgr: HxWx3 BGR (or HxW grey) uint8 image.
            upsample: times the image is doubled before detection (finds smaller faces, slower);
                None: the detector's default (YuNet 0, HOG/CNN 1).
            max_side: detect on the image scaled down to this longer side (None: full size;
                -1: the detector's default, YuNet 960, HOG/CNN 1280).
            min_score: detector score from which a candidate is considered (None: the
                detector's default; YuNet confidence 0.5, HOG SVM margin 0, CNN 0).
            upscaled: how many times the caller enlarged the image (a head region of a CCTV
                frame): the size gate counts source pixels, which hold the detail.

        Raises:
            InputError: not an image.
        """
        rgb = _as_rgb(image_bgr)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        kw = {} if max_side == -1 else {"max_side": max_side}
        found: list[Face] = []
        with self._lock:
            for cand in self.detector.detect(rgb, upsample=upsample, min_score=min_score, **kw):
                face = self._gate_and_encode(rgb, grey, cand, max(upscaled, 1e-6))
                if face is not None:
                    found.append(face)
        return sorted(found, key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))

    def _gate_and_encode(self, rgb: np.ndarray, grey: np.ndarray, cand: Candidate, upscaled: float) -> Face | None:
        x1, y1, x2, y2 = (round(v) for v in cand.box)
        side = min(x2 - x1, y2 - y1) / upscaled
        if side < MIN_ENCODE_PX:
            logger.debug("face %s too small (%.0f px)", cand.box, side)
            return _unencoded(cand, side, "small") if cand.score >= MIN_SMALL_CONFIDENCE else None
        rect = self._dlib.rectangle(*cand.rect)
        pts = np.array([(p.x, p.y) for p in self._landmarks68(rgb, rect).parts()], dtype=float)
        shape_score = landmark_score(pts, cand.rect)
        shape5 = self._landmarks5(rgb, rect)
        pts5 = np.array([(p.x, p.y) for p in shape5.parts()], dtype=float)
        disagreement = landmark_disagreement(pts, pts5)
        if shape_score <= 0.0 or disagreement > MAX_LANDMARK_DISAGREEMENT:
            logger.debug("face %s fails the landmark check (%.3f)", cand.box, disagreement)
            return None
        sharp = sharpness(grey[y1:y2, x1:x2])
        if sharp < MIN_SHARPNESS:
            logger.debug("face %s too blurred (%.1f)", cand.box, sharp)
            return _unencoded(cand, side, "blurred")
        encoding = np.asarray(self._encoder.compute_face_descriptor(rgb, shape5), dtype=np.float64)
        quality = shape_score * min(1.0, side / 80.0) * min(1.0, sharp / 100.0)
        return Face(box=cand.box, encoding=encoding, quality=round(float(quality), 4))


def _unencoded(cand: Candidate, side: float, reason: str) -> Face | None:
    """A face kept without an encoding, where the detector's confidence is calibrated (YuNet);
    HOG and CNN candidates that fail a gate are dropped."""
    if not cand.calibrated:
        return None
    quality = max(0.0001, cand.score * min(1.0, side / 80.0))
    return Face(box=cand.box, encoding=None, quality=round(quality, 4), unencoded=reason)


def load_face_engine(detector: str = DEFAULT_DETECTOR) -> FaceEngine:
    """Load the face models once (YuNet detector by default; ``hog``; ``cnn`` is slow on a CPU).

    Raises:
        ModelError: unknown detector, yuface, dlib or the model files missing.
    """
    return FaceEngine(detector)


def usable_faces(faces: Sequence[Face], name: str) -> list[Face]:
    """The encoded faces of a probe image, largest first.

    Raises:
        NoUsableFaceError: none, saying why: no face found, or every face found too small or too
            blurred (the most common reason among them).
    """
    encoded = [f for f in faces if f.encoding is not None]
    if encoded:
        return encoded
    if not faces:
        raise NoUsableFaceError(f"{name}: no face found in the probe image (try a larger, sharper, frontal photo)")
    reasons = [f.unencoded or "small" for f in faces]
    reason = max(UNENCODED_REASONS, key=reasons.count)
    widest = max(f.box[2] - f.box[0] for f in faces)
    detail = f" ({widest:.0f} px wide, {MIN_ENCODE_PX} needed)" if reason == "small" else ""
    raise NoUsableFaceError(
        f"{name}: the probe's face is {UNENCODED_REASONS[reason]}{detail}: {_ADVICE[reason]}", reason)


def face_distance(a: Face | np.ndarray, b: Face | np.ndarray) -> float:
    """Euclidean distance between two face encodings (0 = identical; same person usually < 0.5)."""
    va = _vector(a)
    vb = _vector(b)
    if va.shape != (128,) or vb.shape != (128,):
        raise ValueError(f"expected two 128-d encodings, got {va.shape} and {vb.shape}")
    return float(np.linalg.norm(va - vb))


def _vector(face: Face | np.ndarray) -> np.ndarray:
    if isinstance(face, Face):
        if face.encoding is None:
            raise ValueError(f"face at {face.box} has no encoding ({face.unencoded or 'not encoded'})")
        return face.encoding
    return np.asarray(face, dtype=np.float64)


def sharpness(patch: np.ndarray) -> float:
    """Variance of the Laplacian of a grey patch resized to 128x128 (higher is sharper)."""
    if patch.size == 0:
        return 0.0
    small = cv2.resize(patch, (128, 128), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(small, cv2.CV_64F).var())


def landmark_score(pts: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """How face-like 68 landmarks are, in [0, 1]; 0 fails the gate.

    Checks: the eyes are apart by a plausible share of the box width and roughly level, the
    nose tip lies between the eyes and below them, the mouth below the nose.
    """
    x1, y1, x2, y2 = box
    width = max(x2 - x1, 1)
    left_eye, right_eye = pts[36:42].mean(axis=0), pts[42:48].mean(axis=0)
    nose, mouth = pts[30], pts[48:68].mean(axis=0)
    eye_dist = float(np.linalg.norm(right_eye - left_eye))
    ratio = eye_dist / width
    tilt = abs(math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0])))
    eye_y = (left_eye[1] + right_eye[1]) / 2
    checks = (
        0.2 <= ratio <= 0.75,
        tilt <= 35.0,
        left_eye[0] - 0.25 * eye_dist <= nose[0] <= right_eye[0] + 0.25 * eye_dist,
        eye_y < nose[1] < mouth[1],
    )
    if not all(checks):
        return 0.0
    symmetry = 1.0 - min(1.0, abs(nose[0] - (left_eye[0] + right_eye[0]) / 2) / max(eye_dist, 1e-6))
    return float(round(max(0.05, symmetry), 4))


def landmark_disagreement(pts68: np.ndarray, pts5: np.ndarray) -> float:
    """Mean distance between the 5-point model's points and the same points of the 68-point
    model, as a share of the distance between the eyes (small on faces, large on textures)."""
    eye_dist = float(np.linalg.norm(pts68[36:42].mean(axis=0) - pts68[42:48].mean(axis=0)))
    gaps = np.linalg.norm(pts5 - pts68[_FIVE_IN_68], axis=1)
    return float(gaps.mean() / max(eye_dist, 1e-6))


def _as_rgb(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        shape = getattr(image, "shape", None)
        raise InputError(f"expected an image array HxW or HxWx3, got {type(image).__name__} {shape}")
    img = image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
    if img.shape[2] == 4:
        return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGRA2RGB))
    if img.shape[2] != 3:
        raise InputError(f"expected 1, 3 or 4 channels, got shape {img.shape}")
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
