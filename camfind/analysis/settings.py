"""Settings of one analysis run (recorded with the run so results are reproducible)."""

from __future__ import annotations

from dataclasses import dataclass

from camfind.vocab import DETECTORS, OCR_BACKENDS


@dataclass(frozen=True)
class AnalysisSettings:
    """How clips are analysed. Defaults are the offline pipeline (no torch)."""

    rate_fps: float = 4.0
    detector: str = "ssd"
    weights: str | None = None
    ocr: str = "rapidocr"
    plates: bool = True
    faces: bool = True
    osd: bool = False
    motion_gate: bool = True
    snapshot_dir: str | None = None

    def __post_init__(self) -> None:
        if not 0.1 <= self.rate_fps <= 60.0:
            raise ValueError(f"expected an analysis rate between 0.1 and 60 fps, got {self.rate_fps}")
        if self.detector not in DETECTORS:
            raise ValueError(f"expected detector {' or '.join(map(repr, DETECTORS))}, got {self.detector!r}")
        if self.ocr not in OCR_BACKENDS:
            raise ValueError(f"expected OCR backend {' or '.join(map(repr, OCR_BACKENDS))}, got {self.ocr!r}")
        if self.detector == "yolo" and not self.weights:
            raise ValueError("the yolo detector needs a weights file (--weights FILE)")
