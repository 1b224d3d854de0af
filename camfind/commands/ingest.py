"""`camfind ingest`: register clips (hash, probe, time, camera) and analyse them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from camfind.commands._common import emit_json, err, index_session, jsonable
from camfind.commands._progress import progress_bar

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
    osd: Annotated[bool, typer.Option("--osd", help="Read the on-screen clock to check the DVR time.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary to stdout.")] = False,
) -> None:
    """Register clips with chain of custody (SHA-256, probe, start time, camera), then analyse them.

    Formats: mp4 avi mkv mov ts and raw H.264/H.265 streams; other files in folders are reported
    and skipped. Re-running skips clips already registered (by hash) and resumes an interrupted
    run. Exit code 1 if any file failed (one line each on stderr).

    Start time (DVR clock, first that applies): --start; a sidecar <clip>.json or manifest.csv
    (file,start,camera_id); the file name (Hikvision ch01_20240125101500, Dahua
    2024-01-25.10.15.00-..., YYYYMMDD_HHMMSS, YYYY-MM-DD_HH-MM-SS); the container's creation
    time. The camera's clock offset (cameras set-clock) gives the corrected time. Camera: --camera,
    the sidecar, or a folder or file-name prefix equal to a known camera id (CAM03/..., CAM03_...).

    Example: camfind ingest exports/CAM03/ --camera CAM03 --no-analyze
    """
    from camfind.ingest import analysis_settings, analyze_registered, ingest_paths, pending_analysis

    analysis: Any = None
    with index_session("ingest") as (index, counts):
        with progress_bar("hashing", in_bytes=True) as update:
            summary = ingest_paths(index, paths, camera=camera, start=start, progress=update)
        counts.update(ingested=summary.ingested, known=summary.known, failed=len(summary.failed),
                      skipped=len(summary.skipped), clip_ids=list(summary.clip_ids))
        for path, why in summary.failed:
            err.print(f"camfind: failed: {path}: {why}", markup=False, highlight=False, soft_wrap=True)
        for path, why in summary.skipped:
            err.print(f"camfind: skipped: {path}: {why}", markup=False, highlight=False, soft_wrap=True)
        todo = [] if no_analyze else pending_analysis(index, summary)
        if todo:
            settings = analysis_settings(osd=osd)
            with progress_bar("analysing") as update:
                analysis = analyze_registered(index, todo, settings=settings, workers=workers, progress=update)
            counts["analyzed"] = len(todo)
    _report(summary, analysis, as_json)
    if summary.failed:
        raise typer.Exit(1)


def _report(summary: Any, analysis: Any, as_json: bool) -> None:
    if as_json:
        emit_json({
            "ingested": summary.ingested,
            "known": summary.known,
            "failed": [{"path": p, "reason": r} for p, r in summary.failed],
            "skipped": [{"path": p, "reason": r} for p, r in summary.skipped],
            "clip_ids": list(summary.clip_ids),
            "known_ids": list(summary.known_ids),
            "bytes": summary.bytes_read,
            "seconds": summary.seconds,
            "analysis": jsonable(analysis),
        })
        return
    mb = summary.bytes_read / 1e6
    rate = f", {mb / summary.seconds:.0f} MB/s" if summary.seconds > 0 and mb >= 1 else ""
    typer.echo(f"ingested {summary.ingested}, already registered {summary.known}, failed {len(summary.failed)}, "
               f"skipped {len(summary.skipped)} ({mb:.1f} MB in {summary.seconds:.1f} s{rate})")
