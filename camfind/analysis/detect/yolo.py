"""The ``yolo`` detector plugin: ultralytics YOLO on a weights file the user supplies.

ultralytics (hence torch) is imported only when a :class:`YoloDetector` is built; the helpers
that keep ultralytics offline and quiet are shared with the YOLO plate finder.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from camfind.analysis.detect.base import (
    DEFAULT_CONF,
    YOLO_NAMES,
    RawDetections,
    clip_box,
    dist_version,
    file_hashes,
    merge_raw,
)
from camfind.errors import ModelError
from camfind.types import Detection

log = logging.getLogger(__name__)


class YoloDetector:
    """Ultralytics YOLO on a user-supplied weights file (torch is imported only here).

    Classes are mapped by the model's own names, so any model naming person/car/... works.
    """

    name = "yolo"

    def __init__(
        self,
        weights: Path,
        *,
        conf: float = DEFAULT_CONF,
        class_conf: Mapping[str, float] | None = None,
        imgsz: int = 640,
    ) -> None:
        if not weights.is_file():
            raise ModelError(f"{weights}: YOLO weights file not found")
        self.weights_sha = file_hashes(weights)[1]
        _offline_ultralytics()
        try:
            from ultralytics import YOLO  # type: ignore[attr-defined]
        except ImportError as exc:
            raise ModelError(
                "the yolo detector needs ultralytics (pip install 'camfind[yolo]')"
            ) from exc
        try:
            self._model: Any = YOLO(str(weights))
            names: Mapping[int, str] = self._model.names
        except Exception as exc:  # ultralytics raises many kinds for a bad file
            raise ModelError(f"{weights}: ultralytics cannot load it ({exc})") from exc
        self.version = f"{dist_version('ultralytics')}/{weights.name}"
        self.conf = conf
        self.class_conf = dict(class_conf or {})
        self.imgsz = imgsz
        self._classes = {int(i): n for i, n in names.items() if n in YOLO_NAMES}
        if not self._classes:
            log.warning("%s: the model has none of the classes %s", weights, sorted(YOLO_NAMES))

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detect with class-aware NMS inside YOLO, then grouped NMS across confusable classes."""
        if not self._classes:
            return []
        result = self._model.predict(
            image, conf=self.conf, imgsz=self.imgsz, verbose=False, classes=list(self._classes)
        )[0]
        data = result.boxes
        boxes = data.xyxy.cpu().numpy().astype(np.float64)
        scores = data.conf.cpu().numpy().astype(np.float64)
        classes = [self._classes[int(c)] for c in data.cls.cpu().numpy()]
        ok = np.array([s >= self.class_conf.get(c, self.conf) for s, c in zip(scores, classes, strict=True)])
        if len(classes):
            boxes, scores = boxes[ok], scores[ok]
            classes = [c for c, k in zip(classes, ok, strict=True) if k]
        merged = merge_raw([RawDetections(boxes=boxes.reshape(-1, 4), scores=scores, classes=classes)])
        h, w = image.shape[:2]
        return [
            Detection(frame=0, offset_s=0.0, box=clip_box(b, w, h), cls=c, score=float(s))
            for b, s, c in zip(merged.boxes, merged.scores, merged.classes, strict=True)
        ]


def ultralytics_config_dir() -> Path:
    """camfind's own writable folder for ultralytics' settings file (never the user's home config).

    ``$YOLO_CONFIG_DIR`` when the user set one that is writable; else ``camfind/ultralytics`` in
    ``$XDG_CONFIG_HOME`` (``~/.config``); else a per-user folder in the temporary directory.
    """
    given = os.environ.get("YOLO_CONFIG_DIR")
    if given and os.access(given, os.W_OK):
        return Path(given)
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    getuid = getattr(os, "getuid", None)
    user = getuid() if getuid is not None else os.environ.get("USERNAME", "user")
    for folder in (Path(home) / "camfind" / "ultralytics", Path(tempfile.gettempdir()) / f"camfind-ultralytics-{user}"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise ModelError(f"no writable folder for ultralytics' settings: set YOLO_CONFIG_DIR (tried {home})")


def prepare_ultralytics() -> None:
    """Before ultralytics is imported: offline, settings in :func:`ultralytics_config_dir`, quiet.

    Ultralytics reads these variables once, at import (``YOLO_VERBOSE=False`` keeps its
    "Creating new Ultralytics Settings" line and its warnings off stderr; camfind reports
    problems itself). Settings sync is turned off after import by the detector
    (:func:`_offline_ultralytics`). Spawned ``--workers`` processes
    inherit the variables.
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ["YOLO_CONFIG_DIR"] = str(ultralytics_config_dir())


def _offline_ultralytics() -> None:
    """Keep ultralytics from downloading, installing or phoning home (settings sync off)."""
    prepare_ultralytics()
    try:
        from ultralytics.utils import SETTINGS

        if SETTINGS.get("sync", False):
            SETTINGS.update({"sync": False})  # type: ignore[no-untyped-call]
    except Exception:  # noqa: BLE001 - settings are best effort, detection still works
        log.debug("could not turn ultralytics settings sync off", exc_info=True)
