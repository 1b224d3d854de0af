"""`camfind clocks ...`: camera clock offsets estimated from co-sightings, applied, listed, trusted."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

from camfind.commands._common import CsvOpt, JsonOpt, emit_json, emit_rows, emit_table, index_session
from camfind.commands._options import FromOpt, ToOpt

app = typer.Typer(
    help=(
        "Camera clock offsets: estimate them from plates seen at two or more cameras, apply the estimates, "
        "list every camera's clock, mark synchronised clocks as trusted.\n\n"
        "Example: camfind clocks estimate --json"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)

ESTIMATE_COLUMNS = ("camera_id", "status", "offset_s", "uncertainty_s", "n_cosightings", "current_offset_s",
                    "current_source", "change_s", "anchor", "osd_drift_s")
LIST_COLUMNS = ("camera_id", "offset_s", "source", "uncertainty_s", "trusted", "observations", "osd_drift_s",
                "estimate_status", "estimate_offset_s", "estimate_uncertainty_s", "estimate_applied")


@app.command("estimate")
def estimate(
    time_from: FromOpt = None,
    time_to: ToOpt = None,
    max_offset_h: Annotated[
        float, typer.Option("--max-offset-h", min=0.0, max=240.0, help="Largest clock offset looked for, hours.")
    ] = 12.0,
    faces: Annotated[
        bool, typer.Option("--faces/--no-faces", help="Also use faces strongly alike at two cameras.")
    ] = True,
    max_pair_m: Annotated[
        float, typer.Option("--max-pair-m", min=1.0, help="Pair cameras at most this far apart (metres).")
    ] = 3000.0,
    as_json: JsonOpt = False,
) -> None:
    """Estimate every camera's clock offset from exact plates (and strongly alike faces) seen at two or
    more cameras.

    Anchored on trusted clocks (clocks trust), DVR readings (cameras set-clock) and on-screen
    measurements. Each estimate has an uncertainty and the co-sightings behind it; a camera with no
    path to an anchor is reported unanchored; rejected co-sightings (cloned plates, misreads, other
    trips) are listed. The estimates are stored for 'clocks apply'; no offset changes here.

    Example: camfind clocks estimate --json
    """
    from camfind.clocks.estimate import (
        EstimateOptions,
        camera_records,
        cosighting_record,
        estimate_clocks,
        record_estimates,
    )
    from camfind.timeutil import parse_time

    with index_session("clocks estimate") as (index, counts):
        opts = EstimateOptions(max_offset_s=max_offset_h * 3600.0, max_pair_m=max_pair_m, faces=faces)
        est = estimate_clocks(index, None if time_from is None else parse_time(time_from, index.tz),
                              None if time_to is None else parse_time(time_to, index.tz), opts)
        record_estimates(index, est)
        cams = camera_records(est)
        rejected = [{**cosighting_record(r.cosighting), "reason": r.reason} for r in est.fit.rejected]
        pairs = [{"a": p.a, "b": p.b, "delta_s": round(p.delta_s, 2), "sigma_s": round(p.sigma_s, 2),
                  "n_cosightings": len(p.inliers), "two_way": p.two_way} for p in est.fit.pairs]
        counts.update(cameras=len(cams), estimated=sum(c["status"] == "estimated" for c in cams),
                      unanchored=sum(c["status"] == "unanchored" for c in cams), rejected=len(rejected))
    if as_json:
        emit_json({"cameras": cams, "pairs": pairs, "rejected": rejected, "sightings": est.sightings})
        return
    emit_table("Clock offsets estimated from co-sightings", cams, ESTIMATE_COLUMNS)
    for r in rejected:
        what = f"plate {r['plate']}" if r["plate"] else str(r["target"])
        typer.echo(f"rejected: {what} {r['camera_a']} track {r['track_a']} / {r['camera_b']} "
                   f"track {r['track_b']}: {r['reason']}")
    typer.echo("apply with: camfind clocks apply CAM... (or --all)", err=True)


@app.command("apply")
def apply(
    cameras: Annotated[list[str] | None, typer.Argument(help="Camera ids whose latest estimates to apply.")] = None,
    all_cameras: Annotated[bool, typer.Option("--all", help="Apply every camera's estimate.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record the latest estimates as the cameras' clock offsets (source: estimate).

    Raw DVR times are kept; corrected times of the clips and sightings are recomputed.

    Example: camfind clocks apply CAM03 CAM07
    """
    from camfind.clocks.apply import apply_estimates

    with index_session("clocks apply") as (index, counts):
        done = apply_estimates(index, cameras or (), all_cameras)
        counts.update(applied=[(a.camera_id, round(a.offset_s, 2)) for a in done])
    if as_json:
        emit_json(done)
        return
    for a in done:
        unc = "" if a.uncertainty_s is None else f" +- {a.uncertainty_s:.1f}"
        typer.echo(f"{a.camera_id}: offset {a.previous_offset_s:+.1f} s ({a.previous_source}) -> "
                   f"{a.offset_s:+.1f}{unc} s (estimate, {a.n_cosightings} co-sightings)")
    if not done:
        typer.echo("no camera had an estimate to apply", err=True)


@app.command("list")
def list_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """Every camera's clock: offset in use, its source (file, set-clock, osd, estimate), uncertainty,
    whether it is trusted, and the latest estimate.

    Example: camfind clocks list --csv
    """
    from camfind.clocks.apply import clock_table

    with index_session("clocks list") as (index, counts):
        rows: list[dict[str, Any]] = [dataclasses.asdict(r) for r in clock_table(index)]
        counts["rows"] = len(rows)
    emit_rows("Camera clocks", rows, LIST_COLUMNS, as_json=as_json, as_csv=as_csv)


@app.command("trust")
def trust(
    cameras: Annotated[list[str], typer.Argument(help="Camera ids whose clocks are synchronised to true time.")],
    untrusted: Annotated[bool, typer.Option("--untrusted", help="Unmark them instead.")] = False,
) -> None:
    """Mark cameras whose clocks are synchronised (e.g. public cameras on network time): they anchor
    the clock fit at their offset in use.

    Example: camfind clocks trust PUB01 PUB02
    """
    with index_session("clocks trust") as (index, counts):
        changed = index.writer.set_clock_trusted(cameras, not untrusted)
        counts.update(cameras=list(cameras), trusted=not untrusted, changed=changed)
    typer.echo(f"{len(cameras)} camera(s) marked {'untrusted' if untrusted else 'trusted'} ({changed} changed)")
