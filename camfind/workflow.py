"""Ingest, then analyse: the orchestration above both stages (the ``ingest`` command and the demo).

Registration (:mod:`camfind.ingest`) knows nothing of analysis, and analysis
(:mod:`camfind.analysis`) nothing of how clips were found: this module joins them, importing the
analysis package only when analysis is asked for (a registration-only install works without it).

Example:
    >>> from camfind.workflow import analysis_settings
    >>> analysis_settings(rate_fps=3.0).rate_fps
    3.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from camfind.errors import CamfindError

if TYPE_CHECKING:
    from camfind.index import Index


def analysis_settings(**options: Any) -> Any:
    """:class:`camfind.analysis.settings.AnalysisSettings` built from ``options`` (imported lazily).

    Raises:
        CamfindError: the analysis package is not available in this installation.
    """
    try:
        from camfind.analysis.settings import AnalysisSettings
    except ImportError as exc:
        raise CamfindError(f"analysis is unavailable ({exc}); use --no-analyze to register only") from None
    return AnalysisSettings(**options)


def analyze_registered(
    index: Index, clip_ids: Sequence[int], *, settings: Any, workers: int = 1, progress: Any = None,
    ray: str | None = None,
) -> Any:
    """Analyse registered clips with :func:`camfind.analysis.analyze_clips` (imported here, lazily).

    Raises:
        CamfindError: the analysis package is not available in this installation.
    """
    try:
        from camfind.analysis import analyze_clips
    except ImportError as exc:
        raise CamfindError(
            f"analysis is unavailable ({exc}); the clips are registered: run again with --no-analyze "
            "to register only"
        ) from None
    on = {} if ray is None else {"ray": ray}  # (Ray only when asked for)
    return analyze_clips(index, list(clip_ids), settings=settings, workers=workers, progress=progress, **on)
