"""`camfind plates ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="plates commands.", no_args_is_help=True)
