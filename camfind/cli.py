"""The ``camfind`` command: a root Typer app composed of one module per command group.

Library errors (:class:`~camfind.errors.CamfindError`) become one line on stderr and a non-zero
exit here, at the edge, and nowhere else.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import sys
from types import FrameType
from typing import Annotated, NoReturn

import typer
from typer.core import TyperGroup

from camfind import __version__
from camfind.commands import register
from camfind.errors import CamfindError, DamagedIndexError, StorageError, Terminated
from camfind.index import default_db_path
from camfind.index.storage import damaged_index, index_problem, is_damage_error, is_storage_error, os_problem


class _Edge(TyperGroup):
    """The root group: the one place where named errors become a line on stderr and an exit code.

    Besides :class:`CamfindError`, the machine's refusals are reported the same way: a full or
    read-only disk, a denied permission, a locked index (one line naming the file), and a damaged
    index (one line saying to restore it from a backup). Any other
    exception is a bug and keeps its traceback.
    """

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CamfindError as exc:
            _fail(str(exc), exc.exit_code)
        except Terminated:
            typer.echo("camfind: terminated; what was committed is kept, run the command again to resume", err=True)
            raise typer.Exit(143) from None
        except KeyboardInterrupt:
            typer.echo("camfind: interrupted; what was committed is kept, run the command again to resume", err=True)
            raise typer.Exit(130) from None
        except sqlite3.DatabaseError as exc:
            if is_damage_error(exc):
                _fail(str(damaged_index(default_db_path(), exc)), DamagedIndexError.exit_code)
            if not is_storage_error(exc):
                raise
            _fail(str(index_problem(default_db_path(), exc)), StorageError.exit_code)
        except OSError as exc:
            problem = os_problem(exc)
            if problem is None:
                raise
            _fail(str(problem), problem.exit_code)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"camfind: error: {message}", err=True)
    raise typer.Exit(code) from None


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
        if not db.strip():
            raise typer.BadParameter("expected an index file name, got an empty string", param_hint="--db")
        os.environ["CAMFIND_DB"] = db


register(app)


class _Prefixed(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"camfind: {record.levelname.lower()}: {super().format(record)}"


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main() -> None:
    """Console entry point: run the app, turning named errors into one line on stderr.

    SIGTERM unwinds like Ctrl-C (transactions roll back, staging folders are removed, the run
    is audited); library warnings reach stderr as ``camfind: warning: ...`` lines; OpenCV's own
    error log is silenced (camfind names the unreadable file itself).
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_Prefixed("%(message)s"))
    logging.getLogger("camfind").addHandler(handler)
    cv2 = sys.modules.get("cv2")
    if cv2 is not None and hasattr(cv2, "setLogLevel"):
        cv2.setLogLevel(1)  # fatal only
    signal.signal(signal.SIGTERM, _on_sigterm)
    app()
