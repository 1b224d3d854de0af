"""The OCR backend interface the plate reader uses, and what a backend returns.

Backends (:mod:`camfind.recognition.ocr_rapid`, :mod:`camfind.recognition.ocr_easy`) import
their heavy library inside themselves; this module imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from camfind.errors import ModelError
from camfind.types import Box
from camfind.vocab import OCR_BACKENDS

#: The characters a plate can hold: what recognisers are limited to when reading plates.
PLATE_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-."


@dataclass(frozen=True)
class LineRead:
    """One line of text recognised in an image strip.

    ``char_probs`` and ``alternatives`` (other characters the recogniser weighed, with their
    probabilities) run parallel to ``text`` where the backend can tell them, else are empty.
    """

    text: str
    confidence: float
    char_probs: tuple[float, ...] = ()
    alternatives: tuple[Mapping[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.char_probs and len(self.char_probs) != len(self.text):
            raise ValueError(f"expected {len(self.text)} char_probs, got {len(self.char_probs)}")
        if self.alternatives and len(self.alternatives) != len(self.text):
            raise ValueError(f"expected {len(self.text)} alternatives, got {len(self.alternatives)}")


class OcrBackend(Protocol):
    """Text detection and line recognition behind one small interface."""

    name: str
    #: Share of the width and of the height cut from each side of a whole one-row plate crop
    #: before it is recognised (a recogniser that reads the plate's border as a character).
    plate_inset: tuple[float, float]

    def recognize(self, lines: Sequence[np.ndarray], *, charset: str = PLATE_CHARSET) -> list[LineRead]:
        """Recognise each BGR image strip as one line of text, limited to ``charset``."""
        ...

    def detect(self, image: np.ndarray, *, max_side: int = 960) -> list[Box]:
        """Axis-aligned boxes of text in a BGR image, detected at most ``max_side`` px wide."""
        ...


def load_backend(name: str) -> OcrBackend:
    """Load an OCR backend by name (``rapidocr`` or ``easyocr``), models included.

    Raises:
        ModelError: the name is unknown, or the backend's package or models are missing.
    """
    if name == "rapidocr":
        from camfind.recognition.ocr_rapid import RapidOcrBackend

        return RapidOcrBackend()
    if name == "easyocr":
        from camfind.recognition.ocr_easy import EasyOcrBackend

        return EasyOcrBackend()
    raise ModelError(f"unknown OCR backend {name!r}; expected one of {', '.join(OCR_BACKENDS)}")
