"""`camfind search`: sightings by time, camera, place, class, colour, direction, plate and face."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from camfind.commands._common import CsvOpt, JsonOpt, emit_rows, index_session, limit_option
from camfind.commands._options import (
    CameraOpt,
    ClassOpt,
    ColorOpt,
    DirectionOpt,
    FaceOpt,
    FromOpt,
    NearOpt,
    PlateOpt,
    RadiusOpt,
    ThresholdOpt,
    ToOpt,
    search_query,
)

TABLE_COLUMNS = ("time", "camera_id", "class", "color", "direction", "plate", "confidence", "track_id")

app = typer.Typer()


@app.command("search")
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
        query = search_query(index.tz, time_from=time_from, time_to=time_to, cameras=camera, near=near,
                             radius_m=radius, cls=cls, color=color, direction=direction, plate=plate, face=face,
                             face_threshold=threshold, limit=limit, order=order, raw_plates=raw_plates)
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
        if query.plate:  # the plate read behind each match: when it was read, how surely
            columns += ("plate_time", "plate_confidence")
    emit_rows("Sightings", rows, columns, as_json=as_json, as_csv=as_csv)


def _table_row(r: dict[str, Any]) -> dict[str, Any]:
    read = r.get("plate_confidence")
    return {**r, "time": _shown(r["time"]), "plate_time": _shown(r.get("plate_time")),
            "plate_confidence": "" if read is None else f"{read:.3f}"}  # 0.996 is not 1.00


def _shown(time: str | None) -> str:
    """An ISO time as the table shows it (to the second, local to the case)."""
    return (time or "")[:19].replace("T", " ")
