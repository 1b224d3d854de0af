"""Overlap the pipeline's stages on the cores: decoding ahead, enrichment behind, in threads.

OpenCV (decode, DNN), onnxruntime (OCR) and dlib (faces) release the GIL while they work, so
three threads keep two cores busy: one decodes and motion-gates frames ahead of the detector,
the main one detects and tracks, one runs colour/plates/faces on closed track fragments. Both
hand-overs are bounded queues, so memory stays bounded however long the clip is.

Example:
    >>> list(prefetch(iter(range(5)), depth=2))
    [0, 1, 2, 3, 4]
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_END = object()


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
    """Runs jobs in one background thread, in order, with at most ``max_pending`` queued."""

    def __init__(self, max_pending: int = 8) -> None:
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="camfind-enrich")
        self._jobs: deque[tuple[int, Future[R]]] = deque()
        self._done: list[tuple[int, R]] = []

    def submit(self, key: int, fn: Callable[..., R], *args: object) -> None:
        """Queue ``fn(*args)``; waits for the oldest job when too many are queued."""
        while len(self._jobs) >= self.max_pending:
            self._collect_one()
        self._jobs.append((key, self._pool.submit(fn, *args)))

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
        self._pool.shutdown(wait=True)
