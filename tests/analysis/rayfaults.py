"""Faults injected into Ray workers by tests (Ray ``worker_process_setup_hook``\\ s).

The first worker to get a fifth of the way into a clip writes ``<pid> <clip id> <node id> <0|1>``
to the file named by ``CAMFIND_TEST_DIE_MARKER`` (1: its node's raylet is killed) and then, as
a killed worker would (no clean-up, no answer), :func:`die_once_mid_clip` dies,
:func:`lose_node_once_mid_clip` kills its node's raylet (the node is lost) and dies; every later
attempt runs normally.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

MARKER_VAR = "CAMFIND_TEST_DIE_MARKER"


def die_once_mid_clip() -> None:
    _install(lose_node=False)


def lose_node_once_mid_clip() -> None:
    _install(lose_node=True)


def _install(*, lose_node: bool) -> None:
    marker = os.environ.get(MARKER_VAR)
    if not marker:
        return
    from camfind.analysis import pipeline

    real = pipeline.analyze_clip

    def dying(clip: Any, *args: Any, **kwargs: Any) -> Any:
        def progress(fraction: float) -> None:
            if fraction < 0.2:
                return
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:  # a worker died already: this attempt goes on
                return
            import ray

            node = ray.get_runtime_context().get_node_id()
            lost = lose_node and b"raylet" in Path(f"/proc/{os.getppid()}/cmdline").read_bytes()
            os.write(fd, f"{os.getpid()} {clip.id} {node} {int(lost)}".encode())
            os.close(fd)
            if lost:
                os.kill(os.getppid(), signal.SIGKILL)
            os._exit(1)

        kwargs["progress"] = progress
        return real(clip, *args, **kwargs)

    pipeline.analyze_clip = dying  # type: ignore[assignment]
