"""The ``camfind`` command: a root Typer app composed of one module per command group.

Library errors (:class:`~camfind.errors.CamfindError`) become one line on stderr and a non-zero
exit here, at the edge, and nowhere else.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from typer.core import TyperGroup

from camfind import __version__
from camfind.commands import register
from camfind.errors import CamfindError


class _Edge(TyperGroup):
    """The root group: the one place where named errors become a line on stderr and an exit code."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CamfindError as exc:
            typer.echo(f"camfind: error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("camfind: interrupted; what was committed is kept, run the command again to resume", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_Edge,
    name="camfind",
    help=(
        "Forensic search over community camera networks: ingest clips with chain of custody, "
        "find vehicles, plates and faces, trace routes, export evidence.\n\n"
        "Example: camfind --db case.db ingest exports/ --camera CAM01"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"camfind {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Index file (default $CAMFIND_DB, else ./camfind.db).", show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """camfind: who or what vehicle, when, which way, and where next."""
    if db is not None:
        os.environ["CAMFIND_DB"] = db
    ctx.obj = {"db": db}


register(app)


def main() -> None:
    """Console entry point: run the app, turning named errors into one line on stderr."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    app()
