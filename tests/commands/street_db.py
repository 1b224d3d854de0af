"""The search tests' street scene as an index file, for the search/trace/export/batch commands."""

from __future__ import annotations

from pathlib import Path

from searchscene import FACE_P, T0, build_street

from camfind.index import Index

__all__ = ["FACE_P", "T0", "make_street_db"]


def make_street_db(root: Path, where: str | None = None) -> str:
    """Build the street scene into ``where`` (default ``root/case.db``; clips and snapshots under ``root``)."""
    path = where or str(root / "case.db")
    index = Index.open(path, create=True)
    try:
        build_street(index, root)
    finally:
        index.close()
    return path
