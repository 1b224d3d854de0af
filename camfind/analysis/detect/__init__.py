"""Object detectors as plugins behind one registry: one module per runtime, loaded by name.

``ssd`` (:mod:`camfind.analysis.detect.ssd`, OpenCV DNN, the offline default) and ``yolo``
(:mod:`camfind.analysis.detect.yolo`, ultralytics on the user's weights). The names are
:data:`camfind.vocab.DETECTORS`; a plugin's module (and its heavy library) is imported only when
that detector is loaded. What the runtimes share (the :class:`Detector` Protocol, grouped NMS,
crops) is :mod:`camfind.analysis.detect.base`.

Example:
    >>> det = load_detector("ssd")  # doctest: +SKIP
    >>> [d.cls for d in det.detect(cv2.imread("street.png"))]  # doctest: +SKIP
    ['person', 'car']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from camfind.analysis.detect.base import DEFAULT_CONF, Detector
from camfind.errors import ModelError
from camfind.vocab import DETECTORS

__all__ = ["DEFAULT_CONF", "REGISTRY", "Detector", "load_detector"]

#: Options every plugin's loader takes: weights, conf, class_conf, tiles.
Loader = Callable[[str | None, float, Mapping[str, float] | None, tuple[int, int]], Detector]


def _load_ssd(
    weights: str | None, conf: float, class_conf: Mapping[str, float] | None, tiles: tuple[int, int]
) -> Detector:
    from camfind.analysis.detect.ssd import SsdDetector

    return SsdDetector(Path(weights) if weights else None, conf=conf, class_conf=class_conf, tiles=tiles)


def _load_yolo(
    weights: str | None, conf: float, class_conf: Mapping[str, float] | None, tiles: tuple[int, int]
) -> Detector:
    if not weights:
        raise ModelError("the yolo detector needs a weights file (--weights FILE)")
    from camfind.analysis.detect.yolo import YoloDetector

    return YoloDetector(Path(weights), conf=conf, class_conf=class_conf)


#: Detector name (:data:`camfind.vocab.DETECTORS`) -> loader; a new runtime is one module here
#: plus one entry (and its name in the vocabulary).
REGISTRY: Mapping[str, Loader] = {"ssd": _load_ssd, "yolo": _load_yolo}
assert tuple(REGISTRY) == DETECTORS, "the detector registry and camfind.vocab.DETECTORS disagree"


def load_detector(
    kind: str = "ssd",
    weights: str | None = None,
    conf: float = DEFAULT_CONF,
    *,
    class_conf: Mapping[str, float] | None = None,
    tiles: tuple[int, int] = (1, 1),
) -> Detector:
    """Build a detector by name.

    Args:
        kind: ``"ssd"`` (offline default) or ``"yolo"`` (needs ``weights``).
        weights: For YOLO, the user's ``.pt``/``.onnx`` file. For SSD, an optional folder holding
            the frozen graph and its ``.pbtxt`` (default: inside the installed package).
        conf: Minimum score kept for every class.
        class_conf: Stricter per-class minimum scores, e.g. ``{"truck": 0.45}``.
        tiles: SSD only: a ``cols x rows`` grid of overlapping tiles run beside the whole frame
            (about 1 + cols*rows times the cost; ``(2, 1)`` lifts PETS person recall from 0.76 to
            0.85 at conf 0.3). The default relies on motion-guided zoom instead.

    Raises:
        ModelError: Unknown kind, missing file, or a weights hash that does not match.
    """
    if not 0.0 < conf < 1.0:
        raise ModelError(f"expected a detector confidence in (0, 1), got {conf}")
    if class_conf and not all(0.0 < v < 1.0 for v in class_conf.values()):
        raise ModelError(f"expected per-class confidences in (0, 1), got {dict(class_conf)}")
    loader = REGISTRY.get(kind)
    if loader is None:
        raise ModelError(f"expected detector {' or '.join(map(repr, DETECTORS))}, got {kind!r}")
    return loader(weights, conf, class_conf, tiles)
