"""Stream decoded frames of a clip at an analysis rate, never loading the clip whole.

OpenCV's FFmpeg backend decodes here about 1.6x faster than PyAV (795 PETS frames 0.46 s vs
0.71 s; 1394 frames at 768x432 1.03 s vs 1.95 s), so frames come from ``cv2.VideoCapture``.
Frames the analysis rate skips are only ``grab()``-ed (decoded, not converted to BGR).

Example:
    >>> for frame in iter_frames("clip.mp4", rate_fps=4.0):  # doctest: +SKIP
    ...     print(frame.index, round(frame.offset_s, 2), frame.image.shape)
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camfind.errors import ClipError, NotFoundError
from camfind.ffmpeglog import decoder_errors, route_ffmpeg_logs
from camfind.pathtext import exact_bytes, shown

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its index in the clip, its offset in seconds (true fps) and BGR pixels."""

    index: int
    offset_s: float
    image: np.ndarray


def container_fps(path: str | os.PathLike[str]) -> float:
    """The frame rate a clip's header declares (0.0 when it declares none).

    Raises:
        NotFoundError: The file does not exist.
        ClipError: The file cannot be opened as video.
    """
    cap = _open(Path(path))
    try:
        return _header_fps(cap)
    finally:
        cap.release()


def iter_frames(
    path: str | os.PathLike[str],
    *,
    rate_fps: float | None,
    fps_override: float | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> Iterator[Frame]:
    """Yield frames of ``path`` at about ``rate_fps`` (``None``: every frame).

    Args:
        path: The clip (opened read-only; never written).
        rate_fps: Frames per second to yield, evenly spaced in frame index; ``None`` or a rate at
            or above the clip's yields every frame.
        fps_override: The clip's true frame rate where the header is wrong (PETS says 10, is 7).
            Offsets are ``index / true fps``.
        start_s, end_s: Only the frames in ``[start_s, end_s)`` seconds of the file (a segment of a
            recording that switches cameras); offsets are then from ``start_s``, indexes stay the
            file's.

    Yields:
        Frames in order. A decoding error mid-file ends the stream with a warning; frames decoded
        before it are still yielded.

    Raises:
        NotFoundError: The file does not exist.
        ClipError: It cannot be opened as video, or has no usable frame rate, or a bad rate.
    """
    if rate_fps is not None and not (rate_fps > 0 and math.isfinite(rate_fps)):
        raise ClipError(f"{path}: expected a positive analysis rate, got {rate_fps}")
    if fps_override is not None and not (fps_override > 0 and math.isfinite(fps_override)):
        raise ClipError(f"{path}: expected a positive frame rate override, got {fps_override}")
    cap = _open(Path(path))
    try:
        fps = fps_override or _header_fps(cap)
        if fps <= 0:
            raise ClipError(f"{path}: the clip declares no frame rate; give the true fps")
        expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        step = 1.0 if rate_fps is None or rate_fps >= fps else fps / rate_fps
        span = (start_s, end_s) if start_s > 0 or end_s is not None else None
        yield from _decode(cap, Path(path), fps=fps, step=step, expected=0 if span else expected, span=span)
    finally:
        cap.release()


def _open(path: Path) -> cv2.VideoCapture:
    route_ffmpeg_logs()  # FFmpeg's complaints go to logging, not straight to stderr
    if not path.is_file():
        raise NotFoundError(f"{path}: no such clip file")
    if not os.access(path, os.R_OK):
        raise ClipError(f"{path}: the clip is not readable")
    cap = _capture(path)
    if not cap.isOpened():
        cap.release()
        raise ClipError(f"{path}: cannot be opened as video (corrupt or unsupported)")
    return cap


def _capture(path: Path) -> cv2.VideoCapture:
    """``cv2.VideoCapture`` of ``path``; a name that is not UTF-8 (OpenCV crashes on one) is
    opened read-only and given to OpenCV as its ``/proc/self/fd`` link where the system has one."""
    if exact_bytes(path) is None:
        return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not Path("/proc/self/fd").is_dir():
        raise ClipError(f"{shown(path)}: a file name that is not UTF-8 cannot be decoded here: rename a copy")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:  # FFmpeg opens the link itself: a descriptor of its own, to the same file
        return cv2.VideoCapture(f"/proc/self/fd/{fd}", cv2.CAP_FFMPEG)
    finally:
        os.close(fd)


def _header_fps(cap: cv2.VideoCapture) -> float:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    return fps if math.isfinite(fps) and 0 < fps < 1000 else 0.0


def _decode(
    cap: cv2.VideoCapture, path: Path, *, fps: float, step: float, expected: int,
    span: tuple[float, float | None] | None = None,
) -> Iterator[Frame]:
    """Grab every frame, retrieve (convert) only those on the sampling grid."""
    errors_before = decoder_errors()[0]
    try:
        yield from _grab(cap, path, fps=fps, step=step, expected=expected, span=span or (0.0, None))
    finally:
        errors, first = decoder_errors(since=errors_before)
        if errors > errors_before:
            log.warning("%s: the decoder reported %d error%s (damaged data; the first: %s)", shown(path),
                        errors - errors_before, "" if errors - errors_before == 1 else "s", first)


def _grab(
    cap: cv2.VideoCapture, path: Path, *, fps: float, step: float, expected: int, span: tuple[float, float | None]
) -> Iterator[Frame]:
    start_s, end_s = span
    first = math.ceil(start_s * fps - 1e-6)  # the segment's first frame in the file
    last = None if end_s is None else math.ceil(end_s * fps - 1e-6)  # one past its last
    index = 0
    next_keep = float(first)
    while last is None or index < last:
        try:
            if not cap.grab():
                break
            if index + 1e-9 >= next_keep:
                ok, image = cap.retrieve()
                if not ok or image is None:
                    log.warning("%s: frame %d grabbed but not decodable; stopping", path, index)
                    return
                next_keep += step
                yield Frame(index=index, offset_s=(index - first) / fps, image=image)
        except cv2.error as exc:
            log.warning("%s: decoding failed at frame %d (%s); stopping", path, index, exc)
            return
        index += 1
    # The declared count is an estimate in some containers: warn only when clearly short.
    if expected > 0 and index < expected - max(2, expected // 100):
        log.warning(
            "%s: decoding stopped at frame %d of %d declared (truncated or corrupt)",
            path,
            index,
            expected,
        )
