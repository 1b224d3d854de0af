"""Faults injected into Ray workers by tests (a Ray ``worker_process_setup_hook``).

:func:`die_once_mid_clip`: the first worker to get a fifth of the way into a clip writes
``<pid> <clip id>`` to the file named by ``CAMFIND_TEST_DIE_MARKER`` and dies at once, as a
killed worker would (no clean-up, no answer); every later attempt runs normally.
"""

from __future__ import annotations

import os
from typing import Any

MARKER_VAR = "CAMFIND_TEST_DIE_MARKER"


def die_once_mid_clip() -> None:
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
            os.write(fd, f"{os.getpid()} {clip.id}".encode())
            os.close(fd)
            os._exit(1)

        kwargs["progress"] = progress
        return real(clip, *args, **kwargs)

    pipeline.analyze_clip = dying  # type: ignore[assignment]
