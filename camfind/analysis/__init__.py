"""Video analysis: clips -> tracks with class, times, direction, colour, plates, faces, snapshots.

The entry point is :func:`analyze_clips` (what ``camfind analyze`` and ``camfind ingest`` call);
:func:`camfind.analysis.pipeline.analyze_clip` analyses one clip without touching the index.
Heavy modules (OpenCV DNN, OCR, dlib) load only when analysis runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from camfind.analysis.run import AnalysisSummary, ClipOutcome, analyze_clips

__all__ = ["AnalysisSummary", "ClipOutcome", "analyze_clips"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from camfind.analysis import run

        return getattr(run, name)
    raise AttributeError(f"module 'camfind.analysis' has no attribute {name!r}")
