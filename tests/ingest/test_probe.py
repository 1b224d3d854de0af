"""Probing real clips written here: every container, and the broken files a DVR export contains."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from clipfactory import corrupt_header, truncate, write_clip

from camfind.errors import ClipError
from camfind.ingest.probe import hash_and_probe, probe


@pytest.mark.parametrize(
    ("name", "codec", "container"),
    [("a.mp4", "h264", "mov"), ("a.mkv", "h264", "matroska"), ("a.avi", "mpeg4", "avi"), ("a.mov", "h264", "mov"),
     ("a.ts", "h264", "mpegts"), ("a.h264", "h264", "h264"), ("a.h265", "hevc", "hevc")],
)
def test_probe_formats(tmp_path: Path, name: str, codec: str, container: str) -> None:
    path = write_clip(tmp_path / name, frames=20, fps=10, size=(160, 120))
    got = hash_and_probe(path)
    assert got.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert got.size_bytes == path.stat().st_size
    p = got.probe
    assert (p.frames, p.fps, p.width, p.height, p.codec, p.container) == (20, 10.0, 160, 120, codec, container)
    assert p.duration_s == pytest.approx(2.0, abs=0.01)
    assert p.warnings == (), "a whole clip is not flagged"


def test_creation_time_is_read(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "a.mp4", creation_time="2024-01-25T03:15:00Z")
    assert probe(path).creation_time == datetime(2024, 1, 25, 3, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "damage", "reason"),
    [
        ("t.mp4", truncate, "truncated"),
        ("t.mkv", truncate, "truncated"),
        ("t.avi", truncate, "truncated"),
        ("c.mp4", corrupt_header, "not a readable video"),
    ],
)
def test_broken_files_are_named_errors(tmp_path: Path, name: str, damage: object, reason: str) -> None:
    path = write_clip(tmp_path / name, frames=40)
    damage(path)  # type: ignore[operator]
    with pytest.raises(ClipError, match=reason) as err:
        hash_and_probe(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(("content", "reason"), [(b"", "empty file"), (b"hello, not a video\n" * 50, "not a readable")])
def test_empty_and_garbage(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(content)
    with pytest.raises(ClipError, match=reason):
        probe(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ClipError, match="cannot read"):
        probe(tmp_path / "gone.mp4")


@pytest.mark.parametrize("movflags", ["faststart", "frag_keyframe+empty_moov"])
def test_mp4_layouts(tmp_path: Path, movflags: str) -> None:
    path = write_clip(tmp_path / "a.mp4", frames=30, movflags=movflags)
    got = hash_and_probe(path)
    assert (got.probe.frames, got.probe.duration_s) == (30, pytest.approx(3.0))
    assert got.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_truncated_faststart_mp4(tmp_path: Path) -> None:
    path = truncate(write_clip(tmp_path / "a.mp4", frames=40, movflags="faststart"), 0.8)
    with pytest.raises(ClipError, match="truncated: 27 of 40 frames"):
        hash_and_probe(path)


@pytest.mark.parametrize(("name", "image"), [("photo.mp4", ".png"), ("photo.mkv", ".jpg"), ("photo.avi", ".jpg"),
                                              ("photo.mov", ".png")])
def test_still_image_renamed_as_video_is_not_a_clip(tmp_path: Path, name: str, image: str) -> None:
    frame = np.zeros((48, 64, 3), np.uint8)
    ok, data = cv2.imencode(image, frame)
    assert ok
    clip = tmp_path / name
    clip.write_bytes(data.tobytes())
    with pytest.raises(ClipError, match=r"not a video: it is a (PNG|JPEG) still image"):
        hash_and_probe(clip)


def _cut(path: Path, keep: int) -> Path:
    path.write_bytes(path.read_bytes()[:keep])
    return path


@pytest.mark.parametrize(
    ("name", "damage", "flag"),
    [("a.mkv", lambda p: _cut(p, int(p.stat().st_size * 0.95)), "declared 10.00 s, decoded 9.50 s: 0.50 s missing"),
     ("b.mkv", lambda p: _cut(p, int(p.stat().st_size * 0.91)), "s missing (cut short?)"),
     ("c.mp4", lambda p: _cut(p, p.stat().st_size - 1), "truncated: the moov box ends 1 bytes past the end"),
     ("d.avi", corrupt_header, "the AVI header is unreadable: read as a bare m4v stream")],
)
def test_damage_that_leaves_a_usable_clip_is_flagged(tmp_path: Path, name: str, damage: Any, flag: str) -> None:
    path = damage(write_clip(tmp_path / name, frames=100, fps=10, seed=1))
    got = hash_and_probe(path).probe
    assert len(got.warnings) == 1 and flag in got.warnings[0]
    assert got.fps == 10.0, "the frame rate is the stream's, never FFmpeg's 25 fps guess"
    assert got.duration_s == pytest.approx(got.frames / 10.0, abs=0.11)
