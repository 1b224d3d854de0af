"""`camfind cameras ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="cameras commands.", no_args_is_help=True)
