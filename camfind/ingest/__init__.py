"""Ingest: register clips with chain of custody (hash, probe, start time, camera).

>>> from camfind.ingest import ingest_paths  # doctest: +SKIP
>>> summary = ingest_paths(index, ["exports/"], camera="CAM01")  # doctest: +SKIP
"""

from camfind.ingest.register import (
    FileProblem,
    IngestSummary,
    find_clips,
    ingest_paths,
    pending_analysis,
)

__all__ = [
    "FileProblem",
    "IngestSummary",
    "find_clips",
    "ingest_paths",
    "pending_analysis",
]
