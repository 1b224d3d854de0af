"""`camfind index ...`: care of the index file itself (a consistent backup of a live index)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from camfind.commands._common import JsonOpt, emit_json, index_session

app = typer.Typer(
    help=(
        "The index file itself: a consistent backup of a live index.\n\n"
        "Example: camfind index backup backups/case-2024-03-01.db"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("backup")
def backup(
    dest: Annotated[Path, typer.Argument(help="The backup file to create (never overwritten).")],
    as_json: JsonOpt = False,
) -> None:
    """Copy the index to a new file with SQLite's online backup API: one consistent snapshot even
    while other commands run (what is still in the -wal file included), as one self-contained file,
    checked with SQLite's integrity check, its SHA-256 printed and recorded in the audit log.

    Example: camfind index backup backups/case-2024-03-01.db
    """
    from camfind.index.backup import backup_index

    with index_session("index backup", writes=True) as (index, counts):
        result = backup_index(index, dest)
        counts.update(dest=str(result.path), sha256=result.sha256, bytes=result.bytes)
    if as_json:
        emit_json({"path": str(result.path), "sha256": result.sha256, "bytes": result.bytes,
                   "pages": result.pages, "integrity": "ok"})
        return
    typer.echo(f"backed up the index to {result.path}: {result.bytes} bytes, integrity ok, "
               f"SHA-256 {result.sha256}")
