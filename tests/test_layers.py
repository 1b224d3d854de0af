"""Dependencies point down the flow: ingest does not import analysis; search, recognition and the
index do not import ingest or analysis (shared utilities live in camfind/evidence.py, vocab.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "camfind"
FORBIDDEN = {
    "ingest": ("camfind.analysis", "camfind.search", "camfind.commands"),
    "search": ("camfind.analysis", "camfind.ingest", "camfind.export", "camfind.commands"),
    "export": ("camfind.analysis", "camfind.ingest", "camfind.commands"),
    "recognition": ("camfind.ingest", "camfind.search", "camfind.commands"),
    "index": ("camfind.analysis", "camfind.ingest", "camfind.search", "camfind.commands"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    bad = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in sorted(_imports(path))
        if name.startswith(FORBIDDEN[layer])
    ]
    assert not bad, bad
