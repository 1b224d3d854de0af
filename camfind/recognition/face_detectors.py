"""Face detectors behind one interface: YuNet (``yuface``, the default), dlib HOG and dlib CNN.

Each returns :class:`Candidate` boxes in the coordinates of the image it is given; the face
engine (:mod:`camfind.recognition.faces`) gates and encodes them. Each backend imports its
library inside itself, so choosing one never loads the others.

Example:
    >>> detector = load_detector("yunet")                            # doctest: +SKIP
    >>> [c.box for c in detector.detect(rgb)]                         # doctest: +SKIP
    [(373.0, 95.0, 605.0, 414.0)]
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from camfind.errors import ModelError
from camfind.types import Box
from camfind.vocab import DEFAULT_FACE_DETECTOR, FACE_DETECTORS

DETECTORS = FACE_DETECTORS
DEFAULT_DETECTOR = DEFAULT_FACE_DETECTOR
#: YuNet runs on the image scaled down to at most this longer side (yuface warns above 960;
#: faces large enough to encode stay over ~20 px there). dlib's detectors: 1280.
YUNET_MAX_SIDE = 960
DLIB_MAX_SIDE = 1280
#: The square dlib's 5- and 68-point landmark models are fitted in, from YuNet's landmarks:
#: centred between the eye centres and the mouth corners, this many eye-to-mouth distances wide
#: (dlib's own detector boxes measure 2.35 +- 0.18 on realdata/faces; 2.6 gave the widest
#: same/different margin there).
RECT_PER_EYE_MOUTH = 2.6


@dataclass(frozen=True)
class Candidate:
    """A face proposed by a detector.

    Attributes:
        box: the face, (x1, y1, x2, y2) in pixels (what is reported and snapshotted).
        rect: the square (left, top, right, bottom) the landmark models are fitted in.
        score: the detector's score (YuNet: confidence in [0, 1]; HOG: SVM margin; CNN: MMOD score).
        calibrated: the score is a confidence a face may be kept on by itself, without the
            landmark checks (YuNet); HOG and CNN candidates must pass those checks to be kept.
    """

    box: Box
    rect: tuple[int, int, int, int]
    score: float
    calibrated: bool = False


class FaceDetector(Protocol):
    """Proposes faces in an RGB image."""

    name: str
    default_upsample: int
    default_min_score: float

    def detect(
        self, rgb: np.ndarray, *, upsample: int | None = None, max_side: int | None = None,
        min_score: float | None = None,
    ) -> list[Candidate]: ...


def load_detector(name: str = DEFAULT_DETECTOR) -> FaceDetector:
    """The detector called ``name`` (``yunet``, ``hog`` or ``cnn``).

    Raises:
        ModelError: unknown name, or its library or model file is missing.
    """
    if name == "yunet":
        return YuNetDetector()
    if name in ("hog", "cnn"):
        return DlibDetector(name)
    raise ModelError(f"unknown face detector {name!r}; expected one of {', '.join(DETECTORS)}")


def _scaled(rgb: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return rgb
    h, w = rgb.shape[:2]
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp)


class YuNetDetector:
    """YuNet (libfacedetection, BSD-3) from the ``yuface`` wheel: finds faces from ~10 px."""

    name = "yunet"
    default_upsample = 0
    default_min_score = 0.5

    def __init__(self) -> None:
        try:
            yuface = _import_yuface()
        except ImportError as exc:
            raise ModelError(f"yuface is not installed (pip install yuface==2023.5.1): {exc}") from exc
        self._detect = yuface.c_detect  # the raw call: int16 rows (conf x100, XYWH, 5 landmarks)

    def detect(
        self, rgb: np.ndarray, *, upsample: int | None = None, max_side: int | None = YUNET_MAX_SIDE,
        min_score: float | None = None,
    ) -> list[Candidate]:
        """YuNet's faces at ``min_score`` confidence or more (default 0.5); ``upsample`` doubles
        the image that many times after scaling it down to ``max_side``."""
        h, w = rgb.shape[:2]
        scale = 1.0 if max_side is None else min(1.0, max_side / max(h, w))
        scale *= 2 ** (self.default_upsample if upsample is None else upsample)
        bgr = np.ascontiguousarray(cv2.cvtColor(_scaled(rgb, scale), cv2.COLOR_RGB2BGR))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = np.asarray(self._detect(bgr), dtype=np.float64)
        rows = raw.reshape(-1, raw.shape[-1]) if raw.size else np.zeros((0, 16))
        floor = self.default_min_score if min_score is None else min_score
        out: list[Candidate] = []
        for row in rows:
            conf = float(row[0]) / 100.0
            if conf < floor:
                continue
            x, y, bw, bh = (row[1:5] / scale).tolist()
            box = (max(0.0, x), max(0.0, y), min(float(w), x + bw), min(float(h), y + bh))
            if box[2] - box[0] < 1 or box[3] - box[1] < 1:
                continue
            out.append(Candidate(box, _rect_from_landmarks(row[5:15] / scale), round(conf, 4), calibrated=True))
        return out


def _import_yuface() -> Any:
    """Import yuface with its own OpenMP runtime (bundled in the wheel) told to sleep, not spin,
    between parallel regions: spinning threads on a busy machine made YuNet 2-4x slower (on 2
    shared cores: 50-70 ms a 640x360 frame against 22-29 ms). The variable is read once, when
    that runtime loads, and put back after, so no other library sees it."""
    if "yuface" in sys.modules:
        return sys.modules["yuface"]
    saved = os.environ.get("OMP_WAIT_POLICY")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import yuface
    finally:
        if saved is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
    return yuface


def _rect_from_landmarks(points: np.ndarray) -> tuple[int, int, int, int]:
    """dlib's kind of face square from YuNet's 5 landmarks (eyes, nose tip, mouth corners)."""
    pts = points.reshape(5, 2)
    eyes, mouth = (pts[0] + pts[1]) / 2.0, (pts[3] + pts[4]) / 2.0
    cx, cy = (eyes + mouth) / 2.0
    half = max(float(np.linalg.norm(eyes - mouth)) * RECT_PER_EYE_MOUTH / 2.0, 1.0)
    return round(cx - half), round(cy - half), round(cx + half), round(cy + half)


class DlibDetector:
    """dlib's HOG detector (``hog``) or its CNN (MMOD) detector (``cnn``, slow on a CPU)."""

    default_min_score = 0.0

    def __init__(self, kind: str) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise ModelError(f"dlib is not installed (pip install dlib-bin): {exc}") from exc
        self.name = kind
        self.default_upsample = 1
        if kind == "cnn":
            from camfind.recognition.faces import model_path

            self._model: Any = dlib.cnn_face_detection_model_v1(str(model_path("cnn")))
        else:
            self._model = dlib.get_frontal_face_detector()

    def detect(
        self, rgb: np.ndarray, *, upsample: int | None = None, max_side: int | None = DLIB_MAX_SIDE,
        min_score: float | None = None,
    ) -> list[Candidate]:
        """Faces dlib proposes at ``min_score`` or more (HOG: SVM margin, 0 is dlib's default)."""
        h, w = rgb.shape[:2]
        scale = 1.0 if max_side is None else min(1.0, max_side / max(h, w))
        small = _scaled(rgb, scale)
        times = self.default_upsample if upsample is None else upsample
        floor = self.default_min_score if min_score is None else min_score
        if self.name == "cnn":
            found = [(d.rect, float(d.confidence)) for d in self._model(small, times)]
            found = [(r, s) for r, s in found if s >= floor]
        else:
            rects, scores, _kinds = self._model.run(small, times, floor)
            found = list(zip(rects, (float(s) for s in scores), strict=True))
        out: list[Candidate] = []
        for r, s in found:
            left, top, right, bottom = (round(v / scale) for v in (r.left(), r.top(), r.right(), r.bottom()))
            rect = (left, top, right, bottom)
            box = (float(max(left, 0)), float(max(top, 0)), float(min(right, w - 1)), float(min(bottom, h - 1)))
            if box[2] - box[0] >= 1 and box[3] - box[1] >= 1:
                out.append(Candidate(box, rect, s))
        return out
