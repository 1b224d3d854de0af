"""`camfind trace`: the route of a plate, a face or a track through the camera network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from camfind.commands._common import JsonOpt, emit_json, index_session
from camfind.commands._options import FaceOpt, FromOpt, ThresholdOpt, ToOpt
from camfind.commands._routes import show_route
from camfind.vocab import FACE_MATCH_THRESHOLD

app = typer.Typer()


@app.command("trace")
def trace(
    plate: Annotated[str | None, typer.Option("--plate", help="Plate pattern to trace (exact, * ?, ~N).")] = None,
    face: FaceOpt = None,
    track: Annotated[int | None, typer.Option("--track", help="Track id to trace (its plate and face).")] = None,
    time_from: FromOpt = None,
    time_to: ToOpt = None,
    threshold: ThresholdOpt = None,
    rings: Annotated[int, typer.Option("--rings", min=1, max=5, help="Frontier reach, in network links.")] = 2,
    geojson: Annotated[Path | None, typer.Option("--geojson", help="Write the route as GeoJSON here.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reconstruct a target's route: hops in corrected time with distance, speed and feasibility,
    the gaps, and the next cameras to check (with owner contacts and whether footage is ingested).

    Example: camfind trace --plate 51F-123.45 --html route.html
    """
    from camfind.export.geojson import route_geojson
    from camfind.export.report import render_report
    from camfind.index.queries import list_cameras
    from camfind.outputs import write_atomic
    from camfind.search.records import route_record
    from camfind.search.trace import TraceOptions, TraceTarget
    from camfind.search.trace import trace as run_trace
    from camfind.timeutil import parse_time

    with index_session("trace") as (index, counts):
        faces: tuple[Any, ...] = ()
        if face is not None:
            from camfind.search.probe import encode_probe

            faces = encode_probe(face)
        target = TraceTarget(plate=plate, faces=faces, track_id=track, label=face.name if face else "")
        opts = TraceOptions(frontier_rings=rings,
                            face_threshold=FACE_MATCH_THRESHOLD if threshold is None else threshold)
        route = run_trace(index, target, None if time_from is None else parse_time(time_from, index.tz),
                          None if time_to is None else parse_time(time_to, index.tz), opts)
        counts.update(hops=len(route.hops), next_cameras=len(route.next_cameras))
        tz, cams = index.tz, {c.id: c for c in list_cameras(index)}
        if geojson is not None:
            write_atomic(geojson, json.dumps(route_geojson(route, cams, tz), indent=2, ensure_ascii=False) + "\n")
        if html_out is not None:
            write_atomic(html_out, render_report(route, cams, tz, index.shown))
    if as_json:
        emit_json(route_record(route, tz))
    else:
        show_route(route, tz)
    for path, what in ((geojson, "GeoJSON"), (html_out, "HTML report")):
        if path is not None:
            typer.echo(f"wrote the {what} to {path}", err=True)
