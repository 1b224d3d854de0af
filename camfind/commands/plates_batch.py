"""`camfind plates batch`: watchlist in, hits out (owned by the search work, issue 5)."""

from __future__ import annotations

from camfind.errors import CamfindError


def batch() -> None:
    """Batch plate search over the index (being built)."""
    raise CamfindError("plates batch is being built")
