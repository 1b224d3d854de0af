"""Options shared by several commands (search filters, time windows), and the search they build.

``search``, ``export timeline``, ``trace`` and ``clocks`` take the same filters with the same help;
they are declared once here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from camfind.commands._common import decimal_option
from camfind.search.classwords import aliases_help, resolve_class
from camfind.vocab import COLOR_NAMES, FACE_MATCH_THRESHOLD

if TYPE_CHECKING:
    from camfind.search.query import SearchQuery

FromOpt = Annotated[str | None, typer.Option("--from", help="Window start (local time of the case, or ISO 8601).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Window end.")]
CameraOpt = Annotated[list[str] | None, typer.Option("--camera", help="Camera id (repeat for several).")]
NearOpt = Annotated[str | None, typer.Option("--near", help="LAT,LON: cameras within --radius of this point.")]
RadiusOpt = Annotated[float, decimal_option("--radius", "Radius around --near, metres.", lo=1.0)]
ClassOpt = Annotated[
    str | None,
    typer.Option("--class", help="person, bicycle, car, motorcycle, bus, truck or vehicle; also the words people use "
                 f"(case and diacritics ignored): {aliases_help()}."),
]
ColorOpt = Annotated[
    str | None,
    typer.Option("--color", "--colour", help=f"Colour: {', '.join(COLOR_NAMES[:-1])} or {COLOR_NAMES[-1]} "
                 "(grey, gray, silver)."),
]
DirectionOpt = Annotated[
    str | None, typer.Option("--direction", help="N NE E SE S SW W NW or degrees; matched within +-45.")
]
PlateOpt = Annotated[
    str | None, typer.Option("--plate", help="Plate: exact (51F-123.45), wildcards (51F*, 51F12?45) or fuzzy (~1).")
]
FaceOpt = Annotated[Path | None, typer.Option("--face", help="Probe image: every face in it is searched for.")]
ThresholdOpt = Annotated[
    float | None,
    decimal_option("--threshold", f"Face match distance (default {FACE_MATCH_THRESHOLD:g}).", lo=0.01, hi=2.0),
]


def search_query(tz: str, **fields: Any) -> SearchQuery:
    """:func:`camfind.search.request.build_query` from a command's options; how a class word was
    read (``xe máy`` is motorcycle) is said on stderr."""
    from camfind.search.request import build_query

    cls = fields.get("cls")
    note = "" if cls is None else resolve_class(cls).note
    if note:
        typer.echo(f"camfind: --class {note}", err=True)
    return build_query(tz=tz, **fields)
