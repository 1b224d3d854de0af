"""Analysis on a Ray cluster (``camfind analyze --ray auto|ADDRESS``; the ``camfind[ray]`` extra).

The process that holds the index stays the only writer. Ray runs
:func:`camfind.analysis.work.analyze_job` in actors, one per CPU of the cluster (or
``--workers`` of them), each loading the models once; this module hands them
:class:`~camfind.analysis.work.ClipJob`\\ s, at most :data:`IN_FLIGHT_PER_WORKER` per actor at a
time (so the outputs waiting in the cluster and in this process stay bounded whatever the
number of clips), and yields their :class:`~camfind.analysis.work.AnalysisOutput`\\ s as they
come; :mod:`camfind.analysis.run` writes each one.

Clips are read by the workers at their registered path: every node sees the evidence folder
at the same path (a shared mount), and each worker checks the file's SHA-256 against the
registration before analysing it (a mismatch fails that clip). Snapshots come back as bytes
and are written by this process, so the snapshot folder need not be shared. Weights files given
with ``--weights`` must be at the same path on every node, and every node runs the same camfind
version (a worker refuses a job from another version).

A worker that dies mid-clip (killed, out of memory, its node lost) is restarted by Ray, and the
clip is sent again (:data:`RETRIES` times) to a worker known to be alive, so a lost node whose
worker cannot be placed again holds up nothing; the clip's result is written once, when an
attempt returns. Ctrl-C (or any stop of the caller) kills the actors, which
abandons their clips; the index keeps what was written before.

Example:
    >>> cluster = RayAnalysis("auto", settings=AnalysisSettings())  # doctest: +SKIP
    >>> for output in cluster.run(jobs):  # doctest: +SKIP
    ...     print(output.clip_id, output.worker.node[:8], output.error or "ok")
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections import deque
from collections.abc import Generator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.work import AnalysisOutput, ClipJob, WorkerInfo, analyze_job
from camfind.errors import InputError

log = logging.getLogger(__name__)

#: Clips sent to one actor before its earlier ones came back (one running, one queued).
IN_FLIGHT_PER_WORKER = 2
#: Attempts after the first for a clip whose worker died; restarts of one actor (by Ray).
RETRIES = 2
RESTARTS = 4
#: With clips waiting and no worker alive this long, the waiting clips fail.
STALL_S = 300.0
#: How long one wait for outputs lasts (Ctrl-C is seen between waits).
WAIT_S = 0.5
#: How long the cluster's address may take to answer before --ray gives up.
PROBE_S = 5.0
NEEDS_EXTRA = "--ray needs Ray, which is not installed: install camfind's ray extra (pip install 'camfind[ray]')"


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        InputError: Ray is not installed (one line naming the extra).
    """
    try:
        import ray
    except ImportError:
        raise InputError(NEEDS_EXTRA) from None
    return ray


class Analyst:
    """A Ray actor's state: the models, loaded once, and where it runs."""

    def __init__(self, settings: AnalysisSettings) -> None:
        import cv2
        import ray

        from camfind.analysis.models import get_models

        cv2.setNumThreads(1)  # one actor per CPU
        get_models(settings)
        self.node = str(ray.get_runtime_context().get_node_id())

    def analyze(self, job: ClipJob) -> AnalysisOutput:
        out = analyze_job(job)
        return replace(out, worker=replace(out.worker, node=self.node))

    def where(self) -> WorkerInfo:
        return WorkerInfo.here(self.node)


class RayAnalysis:
    """Ray actors analysing clips for this process (see the module's description).

    Args:
        address: ``"auto"``: start a Ray runtime on this machine (no dashboard; ``workers`` CPUs,
            else all of them); else the address of a running cluster (``ray start --head``
            prints it: ``HOST:6379``). A connection this process already made (``ray.init``)
            is used as it is, and kept.
        settings: The analysis settings (the actors load their models).
        workers: Actors (None: one per CPU of the cluster); at most the cluster's CPUs.

    Raises:
        InputError: Ray is not installed, or the cluster cannot be joined.
    """

    def __init__(self, address: str, *, settings: AnalysisSettings, workers: int | None = None) -> None:
        self._ray = ray = import_ray()
        self._owned = not ray.is_initialized()
        if self._owned:
            _connect(ray, address, workers)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.workers = cpus if workers is None else max(1, min(workers, cpus))
        remote = ray.remote(num_cpus=1, max_restarts=RESTARTS, max_task_retries=0)(Analyst)  # retried here
        self._actors = [remote.remote(settings) for _ in range(self.workers)]
        log.info("analysing on Ray: %d worker(s), %d CPU(s) in the cluster", self.workers, cpus)

    def ready(self) -> list[WorkerInfo]:
        """Wait until every actor has loaded its models; where each runs."""
        infos: list[WorkerInfo] = self._ray.get([actor.where.remote() for actor in self._actors])
        return infos

    def run(self, jobs: Sequence[ClipJob]) -> Generator[AnalysisOutput, None, None]:
        """Analyse ``jobs`` on the actors; outputs as they finish.

        A clip whose worker died is sent again to a worker known to be alive (at most
        :data:`RETRIES` times; then its output carries the reason). A dead actor is restarted
        by Ray and gets work again once it answers. When the caller stops early (Ctrl-C, an
        error, closing the generator) the actors are killed at once (:meth:`close`); after the
        last output they stay for the next call.
        """
        state = _Dispatch(self._ray, self._actors, jobs)
        try:
            while state.waiting or state.flying:
                state.dispatch()
                yield from state.collect()
        except BaseException:  # Ctrl-C, or the caller stopped: no actor goes on working
            self.close()
            raise

    def close(self) -> None:
        """Kill the actors (their clips are abandoned); leave Ray if this object joined it."""
        ray = self._ray
        for actor in self._actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception as exc:  # already gone
                log.debug("Ray actor not killed: %s", exc)
        self._actors = []
        if self._owned and ray.is_initialized():
            ray.shutdown()
            self._owned = False


class _Dispatch:
    """One :meth:`RayAnalysis.run`'s bookkeeping: clips waiting, clips on each actor, actors alive.

    An actor whose clip failed because the actor died is set aside and asked where it runs (a
    probe, answered once Ray restarted it); until then it gets no clip, so that a worker whose
    node is gone for good (a restart that cannot be placed) holds up no clip.
    """

    def __init__(self, ray: Any, actors: list[Any], jobs: Sequence[ClipJob]) -> None:
        self.ray, self.actors = ray, actors
        self.waiting: deque[ClipJob] = deque(jobs)
        self.flying: dict[Any, tuple[ClipJob, int]] = {}
        self.probes: dict[Any, int] = {}
        self.load = [0] * len(actors)
        self.alive = set(range(len(actors)))
        self.tries: dict[int, int] = {}
        self.stalled: float | None = None

    def dispatch(self) -> None:
        while self.waiting:
            free = [i for i in self.alive if self.load[i] < IN_FLIGHT_PER_WORKER]
            if not free:
                return
            slot = min(free, key=self.load.__getitem__)
            job = self.waiting.popleft()
            self.flying[self.actors[slot].analyze.remote(job)] = (job, slot)
            self.load[slot] += 1

    def collect(self) -> Generator[AnalysisOutput, None, None]:
        ready, _ = self.ray.wait([*self.flying, *self.probes], num_returns=1, timeout=WAIT_S)
        for ref in ready:
            if ref in self.probes:
                self._probed(ref)
                continue
            job, slot = self.flying.pop(ref)
            self.load[slot] -= 1
            out = self._get(ref, job, slot)
            if out is not None:
                yield out
        yield from self._stall()

    def _probed(self, ref: Any) -> None:
        slot = self.probes.pop(ref)
        try:
            self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:  # restarts used up: it stays aside
            log.warning("a Ray worker is gone for good: %s", _first_line(exc))
            return
        self.alive.add(slot)

    def _get(self, ref: Any, job: ClipJob, slot: int) -> AnalysisOutput | None:
        """The clip's output; None when it was sent again (its worker died)."""
        errors = self.ray.exceptions
        try:
            out: AnalysisOutput = self.ray.get(ref)
            return out
        except errors.RayTaskError as exc:  # the worker raised (not a bad clip: analyze_job reports those)
            reason = f"the Ray worker failed: {_first_line(exc)}"
        except errors.RayError as exc:  # the worker process or its node died
            self._aside(slot)
            tries = self.tries[job.clip_id] = self.tries.get(job.clip_id, 0) + 1
            if tries <= RETRIES:
                log.warning("clip %s: its Ray worker died (%s); analysing it again (try %d of %d)",
                            job.clip_id, _first_line(exc), tries + 1, RETRIES + 1)
                self.waiting.appendleft(job)
                return None
            reason = f"its Ray worker died {tries} times: {_first_line(exc)}"
        log.warning("clip %s: %s", job.clip_id, reason)
        return AnalysisOutput(job.clip_id, datetime.now(UTC), WorkerInfo("", 0), error=reason)

    def _aside(self, slot: int) -> None:
        if slot in self.alive:
            self.alive.discard(slot)
            self.probes[self.actors[slot].where.remote()] = slot

    def _stall(self) -> Generator[AnalysisOutput, None, None]:
        """Fail the waiting clips when no worker has been alive for :data:`STALL_S`."""
        if not self.waiting or self.alive or self.flying:
            self.stalled = None
            return
        self.stalled = self.stalled or time.perf_counter()
        if time.perf_counter() - self.stalled < STALL_S:
            return
        reason = f"no Ray worker alive for {STALL_S:.0f} s (nodes lost?)"
        while self.waiting:
            job = self.waiting.popleft()
            yield AnalysisOutput(job.clip_id, datetime.now(UTC), WorkerInfo("", 0), error=reason)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connect(ray: Any, address: str, workers: int | None) -> None:
    """Start a local Ray runtime (``auto``) or join the cluster at ``address``.

    Raises:
        InputError: the cluster cannot be joined.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR,
                             "runtime_env": _runtime_env()}
    started = time.perf_counter()
    try:
        if address == "auto":
            cpus = workers or os.cpu_count() or 1
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
        else:
            _reachable(address)
            ray.init(address=address, **quiet)
    except InputError:
        raise
    except Exception as exc:  # ConnectionError, ValueError (a bad address), RuntimeError
        where = "start a local Ray runtime" if address == "auto" else f"join the Ray cluster at {address}"
        raise InputError(f"--ray: cannot {where}: {_first_line(exc)}") from None
    log.info("Ray ready in %.1f s (%s)", time.perf_counter() - started, address)


def _reachable(address: str, timeout_s: float = PROBE_S) -> None:
    """Refuse at once a ``HOST:PORT`` nothing listens at (Ray itself retries for minutes).

    Raises:
        InputError: the address is not ``HOST:PORT`` or cannot be reached.
    """
    if "://" in address:  # ray://HOST:PORT (Ray Client) and the like: left to Ray
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(f"--ray: expected auto or HOST:PORT (ray start --head prints it), got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise InputError(f"--ray: no Ray cluster answers at {address}: {exc.strerror or exc} "
                         "(start one with ray start --head, or use --ray auto)") from None


def _runtime_env() -> dict[str, Any]:
    """Workers import the camfind this process runs (a source checkout too), with its search path."""
    here = str(Path(__file__).resolve().parents[2])
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    own = [p for p in sys.path if p and p != here and os.path.isdir(p)
           and not any(p.startswith(x) for x in prefixes) and "-packages" not in p]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join([here, *own])}}
