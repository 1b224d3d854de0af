"""The analysis worker: a :class:`ClipJob` of plain data in, an :class:`AnalysisOutput` out.

:func:`analyze_job` opens no index and writes nothing the index points at: the clip, its
camera, the camera's ground model and the settings come in the job; the tracks, detections,
plate reads, faces, clip statistics, on-screen clock and the snapshots (their JPEG bytes and
SHA-256) go back in the output. The same function runs in the analysing process, in a process
pool (``--workers``) and on a Ray worker (``--ray``); the process that holds the index alone
writes (:mod:`camfind.analysis.run`).

Before analysing, the worker hashes the clip file it reads: a file whose bytes are not the ones
registered fails that clip (an :class:`~camfind.errors.EvidenceError` in the output), so a
worker on another machine never analyses another file than the one the index holds.

Example:
    >>> job = ClipJob(clip, camera, AnalysisSettings())  # doctest: +SKIP
    >>> out = analyze_job(job)  # doctest: +SKIP
    >>> out.error or len(out.result.tracks), [s.sha256[:8] for s in out.snapshots]  # doctest: +SKIP
    (3, ['5f1c0a9e', ...])
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from camfind import __version__
from camfind.analysis.settings import AnalysisSettings
from camfind.errors import CamfindError, EvidenceError
from camfind.types import AnalysisResult, Camera, Clip, Snapshot

if TYPE_CHECKING:
    from camfind.analysis.osd import OsdOcr, OsdResult
    from camfind.analysis.pipeline import ClipStats
    from camfind.analysis.snapshots import SnapshotStore
    from camfind.calibration import GroundModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipJob:
    """Everything one clip's analysis needs, as data (picklable; no index, no open file).

    ``tz`` is the case time zone (the on-screen clock is read in it); ``camfind_version`` is the
    version of the process that made the job: a worker running another version refuses it.
    """

    clip: Clip
    camera: Camera
    settings: AnalysisSettings
    ground: GroundModel | None = None
    tz: str = "Asia/Ho_Chi_Minh"
    camfind_version: str = __version__

    def __post_init__(self) -> None:
        if self.clip.id is None:
            raise ValueError("expected a registered clip (with an id), got one without")

    @property
    def clip_id(self) -> int:
        return self.clip.id or 0


@dataclass(frozen=True)
class SnapshotBlob:
    """One snapshot's JPEG bytes under the file name the worker gave it (``<frame>_<kind>_<track>.jpg``)."""

    name: str
    sha256: str
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if "/" in self.name or os.sep in self.name or not self.name.endswith(".jpg"):
            raise ValueError(f"expected a bare .jpg file name, got {self.name!r}")
        if hashlib.sha256(self.data).hexdigest() != self.sha256:
            raise ValueError(f"snapshot {self.name}: its bytes do not have the SHA-256 given")


@dataclass(frozen=True)
class WorkerInfo:
    """Where a clip was analysed: host name, process id and the Ray node id ('' outside Ray)."""

    host: str
    pid: int
    node: str = ""

    @classmethod
    def here(cls, node: str = "") -> WorkerInfo:
        return cls(socket.gethostname(), os.getpid(), node)


@dataclass(frozen=True)
class AnalysisOutput:
    """One clip's analysis as data: what the writer needs, nothing it must look up on the worker.

    ``result``'s snapshots (and its tracks', plate reads' and faces') have paths that are bare
    names of entries of ``snapshots``; the writer gives them their final paths. A failed clip
    has ``error`` and no result.
    """

    clip_id: int
    started: datetime
    worker: WorkerInfo
    models: Mapping[str, str] = field(default_factory=dict)
    result: AnalysisResult | None = None
    stats: ClipStats | None = None
    osd: OsdResult | None = None
    snapshots: tuple[SnapshotBlob, ...] = ()
    error: str = ""
    #: Seconds the worker spent on this clip: wall clock, and CPU of its process (all threads).
    wall_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result is not None and self.stats is not None and not self.error


def analyze_job(
    job: ClipJob, *, progress: Callable[[float], None] | None = None, stop: threading.Event | None = None
) -> AnalysisOutput:
    """Analyse one clip; never raises for a bad clip (the output carries the reason).

    Models are loaded once per process (:func:`camfind.analysis.models.get_models` caches them).
    Snapshots are staged in a private temporary folder, read back into the output and removed.
    Several threads may analyse clips at once: their decoding and detection take turns, their
    enrichment shares one thread (:mod:`camfind.analysis.stages`).

    Raises:
        KeyboardInterrupt: Ctrl-C / SIGTERM while analysing (nothing is left on disk).
        Stopped: ``stop`` was set (nothing is left on disk).
    """
    from camfind.analysis.models import get_models
    from camfind.analysis.pipeline import analyze_clip
    from camfind.analysis.snapshots import WORKER_PREFIX, SnapshotStore

    started, here = datetime.now(UTC), WorkerInfo.here()
    wall, cpu = time.perf_counter(), time.process_time()
    models: dict[str, str] = {}
    _sweep_worker_folders()
    stage = tempfile.mkdtemp(prefix=f"{WORKER_PREFIX}{os.getpid()}-")
    try:
        check_job(job)
        loaded = get_models(job.settings)
        models = loaded.describe()
        store = SnapshotStore(stage, job.clip.sha256, job.clip_id)
        osd = _read_osd(job, loaded.osd) if job.settings.osd else None
        to_world = None if job.ground is None else job.ground.to_world
        result, stats = analyze_clip(job.clip, job.camera, models=loaded, settings=job.settings, store=store,
                                     to_world=to_world, progress=progress, stop=stop)
        result, blobs = _detach(result, store)
        return AnalysisOutput(job.clip_id, started, here, models, result, stats, osd, blobs,
                              wall_s=time.perf_counter() - wall, cpu_s=time.process_time() - cpu)
    except Exception as exc:
        if not isinstance(exc, CamfindError):
            log.error("clip %s: analysis failed:\n%s", job.clip_id, traceback.format_exc())
        reason = str(exc) if isinstance(exc, CamfindError) else f"{type(exc).__name__}: {exc}"
        return AnalysisOutput(job.clip_id, started, here, models, error=reason)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


_SWEPT = threading.Event()


def _sweep_worker_folders() -> None:
    """Once per process: remove the private folders of workers killed on this machine (their
    process gone, untouched for an hour); a folder of a live worker is left alone."""
    from camfind.analysis.snapshots import WORKER_PREFIX, sweep_staging

    if not _SWEPT.is_set():
        _SWEPT.set()
        sweep_staging(Path(tempfile.gettempdir()), prefix=WORKER_PREFIX)


def check_job(job: ClipJob) -> None:
    """Refuse a job this worker must not run: another camfind version, or a clip file whose bytes
    are not the registered ones (changed, truncated or another file at the path).

    Raises:
        EvidenceError: the file's SHA-256 differs from the registered one, or it cannot be read.
        CamfindError: the job was made by another camfind version.
    """
    from camfind.analysis.snapshots import sha256_file

    if job.camfind_version != __version__:
        raise CamfindError(f"this worker runs camfind {__version__}, the analysis was started with "
                           f"{job.camfind_version}: install the same version on every node")
    path = job.clip.path
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read the clip on {socket.gethostname()}: "
                            f"{exc.strerror or exc} (is the evidence folder mounted at the same path?)") from None
    if actual != job.clip.sha256:
        raise EvidenceError(f"{path}: the file's bytes changed since it was registered (SHA-256 {actual[:16]}..., "
                            f"registered {job.clip.sha256[:16]}...): not analysed; camfind verify checks the case")


def _read_osd(job: ClipJob, ocr: OsdOcr) -> OsdResult | None:
    from camfind.analysis.osd import read_clip_osd
    from camfind.ingest.starttime import camera_date_order

    clip = job.clip
    return read_clip_osd(clip.path, ocr=ocr, tz=job.tz, fps_override=clip.fps or None, start_raw=clip.start_raw,
                         date_order=camera_date_order(job.camera), start_s=clip.segment_start_s)


def _detach(result: AnalysisResult, store: SnapshotStore) -> tuple[AnalysisResult, tuple[SnapshotBlob, ...]]:
    """The result with snapshot paths cut to bare names, and those snapshots' bytes."""
    blobs: dict[str, SnapshotBlob] = {}

    def name(path: str) -> str:
        bare = Path(path).name
        if bare not in blobs:
            data = store.read_staged(path)
            blobs[bare] = SnapshotBlob(bare, hashlib.sha256(data).hexdigest(), data)
        return bare

    return rename_snapshots(result, name), tuple(blobs.values())


def rename_snapshots(result: AnalysisResult, rename: Callable[[str], str]) -> AnalysisResult:
    """``result`` with every snapshot path (the result's, its tracks', plate reads' and faces')
    replaced by ``rename(path)``."""

    def snap(s: Snapshot | None) -> Snapshot | None:
        return None if s is None else replace(s, path=rename(s.path))

    return AnalysisResult(
        tracks=[replace(t, snapshot=snap(t.snapshot)) for t in result.tracks],
        detections=list(result.detections),
        plate_reads=[replace(r, snapshot=snap(r.snapshot)) for r in result.plate_reads],
        faces=[replace(f, snapshot=snap(f.snapshot)) for f in result.faces],
        snapshots=[replace(s, path=rename(s.path)) for s in result.snapshots],
    )
