"""`camfind cameras ...`: the camera registry and network (import, list, clocks, links, calibration)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from camfind.commands._common import CsvOpt, JsonOpt, decimal_option, emit_json, emit_rows, index_session
from camfind.errors import InputError
from camfind.types import Camera

app = typer.Typer(
    help=(
        "The camera registry and network: import cameras, list them, record DVR clock offsets, "
        "declare neighbours, calibrate the ground plane.\n\nExample: camfind cameras import cameras.csv"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)

LIST_COLUMNS = ("id", "name", "lat", "lon", "heading_deg", "fov_deg", "owner_type", "owner_name", "owner_contact",
                "clock_offset_s", "neighbors", "calibrated")


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="Cameras file: .csv or .geojson (columns id,lat,lon,...).")],
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="Case time zone, recorded when this creates the index (default Asia/Ho_Chi_Minh)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Load or update cameras from a CSV or GeoJSON file (creates the index if needed).

    Only id, lat and lon are required; unknown columns are kept. Re-importing updates cameras and
    keeps clock offsets recorded with set-clock unless the file gives one.

    Example: camfind cameras import cameras.csv
    """
    from camfind.cameras import import_cameras

    with index_session("cameras import", create=True, tz=tz) as (index, counts):
        if tz is not None and tz != index.tz:
            raise InputError(f"this index's time zone is {index.tz}; it cannot be changed to {tz}")
        result = import_cameras(index, file)
        counts.update(added=result.added, updated=result.updated, links=result.links)
    if as_json:
        emit_json({"added": result.added, "updated": result.updated, "cameras": list(result.cameras),
                   "links": result.links})
    else:
        typer.echo(f"imported {len(result.cameras)} cameras ({result.added} new, {result.updated} updated), "
                   f"{result.links} links in the network")


@app.command("list")
def list_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """List the camera registry: position, heading and field of view, owner, clock offset, neighbours.

    Example: camfind cameras list --json
    """
    from camfind.index.queries import get_calibration, list_cameras

    with index_session("cameras list") as (index, counts):
        rows = [_camera_row(c, get_calibration(index, c.id) is not None) for c in list_cameras(index)]
        counts["rows"] = len(rows)
    if not (as_json or as_csv):  # tables round floats to 2 places: keep positions exact
        rows = [{**r, "lat": f"{r['lat']:.6f}", "lon": f"{r['lon']:.6f}", "heading_deg": _heading(r["heading_deg"]),
                 "fov_deg": "" if r["fov_deg"] is None else f"{r['fov_deg']:g}"} for r in rows]
    emit_rows("Cameras", rows, LIST_COLUMNS, as_json=as_json, as_csv=as_csv)


def _heading(deg: float | None) -> str:
    """A heading for the table: degrees and the compass word (directions of travel depend on it)."""
    from camfind.geo import compass_word

    return "not set" if deg is None else f"{deg:g} ({compass_word(deg)})"


def _camera_row(cam: Camera, calibrated: bool) -> dict[str, Any]:
    return {
        "id": cam.id, "name": cam.name, "lat": cam.lat, "lon": cam.lon, "owner_type": cam.owner_type,
        "owner_name": cam.owner_name, "owner_contact": cam.owner_contact, "address": cam.address,
        "heading_deg": cam.heading_deg, "fov_deg": cam.fov_deg, "clock_offset_s": cam.clock_offset_s,
        "neighbors": list(cam.neighbors), "calibrated": calibrated, "extra": dict(cam.extra),
    }


@app.command("set-clock")
def set_clock(
    camera: Annotated[str, typer.Argument(help="Camera id.")],
    dvr_time: Annotated[str, typer.Option("--dvr-time", help="The time the DVR showed.")],
    actual_time: Annotated[str, typer.Option("--actual-time", help="The true time at that moment.")],
    note: Annotated[str, typer.Option("--note", help="Who observed it and how.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Record a DVR clock offset observed at collection (DVR time minus true time).

    Clips of the camera keep their raw DVR times; their corrected times are recomputed.

    Example: camfind cameras set-clock CAM03 --dvr-time "2024-01-25 10:20:05" --actual-time "2024-01-25 10:19:00"
    """
    from camfind.index.queries import get_camera, list_clips
    from camfind.timeutil import parse_time

    with index_session("cameras set-clock") as (index, counts):
        get_camera(index, camera)
        offset = index.writer.record_clock(camera, parse_time(dvr_time, index.tz),
                                           parse_time(actual_time, index.tz), note)
        n_clips = len(list_clips(index, camera_id=camera))
        counts.update(offset_s=offset, clips_retimed=n_clips)
    if as_json:
        emit_json({"camera_id": camera, "clock_offset_s": offset, "clips_retimed": n_clips})
    else:
        state = "fast" if offset > 0 else "slow" if offset < 0 else "right"
        typer.echo(f"{camera}: DVR clock {abs(offset):.1f} s {state}; {n_clips} clips re-timed")


@app.command("link")
def link(
    a: Annotated[str, typer.Argument(help="Camera id.")],
    b: Annotated[str, typer.Argument(help="Camera id.")],
    meters: Annotated[
        float | None, decimal_option("--meters", "Distance along the street (default: straight line).", lo=0.0)
    ] = None,
) -> None:
    """Declare two cameras neighbours in the network (an undirected link).

    Example: camfind cameras link CAM01 CAM02 --meters 180
    """
    from camfind.network import load_network

    if a == b:
        raise InputError(f"cannot link camera {a!r} to itself")
    with index_session("cameras link") as (index, counts):
        index.writer.link(a, b, meters)
        length = load_network(index).link_m(a, b)
        counts.update(a=a, b=b, meters=length)
    typer.echo(f"linked {a} - {b} ({length:.0f} m)")


@app.command("calibrate")
def calibrate_cmd(
    camera: Annotated[str, typer.Argument(help="Camera id.")],
    point: Annotated[
        list[str],
        typer.Option("--point", help="X,Y=LAT,LON: a pixel of the picture and its map position (4 or more)."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Calibrate a camera's ground plane from 4 or more pixel/map point pairs (true bearings and speeds).

    Example: camfind cameras calibrate CAM01 --point 100,700=10.77010,106.70020
    --point 1180,700=10.77012,106.70060 --point 900,300=10.77060,106.70055 --point 380,300=10.77058,106.70025
    """
    from camfind.calibration import calibrate, parse_point

    pairs = [parse_point(p) for p in point]
    with index_session("cameras calibrate") as (index, counts):
        model = calibrate(index, camera, pairs)
        counts.update(points=len(pairs), reprojection_error_m=round(model.reprojection_error_m, 3))
    if as_json:
        emit_json({"camera_id": camera, "points": len(pairs), "reprojection_error_m": model.reprojection_error_m,
                   "homography": model.homography.tolist()})
    else:
        typer.echo(f"{camera}: calibrated from {len(pairs)} points, reprojection error "
                   f"{model.reprojection_error_m:.2f} m")
