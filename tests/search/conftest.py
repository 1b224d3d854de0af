"""Fixtures of the search tests: the street scene (see ``searchscene.build_street``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from searchscene import Scene, build_street

from camfind.index import Index


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Index, Scene]]:
    root = tmp_path_factory.mktemp("street")
    index = Index.open(root / "case.db", create=True)
    scene = build_street(index, root)
    yield index, scene
    index.close()
