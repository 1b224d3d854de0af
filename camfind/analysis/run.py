"""Analyse registered clips: one run record per clip, in this process or in worker processes.

Each clip is analysed by :func:`camfind.analysis.pipeline.analyze_clip` in a worker (this
process when ``workers`` is 1; otherwise ``spawn``-ed processes, each opening its own read
connection to the index and loading the models once). Results come back to this process, the
only one that writes: for each clip a run is recorded with the models, versions, weight hashes
and settings (:meth:`Writer.begin_run`), then the results replace the clip's previous analysis
(:meth:`Writer.write_analysis`) or, when the clip failed, the run is marked failed with the
reason (:meth:`Writer.fail_run`) and the other clips go on.

Example:
    >>> summary = analyze_clips(index, [1, 2], settings=AnalysisSettings(), workers=2)  # doctest: +SKIP
    >>> summary.analyzed, summary.failed  # doctest: +SKIP
    (2, 0)
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from camfind import __version__
from camfind.analysis.settings import AnalysisSettings
from camfind.errors import CamfindError, InputError
from camfind.types import AnalysisRun

if TYPE_CHECKING:
    from camfind.analysis.osd import OsdResult
    from camfind.analysis.pipeline import ClipStats
    from camfind.analysis.snapshots import SnapshotStore
    from camfind.index import Index
    from camfind.index.writer import AnalysisResult

log = logging.getLogger(__name__)

#: ``progress(done, total, name)``: frames analysed so far, frames in all, the current clip.
ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ClipOutcome:
    """What happened to one clip."""

    clip_id: int
    camera_id: str
    path: str
    status: str  # "done" or "failed"
    run_id: int
    error: str = ""
    tracks: int = 0
    detections: int = 0
    plate_reads: int = 0
    faces: int = 0
    snapshots: int = 0
    plates: tuple[str, ...] = ()
    video_s: float = 0.0
    seconds: float = 0.0
    speed_x: float = 0.0  # seconds of video per second of analysis
    osd_start: str | None = None
    osd_drift_s: float | None = None


@dataclass(frozen=True)
class AnalysisSummary:
    """What one call of :func:`analyze_clips` did."""

    clips: tuple[ClipOutcome, ...]
    analyzed: int
    failed: int
    tracks: int
    plate_reads: int
    faces: int
    seconds: float
    workers: int
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Job:
    index_path: str
    clip_id: int
    settings: AnalysisSettings
    snapshot_root: str


@dataclass
class _Done:
    """A worker's answer (pickled back to the writing process)."""

    clip_id: int
    started: datetime
    models: dict[str, str]
    result: AnalysisResult | None = None
    stats: ClipStats | None = None
    store: SnapshotStore | None = None
    osd: OsdResult | None = None
    error: str = ""


def select_clips(
    index: Index, *, camera: str | None = None, clip_ids: Sequence[int] = (), force: bool = False
) -> tuple[list[int], list[int]]:
    """Clips to (re)analyse: (to do, skipped because already analysed and not ``force``).

    Raises:
        NotFoundError: an unknown camera or clip id.
    """
    from camfind.index.queries import get_camera, get_clip, list_clips

    if camera is not None:
        get_camera(index, camera)
    if clip_ids:
        chosen = [get_clip(index, cid) for cid in clip_ids]
        chosen = [c for c in chosen if camera is None or c.camera_id == camera]
    else:
        chosen = list_clips(index, camera_id=camera)
    todo = [c.id or 0 for c in chosen if force or c.status != "analyzed"]
    skipped = [c.id or 0 for c in chosen if not force and c.status == "analyzed"]
    return todo, skipped


def check_settings(settings: AnalysisSettings) -> None:
    """Refuse settings that would fail every clip (a missing weights file), before any work.

    Raises:
        NotFoundError: the weights file does not exist.
    """
    from camfind.errors import NotFoundError

    if settings.weights and not os.path.isfile(settings.weights) and not os.path.isdir(settings.weights):
        raise NotFoundError(f"{settings.weights}: no such weights file")


def analyze_clips(
    index: Index,
    clip_ids: Sequence[int],
    *,
    settings: AnalysisSettings,
    workers: int = 1,
    progress: ProgressFn | None = None,
) -> AnalysisSummary:
    """Analyse the given registered clips and write their results (replacing earlier ones).

    Args:
        index: The open index (this process is its only writer).
        clip_ids: Clips to analyse, in order.
        settings: How (rate, detector, stages); recorded with every run.
        workers: Clips analysed in parallel processes (1: in this process).
        progress: Called with (frames done, frames in all, clip path).

    Raises:
        NotFoundError: an id is not a registered clip (nothing is analysed then).
        InputError: ``workers`` below 1.
    """
    from camfind.analysis.snapshots import default_snapshot_dir
    from camfind.index.queries import get_clip

    if workers < 1:
        raise InputError(f"--workers must be 1 or more, got {workers}")
    check_settings(settings)
    clips = {cid: get_clip(index, cid) for cid in clip_ids}
    root = str(default_snapshot_dir(index.path, settings.snapshot_dir))
    jobs = [_Job(index.path, cid, settings, root) for cid in clips]
    total = sum(max(c.frames, 1) for c in clips.values())
    started = time.perf_counter()
    outcomes: list[ClipOutcome] = []
    done_frames = 0
    parallel = workers > 1 and len(jobs) > 1 and index.path != ":memory:"
    for answer in (_in_pool(jobs, workers) if parallel else _in_process(index, jobs, clips, progress, total)):
        clip = clips[answer.clip_id]
        outcomes.append(_record(index, answer, clip.status, settings))
        done_frames += max(clip.frames, 1)
        if progress is not None:
            progress(done_frames, total, clip.path)
    return _summary(outcomes, time.perf_counter() - started, workers if parallel else 1, settings)


def _in_process(
    index: Index, jobs: list[_Job], clips: dict[int, Any], progress: ProgressFn | None, total: int
) -> Iterator[_Done]:
    before = 0
    for job in jobs:
        frames = max(clips[job.clip_id].frames, 1)
        path = clips[job.clip_id].path

        def tick(fraction: float, base: int = before, n: int = frames, name: str = path) -> None:
            if progress is not None:
                progress(base + int(fraction * n), total, name)

        yield _analyze(job, index=index, progress=tick)
        before += frames


def _in_pool(jobs: list[_Job], workers: int) -> Iterator[_Done]:
    ctx = multiprocessing.get_context("spawn")  # no fork of loaded models and their threads
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx,
                             initializer=_init_worker, initargs=(workers,)) as pool:
        futures = {pool.submit(_analyze, job): job for job in jobs}
        try:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except Exception as exc:  # the worker process itself died
                    yield _Done(job.clip_id, datetime.now(UTC), {}, error=f"worker failed: {exc}")
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _init_worker(workers: int) -> None:
    import cv2

    cv2.setNumThreads(max(1, (os.cpu_count() or 1) // workers))


def _analyze(job: _Job, *, index: Index | None = None, progress: Callable[[float], None] | None = None) -> _Done:
    """Analyse one clip (read-only on the index); never raises for a bad clip."""
    from camfind.analysis.models import get_models
    from camfind.analysis.snapshots import SnapshotStore
    from camfind.index import Index as IndexCls

    started = datetime.now(UTC)
    own = index is None
    idx = IndexCls.open(job.index_path) if index is None else index
    store: SnapshotStore | None = None
    models: dict[str, str] = {}
    try:
        clip, camera, ground = _load_clip(idx, job.clip_id)
        loaded = get_models(job.settings)
        models = loaded.describe()
        store = SnapshotStore(job.snapshot_root, clip.sha256, job.clip_id)
        osd = _read_osd(clip, loaded.osd, idx.tz) if job.settings.osd else None
        from camfind.analysis.pipeline import analyze_clip

        result, stats = analyze_clip(clip, camera, models=loaded, settings=job.settings, store=store,
                                     to_world=None if ground is None else ground.to_world, progress=progress)
        return _Done(job.clip_id, started, models, result, stats, store, osd)
    except Exception as exc:
        if store is not None:
            store.discard()
        if not isinstance(exc, CamfindError):
            log.error("clip %s: analysis failed:\n%s", job.clip_id, traceback.format_exc())
        reason = str(exc) if isinstance(exc, CamfindError) else f"{type(exc).__name__}: {exc}"
        return _Done(job.clip_id, started, models, error=reason)
    finally:
        if own:
            idx.close()


def _load_clip(index: Index, clip_id: int) -> tuple[Any, Any, Any]:
    from camfind.calibration import load_ground_model
    from camfind.index.queries import find_camera, get_clip
    from camfind.types import Camera

    clip = get_clip(index, clip_id)
    camera = find_camera(index, clip.camera_id) or Camera(clip.camera_id, 0.0, 0.0)
    return clip, camera, load_ground_model(index, clip.camera_id)


def _read_osd(clip: Any, ocr: Any, tz: str) -> OsdResult | None:
    from camfind.analysis.osd import read_clip_osd

    return read_clip_osd(clip.path, ocr=ocr, tz=tz, fps_override=clip.fps or None, start_raw=clip.start_raw)


def _record(index: Index, done: _Done, previous_status: str, settings: AnalysisSettings) -> ClipOutcome:
    """Write one clip's run (and results) through the one writer."""
    from camfind.index.queries import get_clip

    writer = index.writer
    clip = get_clip(index, done.clip_id)
    run = AnalysisRun(clip_id=done.clip_id, started_at=done.started, settings=dataclasses.asdict(settings),
                      models=done.models, camfind_version=__version__)
    with index.transaction():
        run_id = writer.begin_run(run)
    failed = ClipOutcome(clip.id or 0, clip.camera_id, clip.path, "failed", run_id, error=done.error)
    if done.result is None or done.store is None or done.stats is None:
        with index.transaction():
            writer.fail_run(run_id, done.error or "analysis failed")
            if previous_status != "analyzed":
                writer.set_clip_status(done.clip_id, "failed")
        log.warning("clip %s (%s): analysis failed: %s", clip.id, clip.path, done.error)
        return failed
    done.store.commit()
    counts = writer.write_analysis(run_id, done.clip_id, done.result)
    drift = None
    if done.osd is not None and done.osd.drift_s is not None:
        drift = round(done.osd.drift_s, 3)
        with index.transaction():
            writer.set_clip_osd(done.clip_id, drift)
    plates = tuple(sorted({t.plate.text for t in done.result.tracks if t.plate is not None}))
    return dataclasses.replace(
        failed, status="done", error="", tracks=counts["tracks"], detections=counts["detections"],
        plate_reads=counts["plate_reads"], faces=counts["faces"], snapshots=counts["snapshots"],
        plates=plates, video_s=round(done.stats.video_s, 2), seconds=round(done.stats.seconds, 2),
        speed_x=round(done.stats.speed, 2), osd_start=None if done.osd is None else done.osd.start.isoformat(),
        osd_drift_s=drift,
    )


def _summary(outcomes: list[ClipOutcome], seconds: float, workers: int, settings: AnalysisSettings) -> AnalysisSummary:
    ok = [o for o in outcomes if o.status == "done"]
    return AnalysisSummary(
        clips=tuple(outcomes), analyzed=len(ok), failed=len(outcomes) - len(ok),
        tracks=sum(o.tracks for o in ok), plate_reads=sum(o.plate_reads for o in ok),
        faces=sum(o.faces for o in ok), seconds=round(seconds, 2), workers=workers,
        settings=dataclasses.asdict(settings),
    )
