"""Shared fixtures: real-data location, a fresh index, offline model settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")

from backends import BACKENDS, case_location, require_pg  # noqa: E402

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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each index backend in turn (PostgreSQL skips, naming its variable, where no server is given;
    tests marked ``sqlite_file`` are of the SQLite file itself and run on SQLite only)."""
    if request.param == "postgresql":
        if request.node.get_closest_marker("sqlite_file") is not None:
            pytest.skip("a test of the SQLite index file itself")
        require_pg()
    return str(request.param)


@pytest.fixture
def case(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh index location on each backend, also set as $CAMFIND_DB for commands run in the test."""
    with case_location(backend, tmp_path) as where:
        monkeypatch.setenv("CAMFIND_DB", where)
        monkeypatch.setenv("CAMFIND_SNAPSHOTS", str(tmp_path / "snapshots"))  # never the working folder
        yield where


@pytest.fixture
def index(case: str) -> Iterator[Index]:
    """A fresh index on each backend."""
    idx = Index.open(case, create=True)
    yield idx
    idx.close()


@pytest.fixture(scope="module", params=BACKENDS)
def street(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Index, object]]:
    """The street scene of the search and export tests (``tests/search/searchscene.build_street``):
    eight cameras, real clips, tracks written by the one writer; on each backend."""
    from searchscene import build_street

    if request.param == "postgresql":
        require_pg()
    root = tmp_path_factory.mktemp("street")
    with case_location(str(request.param), root) as where:
        index = Index.open(where, create=True)
        scene = build_street(index, root)
        yield index, scene
        index.close()
