"""Segments: one recording switching cameras, hashed once, each stretch a clip of its own."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clipfactory import write_clip

from camfind.analysis.frames import iter_frames
from camfind.custody import verify
from camfind.errors import InputError
from camfind.index import Index
from camfind.index.queries import list_clips
from camfind.ingest import ingest_paths
from camfind.ingest.segments import Segment, parse_segments
from camfind.types import Camera

AT_1015 = datetime(2024, 1, 25, 3, 15, tzinfo=UTC)


def test_parse_segments() -> None:
    text = "start_s,end_s,camera,start\n# the viewer's layout\n0,95.5,CAM01\n\n1:40,0:03:00.5,CAM02,2024-01-25 10:16\n"
    assert parse_segments(io.StringIO(text)) == [Segment(0.0, 95.5, "CAM01", None, 3),
                                                 Segment(100.0, 180.5, "CAM02", "2024-01-25 10:16", 5)]


@pytest.mark.parametrize(
    ("text", "message"),
    [("0,10,CAM01\n5,20,CAM02\n", "lines 1 and 2 overlap"), ("10,5,CAM01\n", r"ends \(5 s\) before it starts"),
     ("0,10\n", "expected start_s,end_s,camera"), ("0,1e3,CAM01\n", "end_s '1e3' is not a time"),
     ("0,1:75,CAM01\n", "is not a time"), ("", "no segments"), ("0,5,\n", "camera id")],
)
def test_bad_segments_are_named(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_segments(io.StringIO(text))


@pytest.fixture
def reg(index: Index) -> Index:
    index.writer.upsert_cameras([Camera("CAM01", 10.770, 106.700, clock_offset_s=65.0),
                                 Camera("CAM02", 10.771, 106.700)])
    return index


@pytest.fixture
def viewer(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "usb" / "ch01_20240125101500.mp4", frames=100, fps=10, seed=3)  # 10 s


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "segments.csv"
    path.write_text(text)
    return path


def test_each_segment_is_its_own_clip_of_the_one_file(reg: Index, viewer: Path, tmp_path: Path) -> None:
    plan = _csv(tmp_path, "0,4,CAM01\n4,7.5,CAM02\n7.5,10,CAM01,2024-01-25 10:20:00\n")
    s = ingest_paths(reg, [viewer], segments=plan)
    assert (s.ingested, s.failed) == (3, ())
    clips = sorted(list_clips(reg), key=lambda c: c.segment_start_s)
    sha = hashlib.sha256(viewer.read_bytes()).hexdigest()
    assert {c.sha256 for c in clips} == {sha} and {c.path for c in clips} == {str(viewer)}
    assert [(c.camera_id, c.segment_start_s, c.segment_end_s, c.duration_s, c.frames) for c in clips] == [
        ("CAM01", 0.0, 4.0, 4.0, 40), ("CAM02", 4.0, 7.5, 3.5, 35), ("CAM01", 7.5, 10.0, 2.5, 25)]
    assert [c.start_raw for c in clips] == [AT_1015, AT_1015 + timedelta(seconds=4), AT_1015 + timedelta(minutes=5)]
    assert [c.time_source for c in clips] == ["filename", "filename", "sidecar"]
    assert clips[0].start == AT_1015 - timedelta(seconds=65), "each segment takes its camera's clock offset"
    assert clips[1].start == AT_1015 + timedelta(seconds=4)
    again = ingest_paths(reg, [viewer], segments=plan)
    assert (again.ingested, again.known) == (0, 3)
    whole = ingest_paths(reg, [viewer.parent])
    assert (whole.ingested, whole.known, whole.failed) == (0, 1, ()), "the file is known: no whole clip added"
    typed = ingest_paths(reg, [viewer], camera="CAM02")
    assert "its camera is CAM02 (registered as CAM01)" in typed.failed[0].reason
    assert verify(reg).clean and verify(reg).checked == 3
    other = ingest_paths(reg, [viewer], segments=_csv(tmp_path, "0,10,CAM02\n"))
    assert "already registered in 3 other segments" in other.failed[0].reason
    assert len(list_clips(reg)) == 3


def test_a_file_registered_whole_is_not_segmented_again(reg: Index, viewer: Path, tmp_path: Path) -> None:
    ingest_paths(reg, [viewer], camera="CAM01")
    s = ingest_paths(reg, [viewer], segments=_csv(tmp_path, "0,4,CAM01\n4,10,CAM02\n"))
    assert s.ingested == 0 and "already registered whole (clip 1)" in s.failed[0].reason


def test_segments_are_checked_before_the_file_is_read(reg: Index, viewer: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="leave out --camera"):
        ingest_paths(reg, [viewer], camera="CAM01", segments=_csv(tmp_path, "0,4,CAM01\n"))
    with pytest.raises(InputError, match="splits one file, but 2"):
        ingest_paths(reg, [viewer, write_clip(tmp_path / "b.mp4")], segments=_csv(tmp_path, "0,4,CAM01\n"))
    past = ingest_paths(reg, [viewer], segments=_csv(tmp_path, "0,4,CAM01\n4,30,CAM02\n"))
    assert "lies past the end of the file (10.00 s)" in past.failed[0].reason
    assert list_clips(reg) == [], "all segments or none"


def test_a_segment_is_decoded_within_its_range(viewer: Path) -> None:
    frames = list(iter_frames(viewer, rate_fps=None, start_s=4.0, end_s=7.5))
    assert [f.index for f in frames] == list(range(40, 75))
    assert frames[0].offset_s == 0.0 and frames[-1].offset_s == pytest.approx(3.4)
    sampled = list(iter_frames(viewer, rate_fps=2.0, start_s=4.0, end_s=7.5))
    assert [f.index for f in sampled] == [40, 45, 50, 55, 60, 65, 70]
