"""Search, trace and evidence export over a case index (the library behind ``camfind search``,
``trace``, ``export timeline`` and ``plates batch``; no Typer needed).

>>> from camfind.index import Index
>>> from camfind.search import SearchQuery, search
>>> from camfind.search.trace import TraceTarget, trace
>>> idx = Index.open(":memory:", create=True)
>>> search(idx, SearchQuery(plate="51F-123.*", cls="car")), trace(idx, TraceTarget(plate="51F12345~1")).hops
([], ())

Names are imported from their modules on first use, so ``import camfind.search`` stays cheap
(``trace`` is the submodule; its function is ``camfind.search.trace.trace``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "SearchQuery": "query", "search": "query", "iter_sightings": "query", "sightings_of_tracks": "query",
    "TraceTarget": "trace", "TraceOptions": "trace",
    "parse_plate_pattern": "plates", "rank_faces": "faces",
    "export_timeline": "export", "write_timeline": "export", "export_package": "package",
    "verify_package": "package", "read_watchlist": "batch", "batch_search": "batch",
    "route_geojson": "geojson", "render_report": "report", "route_record": "records",
}  # fmt: skip

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"camfind.search.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'camfind.search' has no attribute {name!r}")
