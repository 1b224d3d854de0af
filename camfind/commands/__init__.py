"""Thin Typer commands, one module per command group, composed onto the root app.

Every module has its own ``app = typer.Typer()``. A group (``cameras``, ``plates``...) is added
under its name; a module of top-level commands (``search``, ``ingest``, ``clips``/``verify``/
``coverage``...) is added without a name, so its commands sit on the root: ``camfind search``,
not ``camfind search search``. Commands do not import one another: what several share lives in
:mod:`camfind.commands._common` (index session, rendering), :mod:`camfind.commands._options`
(search filters) and :mod:`camfind.commands._routes` (a route on the terminal).

No SQL and no cv2 here: a command parses its arguments, calls one library function and renders
the result.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Compose every command module onto the root app (top-level commands first, then groups)."""
    from camfind.commands import (
        analyze,
        audit,
        cameras,
        clips,
        clocks,
        demo,
        export,
        faces,
        index,
        ingest,
        plates,
        search,
        trace,
    )

    for module in (ingest, analyze, clips, search, trace, audit, demo):
        app.add_typer(module.app)
    app.add_typer(cameras.app, name="cameras")
    app.add_typer(clocks.app, name="clocks")
    app.add_typer(plates.app, name="plates")
    app.add_typer(faces.app, name="faces")
    app.add_typer(export.app, name="export")
    app.add_typer(index.app, name="index")
