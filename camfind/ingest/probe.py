"""Probe a clip with PyAV (FFmpeg inside the wheel, no ffmpeg binary needed).

Probing demuxes every packet of the video stream (no decoding, except the first frame, which
proves the stream decodes): that counts frames exactly, measures the true duration and notices a
file cut short. :func:`hash_and_probe` does it through a :class:`~camfind.evidence.HashingReader`
so the SHA-256 comes from the same read of the file. A complete MP4/MOV needs no packet pass:
its index (moov) holds the exact frame count and duration, and a walk of its top-level boxes
shows whether the file is whole, so it is probed from the index while a thread hashes it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from camfind.errors import ClipError
from camfind.evidence import HashingReader, open_readonly, sha256_file
from camfind.ffmpeglog import route_ffmpeg_logs
from camfind.types import Probe

logger = logging.getLogger(__name__)

BUFFER = 1 << 20
_DECODE_TRIES = 64  # packets to try before deciding the stream does not decode
# Raw elementary streams: no container to name the format, so tell FFmpeg.
RAW_FORMATS = {".h264": "h264", ".264": "h264", ".h265": "hevc", ".265": "hevc", ".hevc": "hevc"}
#: FFmpeg's demuxers of bare elementary streams (no container timestamps): the raw formats, and
#: what FFmpeg falls back to when a container's header is damaged.
RAW_DEMUXERS = frozenset({*RAW_FORMATS.values(), "m4v", "mpegvideo", "h263", "cavsvideo", "vc1", "vvc", "avs2"})


@dataclass(frozen=True)
class HashedProbe:
    """A file's SHA-256, size and probe, from one read."""

    sha256: str
    size_bytes: int
    probe: Probe


def probe(path: str | Path) -> Probe:
    """Probe a clip (read-only). Raises ClipError if it is empty, corrupt, truncated or not video.

    What does not add up in a clip that can still be used (lengths that disagree, a damaged
    header, an assumed frame rate) is in :attr:`Probe.warnings`.
    """
    p = Path(path)
    _check_size(p)
    with open_readonly(p) as raw:
        info = _probe_source(raw, p)
    return _with_box_warning(info, p)


def _with_box_warning(info: Probe, p: Path) -> Probe:
    """An MP4/MOV that FFmpeg reads though its box structure is cut short is flagged, not passed."""
    if p.suffix.lower() not in MP4_SUFFIXES:
        return info
    _kinds, problem = _boxes(p)
    if problem is None:
        return info
    return replace(info, warnings=(*info.warnings, problem.replace(";", ",")))


def hash_and_probe(path: str | Path, on_bytes: Any = None) -> HashedProbe:
    """SHA-256, size and probe of a clip in one read pass (read-only).

    A complete MP4/MOV is probed from its index while it is hashed; any other file is demuxed
    packet by packet through a hashing reader, so the hash comes from the same read.

    Args:
        path: the clip.
        on_bytes: optional ``callable(n)`` told of each block of newly hashed bytes.

    Raises:
        ClipError: empty, corrupt, truncated, unreadable, no video stream, or changed while read.
    """
    route_ffmpeg_logs()
    p = Path(path)
    before = _check_size(p)
    try:
        if p.suffix.lower() in MP4_SUFFIXES:
            scanned = _hash_beside_probe(p, on_bytes)
        else:
            with open_readonly(p) as raw:
                reader = HashingReader(raw, on_bytes=on_bytes)
                info = _probe_source(reader, p)
                scanned = HashedProbe(reader.finish(), reader.size, _with_box_warning(info, p))
        after = _check_size(p)
    except OSError as exc:
        raise ClipError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if after != before or scanned.size_bytes != before[0]:
        raise ClipError(f"{p}: the file changed while it was read (still being copied or recorded?): "
                        "ingest it again once it is complete")
    return scanned


def _hash_beside_probe(p: Path, on_bytes: Any) -> HashedProbe:
    """MP4/MOV: hash in a thread (OpenSSL and reads release the GIL) while the index is probed.

    A complete MP4 is probed from its index (:func:`_probe_indexed`), so the file is read once,
    by the hash; one without a usable index (fragmented, or broken) is demuxed in full.
    """
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="camfind-hash") as pool:
        hashed = pool.submit(sha256_file, p, on_bytes, stop)
        try:
            info = _probe_indexed(p) or probe(p)
            digest, size = hashed.result()
        except BaseException:  # a broken clip or Ctrl-C: stop reading the rest of the file
            stop.set()
            raise
    return HashedProbe(digest, size, info)


def _check_size(p: Path) -> tuple[int, int]:
    """``(size, mtime_ns)`` of a non-empty file (compared after reading: did it change meanwhile?)."""
    try:
        stat = p.stat()
    except OSError as exc:
        raise ClipError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if stat.st_size == 0:
        raise ClipError(f"{p}: empty file (0 bytes)")
    return stat.st_size, stat.st_mtime_ns


def _probe_source(source: Any, p: Path) -> Probe:
    fmt = RAW_FORMATS.get(p.suffix.lower())
    try:
        container = av.open(source, mode="r", format=fmt, buffer_size=BUFFER)
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        hint = _mp4_hint(p)
        if hint:
            raise ClipError(f"{p}: {hint}") from None
        raise ClipError(f"{p}: not a readable video (corrupt, truncated or unsupported: {_why(exc)})") from None
    try:
        _refuse_still_image(container, p)
        return _probe_container(container, p)
    finally:
        container.close()


#: FFmpeg's demuxers for still images: a photo renamed .mp4 is not a one-frame clip.
_IMAGE_DEMUXERS = frozenset({"image2", "gif", "apng", "webp", "ico"})


def _refuse_still_image(container: Any, p: Path) -> None:
    """Refuse a still image (PNG, JPEG, ...) given a video file's name."""
    name = str(container.format.name).split(",")[0]
    if name.endswith("_pipe") or name in _IMAGE_DEMUXERS:
        kind = name.removesuffix("_pipe").upper()
        raise ClipError(f"{p}: not a video: it is a {kind} still image (renamed {p.suffix}?)")


def _why(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return str(exc.strerror)
    return str(exc).strip() or type(exc).__name__


MP4_SUFFIXES = (".mp4", ".mov", ".m4v")


def _mp4_hint(p: Path) -> str | None:
    """Why an MP4/MOV does not open, from its top-level boxes: cut short, or never finalised."""
    if p.suffix.lower() not in MP4_SUFFIXES:
        return None
    kinds, problem = _boxes(p)
    if problem and problem.startswith("truncated"):
        return problem
    if not problem and b"ftyp" in kinds and b"moov" not in kinds:
        return "truncated or never finalised: no moov index (the recording was cut off)"
    return None


def _boxes(p: Path) -> tuple[set[bytes], str | None]:
    """Top-level MP4 box types, and what is wrong with the box structure (None if complete)."""
    size, pos = p.stat().st_size, 0
    kinds: set[bytes] = set()
    with open_readonly(p) as f:
        while pos + 8 <= size:
            f.seek(pos)
            head = f.read(16)
            box, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if not kind.isalnum() and kind != b"free":
                return kinds, "not an MP4 box structure"
            if box == 1 and len(head) >= 16:
                box = int.from_bytes(head[8:16], "big")
            elif box == 0:
                box = size - pos
            if box < 8:
                return kinds, "not an MP4 box structure"
            kinds.add(kind)
            if pos + box > size:
                past = pos + box - size
                return kinds, f"truncated: the {kind.decode()} box ends {past} bytes past the end of the file"
            pos += box
    return kinds, None


def _probe_indexed(p: Path) -> Probe | None:
    """Probe a complete, non-fragmented MP4/MOV from its index (moov) alone, or None if it is not one.

    Its sample tables give the exact frame count and duration, and the box walk has shown every
    box (the media data included) is whole, so the packets need not be read: the file is read
    once, by the hash.
    """
    kinds, problem = _boxes(p)
    if problem or b"moov" not in kinds or b"mdat" not in kinds or b"moof" in kinds:
        return None
    with open_readonly(p) as raw:  # not av.open(path): PyAV's own open would update the access time
        try:
            container = av.open(raw, mode="r", buffer_size=BUFFER)
        except (av.error.FFmpegError, ValueError, OSError):
            return None
        return _indexed_probe(container, p)


def _indexed_probe(container: Any, p: Path) -> Probe | None:
    """The probe of an opened MP4/MOV from its index and its first decodable frame (closes it)."""
    try:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        if not stream.frames or not stream.duration or not stream.time_base:
            return None
        ctx = stream.codec_context
        ctx.thread_count = 1
        scan = _Scan(stream.time_base)
        for packet in container.demux(stream):
            if packet.size:
                scan.add(packet, ctx)
            if scan.decoded or scan.tries >= _DECODE_TRIES:
                break
        if not scan.decoded:
            scan.flush(ctx)
        if not scan.decoded:
            raise ClipError(f"{p}: the video stream does not decode (corrupt or unsupported {ctx.name})")
        return Probe(
            duration_s=round(float(stream.duration * stream.time_base), 6),
            fps=round(_fps(stream, scan, False, []), 6),
            frames=int(stream.frames),
            width=int(scan.width or ctx.width or 0),
            height=int(scan.height or ctx.height or 0),
            codec=str(ctx.name),
            container=str(container.format.name).split(",")[0],
            creation_time=_creation_time(container, stream),
        )
    except av.error.FFmpegError:
        return None
    finally:
        container.close()


def _probe_container(container: Any, p: Path) -> Probe:
    if not container.streams.video:
        raise ClipError(f"{p}: no video stream (is it an audio or data file?)")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    ctx.thread_count = 1
    scan = _Scan(stream.time_base)
    try:
        for packet in container.demux(stream):
            if packet.size:
                scan.add(packet, ctx)
    except av.error.FFmpegError as exc:
        raise ClipError(f"{p}: corrupt or truncated after {scan.frames} frames ({_why(exc)})") from None
    if scan.frames == 0:
        raise ClipError(f"{p}: no video frames (empty or truncated stream)")
    if not scan.decoded:
        scan.flush(ctx)
    if not scan.decoded:
        raise ClipError(f"{p}: the video stream does not decode (corrupt or unsupported {ctx.name})")
    fmt = str(container.format.name).split(",")[0]
    raw = fmt in RAW_DEMUXERS
    warnings: list[str] = []
    if raw and p.suffix.lower() not in RAW_FORMATS:
        warnings.append(f"the {p.suffix.lstrip('.').upper() or 'container'} header is unreadable: "
                        f"read as a bare {fmt} stream")
    fps = _fps(stream, scan, raw, warnings)
    # A raw stream has no timestamps (the demuxer invents them at 25 fps): count frames instead.
    duration = scan.frames / fps if raw and fps > 0 else scan.duration_s(fps)
    declared = None if raw else _declared_duration(container, stream, fps)
    _check_complete(p, stream, scan, duration, declared)
    warnings += _disagreements(scan, fps, duration, declared, raw)
    return Probe(
        duration_s=round(duration, 6),
        fps=round(fps, 6),
        frames=scan.frames,
        width=int(scan.width or ctx.width or 0),
        height=int(scan.height or ctx.height or 0),
        codec=str(ctx.name),
        container=fmt,
        creation_time=_creation_time(container, stream),
        warnings=tuple(warnings),
    )


def _disagreements(scan: _Scan, fps: float, duration: float, declared: float | None, raw: bool) -> list[str]:
    """Lengths that disagree by more than a frame or two: declared vs decoded, rate vs timestamps."""
    out: list[str] = []
    frame_s = 1.0 / fps if fps > 0 else 0.0
    if declared and abs(declared - duration) > max(1.5 * frame_s, 0.05):
        gap = declared - duration
        what = f"{gap:.2f} s missing (cut short?)" if gap > 0 else f"{-gap:.2f} s more than declared"
        out.append(f"declared {declared:.2f} s, decoded {duration:.2f} s: {what}")
    if not raw and fps > 0 and scan.frames > 1 and duration > 0:
        by_rate = scan.frames / fps
        if abs(by_rate - duration) > max(2.0 * frame_s, 0.02 * duration):
            out.append(f"the frame rate ({fps:g} fps) and the timestamps disagree: {scan.frames} frames "
                       f"span {duration:.2f} s")
    return out


class _Scan:
    """What demuxing the packets of one stream tells: count, time span, first decodable frame."""

    def __init__(self, time_base: Fraction | None) -> None:
        self.time_base = time_base
        self.frames = 0
        self.first_pts: int | None = None
        self.end_pts: int | None = None
        self.decoded = False
        self.tries = 0
        self.width = 0
        self.height = 0

    def add(self, packet: Any, ctx: Any) -> None:
        self.frames += 1
        pts = packet.pts if packet.pts is not None else packet.dts
        if pts is not None:
            end = pts + (packet.duration or 0)
            self.first_pts = pts if self.first_pts is None else min(self.first_pts, pts)
            self.end_pts = end if self.end_pts is None else max(self.end_pts, end)
        if not self.decoded and self.tries < _DECODE_TRIES:
            self.tries += 1
            # damaged leading packets (a DVR stream starting mid-GOP): keep trying
            with contextlib.suppress(av.error.FFmpegError):
                self._take(ctx.decode(packet))

    def flush(self, ctx: Any) -> None:
        with contextlib.suppress(av.error.FFmpegError):
            self._take(ctx.decode(None))

    def _take(self, frames: Any) -> None:
        for frame in frames:
            self.decoded = True
            self.width, self.height = frame.width, frame.height
            break

    def duration_s(self, fps: float) -> float:
        """Time span of the packets; never less than frames / fps (packets without a duration
        leave the last frame out of the span)."""
        span = 0.0
        if self.time_base and self.first_pts is not None and self.end_pts is not None:
            span = float((self.end_pts - self.first_pts) * self.time_base)
        return max(span, self.frames / fps if fps > 0 else 0.0)


def _fps(stream: Any, scan: _Scan, raw: bool, warnings: list[str]) -> float:
    """Frame rate: the container's; for a raw stream, the rate its SPS declares (FFmpeg's own
    guess, 25 fps, is taken only with a warning: the clip's times then rest on an assumption)."""
    if raw:
        declared = stream.codec_context.framerate
        if declared and 0 < float(declared) <= 1000:
            return float(declared)
        guess = stream.guessed_rate
        if guess and 0 < float(guess) <= 1000:
            warnings.append(f"the stream declares no frame rate: {float(guess):g} fps assumed, so its times may "
                            "be off (check them against the on-screen clock)")
            return float(guess)
    for rate in () if raw else (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < float(rate) <= 1000:
            return float(rate)
    if scan.time_base and scan.first_pts is not None and scan.end_pts is not None and scan.frames > 1:
        span = float((scan.end_pts - scan.first_pts) * scan.time_base)
        if span > 0:
            return scan.frames / span
    return 0.0


#: Containers whose header states the whole file's duration (FFmpeg only estimates it for the
#: others, from the bit rate of what is there: no declaration to hold the file to).
_DURATION_HEADERS = frozenset({"matroska", "mov"})


def _declared_duration(container: Any, stream: Any, fps: float) -> float | None:
    if str(container.format.name) == "avi":  # its header counts frames; FFmpeg estimates the duration
        return stream.frames / fps if stream.frames and fps > 0 else None
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and str(container.format.name).split(",")[0] in _DURATION_HEADERS:
        return float(container.duration) / av.time_base
    return None


def _check_complete(p: Path, stream: Any, scan: _Scan, duration: float, declared: float | None) -> None:
    """A file cut short: fewer packets than its index lists, or much less time than its header says."""
    if stream.frames and scan.frames < stream.frames:
        raise ClipError(f"{p}: truncated: {scan.frames} of {stream.frames} frames present")
    if declared and declared - duration > max(1.0, 0.1 * declared):
        raise ClipError(f"{p}: truncated: {duration:.1f} s of video, the header says {declared:.1f} s")


def _creation_time(container: Any, stream: Any) -> datetime | None:
    """Container creation time (UTC per the MP4/MKV specs), None when absent or a zero default."""
    for meta in (container.metadata, stream.metadata):
        text = meta.get("creation_time") or meta.get("date")
        if not text:
            continue
        try:
            value = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        except ValueError:
            logger.debug("ignoring unparsable creation_time %r", text)
            continue
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if value.year >= 1990:
            return value
    return None

