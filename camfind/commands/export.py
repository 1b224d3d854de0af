"""`camfind export ...`: the evidence timeline (CSV) and the evidence package."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from camfind.commands._common import index_session, to_stdout
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
from camfind.errors import InputError

if TYPE_CHECKING:
    from camfind.index import Index
    from camfind.types import Sighting

app = typer.Typer(
    help=(
        "Evidence export: the timeline of sightings as CSV, and a verifiable evidence package.\n\n"
        "Example: camfind export timeline --plate 51F-123.45 --out timeline.csv --package case-12/"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("timeline")
def timeline(
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
    track: Annotated[int | None, typer.Option("--track", help="A track id: its sightings and its target's.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Timeline CSV file (default: stdout).")] = None,
    package: Annotated[
        Path | None, typer.Option("--package", help="Also build an evidence package in this new folder.")
    ] = None,
    margin: Annotated[float, typer.Option("--margin", min=0.0, help="Seconds kept around each extract.")] = 5.0,
) -> None:
    """One row per sighting in time order: local and UTC time, time source and clock offset,
    camera and owner, clip path and SHA-256, frame and offset, class, colour, plate, direction,
    confidence, snapshot and its SHA-256. --package adds snapshots, lossless clip extracts, the
    audit log, a README and a manifest of SHA-256s (check it later with camfind verify --package).

    Example: camfind export timeline --plate 51F-123.45 --out timeline.csv --package case-12/
    """
    from camfind.export.package import export_package
    from camfind.export.timeline import export_timeline, write_timeline

    request = {k: v for k, v in {
        "command": "export timeline", "from": time_from, "to": time_to, "camera": camera, "near": near,
        "class": cls, "color": color, "direction": direction, "plate": plate, "face": face, "track": track,
    }.items() if v not in (None, [])}
    with index_session("export timeline") as (index, counts):
        sightings = _source(index, track, time_from=time_from, time_to=time_to, cameras=camera, near=near,
                            radius_m=radius, cls=cls, color=color, direction=direction, plate=plate, face=face,
                            face_threshold=threshold)
        if out_file is not None:
            counts["rows"] = export_timeline(index, sightings(), out_file)
            if out_file.is_file():  # the timeline's hash, in the audit entry of its export
                from camfind.evidence import sha256_file

                counts["sha256"] = sha256_file(out_file)[0]
        elif package is None:
            with to_stdout():
                counts["rows"] = write_timeline(index, sightings(), sys.stdout)
        if package is not None:
            result = export_package(index, sightings(), package, margin_s=margin, request=request)
            counts.update(rows=result.rows, package=str(package), manifest_sha256=result.manifest_sha256,
                          problems=len(result.problems))
    if out_file is not None:
        typer.echo(f"wrote {counts['rows']} rows to {out_file}", err=True)
    if package is not None:
        typer.echo(f"evidence package {package}: {result.rows} sightings, {result.snapshots} snapshots, "
                   f"{result.extracts} extracts; manifest SHA-256 {result.manifest_sha256}", err=True)
        for problem in result.problems:
            typer.echo(f"  problem: {problem}", err=True)


def _source(index: Index, track: int | None, **filters: Any) -> Callable[[], Iterator[Sighting]]:
    """A function giving a fresh stream of the sightings asked for: a track's trace, or a search."""
    if track is None:
        from camfind.search.query import iter_sightings

        query = search_query(index.tz, **filters)
        return lambda: iter_sightings(index, query)
    if any(filters[k] for k in ("plate", "face", "cameras", "near", "cls", "color", "direction")):
        raise InputError("--track takes only --from/--to: it exports the track's target, found by its plate and face")
    from camfind.search.trace import TraceTarget, collect

    window = search_query(index.tz, time_from=filters["time_from"], time_to=filters["time_to"],
                          face_threshold=filters["face_threshold"])
    target = TraceTarget(track_id=track)
    return lambda: iter(collect(index, target, window.time_from, window.time_to, window.face_threshold))
