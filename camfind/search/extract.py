"""Lossless clip extracts: copy the compressed packets of a time segment into a new file.

No decoding and no re-encoding (PyAV stream copy): the extract starts at the keyframe at or
before the segment's start, so it plays on its own, and every packet in it is byte-identical to
the source's. Only the first video stream is copied (DVR exports carry no other evidence). The
source is opened read-only, with ``O_NOATIME`` where the system allows it, as ingest opens it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from camfind.errors import EvidenceError
from camfind.ingest.hashing import open_readonly

logger = logging.getLogger(__name__)

#: Containers an extract keeps (by source suffix); anything else is written as Matroska.
_KEEP = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi", ".ts": "mpegts"}


@dataclass(frozen=True)
class Extract:
    """What a stream copy produced: the segment actually copied (from a keyframe), in seconds
    into the source."""

    path: Path
    start_s: float
    end_s: float
    packets: int


def extract_suffix(source: str | Path) -> str:
    """The file suffix an extract of ``source`` gets (``.mkv`` when the container is not kept)."""
    suffix = Path(source).suffix.lower()
    return suffix if suffix in _KEEP else ".mkv"


def extract_segment(source: str | Path, dest: Path, start_s: float, end_s: float) -> Extract:
    """Copy the packets covering ``[start_s, end_s]`` (seconds into ``source``) to ``dest``.

    Raises:
        EvidenceError: the source cannot be read, or has no video packet in the segment.
    """
    if end_s < start_s:
        raise EvidenceError(f"segment end {end_s} s is before its start {start_s} s")
    fmt = _KEEP.get(dest.suffix.lower(), "matroska")
    try:  # not av.open(path): PyAV's own open would update the evidence's access time
        with open_readonly(source) as raw, av.open(raw, mode="r") as inp:
            vs = inp.streams.video[0]
            tb = vs.time_base or Fraction(1, 90000)
            origin = vs.start_time or 0
            _seek(inp, vs, origin + int(start_s / tb))
            with av.open(str(dest), "w", format=fmt) as out:
                ostream = out.add_stream_from_template(vs)
                first, last, count = _copy(inp, vs, out, ostream, origin + int(end_s / tb))
    except (av.FFmpegError, OSError, IndexError, ValueError) as exc:
        dest.unlink(missing_ok=True)
        raise EvidenceError(f"cannot extract {start_s:.1f}-{end_s:.1f} s from {source}: {exc}") from None
    if count == 0 or first is None or last is None:
        dest.unlink(missing_ok=True)
        raise EvidenceError(f"no video in {start_s:.1f}-{end_s:.1f} s of {source}")
    return Extract(dest, float((first - origin) * tb), float((last - origin) * tb), count)


def _seek(inp: av.container.InputContainer, vs: av.video.stream.VideoStream, target: int) -> None:
    try:
        inp.seek(max(target, vs.start_time or 0), stream=vs, backward=True, any_frame=False)
    except av.FFmpegError:  # a container without an index: read from the start
        inp.seek(0)


def _copy(
    inp: av.container.InputContainer,
    vs: av.video.stream.VideoStream,
    out: av.container.OutputContainer,
    ostream: av.stream.Stream,
    end: int,
) -> tuple[int | None, int | None, int]:
    """Mux packets from the first keyframe on until one starts past ``end``; timestamps are
    shifted so the extract starts at 0. Returns (first pts, last pts, packets).

    Matroska stores no decode times: its packets (B-frame streams included) come with a
    presentation time only, which then decides where the copy stops.
    """
    first: int | None = None
    last: int | None = None
    count = 0
    for packet in inp.demux(vs):
        if packet.pts is None or packet.size == 0:
            continue  # the demuxer's flush packet
        if first is None:
            if not packet.is_keyframe:
                continue
            first = packet.pts
        if (packet.pts if packet.dts is None else packet.dts) > end and count:
            break
        last = packet.pts if last is None else max(last, packet.pts)
        packet.pts -= first
        if packet.dts is not None:
            packet.dts -= first
        packet.stream = ostream  # type: ignore[assignment]
        out.mux(packet)
        count += 1
    return first, last, count
