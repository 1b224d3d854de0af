"""`camfind search`: sightings by time, camera, place, class, colour, direction, plate and face."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import typer

from camfind.commands._common import CsvOpt, JsonOpt, decimal_option, emit_rows, index_session, limit_option
from camfind.errors import InputError
from camfind.numbers import parse_decimal
from camfind.search.classwords import aliases_help, resolve_class
from camfind.vocab import COLOR_NAMES, FACE_MATCH_THRESHOLD

if TYPE_CHECKING:
    from camfind.search.query import SearchQuery

TABLE_COLUMNS = ("time", "camera_id", "class", "color", "direction", "plate", "confidence", "track_id")

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


def register(app: typer.Typer) -> None:
    """Add `camfind search` to the root app."""
    app.command("search")(search)


def search(
    time_from: FromOpt = None,
    time_to: ToOpt = None,
    camera: CameraOpt = None,
    near: NearOpt = None,
    radius: RadiusOpt = 250.0,
    cls: ClassOpt = None,
    color: ColorOpt = None,
    direction: DirectionOpt = None,
    plate: PlateOpt = None,
    face: FaceOpt = None,
    threshold: ThresholdOpt = None,
    limit: Annotated[int | None, limit_option("At most this many results")] = None,
    order: Annotated[
        str | None, typer.Option("--order", help="time or distance (default: distance with --face, else time).")
    ] = None,
    raw_plates: Annotated[
        bool, typer.Option("--raw-plates", help="Let --plate match reads that fail the Vietnamese plate rules too "
                           "(overlay text, half-read plates); by default only valid plates match.")
    ] = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Find sightings: any combination of time window, cameras or place, class, colour, direction,
    plate pattern and face probe. Each result names its clip (path, SHA-256, frame) and snapshot; a
    plate match also names the plate read behind it (plate_time, plate_frame, plate_snapshot).

    Example: camfind search --plate "51F-123.*" --from "2024-01-25 10:00" --to "2024-01-25 11:00" --json
    """
    from camfind.search.query import search as run_search
    from camfind.search.records import SIGHTING_KEYS, sighting_record

    with index_session("search") as (index, counts):
        query = build_query(index.tz, time_from, time_to, camera, near, radius, cls, color, direction, plate,
                            face, threshold, limit, order, raw_plates=raw_plates)
        found = run_search(index, query)
        counts["rows"] = len(found)
        rows = [sighting_record(s, index.tz) for s in found]
    columns: tuple[str, ...] = SIGHTING_KEYS
    if not (as_json or as_csv) and not rows:
        typer.echo("no sightings match the search")
        return
    if not (as_json or as_csv):
        rows = [_table_row(r) for r in rows]
        columns = TABLE_COLUMNS + (("face_distance",) if query.faces else ())
    emit_rows("Sightings", rows, columns, as_json=as_json, as_csv=as_csv)


def build_query(
    tz: str, time_from: str | None, time_to: str | None, camera: list[str] | None, near: str | None,
    radius: float, cls: str | None, color: str | None, direction: str | None, plate: str | None,
    face: Path | None, threshold: float | None, limit: int | None, order: str | None, *, raw_plates: bool = False,
) -> SearchQuery:
    """A :class:`~camfind.search.query.SearchQuery` from command-line values (shared by export)."""
    from camfind.search.query import SearchQuery
    from camfind.timeutil import parse_time

    faces: tuple[Any, ...] = ()
    if face is not None:
        from camfind.search.probe import encode_probe

        faces = encode_probe(face)
    note = "" if cls is None else resolve_class(cls).note
    if note:
        typer.echo(f"camfind: --class {note}", err=True)
    return SearchQuery(
        time_from=None if time_from is None else parse_time(time_from, tz),
        time_to=None if time_to is None else parse_time(time_to, tz),
        cameras=tuple(camera or ()), near=None if near is None else parse_point(near), radius_m=radius,
        cls=cls, color=color, direction=direction, plate=plate, faces=faces,
        face_threshold=FACE_MATCH_THRESHOLD if threshold is None else threshold, limit=limit,
        order=cast(Literal["time", "distance"], order or ("distance" if faces else "time")), raw_plates=raw_plates,
    )


def parse_point(text: str) -> tuple[float, float]:
    """``LAT,LON`` as two floats (InputError otherwise)."""
    try:
        lat, lon = (parse_decimal(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--near expects LAT,LON (e.g. 10.7769,106.7009), got {text!r}") from None
    return lat, lon


def _table_row(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "time": (r["time"] or "")[:19].replace("T", " ")}
