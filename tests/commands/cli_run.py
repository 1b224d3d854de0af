"""Run camfind commands in-process with CliRunner and read the index they leave behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from camfind.cli import app
from camfind.index import Index


def run(*args: str | Path) -> Result:
    """``camfind ARGS`` (the index comes from $CAMFIND_DB, set by the ``index_path`` fixture).

    ``sys.argv`` is set as the console script would see it: the audit log records it.
    """
    argv = [str(a) for a in args]
    saved = sys.argv
    sys.argv = ["camfind", *argv]
    try:
        return CliRunner().invoke(app, argv)
    finally:
        sys.argv = saved


def run_json(*args: str | Path) -> Any:
    result = run(*args, "--json")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def rows(db: str | Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Query the index directly (a connection of its own, as another process would), on either backend."""
    index = Index.open(db)
    try:
        return [tuple(r) for r in index.db.execute(sql, params).fetchall()]
    finally:
        index.close()
