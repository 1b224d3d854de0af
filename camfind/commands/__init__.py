"""Thin Typer commands, one module per command group, composed onto the root app.

No SQL and no cv2 here: a command parses its arguments, calls one library function and renders
the result (see :mod:`camfind.commands._common`).
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Compose every command module onto the root app."""
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

    app.add_typer(cameras.app, name="cameras")
    app.add_typer(clocks.app, name="clocks")
    app.add_typer(plates.app, name="plates")
    app.add_typer(faces.app, name="faces")
    app.add_typer(export.app, name="export")
    app.add_typer(index.app, name="index")
    for module in (ingest, analyze, clips, search, trace, audit, demo):
        module.register(app)
