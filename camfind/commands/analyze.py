"""`camfind analyze`: (re)run video analysis on registered clips."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from camfind.commands._common import JsonOpt, emit_json, emit_table, err, index_session
from camfind.commands._progress import progress_bar
from camfind.errors import InputError
from camfind.vocab import DETECTORS

if TYPE_CHECKING:
    from camfind.analysis.run import AnalysisSummary
    from camfind.analysis.settings import AnalysisSettings

COLUMNS = ("clip", "camera", "status", "tracks", "plates", "faces", "speed", "note")

app = typer.Typer()


CameraOpt = Annotated[str | None, typer.Option("--camera", metavar="ID", help="Only this camera's clips.")]
ClipOpt = Annotated[list[int] | None, typer.Option("--clip", metavar="ID", help="Only this clip id (repeatable).")]
RateOpt = Annotated[float, typer.Option("--rate", metavar="FPS", help="Frames analysed per second of video.")]
DetectorOpt = Annotated[
    str, typer.Option("--detector", metavar="|".join(DETECTORS), help="ssd (offline default) or yolo.")
]
WeightsOpt = Annotated[str | None, typer.Option("--weights", metavar="FILE", help="Weights file (needed for yolo).")]
WorkersOpt = Annotated[int, typer.Option("--workers", metavar="N", help="Clips analysed in parallel processes.")]
SnapshotsOpt = Annotated[
    str | None, typer.Option("--snapshots", metavar="DIR", help="Snapshot folder (default: snapshots/ by the index).")
]
RayOpt = Annotated[
    str | None,
    typer.Option("--ray", metavar="auto|ADDRESS",
                 help="Analyse on Ray: auto starts it on this machine, ADDRESS (HOST:6379) joins a running cluster "
                      "(needs the camfind[ray] extra; clips at the same path on every node)."),
]
GateOpt = Annotated[bool, typer.Option("--no-motion-gate", help="Detect on every analysed frame, static or not.")]


@app.command("analyze")
def analyze(
    camera: CameraOpt = None,
    clip: ClipOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Re-analyse clips already analysed.")] = False,
    rate: RateOpt = 4.0,
    detector: DetectorOpt = "ssd",
    weights: WeightsOpt = None,
    workers: WorkersOpt = 1,
    osd: Annotated[bool, typer.Option("--osd", help="Read the on-screen clock; report its drift.")] = False,
    no_plates: Annotated[bool, typer.Option("--no-plates", help="Skip plate reading.")] = False,
    no_faces: Annotated[bool, typer.Option("--no-faces", help="Skip faces.")] = False,
    no_motion_gate: GateOpt = False,
    snapshots: SnapshotsOpt = None,
    ray: RayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """(Re)analyse registered clips: tracks, direction, colour, plates, faces, snapshots.

    Without --force only clips not analysed yet are analysed. Each run records the models,
    their versions and weight hashes and the settings; a new run replaces the clip's earlier
    results. A clip that fails is reported and the others go on (exit code 1).

    With --ray the clips are analysed by Ray workers (one per CPU of the cluster, or --workers);
    this process alone writes the index and the snapshots.

    Example: camfind analyze --camera CAM03 --force --workers 2 --json
    """
    from camfind.analysis.run import analyze_clips, select_clips

    settings = _settings(rate=rate, detector=detector, weights=weights, osd=osd, plates=not no_plates,
                         faces=not no_faces, motion_gate=not no_motion_gate, snapshot_dir=snapshots)
    with index_session("analyze") as (index, counts):
        todo, skipped = select_clips(index, camera=camera, clip_ids=clip or (), force=force)
        counts.update(selected=len(todo), skipped=len(skipped))
        if not todo:
            _nothing(skipped, as_json)
            return
        with progress_bar("analysing") as update:
            summary = analyze_clips(index, todo, settings=settings, workers=workers, progress=update,
                                    ray=ray)
        counts.update(analyzed=summary.analyzed, failed=summary.failed, tracks=summary.tracks)
    _report(summary, skipped, as_json)
    if summary.failed:
        raise typer.Exit(1)


def _settings(**options: Any) -> AnalysisSettings:
    from camfind.analysis.settings import AnalysisSettings

    rate = options.pop("rate")
    try:
        return AnalysisSettings(rate_fps=rate, **options)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _nothing(skipped: list[int], as_json: bool) -> None:
    if as_json:
        emit_json({"analyzed": 0, "failed": 0, "skipped": skipped, "clips": []})
    else:
        note = f" ({len(skipped)} already analysed; --force re-runs them)" if skipped else ""
        err.print(f"camfind: nothing to analyse{note}", markup=False, highlight=False)


def _report(summary: AnalysisSummary, skipped: list[int], as_json: bool) -> None:
    if as_json:
        emit_json({"skipped": skipped, **_fields(summary)})
        return
    rows = [
        {"clip": o.clip_id, "camera": o.camera_id, "status": o.status, "tracks": o.tracks,
         "plates": ", ".join(o.plates), "faces": o.faces,
         "speed": f"{o.speed_x:.1f}x" if o.status == "done" else "",
         "note": o.error or (f"OSD drift {o.osd_drift_s:+.1f} s" if o.osd_drift_s is not None else "")}
        for o in summary.clips
    ]
    emit_table("Analysis", rows, COLUMNS)
    typer.echo(f"analysed {summary.analyzed}, failed {summary.failed}, skipped {len(skipped)}: "
               f"{summary.tracks} tracks, {summary.plate_reads} plate reads, {summary.faces} faces "
               f"in {summary.seconds:.1f} s")


def _fields(summary: AnalysisSummary) -> dict[str, Any]:
    from camfind.commands._common import jsonable

    return dict(jsonable(summary))
