"""Small real video clips for tests, written with PyAV (a moving bar; each seed differs)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

RAW = {".h264": "h264", ".264": "h264", ".h265": "hevc", ".265": "hevc", ".hevc": "hevc"}


def write_clip(
    path: Path,
    *,
    frames: int = 20,
    fps: int = 10,
    size: tuple[int, int] = (160, 120),
    seed: int = 0,
    codec: str | None = None,
    creation_time: str | None = None,
    movflags: str | None = None,
) -> Path:
    """Write a small clip; the container follows the suffix (raw .h264/.h265 streams included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    fmt = RAW.get(suffix)
    codec = codec or ("libx265" if fmt == "hevc" else "mpeg4" if suffix == ".avi" else "libx264")
    w, h = size
    options = {"movflags": movflags} if movflags else {}
    with av.open(str(path), "w", format=fmt, container_options=options) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if codec == "libx265":
            stream.options = {"x265-params": "log-level=none"}
        if creation_time:
            out.metadata["creation_time"] = creation_time
        for i in range(frames):
            img = np.full((h, w, 3), (seed * 37) % 200, np.uint8)
            x = (i * 7 + seed * 13) % (w - 16)
            img[:, x:x + 16] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def truncate(path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def corrupt_header(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[:64] = bytes((b * 7 + 13) % 256 for b in range(64))
    path.write_bytes(bytes(data))
    return path


def flip_byte(path: Path, offset: int | None = None) -> Path:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


CAMERAS_CSV = (
    "id,name,lat,lon,owner_type,owner_name,owner_contact,clock_offset_s,neighbors,street\n"
    "CAM01,Gate,10.7700,106.7000,public,Ward 5,0900000001,,CAM02,Le Loi\n"
    "CAM02,Shop,10.7710,106.7000,business,Pho 24,0900000002,,CAM03,\n"
    "CAM03,House,10.7720,106.7005,resident,Mr Nam,0900000003,,,\n"
)
