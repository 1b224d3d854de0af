"""`camfind ingest`: register clips (hash, probe, time, camera) and analyse them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from camfind.commands._common import emit_json, emit_table, err, index_session, jsonable
from camfind.commands._progress import progress_bar

if TYPE_CHECKING:
    from camfind.analysis.run import AnalysisSummary
    from camfind.ingest import IngestSummary

app = typer.Typer()


@app.command("ingest")
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Clip files and/or folders (folders recurse).")],
    camera: Annotated[
        str | None, typer.Option("--camera", help="Camera of every clip (else sidecar, file or folder name).")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Start time shown by the DVR (one clip only), local to the case.")
    ] = None,
    no_analyze: Annotated[bool, typer.Option("--no-analyze", help="Register only; analyse later.")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Analysis worker processes.")] = 1,
    osd: Annotated[
        bool, typer.Option("--osd", help="Read the on-screen clock to check the DVR time (camfind clips apply-osd "
                                         "CLIP then makes it the clip's start).")
    ] = False,
    date_order: Annotated[
        str | None,
        typer.Option("--date-order", metavar="dmy|mdy",
                     help="How D/M/YYYY dates read (--start, sidecars): dmy day first, mdy month first "
                          "(default: the camera's date_order column, else day first for Asia/Ho_Chi_Minh)."),
    ] = None,
    segments: Annotated[
        Path | None,
        typer.Option("--segments", metavar="FILE",
                     help="Split one file between cameras: CSV start_s,end_s,camera[,start] (each line its own clip)."),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", metavar="auto|ADDRESS",
                     help="Analyse on Ray: auto starts it here, ADDRESS joins a running cluster (camfind[ray] extra)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary to stdout.")] = False,
) -> None:
    """Register clips with chain of custody (SHA-256, probe, start time, camera), then analyse them.

    Formats: mp4 avi mkv mov ts and raw H.264/H.265 streams; other files in folders are reported
    and skipped. Re-running skips clips already registered (by hash) and resumes an interrupted
    run. Exit code 1 if any file failed (one line each on stderr).

    Start time (DVR clock, first that applies): --start (as the DVR shows it too: 2/12/2023
    3:52:27 PM, dates day first unless --date-order mdy); a sidecar <clip>.json or manifest.csv
    (file,start,camera_id); the file name (Hikvision ch01_20240125101500, Dahua
    2024-01-25.10.15.00-..., YYYYMMDD_HHMMSS, YYYY-MM-DD_HH-MM-SS); the container's creation
    time. The camera's clock offset (cameras set-clock) gives the corrected time. Camera: --camera,
    the sidecar, or a folder or file-name prefix equal to a known camera id (CAM03/..., CAM03_...).

    A clip whose declared and decoded lengths disagree, whose header is damaged or whose frame
    rate had to be assumed is registered with a flag and a warning line (camfind clips shows it).

    A recording that switches between cameras (a DVR viewer filmed or screen-captured) is split
    with --segments FILE: one line per stretch, start_s,end_s,camera[,start] (seconds into the
    file or [H:]MM:SS; start: the DVR time shown then, else the file's start plus start_s). The
    file is hashed once; each segment is a clip of its own, analysed and extracted within its
    range (camfind ingest viewer.mp4 --segments viewer.csv).

    A byte-identical copy of a registered clip found at another path keeps the registration (its
    path, camera and time) and is recorded as a copy (camfind clips lists it, verify checks it); a
    copy whose camera, folder or file-name time disagrees is reported naming both files (exit 1).

    Example: camfind ingest exports/CAM03/ --camera CAM03 --no-analyze
    """
    from camfind.index.queries import track_classes
    from camfind.ingest import ingest_paths, pending_analysis
    from camfind.workflow import analysis_settings, analyze_registered

    analysis: AnalysisSummary | None = None
    classes: dict[int, dict[str, int]] = {}
    with index_session("ingest") as (index, counts):
        with progress_bar("hashing", in_bytes=True) as update:
            summary = ingest_paths(index, paths, camera=camera, start=start, progress=update, date_order=date_order,
                                   segments=segments)
        counts.update(ingested=summary.ingested, known=summary.known, failed=len(summary.failed),
                      skipped=len(summary.skipped), clip_ids=list(summary.clip_ids),
                      copies=[c.clip_id for c in summary.copies], flagged=len(summary.flagged))
        for p in summary.failed:
            err.print(f"camfind: failed: {p.path}: {p.reason}", markup=False, highlight=False, soft_wrap=True)
        for p in summary.skipped:
            err.print(f"camfind: skipped: {p.path}: {p.reason}", markup=False, highlight=False, soft_wrap=True)
        for flagged in summary.flagged:
            err.print(f"camfind: warning: {flagged.path}: {flagged.flag} (registered, flagged: see camfind clips)",
                      markup=False, highlight=False, soft_wrap=True)
        for copy in summary.copies:
            err.print(f"camfind: copy of clip {copy.clip_id}: {copy.path} (recorded beside the registration; "
                      "verify checks it)",
                      markup=False, highlight=False, soft_wrap=True)
        todo = [] if no_analyze else pending_analysis(index, summary)
        if todo:
            settings = analysis_settings(osd=osd)
            with progress_bar("analysing") as update:
                analysis = analyze_registered(index, todo, settings=settings, workers=workers, progress=update,
                                              ray=ray)
            counts["analyzed"] = len(todo)
            classes = track_classes(index, todo)
    _report(summary, analysis, classes, as_json)
    if summary.failed:
        raise typer.Exit(1)


def _report(
    summary: IngestSummary, analysis: AnalysisSummary | None, classes: dict[int, dict[str, int]], as_json: bool
) -> None:
    if as_json:
        emit_json({
            "ingested": summary.ingested,
            "known": summary.known,
            "failed": [{"path": p.path, "reason": p.reason} for p in summary.failed],
            "skipped": [{"path": p.path, "reason": p.reason} for p in summary.skipped],
            "clip_ids": list(summary.clip_ids),
            "known_ids": list(summary.known_ids),
            "copies": [{"path": c.path, "clip_id": c.clip_id} for c in summary.copies],
            "flagged": [{"path": f.path, "flag": f.flag} for f in summary.flagged],
            "bytes": summary.bytes_read,
            "seconds": summary.seconds,
            "analysis": jsonable(analysis),
            "tracks_by_class": {str(k): v for k, v in classes.items()},
        })
        return
    if analysis is not None and hasattr(analysis, "clips"):
        _analysis_table(analysis, classes)
    mb = summary.bytes_read / 1e6
    rate = f", {mb / summary.seconds:.0f} MB/s" if summary.seconds > 0 and mb >= 1 else ""
    typer.echo(f"ingested {summary.ingested}, already registered {summary.known}, failed {len(summary.failed)}, "
               f"skipped {len(summary.skipped)} ({mb:.1f} MB in {summary.seconds:.1f} s{rate})")


ANALYSIS_COLUMNS = ("clip", "camera", "status", "tracks", "plates", "faces", "clock", "note")


def _analysis_table(analysis: AnalysisSummary, classes: dict[int, dict[str, int]]) -> None:
    """What analysis found per clip, as ``camfind analyze`` shows it, with tracks per class."""
    rows = [
        {"clip": o.clip_id, "camera": o.camera_id, "status": o.status,
         "tracks": ", ".join(f"{n} {cls}" for cls, n in classes.get(o.clip_id, {}).items()) or str(o.tracks),
         "plates": ", ".join(o.plates), "faces": o.faces,
         "clock": "" if o.osd_drift_s is None else f"OSD drift {o.osd_drift_s:+.1f} s",
         "note": o.error}
        for o in analysis.clips
    ]
    emit_table("Analysis", rows, ANALYSIS_COLUMNS)
    drifts = [o for o in analysis.clips if o.osd_drift_s is not None and abs(o.osd_drift_s) >= 1.0]
    for o in drifts:
        err.print(f"camfind: warning: clip {o.clip_id} ({o.camera_id}): the on-screen clock is "
                  f"{o.osd_drift_s:+.1f} s from the recorded start (camfind clips apply-osd {o.clip_id} applies it)",
                  markup=False, highlight=False, soft_wrap=True)
    typer.echo(f"analysed {analysis.analyzed}, failed {analysis.failed}: {analysis.tracks} tracks, "
               f"{analysis.plate_reads} plate reads, {analysis.faces} faces in {analysis.seconds:.1f} s")
