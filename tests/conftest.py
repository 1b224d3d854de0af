"""Shared fixtures: real-data location, a fresh index, offline model settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")

from camfind.index import Index  # noqa: E402

REALDATA_VAR = "CAMFIND_REALDATA"


def realdata_dir() -> Path | None:
    value = os.environ.get(REALDATA_VAR)
    if not value:
        return None
    path = Path(value).resolve()
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real third-party test material; skips, naming the variable, where it is absent."""
    path = realdata_dir()
    if path is None:
        pytest.skip(f"{REALDATA_VAR} is not set to a folder of real data (CI sets ../shared/realdata)")
    return path


@pytest.fixture
def index_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A path for a fresh index, also set as $CAMFIND_DB for commands run in the test."""
    path = tmp_path / "case.db"
    monkeypatch.setenv("CAMFIND_DB", str(path))
    return path


@pytest.fixture
def index(index_path: Path) -> Iterator[Index]:
    idx = Index.open(index_path, create=True)
    yield idx
    idx.close()


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Index, object]]:
    """The street scene of the search and export tests (``tests/search/searchscene.build_street``):
    eight cameras, real clips, tracks written by the one writer."""
    from searchscene import build_street

    root = tmp_path_factory.mktemp("street")
    index = Index.open(root / "case.db", create=True)
    scene = build_street(index, root)
    yield index, scene
    index.close()
