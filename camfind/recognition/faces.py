"""Faces: detection (dlib HOG, or dlib's CNN detector), quality gates, 128-d encodings, distance.

dlib is called directly with the model files shipped by ``face_recognition_models`` (the
``face_recognition`` package itself is not needed). Gates keep textures from being taken for
faces: a minimum size, a sharpness floor (variance of the Laplacian) and a sanity check of the
68 facial landmarks (eyes level and apart, nose between them, mouth below).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camfind.errors import InputError, ModelError
from camfind.types import Face
from camfind.vocab import FACE_DETECTORS

logger = logging.getLogger(__name__)

#: Faces smaller than this (box side, px) are not encoded: too few pixels to tell people apart.
MIN_FACE_PX = 30
#: Variance of the Laplacian of the face resized to 128 px: under this it is too blurred.
MIN_SHARPNESS = 12.0
#: The 5-point and 68-point landmark models are fitted independently; on a face they agree
#: (eye corners and nose within 1-9% of the eye distance on realdata/faces, the worst a shadowed,
#: downcast child's face), on a texture that HOG took for a face they mostly do not (over 10% for
#: 37 of 44 candidates HOG proposed on plate crops at score -0.8). Over this share the candidate is
#: dropped.
MAX_LANDMARK_DISAGREEMENT = 0.10
#: Points of the 68-point model matching the 5-point model's (eye corners, base of the nose).
_FIVE_IN_68 = [45, 42, 36, 39, 33]
#: Detection runs on the image scaled down to at most this longer side (landmarks and encodings
#: use the full image); with upsample=1 faces from ~40 px (in the scaled image) are found.
MAX_DETECT_SIDE = 1280

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


@dataclass(frozen=True)
class _Candidate:
    rect: Any
    score: float


class FaceEngine:
    """Detects, gates and encodes faces. Load once with :func:`load_face_engine`."""

    def __init__(self, detector: str = "hog") -> None:
        if detector not in FACE_DETECTORS:
            raise ModelError(f"unknown face detector {detector!r}; expected one of {', '.join(FACE_DETECTORS)}")
        try:
            import dlib
        except ImportError as exc:
            raise ModelError(f"dlib is not installed (pip install dlib-bin): {exc}") from exc
        self.detector_name = detector
        self._dlib = dlib
        if detector == "cnn":
            self._cnn = dlib.cnn_face_detection_model_v1(str(model_path("cnn")))
        else:
            self._hog = dlib.get_frontal_face_detector()
        self._landmarks68 = dlib.shape_predictor(str(model_path("landmarks68")))
        self._landmarks5 = dlib.shape_predictor(str(model_path("landmarks5")))
        self._encoder = dlib.face_recognition_model_v1(str(model_path("encoder")))

    def faces(
        self,
        image_bgr: np.ndarray,
        *,
        upsample: int = 1,
        max_side: int | None = MAX_DETECT_SIDE,
        min_score: float = 0.0,
    ) -> list[Face]:
        """Faces in a BGR image that pass the quality gates, largest first.

        Args:
            image_bgr: HxWx3 BGR (or HxW grey) uint8 image.
            upsample: times the image is doubled before detection (finds smaller faces, slower).
            max_side: detect on the image scaled down to this longer side (None: full size).
            min_score: detector score from which a candidate is considered (HOG: SVM margin,
                0 is dlib's default; CNN: confidence). Lower finds more, and the gates then
                have more to reject.

        Raises:
            InputError: not an image.
        """
        rgb = _as_rgb(image_bgr)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        found: list[Face] = []
        for cand in self._detect(rgb, upsample, max_side, min_score):
            face = self._gate_and_encode(rgb, grey, cand)
            if face is not None:
                found.append(face)
        return sorted(found, key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))

    def _detect(
        self, rgb: np.ndarray, upsample: int, max_side: int | None, min_score: float
    ) -> list[_Candidate]:
        h, w = rgb.shape[:2]
        scale = 1.0 if max_side is None else min(1.0, max_side / max(h, w))
        size = (round(w * scale), round(h * scale))
        small = rgb if scale == 1.0 else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        if self.detector_name == "cnn":
            found = [(d.rect, float(d.confidence)) for d in self._cnn(small, upsample)]
            found = [(r, s) for r, s in found if s >= min_score]
        else:
            rects, scores, _kinds = self._hog.run(small, upsample, min_score)
            found = list(zip(rects, (float(s) for s in scores), strict=True))
        return [_Candidate(self._rescale(r, scale), s) for r, s in found]

    def _rescale(self, rect: Any, scale: float) -> Any:
        if scale == 1.0:
            return rect
        return self._dlib.rectangle(
            round(rect.left() / scale),
            round(rect.top() / scale),
            round(rect.right() / scale),
            round(rect.bottom() / scale),
        )

    def _gate_and_encode(self, rgb: np.ndarray, grey: np.ndarray, cand: _Candidate) -> Face | None:
        h, w = grey.shape[:2]
        r = cand.rect
        x1, y1 = max(r.left(), 0), max(r.top(), 0)
        x2, y2 = min(r.right(), w - 1), min(r.bottom(), h - 1)
        side = min(x2 - x1, y2 - y1)
        if side < MIN_FACE_PX:
            logger.debug("face %s too small (%d px)", (x1, y1, x2, y2), side)
            return None
        sharp = sharpness(grey[y1:y2, x1:x2])
        if sharp < MIN_SHARPNESS:
            logger.debug("face %s too blurred (%.1f)", (x1, y1, x2, y2), sharp)
            return None
        pts = np.array([(p.x, p.y) for p in self._landmarks68(rgb, r).parts()], dtype=float)
        shape_score = landmark_score(pts, (x1, y1, x2, y2))
        shape5 = self._landmarks5(rgb, r)
        pts5 = np.array([(p.x, p.y) for p in shape5.parts()], dtype=float)
        disagreement = landmark_disagreement(pts, pts5)
        if shape_score <= 0.0 or disagreement > MAX_LANDMARK_DISAGREEMENT:
            logger.debug("face %s fails the landmark check (%.3f)", (x1, y1, x2, y2), disagreement)
            return None
        encoding = np.asarray(self._encoder.compute_face_descriptor(rgb, shape5), dtype=np.float64)
        quality = shape_score * min(1.0, side / 80.0) * min(1.0, sharp / 100.0)
        box = (float(x1), float(y1), float(x2), float(y2))
        return Face(box=box, encoding=encoding, quality=round(float(quality), 4))


def load_face_engine(detector: str = "hog") -> FaceEngine:
    """Load the face models once (HOG detector by default; ``cnn`` is slower, finds more).

    Raises:
        ModelError: unknown detector, dlib or the model files missing.
    """
    return FaceEngine(detector)


def face_distance(a: Face | np.ndarray, b: Face | np.ndarray) -> float:
    """Euclidean distance between two face encodings (0 = identical; same person usually < 0.5)."""
    va = a.encoding if isinstance(a, Face) else np.asarray(a, dtype=np.float64)
    vb = b.encoding if isinstance(b, Face) else np.asarray(b, dtype=np.float64)
    if va.shape != (128,) or vb.shape != (128,):
        raise ValueError(f"expected two 128-d encodings, got {va.shape} and {vb.shape}")
    return float(np.linalg.norm(va - vb))


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
    return round(max(0.05, symmetry), 4)


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
