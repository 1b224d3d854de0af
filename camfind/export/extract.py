"""Lossless clip extracts: copy the compressed packets of a time segment into a new file.

No decoding and no re-encoding (PyAV stream copy): the extract starts at the keyframe at or
before the segment's start, so it plays on its own, and every packet in it is byte-identical to
the source's. Only the first video stream is copied (DVR exports carry no other evidence). The
source is opened read-only, with ``O_NOATIME`` where the system allows it, as ingest opens it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from camfind.errors import EvidenceError
from camfind.evidence import open_readonly

logger = logging.getLogger(__name__)

#: Containers an extract keeps (by source suffix); anything else is written as Matroska.
_KEEP = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi", ".ts": "mpegts"}
#: How far before the start a seek is tried again when it lands past the keyframe (seconds).
_SEEK_BACK_S = (0.0, 10.0, 60.0)


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
            start = origin + int(start_s / tb)
            _position(inp, vs, start)
            with av.open(str(dest), "w", format=fmt) as out:
                ostream = out.add_stream_from_template(vs)
                first, last, count = _copy(inp.demux(vs), out, ostream, start, origin + int(end_s / tb))
    except (av.FFmpegError, OSError, IndexError, ValueError) as exc:
        dest.unlink(missing_ok=True)
        raise EvidenceError(f"cannot extract {start_s:.1f}-{end_s:.1f} s from {source}: {exc}") from None
    if count == 0 or first is None or last is None:
        dest.unlink(missing_ok=True)
        raise EvidenceError(f"no video in {start_s:.1f}-{end_s:.1f} s of {source}")
    return Extract(dest, float((first - origin) * tb), float((last - origin) * tb), count)


def _position(inp: av.container.InputContainer, vs: av.video.stream.VideoStream, start: int) -> None:
    """Seek to (or before) the keyframe at or before ``start``. An MPEG-TS seek can land past that
    keyframe: then 10 s, then 60 s earlier; failing that (or with no index), rewind to the
    beginning. :func:`_copy` keeps the last keyframe at or before ``start`` from there."""
    origin = vs.start_time or 0
    tb = vs.time_base or Fraction(1, 90000)
    for back_s in _SEEK_BACK_S:
        target = max(start - int(back_s / tb), origin)
        try:
            inp.seek(target, stream=vs, backward=True, any_frame=False)
            key = next((p.pts for p in inp.demux(vs) if p.pts is not None and p.size and p.is_keyframe), None)
            if key is not None and key <= start:
                inp.seek(target, stream=vs, backward=True, any_frame=False)
                return
        except av.FFmpegError:
            break
        if target == origin:
            break
        logger.debug("seek to %d landed past the keyframe before %d (at %s): seeking earlier", target, start, key)
    inp.seek(0)


def _copy(
    packets: Iterator[av.Packet[Any]], out: av.container.OutputContainer, ostream: av.stream.Stream, start: int,
    end: int,
) -> tuple[int | None, int | None, int]:
    """Mux packets from the last keyframe at or before ``start`` (the first keyframe, if none is)
    until one starts past ``end``; timestamps are shifted so the extract starts at 0.
    Returns (first pts, last pts, packets).

    Packets from a keyframe are held until one is shown after ``start`` (until then a later
    keyframe may still come at or before it). Matroska stores no decode times: its packets
    (B-frame streams included) carry a presentation time only, which then decides where to stop.
    """
    held: list[tuple[int, av.Packet[Any]]] = []
    first: int | None = None
    last = count = 0
    for packet in packets:
        pts = packet.pts
        if pts is None or packet.size == 0:
            continue  # the demuxer's flush packet
        if first is None:
            if packet.is_keyframe and (pts <= start or not held):
                held = [(pts, packet)]
            elif held:
                held.append((pts, packet))
            if not held or pts <= start:
                continue
            first, last, count = _mux_held(held, out, ostream)
            continue
        if (pts if packet.dts is None else packet.dts) > end:
            break
        last, count = max(last, pts), count + 1
        _mux(packet, out, ostream, first)
    if first is None and held:  # the stream ended before passing the start: its last keyframe on
        first, last, count = _mux_held(held, out, ostream)
    return first, (last if count else None), count


def _mux_held(
    held: list[tuple[int, av.Packet[Any]]], out: av.container.OutputContainer, ostream: av.stream.Stream
) -> tuple[int, int, int]:
    """Mux the packets held from a keyframe on. Returns (first pts, last pts, packets)."""
    first = held[0][0]
    for _pts, packet in held:
        _mux(packet, out, ostream, first)
    return first, max(pts for pts, _ in held), len(held)


def _mux(packet: av.Packet[Any], out: av.container.OutputContainer, ostream: av.stream.Stream, first: int) -> None:
    if packet.pts is not None:
        packet.pts -= first
    if packet.dts is not None:
        packet.dts -= first
    packet.stream = ostream
    out.mux(packet)
