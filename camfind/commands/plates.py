"""`camfind plates ...` commands."""

from __future__ import annotations

import typer

from camfind.commands import plates_batch

app = typer.Typer(help="Licence plates: read them from images, search a watchlist.", no_args_is_help=True)
app.command("batch")(plates_batch.batch)
