"""`camfind clips`, `camfind verify`, `camfind coverage`: custody and health of the footage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from camfind.commands._common import CsvOpt, JsonOpt, emit_json, emit_rows, index_session, jsonable, show_span
from camfind.commands._progress import progress_bar
from camfind.errors import CamfindError, InputError
from camfind.timeutil import iso_local, parse_time, show_local
from camfind.types import Clip

CLIP_COLUMNS = ("id", "camera_id", "start", "end", "start_raw", "time_source", "frames", "status", "sha256", "path")
CLIP_STATUSES = ("registered", "analyzed", "failed")

app = typer.Typer()


@app.command("clips")
def clips(
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera's clips.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only clips with this status (registered, analyzed, failed).")
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """List registered clips: start/end (corrected and raw DVR time), time source, SHA-256, status.

    Example: camfind clips --camera CAM03 --json
    """
    from camfind.index.queries import get_camera, list_clips

    if status is not None and status not in CLIP_STATUSES:
        raise InputError(f"unknown clip status {status!r}: expected one of {', '.join(CLIP_STATUSES)}")
    with index_session("clips") as (index, counts):
        if camera is not None:
            get_camera(index, camera)
        found = list_clips(index, camera_id=camera, status=status)
        counts["rows"] = len(found)
        tz = index.tz
    rows = [clip_row(c, tz) for c in found]
    if not (as_json or as_csv):
        rows = [_table_row(r, c, tz) for r, c in zip(rows, found, strict=True)]
    emit_rows("Clips", rows, CLIP_COLUMNS, as_json=as_json, as_csv=as_csv)


def clip_row(clip: Clip, tz: str) -> dict[str, Any]:
    """A clip as the JSON object of the CLI contract (times ISO 8601 with the case offset)."""
    return {
        "id": clip.id, "camera_id": clip.camera_id, "path": clip.path, "sha256": clip.sha256,
        "start": iso_local(clip.start, tz), "end": iso_local(clip.end, tz),
        "start_raw": iso_local(clip.start_raw, tz), "end_raw": iso_local(clip.end_raw, tz),
        "time_source": clip.time_source, "clock_offset_s": clip.clock_offset_s, "duration_s": clip.duration_s,
        "fps": clip.fps, "frames": clip.frames, "width": clip.width, "height": clip.height, "codec": clip.codec,
        "container": clip.container, "size_bytes": clip.size_bytes, "status": clip.status,
    }


def _table_row(row: dict[str, Any], clip: Clip, tz: str) -> dict[str, Any]:
    return {**row, "start": show_local(clip.start, tz), "end": show_local(clip.end, tz),
            "start_raw": show_local(clip.start_raw, tz), "sha256": clip.sha256[:12]}


@app.command("verify")
def verify(
    package: Annotated[
        Path | None, typer.Option("--package", help="Verify an exported evidence package folder instead.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash every registered clip and report changed and missing files (exit 1 if any).

    With --package DIR, check an exported evidence package against its manifest instead.

    Example: camfind verify --json
    """
    if package is not None:
        _verify_package(package, as_json)
        return
    from camfind.custody import verify as verify_clips

    with index_session("verify") as (index, counts), progress_bar("verifying") as update:
        report = verify_clips(index, progress=update)
        counts.update(checked=report.checked, ok=report.ok, changed=len(report.changed),
                      missing=len(report.missing))
    if as_json:
        emit_json({"checked": report.checked, "ok": report.ok, "changed": list(report.changed),
                   "missing": list(report.missing), "problems": jsonable(list(report.problems))})
    else:
        typer.echo(f"checked {report.checked} clips: {report.ok} ok, {len(report.changed)} changed, "
                   f"{len(report.missing)} missing")
        for p in report.problems:
            typer.echo(f"  {p.kind.upper()}: clip {p.clip_id} {p.path} ({p.detail})")
    if not report.clean:
        raise typer.Exit(1)


def _verify_package(package: Path, as_json: bool) -> None:
    try:
        from camfind.search.package import verify_package
    except ImportError as exc:
        raise CamfindError(f"evidence package verification is unavailable in this installation ({exc})") from None
    report = verify_package(package)
    if as_json:
        emit_json({"checked": report.checked, "ok": report.ok, "changed": list(report.changed),
                   "missing": list(report.missing), "unlisted": list(report.unlisted),
                   "manifest_sha256": report.manifest_sha256, "clean": report.clean})
    else:
        typer.echo(f"package {package}: checked {report.checked} files: {report.ok} ok, {len(report.changed)} "
                   f"changed, {len(report.missing)} missing, {len(report.unlisted)} not in the manifest")
        for kind, paths in (("CHANGED", report.changed), ("MISSING", report.missing), ("UNLISTED", report.unlisted)):
            for path in paths:
                typer.echo(f"  {kind}: {path}")
    if not report.clean:
        raise typer.Exit(1)


@app.command("coverage")
def coverage(
    time_from: Annotated[str | None, typer.Option("--from", help="Window start (default: earliest footage).")] = None,
    time_to: Annotated[str | None, typer.Option("--to", help="Window end (default: latest footage).")] = None,
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera.")] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", min=0.0, help="Ignore gaps shorter than this (s).")] = 2.0,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Footage per camera over a window, and the gaps (a camera that lost signal or was not collected).

    Example: camfind coverage --from "2024-01-25 10:00" --to "2024-01-25 11:00" --json
    """
    from camfind.custody import coverage as measure

    with index_session("coverage") as (index, counts):
        tz = index.tz
        lo = None if time_from is None else parse_time(time_from, tz)
        hi = None if time_to is None else parse_time(time_to, tz)
        found = measure(index, lo, hi, camera, tolerance_s=tolerance)
        counts.update(rows=len(found), gaps=sum(len(c.gaps) for c in found))
    rows: list[dict[str, Any]] = [
        {"camera_id": c.camera_id, "footage_s": c.footage_s,
         "gaps": [{"from": iso_local(a, tz), "to": iso_local(b, tz)} for a, b in c.gaps],
         "window_from": iso_local(c.window_from, tz), "window_to": iso_local(c.window_to, tz),
         "coverage": round(c.ratio, 4), "clips": c.clips}
        for c in found
    ]
    if not (as_json or as_csv):
        rows = [{**r, "coverage": f"{100 * c.ratio:.0f}%",
                 "gaps": [show_span(a, b, tz) for a, b in c.gaps]}
                for r, c in zip(rows, found, strict=True)]
    emit_rows("Coverage", rows, ("camera_id", "footage_s", "coverage", "clips", "gaps"), as_json=as_json,
              as_csv=as_csv)
