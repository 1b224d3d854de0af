"""rapidocr-onnxruntime backend: PP-OCRv4 detection and recognition ONNX models, no torch.

The recogniser's output is decoded here (greedy CTC) with its alphabet limited to the
characters asked for, so a plate is never read as a Chinese look-alike, and every character
comes with its probability and the runner-up characters (used by the plate rules to fix a
letter read in a digit slot and vice versa).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camfind.errors import ModelError
from camfind.recognition.ocr import PLATE_CHARSET, LineRead
from camfind.types import Box

logger = logging.getLogger(__name__)

REC_HEIGHT = 48
MIN_REC_WIDTH = 320
#: A strip narrower than this (width / height) is stretched to it before it is recognised. The
#: recogniser gives one CTC frame per 8 px of its 48 px high input, so a squat row of a two-row
#: plate ("50-AD" at 1.1:1, tall narrow characters) gets ~6 frames for 5 characters: letters
#: are dropped and doubled ones ("AA") merge, as no blank frame fits between them.
MIN_LINE_ASPECT = 2.0
N_ALTERNATIVES = 3
#: Lines recognised per model call at most, as line-widths of MIN_REC_WIDTH px (a batch of
#: wider lines holds fewer). The recogniser's memory grows with batch x width (96 lines of
#: 960 px took 2 GB) and its time per line too (measured 15 ms a line in batches of 8, 23 ms
#: in batches of 32); every chunk is padded to the width of the whole call, as before.
REC_BATCH = 4
#: After a detection pass of more than this many input pixels (a 640x640 crop's is 410k),
#: onnxruntime's arena gives back what the pass took (a 1280x1280 pass needs ~330 MB): large
#: passes are few, and their memory would otherwise stay taken for the process's life. Such
#: passes also run one at a time, whichever thread asks (smaller ones run side by side): two at
#: once would hold two arenas of that size.
SHRINK_AFTER_PX = 400_000
#: onnxruntime threads per model. One thread without spin-waiting measured fastest here when the
#: 2 cores are shared (60 ms vs 122 ms per line with ORT's defaults at load 9), and leaves cores
#: to parallel workers; override with $CAMFIND_OCR_THREADS.
DEFAULT_THREADS = 1
REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"
DET_MODEL = "ch_PP-OCRv4_det_infer.onnx"


class RapidOcrBackend:
    """PP-OCRv4 through rapidocr-onnxruntime (models ship inside the wheel)."""

    name = "rapidocr"
    plate_inset = (0.0, 0.0)

    def __init__(self, threads: int | None = None) -> None:
        try:
            import rapidocr_onnxruntime
            from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess
        except ImportError as exc:  # pragma: no cover - the package is a core dependency
            raise ModelError(f"rapidocr-onnxruntime is not installed: {exc}") from exc
        models = Path(rapidocr_onnxruntime.__file__).parent / "models"
        self.model_paths = {"rec": models / REC_MODEL, "det": models / DET_MODEL}
        n = threads or int(os.environ.get("CAMFIND_OCR_THREADS", DEFAULT_THREADS))
        try:
            self._rec_session = _session(self.model_paths["rec"], n)
            self._det_session = _session(self.model_paths["det"], n)
            self._shrink = _shrink_options()
            meta = self._rec_session.get_modelmeta().custom_metadata_map
            # CTC classes: blank, the model's characters, then space (as rapidocr decodes them)
            self._chars: list[str] = ["blank", *meta["character"].splitlines(), " "]
        except Exception as exc:  # the models are files inside the wheel
            raise ModelError(f"rapidocr models could not be loaded from {models}: {exc}") from exc
        # rapidocr 1.4.4's detection post-processing settings (its config.yaml)
        self._det_post = DBPostProcess(
            thresh=0.3, box_thresh=0.5, max_candidates=1000, unclip_ratio=1.6,
            score_mode="fast", use_dilation=True,
        )  # fmt: skip
        self._masks: dict[str, np.ndarray] = {}
        self._large_pass = threading.Lock()

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
        ratios = [max(img.shape[1] / max(img.shape[0], 1), MIN_LINE_ASPECT) for img in lines]
        width = max(MIN_REC_WIDTH, int(np.ceil(REC_HEIGHT * max(ratios))))
        batch = np.zeros((len(lines), 3, REC_HEIGHT, width), dtype=np.float32)
        for i, (img, ratio) in enumerate(zip(lines, ratios, strict=True)):
            w = min(width, max(1, int(np.ceil(REC_HEIGHT * ratio))))
            resized = cv2.resize(_bgr(img), (w, REC_HEIGHT)).astype(np.float32)
            batch[i, :, :, :w] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        step = max(1, REC_BATCH * MIN_REC_WIDTH // width)
        probs = np.concatenate([self._run(self._rec_session, batch[k : k + step])
                                for k in range(0, len(lines), step)])
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
        h, w = image.shape[:2]
        boxes: list[Box] = []
        for quad in self.detect_quads(image, max_side=max_side):
            x1, y1 = np.clip(quad.min(axis=0), 0, [w, h])
            x2, y2 = np.clip(quad.max(axis=0), 0, [w, h])
            if x2 - x1 >= 2 and y2 - y1 >= 2:
                boxes.append((float(x1), float(y1), float(x2), float(y2)))
        return boxes

    def detect_quads(self, image: np.ndarray, *, max_side: int = 960) -> list[np.ndarray]:
        """The detected text regions as 4x2 corner arrays (image pixels), tilt kept."""
        img = _bgr(image)
        h, w = img.shape[:2]
        scale = max_side / max(h, w)
        nh = max(32, int(round(h * scale / 32)) * 32)
        nw = max(32, int(round(w * scale / 32)) * 32)
        x = cv2.resize(img, (nw, nh)).astype(np.float32)
        x = ((x / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        if nh * nw > SHRINK_AFTER_PX:
            with self._large_pass:
                preds = self._run(self._det_session, x, self._shrink)
        else:
            preds = self._run(self._det_session, x)
        quads, _scores = self._det_post(preds, (h, w))
        return [np.asarray(q, dtype=np.float32).reshape(4, 2) for q in quads]

    @staticmethod
    def _run(session: Any, batch: np.ndarray, options: Any = None) -> np.ndarray:
        name = session.get_inputs()[0].name
        if options is None:
            return np.asarray(session.run(None, {name: batch})[0])
        return np.asarray(session.run(None, {name: batch}, options)[0])


def _shrink_options() -> Any:
    """Run options that give the arena's memory back after the run."""
    import onnxruntime as ort

    options = ort.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


def _session(path: Path, threads: int) -> Any:
    """An onnxruntime CPU session with ``threads`` threads that sleep rather than spin."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _bgr(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img
