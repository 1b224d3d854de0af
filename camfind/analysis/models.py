"""The models one analysis uses, loaded once per process and described for the run record.

:func:`get_models` caches a :class:`Models` bundle per (detector, weights, OCR, stages) key, so
a process analysing many clips (or a ``--workers`` process) loads each model once. The run
record (:meth:`Models.describe`) lists every model's name, version and weight hashes.

Example:
    >>> models = get_models(AnalysisSettings())  # doctest: +SKIP
    >>> sorted(models.describe())[:3]  # doctest: +SKIP
    ['detector', 'detector.version', 'detector.weights_sha256']
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import logging
import platform
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import cv2

from camfind import __version__
from camfind.analysis.detect import Detector, load_detector
from camfind.analysis.detect.ssd import SSD_CONFIG, SSD_GRAPH
from camfind.analysis.detect.yolo import prepare_ultralytics
from camfind.analysis.enrich import FaceEngineLike, PlateReaderLike
from camfind.analysis.settings import AnalysisSettings
from camfind.errors import CamfindError, ModelError

log = logging.getLogger(__name__)


@dataclass
class Models:
    """Detector, plate reader, face engine and OSD OCR for one set of settings."""

    detector: Detector
    plates: PlateReaderLike | None = None
    faces: FaceEngineLike | None = None
    osd: Any = None
    extra: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, str]:
        """Names, versions and weight hashes of everything that produced the results."""
        out = {
            "camfind": __version__,
            "python": platform.python_version(),
            "opencv": cv2.__version__,
            "detector": self.detector.name,
            "detector.version": self.detector.version,
            "detector.weights_sha256": self.detector.weights_sha,
            "tracker": f"trackers-{_version('trackers')} ByteTrack + camfind link_fragments",
        }
        if self.plates is not None:
            backend = str(getattr(self.plates, "backend", "rapidocr"))
            out["plates"] = f"camfind.recognition.plates/{backend}"
            out.update(_backend_record("plates", backend))
        if self.faces is not None:
            out.update(_engine_record("faces", self.faces))
        if self.osd is not None:
            out["osd"] = f"rapidocr-onnxruntime-{_version('rapidocr-onnxruntime')}"
            out.update(_package_hashes("osd", "rapidocr_onnxruntime", "models/*.onnx"))
        out.update(self.extra)
        return out


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@cache
def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_hashes(prefix: str, package: str, pattern: str) -> dict[str, str]:
    """SHA-256 of the model files shipped inside ``package`` (found, not imported)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return {}
    root = Path(next(iter(spec.submodule_search_locations)))
    return {f"{prefix}.weights.{p.name}": _sha256(str(p)) for p in sorted(root.glob(pattern))}


def _backend_record(prefix: str, backend: str) -> dict[str, str]:
    if backend == "rapidocr":
        out = {f"{prefix}.version": f"rapidocr-onnxruntime-{_version('rapidocr-onnxruntime')}"}
        out.update(_package_hashes(prefix, "rapidocr_onnxruntime", "models/ch_PP-OCRv4_*.onnx"))
        return out
    out = {f"{prefix}.version": f"easyocr-{_version('easyocr')}"}
    out.update(_package_hashes(prefix, "easyocr_en_models", "**/*.pth"))
    return out


def _engine_record(prefix: str, engine: object) -> dict[str, str]:
    """The face engine: detector kind, dlib version, SHA-256 of each model file it loaded."""
    kind = str(getattr(engine, "detector_name", "hog"))
    detector = f"yunet (yuface-{_version('yuface')})" if kind == "yunet" else f"dlib-{kind}"
    out = {prefix: f"{detector} + dlib resnet-128d", f"{prefix}.version": f"dlib-bin-{_version('dlib-bin')}"}
    try:
        from camfind.recognition.faces import MODEL_FILES, model_path
    except ImportError:
        return out
    for key in MODEL_FILES:
        if key != "cnn" or kind == "cnn":
            out[f"{prefix}.weights.{MODEL_FILES[key]}"] = _sha256(str(model_path(key)))
    return out


_CACHE: dict[tuple[object, ...], Models] = {}
_DETECTORS: dict[tuple[str, str | None], Detector] = {}
#: Held while a model loads: threads analysing clips at once load each model once.
_LOADING = threading.RLock()


def get_models(settings: AnalysisSettings, *, osd: bool | None = None) -> Models:
    """The models ``settings`` ask for, loaded on first use in this process and then reused.

    Raises:
        ModelError: a model file is missing, unusable or its hash does not match.
    """
    want_osd = settings.osd if osd is None else osd
    key = (settings.detector, settings.weights, settings.ocr, settings.plates, settings.faces, want_osd)
    models = _CACHE.get(key)
    if models is None:
        with _LOADING:
            models = _CACHE.get(key)
            if models is None:
                models = _CACHE[key] = _load(settings, want_osd)
    return models


def get_detector(settings: AnalysisSettings) -> Detector:
    """The detector ``settings`` ask for, loaded once per process (also by :func:`get_models`).

    An analysis loads it before touching any clip, so a wrong ``--weights`` file is one error.

    Raises:
        ModelError: one line naming the weights file and why it cannot be used.
    """
    key = (settings.detector, settings.weights)
    detector = _DETECTORS.get(key)
    if detector is None:
        with _LOADING:
            detector = _DETECTORS.get(key)
            if detector is None:
                detector = _DETECTORS[key] = _load_detector(settings.detector, settings.weights)
    return detector


def _load_detector(kind: str, weights: str | None) -> Detector:
    if kind == "ssd" and weights and Path(weights).is_file():
        raise ModelError(f"{weights}: the ssd detector's --weights is a folder holding {SSD_GRAPH} and {SSD_CONFIG}, "
                         "not a file (a YOLO weights file goes with --detector yolo)")
    quiet: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if kind == "yolo":
        prepare_ultralytics()
        quiet = _quiet("ultralytics")  # e.g. "Unable to automatically guess model task" for a CSV file
    try:
        with quiet:
            return load_detector(kind, weights)
    except Exception as exc:  # a file the library cannot read raises anything (TypeError, RuntimeError...)
        if isinstance(exc, CamfindError) and len(str(exc).strip().splitlines()) <= 1:
            raise
        cause = exc.__cause__ if isinstance(exc, CamfindError) and exc.__cause__ is not None else exc
        raise ModelError(f"{weights}: not a {kind} weights file camfind can use ({_gist(cause)})") from None


def _gist(exc: BaseException) -> str:
    """The first sentence of an exception's message (libraries add long lists and links)."""
    first = (str(exc).strip().splitlines() or [""])[0].split(". ")[0].strip()
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Only errors from a library's own logger while the block runs (camfind names the problem).

    A level the library set before is restored; one it sets on first import is kept.
    """
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        if level:
            logger.setLevel(level)


def _load(settings: AnalysisSettings, want_osd: bool) -> Models:
    detector = get_detector(settings)
    plates = faces = osd = None
    if settings.plates:
        from camfind.recognition.plates import load_plate_reader

        plates = load_plate_reader(settings.ocr)
    if settings.faces:
        from camfind.recognition.faces import load_face_engine

        faces = load_face_engine()
    if want_osd:
        from camfind.analysis.osd import RapidOsdOcr

        osd = RapidOsdOcr()
    log.info("models loaded: detector %s, plates %s, faces %s, osd %s",
             detector.name, plates is not None, faces is not None, osd is not None)
    return Models(detector, plates, faces, osd)
