"""Every command and sub-command of camfind has --help with an Example line (walks the whole tree,
so commands added later are covered too)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer.main
from cli_run import run

from camfind.cli import app


def _walk(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(app)))


def test_tree_has_the_contract_commands() -> None:
    for path in [("cameras", "import"), ("cameras", "list"), ("cameras", "set-clock"), ("cameras", "link"),
                 ("cameras", "calibrate"), ("ingest",), ("clips",), ("verify",), ("coverage",), ("audit",)]:
        assert path in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "camfind")
def test_help_has_an_example(path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert any(line.startswith("Example: camfind") for line in lines), \
        f"camfind {' '.join(path)} --help has no 'Example: camfind ...' line"


@pytest.mark.parametrize("group", ["plates", "faces"])
def test_group_help_itself_has_an_example(group: str) -> None:
    """The group's own help (its Typer(help=...)), not only its commands' (QA found them missing)."""
    from camfind.commands import faces, plates

    app_help = {"plates": plates.app, "faces": faces.app}[group].info.help or ""
    assert "Example: camfind " + group in app_help
