"""Fixtures shared by the command tests: the small real street index (built once per module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backends import BACKENDS, case_location, require_pg
from street_db import make_street_db


@pytest.fixture(scope="module", params=BACKENDS)
def street_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The street index on each backend (clips and snapshots in a folder of their own)."""
    if request.param == "postgresql":
        if request.node.get_closest_marker("sqlite_file") is not None:
            pytest.skip("these tests copy or damage the index file itself (SQLite only)")
        require_pg()
    root = tmp_path_factory.mktemp("street")
    with case_location(str(request.param), root) as where:
        yield make_street_db(root, where)


@pytest.fixture
def db(street_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The street index, as $CAMFIND_DB for the commands run in the test."""
    monkeypatch.setenv("CAMFIND_DB", street_db)
    return street_db
