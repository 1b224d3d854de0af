"""Fixtures shared by the command tests: the small real street index (built once per module)."""

from __future__ import annotations

from pathlib import Path

import pytest
from street_db import make_street_db


@pytest.fixture(scope="module")
def street_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_street_db(tmp_path_factory.mktemp("street"))


@pytest.fixture
def db(street_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The street index, as $CAMFIND_DB for the commands run in the test."""
    monkeypatch.setenv("CAMFIND_DB", str(street_db))
    return street_db
