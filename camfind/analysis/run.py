"""Analyse registered clips: one run record per clip, in this process, worker processes or a Ray cluster.

This process reads each clip's registration, camera and ground model from the index into a
:class:`~camfind.analysis.work.ClipJob` (plain data). :func:`camfind.analysis.work.analyze_job`
analyses it without the index, in this process (``workers`` 1), in ``spawn``-ed worker
processes (``workers`` N, each loading the models once) or on Ray workers (``ray``:
:mod:`camfind.analysis.cluster`); its :class:`~camfind.analysis.work.AnalysisOutput` (rows and
snapshot bytes) comes back here, the only process that writes: for each clip a run is recorded
with the models, versions, weight hashes, settings and where it was analysed
(:meth:`Writer.begin_run`), then the results replace the clip's previous analysis
(:meth:`Writer.write_analysis`) or, when the clip failed, the run is marked failed with the
reason (:meth:`Writer.fail_run`) and the other clips go on.

Evidence stays consistent whatever stops the run (a failure, Ctrl-C, SIGTERM, a full disk): a
clip's snapshot bytes are staged here, then moved into place under names no earlier run's file has with other
bytes, then its rows are written in one transaction; only after that commit are the previous
run's files deleted. If anything fails before the commit, the new files are removed and the run
is marked failed. Staging folders of this call are removed when it ends, however it ends; ones
left by a killed process are swept at the start (:func:`~camfind.analysis.snapshots.sweep_staging`).

Example:
    >>> summary = analyze_clips(index, [1, 2], settings=AnalysisSettings(), workers=2)  # doctest: +SKIP
    >>> summary.analyzed, summary.failed  # doctest: +SKIP
    (2, 0)
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import multiprocessing
import os
import signal
import socket
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camfind import __version__
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.stages import Stopped, limit_malloc_arenas
from camfind.analysis.work import AnalysisOutput, ClipJob, WorkerInfo, analyze_job
from camfind.errors import CamfindError, InputError, StorageError, Terminated
from camfind.types import AnalysisResult, AnalysisRun, Clip

if TYPE_CHECKING:
    from camfind.analysis.cluster import RayAnalysis
    from camfind.analysis.snapshots import SnapshotStore
    from camfind.index import Index
    from camfind.index.writer import AnalysisCounts

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
    ray: str | None = None,
) -> AnalysisSummary:
    """Analyse the given registered clips and write their results (replacing earlier ones).

    Before any clip: the settings, the snapshot folder and the detector are checked (the
    detector is loaded), stale staging folders are swept and runs an earlier, killed analysis of
    these clips left ``running`` are marked failed.

    Args:
        index: The open index (this process is its only writer).
        clip_ids: Clips to analyse, in order.
        settings: How (rate, detector, stages); recorded with every run.
        workers: Clips analysed in parallel processes (1: in this process); with ``ray``, Ray
            workers (1: one per CPU of the cluster).
        progress: Called with (frames done, frames in all, clip path).
        ray: Analyse on a Ray cluster: ``"auto"`` starts one on this machine, else the address
            of a running cluster (``ray start --head``); a Ray connection this process already
            holds (``ray.init``) is used as it is. See :mod:`camfind.analysis.cluster`.

    Raises:
        NotFoundError: an id is not a registered clip (nothing is analysed then).
        InputError: ``workers`` below 1, or a snapshot folder that is a file or not writable;
            ``ray`` without Ray installed, or a cluster that cannot be joined.
        ModelError: the detector cannot be loaded (e.g. ``--weights`` is not a weights file).
    """
    from camfind.analysis.models import get_detector
    from camfind.analysis.snapshots import (
        check_snapshot_root,
        default_snapshot_dir,
        discard_owned,
        new_owner,
        sweep_staging,
    )
    from camfind.index.queries import get_clip

    if workers < 1:
        raise InputError(f"--workers must be 1 or more, got {workers}")
    if ray is not None:
        from camfind.analysis.cluster import import_ray

        import_ray()  # without the extra: one line, before the models load
    check_settings(settings)
    limit_malloc_arenas()
    clips = {cid: get_clip(index, cid) for cid in clip_ids}
    root, owner = default_snapshot_dir(index.path, settings.snapshot_dir), new_owner()
    check_snapshot_root(root, owner)
    get_detector(settings)  # loaded once, before any clip: a bad weights file is one error line
    sweep_staging(root)
    _fail_stale_runs(index, list(clips))
    jobs = [make_job(index, clip, settings) for clip in clips.values()]
    total = sum(max(c.frames, 1) for c in clips.values())
    progress = _forward_only(progress)
    started = time.perf_counter()
    outcomes: list[ClipOutcome] = []
    done_frames = 0
    answers, used = _answers(index, jobs, settings, workers, ray, progress, total)
    try:
        for answer in answers:
            clip = clips[answer.clip_id]
            outcomes.append(_record(index, answer, clip.status, settings, root, owner))
            done_frames += max(clip.frames, 1)
            if progress is not None:
                progress(done_frames, total, clip.path)
    finally:
        answers.close()  # stops the workers when the loop ended early (Ctrl-C, an unwritable index)
        discard_owned(root, owner)
    return _summary(outcomes, time.perf_counter() - started, used, settings)


def _forward_only(progress: ProgressFn | None) -> ProgressFn | None:
    """``progress`` called one thread at a time and never backwards (the clip streaming next
    reports before the one before it is written)."""
    if progress is None:
        return None
    lock = threading.Lock()
    high = [-1]

    def forward(done: int, total: int, name: str) -> None:
        with lock:
            if done >= high[0]:
                high[0] = done
                progress(done, total, name)

    return forward


def make_job(index: Index, clip: Clip, settings: AnalysisSettings) -> ClipJob:
    """The data one worker needs for ``clip``: its registration, camera, ground model, the case time zone."""
    from camfind.calibration import load_ground_model
    from camfind.index.queries import find_camera
    from camfind.types import Camera

    camera = find_camera(index, clip.camera_id) or Camera(clip.camera_id, 0.0, 0.0)
    return ClipJob(clip, camera, settings, load_ground_model(index, clip.camera_id), index.tz)


def _answers(
    index: Index, jobs: list[ClipJob], settings: AnalysisSettings, workers: int, ray: str | None,
    progress: ProgressFn | None, total: int,
) -> tuple[Generator[AnalysisOutput, None, None], int]:
    """The workers' outputs as they come (and how many workers): Ray, a process pool or this process."""
    if ray is not None:
        from camfind.analysis.cluster import RayAnalysis

        cluster = RayAnalysis(ray, settings=settings, workers=workers if workers > 1 else None)
        return _on_ray(cluster, jobs), cluster.workers
    if workers > 1 and len(jobs) > 1:
        return _in_pool(jobs, workers), workers
    return _in_process(jobs, progress, total), 1


def _fail_stale_runs(index: Index, clip_ids: Sequence[int]) -> None:
    """Mark failed the runs of these clips still ``running``: their process died before recording them."""
    from camfind.index.queries import running_runs

    stale = running_runs(index, clip_ids)
    if not stale:
        return
    with index.transaction():
        for run_id in stale:
            index.writer.fail_run(run_id, "stopped before its results were written (found by a later analysis)")
    log.info("marked %d analysis run(s) left running by a stopped analysis as failed: %s", len(stale), stale)


def _on_ray(cluster: RayAnalysis, jobs: list[ClipJob]) -> Generator[AnalysisOutput, None, None]:
    try:
        yield from cluster.run(jobs)
    finally:
        cluster.close()


#: Clips analysed at once in this process: while one enriches its last fragments, the next one
#: decodes and detects (one streams at a time; enrichment is one thread, in order).
IN_FLIGHT = 2


def _in_process(
    jobs: list[ClipJob], progress: ProgressFn | None, total: int, in_flight: int | None = None
) -> Generator[AnalysisOutput, None, None]:
    """The clips' outputs in order, ``in_flight`` analysed at once in threads of this process.

    A clip's enrichment tail (its last fragments, its plate sweeps) overlaps the next clip's
    decoding and detection. When the caller stops (Ctrl-C, SIGTERM, an error writing, closing
    early) the clips in flight are stopped at their next frame or enrichment job and awaited
    (their staging folders removed) before the exception goes on.
    """
    stop = threading.Event()
    bases = list(itertools.accumulate((max(j.clip.frames, 1) for j in jobs), initial=0))

    streamed = [threading.Event() for _ in jobs]  # the clip has streamed a frame (or ended)

    def run(k: int) -> AnalysisOutput:
        job, frames = jobs[k], max(jobs[k].clip.frames, 1)

        def tick(fraction: float) -> None:
            streamed[k].set()
            if progress is not None:
                progress(bases[k] + int(fraction * frames), total, job.clip.path)

        try:  # clips take their streaming turns in order: the next one starts once this one has
            while k > 0 and not streamed[k - 1].wait(0.05):
                if stop.is_set():
                    raise Stopped
            return analyze_job(job, progress=tick, stop=stop)
        finally:
            streamed[k].set()

    wanted = max(1, in_flight or IN_FLIGHT)
    pool = ThreadPoolExecutor(max_workers=wanted, thread_name_prefix="camfind-clip")
    flying: deque[Future[AnalysisOutput]] = deque()
    upcoming = iter(range(len(jobs)))
    try:
        flying.extend(pool.submit(run, k) for k in itertools.islice(upcoming, wanted))
        while flying:
            try:
                done = _result(flying.popleft())  # a stop raised in its thread goes on from here
            except Stopped:  # an enrichment job was interrupted: the clip streaming then stopped too
                raise KeyboardInterrupt from None
            flying.extend(pool.submit(run, k) for k in itertools.islice(upcoming, 1))
            yield done
    finally:
        stop.set()
        for f in flying:
            f.cancel()
        wait(flying)
        pool.shutdown(wait=True)


def _result(future: Future[AnalysisOutput]) -> AnalysisOutput:
    """The future's result, waited for in short steps: a signal that reached another thread
    (Ctrl-C, SIGTERM) is raised here within a tenth of a second, not when the clip ends."""
    while True:
        try:
            return future.result(timeout=0.1)
        except TimeoutError:
            continue


def _in_pool(jobs: list[ClipJob], workers: int) -> Generator[AnalysisOutput, None, None]:
    ctx = multiprocessing.get_context("spawn")  # no fork of loaded models and their threads
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx,
                               initializer=_init_worker, initargs=(workers,))
    futures: dict[Future[AnalysisOutput], ClipJob] = {}
    try:
        futures.update((pool.submit(analyze_job, job), job) for job in jobs)
        for future in as_completed(futures):
            job = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # the worker process itself died
                yield AnalysisOutput(job.clip_id, datetime.now(UTC), WorkerInfo(socket.gethostname(), 0),
                                     error=f"worker failed: {exc}")
    except BaseException:  # Ctrl-C, SIGTERM or the caller stopped: the workers' clips are abandoned
        for f in futures:
            f.cancel()
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the worker processes now (their staging folders are removed by the caller after)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


def _init_worker(workers: int) -> None:
    import cv2

    # Ctrl-C reaches the whole process group: the main process stops the workers itself, so a
    # worker does not die mid-wait with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_malloc_arenas()
    cv2.setNumThreads(max(1, (os.cpu_count() or 1) // workers))


def _record(
    index: Index, done: AnalysisOutput, previous_status: str, settings: AnalysisSettings, root: Path, owner: str
) -> ClipOutcome:
    """Write one clip's run (and results, snapshots staged under ``root`` first) through the one writer."""
    from camfind.index.queries import get_clip

    writer = index.writer
    clip = get_clip(index, done.clip_id)
    run = AnalysisRun(clip_id=done.clip_id, started_at=done.started, settings=dataclasses.asdict(settings),
                      models=done.models, camfind_version=__version__, worker_host=done.worker.host,
                      worker_pid=done.worker.pid or None, worker_node=done.worker.node)
    with index.transaction():
        run_id = writer.begin_run(run)
    failed = ClipOutcome(clip.id or 0, clip.camera_id, clip.path, "failed", run_id, error=done.error)
    if done.result is None or done.stats is None or done.error:
        _fail(index, run_id, done.clip_id, done.error or "analysis failed", previous_status)
        log.warning("clip %s (%s): analysis failed: %s", clip.id, clip.path, done.error)
        return failed
    store: SnapshotStore | None = None
    try:
        store, result = _staged(done, clip, root, owner)
        counts = _write(index, run_id, done.clip_id, result, store)
    except CamfindError as exc:  # the snapshot folder refused: this clip failed, the others go on
        _fail(index, run_id, done.clip_id, str(exc), previous_status)
        log.warning("clip %s (%s): results not written: %s", clip.id, clip.path, exc)
        return dataclasses.replace(failed, error=str(exc))
    finally:
        if store is not None:
            store.discard()
    drift = None
    if done.osd is not None and done.osd.drift_s is not None:
        drift = round(done.osd.drift_s, 3)
        with index.transaction():
            writer.set_clip_osd(done.clip_id, drift, start=done.osd.start, text=done.osd.text,
                                precision_s=done.osd.precision_s)
    plates = tuple(sorted({t.plate.text for t in done.result.tracks if t.plate is not None}))
    return dataclasses.replace(
        failed, status="done", error="", tracks=counts.tracks, detections=counts.detections,
        plate_reads=counts.plate_reads, faces=counts.faces, snapshots=counts.snapshots,
        plates=plates, video_s=round(done.stats.video_s, 2), seconds=round(done.stats.seconds, 2),
        speed_x=round(done.stats.speed, 2), osd_start=None if done.osd is None else done.osd.start.isoformat(),
        osd_drift_s=drift,
    )


def _staged(done: AnalysisOutput, clip: Clip, root: Path, owner: str) -> tuple[SnapshotStore, AnalysisResult]:
    """The output's snapshot bytes staged under ``root`` (final names chosen against the files
    there) and its result pointing at those final paths.

    Raises:
        CamfindError: the staging folder cannot be written (nothing is left staged).
    """
    from camfind.analysis.snapshots import SnapshotStore
    from camfind.analysis.work import rename_snapshots

    assert done.result is not None
    store = SnapshotStore(root, clip.sha256, done.clip_id, owner=owner)
    try:
        final = {blob.name: store.put(blob.name, blob.data) for blob in done.snapshots}
    except BaseException:
        store.discard()
        raise
    return store, rename_snapshots(done.result, final.__getitem__)


def _write(index: Index, run_id: int, clip_id: int, result: AnalysisResult, store: SnapshotStore) -> AnalysisCounts:
    """Snapshot files into place, then the rows in one transaction, then the previous run's files go.

    Until the commit the index still points at the previous run's files, which are untouched
    (new names never replace a file with other bytes). If anything fails before the commit,
    the files placed here are removed and the run is marked failed; the error is raised.

    Raises:
        CamfindError: the snapshot folder refused (nothing was placed; the caller fails the run).
    """
    from camfind.analysis.snapshots import remove_files

    previous = _snapshot_paths(index, clip_id)
    created: list[Path] = []
    try:
        created = store.place()
        counts = index.writer.write_analysis(run_id, clip_id, result)
    except BaseException as exc:
        if _committed(index, run_id):  # interrupted after the commit: the rows and their files stand
            raise
        remove_files(created)
        if not isinstance(exc, CamfindError):  # a CamfindError (folder refused) is failed by the caller
            _fail(index, run_id, clip_id, _reason(exc), None)
        raise
    try:
        gone = _unreferenced(index, previous - {s.path for s in result.snapshots})
    except sqlite3.Error as exc:  # the results are written; old files merely stay behind
        log.warning("clip %s: the previous analysis' snapshots were kept (%s)", clip_id, exc)
        return counts
    if gone:
        log.info("clip %s: removed %d snapshot(s) of its previous analysis", clip_id, remove_files(gone))
    return counts


def _snapshot_paths(index: Index, clip_id: int) -> set[str]:
    from camfind.index.queries import snapshot_paths

    return snapshot_paths(index, clip_id)


def _unreferenced(index: Index, paths: Iterable[str]) -> list[str]:
    """Of ``paths``, those no snapshot row of the index points at (any clip, any run)."""
    wanted = sorted(paths)
    if not wanted:
        return []
    from camfind.index.queries import referenced_snapshots

    used = referenced_snapshots(index, wanted)
    return [p for p in wanted if p not in used]


def _committed(index: Index, run_id: int) -> bool:
    """Whether the run's results are in the index (True when that cannot be told: keep the files)."""
    try:
        from camfind.index.queries import run_status

        status = run_status(index, run_id)
    except (sqlite3.Error, StorageError):
        return True
    return status in (None, "done")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "terminated" if isinstance(exc, Terminated) else "interrupted (Ctrl-C)"
    if isinstance(exc, CamfindError):
        return str(exc)
    if isinstance(exc, sqlite3.Error):
        return f"the index could not be written: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _fail(index: Index, run_id: int, clip_id: int, reason: str, previous_status: str | None) -> None:
    """Mark the run failed (and a clip never analysed before, unless ``previous_status`` is None).

    When the index cannot be written even for that (a full disk), the problem is logged; the
    next analysis of the clip marks the run failed (:func:`_fail_stale_runs`).
    """
    try:
        with index.transaction():
            index.writer.fail_run(run_id, reason)
            if previous_status is not None and previous_status != "analyzed":
                index.writer.set_clip_status(clip_id, "failed")
    except sqlite3.Error as exc:
        log.warning("could not mark analysis run %s of clip %s failed (%s): %s", run_id, clip_id, reason, exc)


def _summary(outcomes: list[ClipOutcome], seconds: float, workers: int, settings: AnalysisSettings) -> AnalysisSummary:
    ok = [o for o in outcomes if o.status == "done"]
    return AnalysisSummary(
        clips=tuple(outcomes), analyzed=len(ok), failed=len(outcomes) - len(ok),
        tracks=sum(o.tracks for o in ok), plate_reads=sum(o.plate_reads for o in ok),
        faces=sum(o.faces for o in ok), seconds=round(seconds, 2), workers=workers,
        settings=dataclasses.asdict(settings),
    )
