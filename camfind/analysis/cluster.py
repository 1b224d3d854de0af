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

A worker that dies mid-clip (killed, out of memory, its node lost) is restarted by Ray and the
clip retried (:data:`RETRIES` times), elsewhere if its node is gone; the clip's result is written
once, when an attempt returns. Ctrl-C (or any stop of the caller) kills the actors, which
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
#: Attempts after the first for a clip whose worker died; restarts of one actor.
RETRIES = 2
RESTARTS = 4
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
        remote = ray.remote(num_cpus=1, max_restarts=RESTARTS, max_task_retries=RETRIES)(Analyst)
        self._actors = [remote.remote(settings) for _ in range(self.workers)]
        log.info("analysing on Ray: %d worker(s), %d CPU(s) in the cluster", self.workers, cpus)

    def ready(self) -> list[WorkerInfo]:
        """Wait until every actor has loaded its models; where each runs."""
        infos: list[WorkerInfo] = self._ray.get([actor.where.remote() for actor in self._actors])
        return infos

    def run(self, jobs: Sequence[ClipJob]) -> Generator[AnalysisOutput, None, None]:
        """Analyse ``jobs`` on the actors; outputs as they finish.

        A clip whose every attempt failed (its workers died) gives an output with the reason.
        When the caller stops early (Ctrl-C, an error, closing the generator) the actors are
        killed at once (:meth:`close`); after the last output they stay for the next call.
        """
        ray = self._ray
        waiting = deque(jobs)
        flying: dict[Any, tuple[ClipJob, int]] = {}
        load = [0] * len(self._actors)
        try:
            while waiting or flying:
                while waiting and len(flying) < IN_FLIGHT_PER_WORKER * len(self._actors):
                    slot = min(range(len(load)), key=load.__getitem__)
                    job = waiting.popleft()
                    flying[self._actors[slot].analyze.remote(job)] = (job, slot)
                    load[slot] += 1
                ready, _ = ray.wait(list(flying), num_returns=1, timeout=WAIT_S)
                for ref in ready:
                    job, slot = flying.pop(ref)
                    load[slot] -= 1
                    yield self._get(ref, job)
        except BaseException:  # Ctrl-C, or the caller stopped: no actor goes on working
            self.close()
            raise

    def _get(self, ref: Any, job: ClipJob) -> AnalysisOutput:
        try:
            out: AnalysisOutput = self._ray.get(ref)
            return out
        except self._ray.exceptions.RayError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            log.warning("clip %s: the Ray worker failed (after %d retries): %s", job.clip_id, RETRIES, reason)
            return AnalysisOutput(job.clip_id, datetime.now(UTC), WorkerInfo("", 0),
                                  error=f"Ray worker failed after {RETRIES} retries: {reason}")

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
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"--ray: cannot {where}: {text}") from None
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
