"""Commands are composed one way: every command module has its own Typer app added with
add_typer, and no command module imports another (shared pieces live in _-prefixed modules)."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
import typer

import camfind.commands
from camfind.search.request import build_query

COMMANDS_DIR = Path(camfind.commands.__file__).parent
MODULES = sorted(p.stem for p in COMMANDS_DIR.glob("*.py") if not p.stem.startswith("_"))


@pytest.mark.parametrize("name", MODULES)
def test_each_command_module_has_its_own_app(name: str) -> None:
    module = importlib.import_module(f"camfind.commands.{name}")
    assert isinstance(getattr(module, "app", None), typer.Typer), f"camfind/commands/{name}.py has no typer app"
    assert not hasattr(module, "register"), "composed with add_typer in camfind/commands/__init__.py instead"


@pytest.mark.parametrize("name", MODULES)
def test_command_modules_do_not_import_each_other(name: str) -> None:
    tree = ast.parse((COMMANDS_DIR / f"{name}.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    others = {m for m in imported if m.startswith("camfind.commands.")
              and not m.removeprefix("camfind.commands.").split(".")[0].startswith("_")}
    assert not others, f"camfind/commands/{name}.py imports other command modules: {sorted(others)}"


def test_build_query_is_keyword_only() -> None:
    params = inspect.signature(build_query).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    with pytest.raises(TypeError):
        build_query("Asia/Ho_Chi_Minh", "2024-01-25 10:00")  # type: ignore[misc]
