"""Overlap the pipeline's stages on the cores: decoding ahead, enrichment behind, in threads.

OpenCV (decode, DNN), onnxruntime (OCR) and dlib (faces) release the GIL while they work, so
threads keep two cores busy: one decodes and motion-gates frames ahead of the detector, the
main one detects and tracks, :data:`ENRICH_THREADS` run colour/plates/faces on closed track
fragments and plate sweeps. Both hand-overs are bounded queues, so memory stays bounded however
long the clip is.

The enrichment threads are one pool per process (:func:`enrichment_pool`), whichever clip a job
is for: a clip whose fragments are still being enriched can be followed by the next clip's
decoding and detection (:func:`streaming`: one clip streams at a time). The face engine and the
snapshot stores take one caller at a time; onnxruntime's sessions (plates) run side by side. A
:class:`threading.Event` given as ``stop`` ends both at the next frame or job (:class:`Stopped`).

Example:
    >>> list(prefetch(iter(range(5)), depth=2))
    [0, 1, 2, 3, 4]
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_END = object()
_POOL_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
_STREAMING = threading.Lock()
#: Threads enriching fragments. Plate reading (the text detector and recogniser) is most of the
#: work and runs in whichever thread has it: with one thread, the detector waited on the
#: enrichment queue for much of a clip with many plates while a core stood idle.
ENRICH_THREADS = 2


#: glibc malloc arenas at most (its default is 8 per core): each thread that allocates (decode,
#: detect, enrich, the libraries' pools) otherwise gets its own, and freed frames and crops stay
#: resident in each. Measured on the Vietnamese clips (one ingest, with the OCR arena given back
#: after large passes): peak RSS 1.16 GB -> 0.98-1.06 GB over runs, the same CPU seconds.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (call before starting threads); False where the
    C library is not glibc (nothing changed)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))


#: Seconds between two hand-backs of the C heap's free memory to the system (None: never).
#: Frames, crops and the libraries' buffers are freed into glibc's heaps, which keep the pages
#: (``malloc_trim`` every 2 s gave back 20-160 MB each time). Peak RSS of one ingest of the
#: Vietnamese clips, runs alternated: never 1.13-1.15 GB, every 2 s 1.01-1.07, every 1 s
#: 0.95-1.03, every 0.5 s 0.93 (twice), CPU seconds within the runs' spread (89-97).
TRIM_EVERY_S: float | None = 0.5
_TRIM_LOCK = threading.Lock()
_last_trim = 0.0
_malloc_trim: Callable[[int], int] | None | bool = False  # False: not looked up yet


def _trim_function() -> Callable[[int], int] | None:
    global _malloc_trim
    if _malloc_trim is False:
        import ctypes
        import ctypes.util

        try:
            fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
            _malloc_trim = fn
        except (OSError, AttributeError):  # not glibc: nothing to give back this way
            _malloc_trim = None
    return _malloc_trim  # type: ignore[return-value]


def give_back_free_memory(now: float | None = None) -> bool:
    """Hand the C heap's free pages back to the system, at most once every :data:`TRIM_EVERY_S`
    seconds whichever thread calls (the others go on at once); True when it did."""
    global _last_trim
    every = TRIM_EVERY_S
    now = time.monotonic() if now is None else now
    if every is None or now - _last_trim < every or not _TRIM_LOCK.acquire(blocking=False):
        return False
    try:
        if now - _last_trim < every:
            return False
        _last_trim = now
        fn = _trim_function()
        if fn is None:
            return False
        fn(0)
        return True
    finally:
        _TRIM_LOCK.release()


class Stopped(BaseException):  # noqa: N818 - like KeyboardInterrupt: not an error, a stop
    """A clip's analysis was stopped from outside (its ``stop`` event was set)."""


def enrichment_pool() -> ThreadPoolExecutor:
    """The process's enrichment threads (jobs of every clip, started in the order submitted)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=ENRICH_THREADS, thread_name_prefix="camfind-enrich")
        return _POOL


@contextlib.contextmanager
def streaming(stop: threading.Event | None = None) -> Iterator[None]:
    """Hold the process's streaming turn (decode, detect, track: one clip at a time).

    Raises:
        Stopped: ``stop`` was set while waiting for the turn.
    """
    while not _STREAMING.acquire(timeout=0.05):
        if stop is not None and stop.is_set():
            raise Stopped
    try:
        yield
    finally:
        _STREAMING.release()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(source: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Yield ``source``'s items, produced ahead in a thread (at most ``depth`` waiting).

    An exception in the producer is raised here, in the consumer; a consumer that stops early
    stops the producer.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer
            put(_Failed(exc))

    worker = threading.Thread(target=produce, name="camfind-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


class Behind(Generic[R]):
    """Runs jobs in the enrichment threads (:func:`enrichment_pool`), with at most
    ``max_pending`` of its own queued; results come back in the order submitted.

    With ``stop``: a job starting after it was set raises :class:`Stopped` instead of running,
    and a job that raised a stop of its own (Ctrl-C, :class:`Stopped`) sets it, so the jobs of
    every clip sharing the event stop there.
    """

    def __init__(self, max_pending: int = 8, *, stop: threading.Event | None = None) -> None:
        self.max_pending = max_pending
        self.stop = stop
        self._pool = enrichment_pool()
        self._jobs: deque[tuple[int, Future[R]]] = deque()
        self._done: list[tuple[int, R]] = []

    def submit(self, key: int, fn: Callable[..., R], *args: object) -> None:
        """Queue ``fn(*args)``; waits for the oldest job when too many are queued."""
        while len(self._jobs) >= self.max_pending:
            self._collect_one()
        self._jobs.append((key, self._pool.submit(self._run, fn, *args)))

    def _run(self, fn: Callable[..., R], *args: object) -> R:
        stop = self.stop
        if stop is not None and stop.is_set():
            raise Stopped
        try:
            result = fn(*args)
        except Exception:
            raise
        except BaseException:
            if stop is not None:
                stop.set()
            raise
        give_back_free_memory()  # the job's crops and OCR buffers were just freed
        return result

    def _collect_one(self) -> None:
        key, job = self._jobs.popleft()
        self._done.append((key, job.result()))  # re-raises the job's exception

    def results(self) -> list[tuple[int, R]]:
        """Every job's (key, result), in submission order, once all have finished."""
        while self._jobs:
            self._collect_one()
        return list(self._done)

    def __enter__(self) -> Behind[R]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for _key, job in self._jobs:
            job.cancel()
        wait([job for _key, job in self._jobs])  # none still runs: they use the clip's snapshot store
        self._jobs.clear()
