"""FFmpeg's own log lines (``[h264 @ 0x...] error while decoding MB ...``) routed to Python logging.

Two FFmpeg builds are loaded: PyAV's (probing) and OpenCV's (decoding for analysis). Left alone,
OpenCV's prints every decoder complaint straight to stderr, between camfind's own lines. Here both
go to the ``camfind.ffmpeg`` logger at DEBUG (shown with ``-v``-style logging, kept out of the
investigator's way), and the errors are counted (:func:`decoder_errors`) so that the stage that
decoded a clip can say once, as a warning, that its data is damaged and where the first error was.

PyAV has its own bridge (``av.logging.set_level``). OpenCV has none: its bundled ``libavutil`` is
given a log callback through ``ctypes`` (found in ``/proc/self/maps``, Linux); elsewhere OpenCV's
FFmpeg is silenced through its ``OPENCV_FFMPEG_LOGLEVEL`` setting and camfind's own warnings
(decoding stopped at frame N) remain.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

logger = logging.getLogger("camfind.ffmpeg")

#: FFmpeg's log levels (libavutil/log.h).
AV_LOG_QUIET, AV_LOG_ERROR, AV_LOG_WARNING = -8, 16, 24
_LINE = 1024

_lock = threading.Lock()
_state: dict[str, Any] = {"errors": 0, "pyav": False, "opencv": False}
_recent: deque[tuple[int, str]] = deque(maxlen=256)  # (error number, line) of the latest errors
_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def route_ffmpeg_logs() -> None:
    """Send both FFmpeg builds' log lines to the ``camfind.ffmpeg`` logger (idempotent)."""
    with _lock:
        if not _state["pyav"]:
            _state["pyav"] = _route_pyav()
        if not _state["opencv"]:
            _state["opencv"] = _route_opencv()


def decoder_errors(since: int = 0) -> tuple[int, str | None]:
    """How many FFmpeg error lines were logged in this process (after the first ``since``), and
    the first of those (None if it is no longer kept)."""
    count = int(_state["errors"])
    first = next((line for n, line in list(_recent) if n > since), None)
    return count, first


def _note(level: int, name: str, text: str) -> None:
    line = text.strip()
    if not line:
        return
    if level <= AV_LOG_ERROR:
        _state["errors"] += 1
        _recent.append((_state["errors"], line))
    logger.debug("%s: %s", name, line)


class _FromPyav(logging.Handler):
    """PyAV's ``libav.*`` records, re-emitted on ``camfind.ffmpeg`` (errors counted)."""

    def emit(self, record: logging.LogRecord) -> None:
        level = AV_LOG_ERROR if record.levelno >= logging.ERROR else AV_LOG_WARNING
        _note(level, record.name.removeprefix("libav."), record.getMessage())


def _route_pyav() -> bool:
    try:
        import av.logging
    except ImportError:
        return True
    bridge = logging.getLogger("libav")
    bridge.propagate = False
    bridge.setLevel(logging.DEBUG)
    bridge.addHandler(_FromPyav())
    av.logging.set_level(av.logging.WARNING)
    return True


def _route_opencv() -> bool:
    """Install a log callback in OpenCV's FFmpeg; silence it where that cannot be done."""
    path = _opencv_avutil()
    if path is None or "OPENCV_FFMPEG_LOGLEVEL" in os.environ or "OPENCV_FFMPEG_DEBUG" in os.environ:
        # read when OpenCV first opens FFmpeg; with either set, OpenCV installs its own callback
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", str(AV_LOG_QUIET))
        return True
    try:
        avutil = ctypes.CDLL(path)
        fmt_line = avutil.av_log_format_line2
        fmt_line.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        avutil.av_log_set_callback.argtypes = [ctypes.c_void_p]
        avutil.av_log_set_level.argtypes = [ctypes.c_int]
    except (OSError, AttributeError) as exc:
        logger.debug("OpenCV's FFmpeg log silenced: %s", exc)
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", str(AV_LOG_QUIET))
        return True

    def forward(ptr: int | None, level: int, fmt: int | None, args: int | None) -> None:
        if level > AV_LOG_WARNING or fmt is None:
            return
        buf = ctypes.create_string_buffer(_LINE)
        prefix = ctypes.c_int(1)
        fmt_line(ptr, level, fmt, args, buf, _LINE, ctypes.byref(prefix))
        _note(level, "opencv", buf.value.decode("utf-8", "replace"))

    callback = _CALLBACK(forward)
    _state["callback"] = callback  # FFmpeg holds a raw pointer: keep the function alive
    avutil.av_log_set_callback(ctypes.cast(callback, ctypes.c_void_p))
    atexit.register(_quiet, avutil)  # no call into Python from FFmpeg while the interpreter ends
    return True


def _quiet(avutil: Any) -> None:
    avutil.av_log_set_level(AV_LOG_QUIET)
    avutil.av_log_set_callback(ctypes.cast(avutil.av_log_default_callback, ctypes.c_void_p))


def _opencv_avutil() -> str | None:
    """The ``libavutil`` OpenCV's module loaded (not PyAV's), from this process's memory map."""
    try:
        import cv2
    except ImportError:
        return None
    base = Path(cv2.__file__).resolve().parent.parent
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        name = line.rsplit(" ", 1)[-1]
        if "libavutil" in name and name.startswith(str(base)) and "/av.libs/" not in name:
            return name
    return None
