"""`camfind clips`, `camfind verify`, `camfind coverage`: custody and health of the footage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from camfind.commands._common import (
    CsvOpt,
    JsonOpt,
    db_path,
    emit_json,
    emit_rows,
    index_session,
    jsonable,
    show_span,
)
from camfind.commands._progress import progress_bar
from camfind.errors import CamfindError, InputError
from camfind.pathtext import shown
from camfind.timeutil import iso_local, parse_time, show_local
from camfind.types import Clip, ClipCopy

if TYPE_CHECKING:
    from camfind.index.queries import ClipTiming

CLIP_COLUMNS = ("id", "camera_id", "start", "end", "start_raw", "time_source", "frames", "status", "flags", "sha256",
                "path", "segment", "copies")
CLIP_STATUSES = ("registered", "analyzed", "failed")


app = typer.Typer()
#: ``camfind clips`` lists the clips; its sub-commands (``apply-osd``) act on them.
clips_app = typer.Typer(rich_markup_mode=None)
app.add_typer(clips_app, name="clips")


@clips_app.callback(invoke_without_command=True)
def clips(
    ctx: typer.Context,
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera's clips.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only clips with this status (registered, analyzed, failed).")
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """List registered clips: start/end (corrected and raw DVR time), time source, SHA-256, status.

    segment: where in its file a clip lies, for a recording split between cameras (ingest
    --segments): every segment is its own clip, all with the file's SHA-256.
    flags: what did not add up when the clip was registered (declared and decoded lengths that
    disagree, a damaged header, an assumed frame rate): check its times.
    copies: byte-identical copies of a clip met at other paths by later ingests (the registered
    path is kept; verify checks every copy too).

    osd: the on-screen clock's reading (analyze --osd): its time at the first frame and its
    drift from the filed start; camfind clips apply-osd makes it the clip's start (start_filed
    keeps the start it was filed with).

    Example: camfind clips --camera CAM03 --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from camfind.index.queries import clip_copies, clip_timings, get_camera, list_clips

    if status is not None and status not in CLIP_STATUSES:
        raise InputError(f"unknown clip status {status!r}: expected one of {', '.join(CLIP_STATUSES)}")
    with index_session("clips") as (index, counts):
        if camera is not None:
            get_camera(index, camera)
        found = list_clips(index, camera_id=camera, status=status)
        copies = clip_copies(index)
        timings = clip_timings(index)
        counts["rows"] = len(found)
        tz = index.tz
    rows = [clip_row(c, tz, copies.get(c.id or 0, ()), timings.get(c.id or 0)) for c in found]
    if not (as_json or as_csv):
        rows = [_table_row(r, c, tz) for r, c in zip(rows, found, strict=True)]
    emit_rows("Clips", rows, CLIP_COLUMNS, as_json=as_json, as_csv=as_csv)


def clip_row(clip: Clip, tz: str, copies: Sequence[ClipCopy] = (), timing: ClipTiming | None = None) -> dict[str, Any]:
    """A clip as the JSON object of the CLI contract (times ISO 8601 with the case offset);
    ``copies`` lists the byte-identical copies recorded at other paths, ``timing`` its on-screen
    clock reading and filed start."""
    return {
        "id": clip.id, "camera_id": clip.camera_id, "path": shown(clip.path), "sha256": clip.sha256,
        "start": iso_local(clip.start, tz), "end": iso_local(clip.end, tz),
        "start_raw": iso_local(clip.start_raw, tz), "end_raw": iso_local(clip.end_raw, tz),
        "time_source": clip.time_source, "clock_offset_s": clip.clock_offset_s, "duration_s": clip.duration_s,
        "fps": clip.fps, "frames": clip.frames, "width": clip.width, "height": clip.height, "codec": clip.codec,
        "container": clip.container, "size_bytes": clip.size_bytes, "status": clip.status, "flags": list(clip.flags),
        "segment": None if clip.segment_end_s is None else {
            "start_s": clip.segment_start_s, "end_s": clip.segment_end_s},
        "copies": [{"path": shown(c.path), "camera_id": c.camera_id, "conflict": c.conflict or None} for c in copies],
        "osd": None if timing is None or timing.osd_drift_s is None else {
            "start": iso_local(timing.osd_start, tz), "drift_s": timing.osd_drift_s, "text": timing.osd_text,
            "precision_s": timing.osd_precision_s},
        "start_filed": None if timing is None else iso_local(timing.filed_start_raw, tz),
        "time_source_filed": None if timing is None else timing.filed_time_source,
    }


def _table_row(row: dict[str, Any], clip: Clip, tz: str) -> dict[str, Any]:
    return {**row, "start": show_local(clip.start, tz), "end": show_local(clip.end, tz),
            "start_raw": show_local(clip.start_raw, tz), "sha256": clip.sha256[:12],
            "segment": "" if clip.segment_end_s is None else f"{clip.segment_start_s:g}-{clip.segment_end_s:g} s",
            "copies": [c["path"] + (f" (CONFLICT: {c['conflict']})" if c["conflict"] else "") for c in row["copies"]]}


@clips_app.command("apply-osd")
def apply_osd(
    clip_ids: Annotated[list[int], typer.Argument(metavar="CLIP...", help="Clip ids (see camfind clips).")],
    revert: Annotated[bool, typer.Option("--revert", help="Go back to the start the clip was filed with.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Make the on-screen clock's reading (analyze --osd) the clip's start; audited, the filed start kept.

    The raw start becomes the time the DVR's clock showed at the first frame (time_source osd);
    the corrected start and every sighting of the clip move by the same amount, and the camera's
    clock offset still applies. --revert restores the start the clip was filed with.

    Example: camfind clips apply-osd 12 14
    """
    from camfind.ingest.retime import apply_osd as apply

    with index_session("clips apply-osd") as (index, counts):
        done = apply(index, clip_ids, revert=revert)
        counts.update(clips=[r.clip_id for r in done], shifts_s=[round(r.shift_s, 3) for r in done],
                      revert=revert)
        tz = index.tz
    rows = [{"id": r.clip_id, "camera_id": r.camera_id, "start_raw_before": iso_local(r.old_start_raw, tz),
             "start_raw": iso_local(r.new_start_raw, tz), "shift_s": round(r.shift_s, 3),
             "start": iso_local(r.start, tz), "time_source": r.time_source} for r in done]
    if as_json:
        emit_json(rows)
        return
    for r in done:
        typer.echo(f"clip {r.clip_id} ({r.camera_id}): start {show_local(r.old_start_raw, tz)} -> "
                   f"{show_local(r.new_start_raw, tz)} ({r.shift_s:+.2f} s, {r.time_source})")


@app.command("verify")
def verify(
    package: Annotated[
        Path | None, typer.Option("--package", help="Verify an exported evidence package folder instead.")
    ] = None,
    expect: Annotated[
        str | None,
        typer.Option("--expect", help="With --package: the manifest SHA-256 printed at export, for a package "
                     "checked away from its index (else the index's audit entry of the export vouches for it)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the index (SQLite's integrity check), re-hash every registered clip and snapshot, and
    report changed and missing files (exit 1 if any; a damaged index is one line, exit 2).

    With --package DIR, check an exported evidence package instead: every file against its
    manifest, SHA256SUMS against the manifest, and the manifest's own SHA-256 against the one the
    index recorded when it was exported (or against --expect HASH away from the index).

    Example: camfind verify --package evidence/ --expect HASH
    """
    if package is not None:
        _verify_package(package, as_json, expect)
        return
    if expect is not None:
        raise typer.BadParameter("--expect goes with --package", param_hint="--expect")
    from camfind.custody import verify as verify_clips

    with index_session("verify") as (index, counts), progress_bar("verifying") as update:
        report = verify_clips(index, progress=update)
        counts.update(checked=report.checked, ok=report.ok, changed=len(report.changed),
                      missing=len(report.missing), snapshots=report.snapshots_checked,
                      snapshot_problems=len(report.snapshot_problems), integrity="ok")
    snaps = report.snapshot_problems
    if as_json:
        emit_json({"checked": report.checked, "ok": report.ok, "changed": list(report.changed),
                   "missing": list(report.missing), "problems": jsonable(list(report.problems)),
                   "index": {"integrity": "ok"},
                   "snapshots": {"checked": report.snapshots_checked, "ok": report.snapshots_ok,
                                 "changed": [p.path for p in snaps if p.kind == "changed"],
                                 "missing": [p.path for p in snaps if p.kind == "missing"]}})
    else:
        typer.echo(f"index integrity ok; checked {report.checked} clips: {report.ok} ok, {len(report.changed)} "
                   f"changed, {len(report.missing)} missing; {report.snapshots_checked} snapshots: "
                   f"{report.snapshots_ok} ok, {len(snaps)} changed or missing")
        for p in report.problems:
            what = "clip" if p.what == "clip" else "snapshot of clip"
            typer.echo(f"  {p.kind.upper()}: {what} {p.clip_id} {p.path} ({p.detail})")
    if not report.clean:
        raise typer.Exit(1)


def _verify_package(package: Path, as_json: bool, expect: str | None) -> None:
    from camfind.audit import parse_expected
    from camfind.index.postgres import is_url

    try:
        from camfind.export.package import verify_package
    except ImportError as exc:
        raise CamfindError(f"evidence package verification is unavailable in this installation ({exc})") from None
    wanted = None if expect is None else parse_expected(expect, "the manifest SHA-256 printed at export")
    if wanted is None and (Path(db_path()).is_file() or is_url(db_path())):
        with index_session("verify --package") as (index, counts):
            report = verify_package(package, index=index)
            counts.update(checked=report.checked, ok=report.ok, clean=report.clean)
    else:
        report = verify_package(package, expect=wanted)
    if as_json:
        emit_json({"checked": report.checked, "ok": report.ok, "changed": list(report.changed),
                   "missing": list(report.missing), "unlisted": list(report.unlisted),
                   "manifest_sha256": report.manifest_sha256, "clean": report.clean,
                   "sha256sums": list(report.sums),
                   "manifest": {"vouched_by": report.anchor or None,
                                "audit_entry": report.anchor_entry,
                                "problem": report.anchor_problem}})
    else:
        typer.echo(f"package {package}: checked {report.checked} files: {report.ok} ok, {len(report.changed)} "
                   f"changed, {len(report.missing)} missing, {len(report.unlisted)} not in the manifest")
        for problem in report.problems:
            typer.echo(f"  {problem}")
        if report.clean:
            by = "the expected hash" if report.anchor == "expect" else f"the index's audit entry {report.anchor_entry}"
            typer.echo(f"  manifest SHA-256 {report.manifest_sha256} vouched for by {by}")
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
