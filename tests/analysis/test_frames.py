"""Frame streaming: rates, offsets from the true fps, truncated and missing files."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from clipfactory import write_clip

from camfind.analysis.frames import Frame, container_fps, iter_frames
from camfind.errors import ClipError, NotFoundError


def _write_clip(path: Path, n: int = 40, fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for i in range(n):
        image = np.full((48, 64, 3), 40, np.uint8)
        cv2.putText(image, str(i), (5, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
        writer.write(image)
    writer.release()
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_clip(tmp_path_factory.mktemp("frames") / "clip.avi")


def test_every_frame_when_rate_is_none(clip: Path) -> None:
    frames = list(iter_frames(clip, rate_fps=None))
    assert [f.index for f in frames] == list(range(40))
    assert all(isinstance(f, Frame) and f.image.shape == (48, 64, 3) for f in frames)
    assert frames[10].offset_s == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(5.0, list(range(0, 40, 2))), (2.5, list(range(0, 40, 4))), (3.0, None), (50.0, list(range(40)))],
)
def test_rate_picks_evenly_spaced_frames(clip: Path, rate: float, expected: list[int] | None) -> None:
    indices = [f.index for f in iter_frames(clip, rate_fps=rate)]
    if expected is not None:
        assert indices == expected
    else:  # 10 fps -> 3 fps: steps of 3.33 frames, 12 frames over 4 s
        assert len(indices) == 12 and indices[:4] == [0, 4, 7, 10]


def test_fps_override_sets_offsets_and_rate(clip: Path) -> None:
    frames = list(iter_frames(clip, rate_fps=2.0, fps_override=4.0))
    assert [f.index for f in frames][:3] == [0, 2, 4]
    assert frames[1].offset_s == pytest.approx(0.5)
    assert container_fps(clip) == pytest.approx(10.0)


def test_truncated_clip_yields_what_decodes_and_warns(
    clip: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = clip.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        frames = list(iter_frames(cut, rate_fps=None))
    assert 5 < len(frames) < 40
    assert "stopped" in caplog.text or "failed" in caplog.text


def test_missing_and_garbage_files_raise_named_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such clip"):
        list(iter_frames(tmp_path / "nope.mp4", rate_fps=1.0))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(ClipError, match="junk.mp4"):
        list(iter_frames(junk, rate_fps=1.0))


def test_bad_rate_is_a_clip_error(clip: Path) -> None:
    with pytest.raises(ClipError, match="rate"):
        list(iter_frames(clip, rate_fps=0.0))


def test_a_file_name_that_is_not_utf8_is_decoded(tmp_path: Path) -> None:
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/cam\xe1ra.mp4"))  # OpenCV alone would crash on it
    write_clip(odd, frames=12)
    assert [f.index for f in iter_frames(odd, rate_fps=None)] == list(range(12))


def test_ffmpeg_log_lines_go_to_logging_not_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = write_clip(tmp_path / "damaged.mkv", frames=60, fps=10, seed=1, size=(320, 240))
    data = bytearray(path.read_bytes())
    for offset in range(len(data) // 3, len(data) // 3 + 400, 7):
        data[offset] ^= 0x55
    path.write_bytes(bytes(data))
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG, logger="camfind"):
        frames = list(iter_frames(path, rate_fps=None))
    assert 0 < len(frames) < 60
    leaked = capfd.readouterr().err
    assert "@ 0x" not in leaked and "NAL" not in leaked, leaked
    routed = [r.getMessage() for r in caplog.records if r.name == "camfind.ffmpeg"]
    assert routed and all("[h264 @" in m for m in routed if m.startswith("opencv"))
    (summary,) = [r for r in caplog.records if "the decoder reported" in r.getMessage()]
    assert summary.levelno == logging.WARNING and str(path) in summary.getMessage()
