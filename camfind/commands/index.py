"""`camfind index ...`: care of the index itself (a consistent backup; a case copied between backends)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from camfind.commands._common import JsonOpt, emit_json, index_session
from camfind.commands._progress import progress_bar

app = typer.Typer(
    help=(
        "The index itself: a consistent backup of a live index; a case copied between SQLite and PostgreSQL.\n\n"
        "Example: camfind index backup backups/case-2024-03-01.db\n\n"
        "Example: camfind index copy ward7.db postgresql://analyst@db.district/case"
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


@app.command("copy")
def copy(
    source: Annotated[str, typer.Argument(help="The case to copy: an index file or a PostgreSQL URL.")],
    dest: Annotated[str, typer.Argument(help="A new, empty index: a file or a PostgreSQL URL.")],
    as_json: JsonOpt = False,
) -> None:
    """Copy a whole case between backends (a laptop's SQLite file into the shared PostgreSQL
    index, or back), ids kept, in one transaction; each table's row count and SHA-256 and the
    audit chain are checked before it commits, and both audit logs record the copy.

    Example: camfind index copy ward7.db postgresql://analyst@db.district/case-2024-031
    """
    from camfind.index import Index
    from camfind.index.copy import copy_index

    with Index.open(source) as index, progress_bar("copying rows") as update:
        result = copy_index(index, dest, progress=update)
    if as_json:
        emit_json({"source": result.source, "dest": result.dest, "rows": result.rows, "digests": result.digests,
                   "audit_head": result.audit_head, "verified": result.verified})
        return
    typer.echo(f"copied {result.source} to {result.dest}: {sum(result.rows.values())} rows in "
               f"{sum(1 for n in result.rows.values() if n)} tables, counts and SHA-256 of every table checked, "
               f"audit chain verified (head {result.audit_head})")
