"""`camfind trace`: the route of a plate, a face or a track through the camera network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from camfind.commands._common import JsonOpt, emit_json, index_session, out, show_span
from camfind.commands.search import FaceOpt, FromOpt, ThresholdOpt, ToOpt
from camfind.vocab import FACE_MATCH_THRESHOLD

if TYPE_CHECKING:
    from camfind.types import CameraToCheck, Route


def register(app: typer.Typer) -> None:
    """Add `camfind trace` to the root app."""
    app.command("trace")(trace)


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
    from camfind.index.queries import list_cameras
    from camfind.search.files import write_atomic
    from camfind.search.geojson import route_geojson
    from camfind.search.records import route_record
    from camfind.search.report import render_report
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
            write_atomic(html_out, render_report(route, cams, tz, index.path))
    if as_json:
        emit_json(route_record(route, tz))
    else:
        show_route(route, tz)
    for path, what in ((geojson, "GeoJSON"), (html_out, "HTML report")):
        if path is not None:
            typer.echo(f"wrote the {what} to {path}", err=True)


def show_route(route: Route, tz: str) -> None:
    """The route as a tree of hops, then the cameras to check as tables."""
    if not route.hops:
        out.print(f"No sighting of {route.target}.")
        return
    tree = Tree(f"[bold]Route of {escape(route.target)}[/bold]: {len(route.hops)} hops")
    for n, hop in enumerate(route.hops, start=1):
        move = [f"heading {hop.direction}"] if hop.direction else []
        if hop.distance_m_from_prev is not None:
            move.append(f"{hop.distance_m_from_prev:.0f} m")
        if hop.speed_kmh_from_prev is not None:
            move.append(f"{hop.speed_kmh_from_prev:.0f} km/h")
        mark = "[green]ok[/green]" if hop.feasible else "[bold red]IMPOSSIBLE[/bold red]"
        branch = tree.add(f"{n}. [bold]{escape(hop.camera_id)}[/bold]  "
                          f"{show_span(hop.first_seen, hop.last_seen, tz, ' .. ')}  {', '.join(move)}  {mark}")
        if hop.note:
            branch.add(f"[red]{escape(hop.note)}[/red]")
        for s in hop.sightings:
            what = f"{s.cls} {s.plate or ''} track {s.track_id or '-'} {s.clip_path} frame {s.frame}"
            branch.add(f"[dim]{escape(what)}[/dim]")
    for gap in route.gaps:
        tree.add(f"[yellow]{escape(f'gap {gap.after_camera_id} -> {gap.before_camera_id}: {gap.note}')}[/yellow]")
    out.print(tree)
    out.print(_check_table("Next cameras to check (footage request list)", route.next_cameras, tz))
    out.print(_check_table("Before the first sighting", route.previous_cameras, tz))


def _check_table(title: str, cams: tuple[CameraToCheck, ...], tz: str) -> Table:
    table = Table(title=title)
    for col in ("camera", "owner", "contact", "window", "footage ingested", "why"):
        table.add_column(col, overflow="fold")
    for c in cams:
        table.add_row(escape(c.camera_id), escape(f"{c.owner_type} {c.owner_name}".strip()),
                      escape(c.owner_contact), show_span(c.window_from, c.window_to, tz, " .. "),
                      "yes" if c.footage_ingested else "[red]no[/red]", escape(c.reason))
    return table
