"""rapidocr-onnxruntime backend: PP-OCRv4 detection and recognition ONNX models, no torch.

The recogniser's output is decoded here (greedy CTC) with its alphabet limited to the
characters asked for, so a plate is never read as a Chinese look-alike, and every character
comes with its probability and the runner-up characters (used by the plate rules to fix a
letter read in a digit slot and vice versa).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from camfind.errors import ModelError
from camfind.recognition.ocr import PLATE_CHARSET, LineRead
from camfind.types import Box

logger = logging.getLogger(__name__)

REC_HEIGHT = 48
MIN_REC_WIDTH = 320
N_ALTERNATIVES = 3


class RapidOcrBackend:
    """PP-OCRv4 through rapidocr-onnxruntime (models ship inside the wheel)."""

    name = "rapidocr"

    def __init__(self) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # pragma: no cover - the package is a core dependency
            raise ModelError(f"rapidocr-onnxruntime is not installed: {exc}") from exc
        try:
            engine = RapidOCR()
        except Exception as exc:  # the models are files inside the wheel
            raise ModelError(f"rapidocr models could not be loaded: {exc}") from exc
        self._det = engine.text_det
        self._rec = engine.text_rec
        self._chars: list[str] = list(self._rec.postprocess_op.character)
        self._masks: dict[str, np.ndarray] = {}

    def _mask(self, charset: str) -> np.ndarray:
        mask = self._masks.get(charset)
        if mask is None:
            allowed = set(charset)
            mask = np.array([i == 0 or c in allowed for i, c in enumerate(self._chars)])
            self._masks[charset] = mask
        return mask

    def recognize(self, lines: Sequence[np.ndarray], *, charset: str = PLATE_CHARSET) -> list[LineRead]:
        """Recognise each strip as one line; one batched model call per call."""
        if not lines:
            return []
        ratios = [max(img.shape[1] / max(img.shape[0], 1), 0.1) for img in lines]
        width = max(MIN_REC_WIDTH, int(np.ceil(REC_HEIGHT * max(ratios))))
        batch = np.zeros((len(lines), 3, REC_HEIGHT, width), dtype=np.float32)
        for i, (img, ratio) in enumerate(zip(lines, ratios, strict=True)):
            w = min(width, max(1, int(np.ceil(REC_HEIGHT * ratio))))
            resized = cv2.resize(_bgr(img), (w, REC_HEIGHT)).astype(np.float32)
            batch[i, :, :, :w] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        probs = self._rec.session(batch)[0]
        mask = self._mask(charset)
        return [self._decode(p, mask) for p in probs]

    def _decode(self, probs: np.ndarray, mask: np.ndarray) -> LineRead:
        """Greedy CTC over the allowed characters, keeping each character's best frame."""
        masked = np.where(mask[None, :], probs, 0.0)
        idx = masked.argmax(axis=1)
        text: list[str] = []
        char_probs: list[float] = []
        alts: list[Mapping[str, float]] = []
        prev = 0
        for t, i in enumerate(idx):
            if i != 0 and i != prev:
                text.append(self._chars[i])
                char_probs.append(float(masked[t, i]))
                alts.append(self._alternatives(masked[t]))
            elif i != 0 and float(masked[t, i]) > char_probs[-1]:
                char_probs[-1] = float(masked[t, i])
                alts[-1] = self._alternatives(masked[t])
            prev = i
        conf = float(np.mean(char_probs)) if char_probs else 0.0
        return LineRead("".join(text), conf, tuple(char_probs), tuple(alts))

    def _alternatives(self, frame: np.ndarray) -> Mapping[str, float]:
        top = np.argsort(frame)[::-1][: N_ALTERNATIVES + 1]
        return {self._chars[j]: float(frame[j]) for j in top if j != 0 and frame[j] > 0}

    def detect(self, image: np.ndarray, *, max_side: int = 960) -> list[Box]:
        """DB text detection on the image scaled so its longer side is ``max_side``."""
        img = _bgr(image)
        h, w = img.shape[:2]
        scale = max_side / max(h, w)
        nh = max(32, int(round(h * scale / 32)) * 32)
        nw = max(32, int(round(w * scale / 32)) * 32)
        x = cv2.resize(img, (nw, nh)).astype(np.float32)
        x = ((x / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        preds = self._det.infer(x)[0]
        quads, _scores = self._det.postprocess_op(preds, (h, w))
        boxes: list[Box] = []
        for quad in quads:
            x1, y1 = np.clip(quad.min(axis=0), 0, [w, h])
            x2, y2 = np.clip(quad.max(axis=0), 0, [w, h])
            if x2 - x1 >= 2 and y2 - y1 >= 2:
                boxes.append((float(x1), float(y1), float(x2), float(y2)))
        return boxes


def _bgr(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img
