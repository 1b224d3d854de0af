"""Registration: rules applied, rows written, sources untouched, re-runs idempotent."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clipfactory import flip_byte, truncate, write_clip

from camfind.custody import verify
from camfind.errors import InputError, NotFoundError
from camfind.index import Index
from camfind.index.queries import clip_copies, list_clips
from camfind.ingest import ingest_paths, pending_analysis
from camfind.types import Camera

AT_1015 = datetime(2024, 1, 25, 3, 15, tzinfo=UTC)


@pytest.fixture
def reg(index: Index) -> Index:
    index.writer.upsert_cameras([
        Camera("CAM01", 10.770, 106.700, clock_offset_s=65.0),
        Camera("CAM02", 10.771, 106.700),
    ])
    return index


@pytest.fixture
def export(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    write_clip(root / "CAM01" / "ch01_20240125101500.mp4", seed=1)
    write_clip(root / "CAM01" / "ch01_20240125102000.mkv", seed=2)
    write_clip(root / "CAM02_20240125_101500.ts", seed=3)
    write_clip(root / "CAM02" / "clip.mp4", seed=4, creation_time="2024-01-25T03:30:00Z")
    (root / "CAM01" / "notes.docx").write_bytes(b"PK\x03\x04 not a video")
    (root / "CAM01" / "ch01_20240125101500.mp4.md5").write_text("abc")
    return root


def _state(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_folder_ingest_applies_rules(reg: Index, export: Path) -> None:
    before = _state(export)
    s = ingest_paths(reg, [export])
    assert (s.ingested, s.known, s.failed) == (4, 0, ())
    assert [Path(p.path).name for p in s.skipped] == ["notes.docx"]
    assert _state(export) == before, "sources must not change"
    by_name = {Path(c.path).name: c for c in list_clips(reg)}
    cam1 = by_name["ch01_20240125101500.mp4"]
    assert (cam1.camera_id, cam1.time_source, cam1.start_raw) == ("CAM01", "filename", AT_1015)
    assert cam1.start == AT_1015 - timedelta(seconds=65) and cam1.clock_offset_s == 65.0
    assert cam1.sha256 == before[cam1.path][0] and cam1.frames == 20 and cam1.duration_s == pytest.approx(2.0)
    assert by_name["CAM02_20240125_101500.ts"].camera_id == "CAM02"
    container = by_name["clip.mp4"]
    assert (container.camera_id, container.time_source) == ("CAM02", "container")
    assert container.start == datetime(2024, 1, 25, 3, 30, tzinfo=UTC)
    assert sorted(s.clip_ids) == sorted(c.id for c in by_name.values())


def test_second_run_adds_nothing(reg: Index, export: Path) -> None:
    first = ingest_paths(reg, [export])
    second = ingest_paths(reg, [export])
    assert (second.ingested, second.known, sorted(second.known_ids)) == (0, 4, sorted(first.clip_ids))
    assert reg.db.execute("SELECT COUNT(*), COUNT(DISTINCT sha256) FROM clips").fetchone() == (4, 4)


def test_failures_do_not_stop_the_others(reg: Index, export: Path) -> None:
    truncate(write_clip(export / "CAM01" / "ch01_20240125103000.mp4", seed=9, frames=40))
    write_clip(export / "CAM09" / "ch01_20240125103000.mp4", seed=10)
    (export / "CAM02" / "empty_20240125_101500.mp4").write_bytes(b"")
    s = ingest_paths(reg, [export])
    reasons = {Path(p.path).parent.name + "/" + Path(p.path).name: p.reason for p in s.failed}
    assert s.ingested == 4 and len(reasons) == 3
    assert "truncated" in reasons["CAM01/ch01_20240125103000.mp4"]
    assert "no camera" in reasons["CAM09/ch01_20240125103000.mp4"]
    assert "empty" in reasons["CAM02/empty_20240125_101500.mp4"]
    assert len(list_clips(reg)) == 4


def test_sidecar_camera_must_be_known(reg: Index, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in" / "ch01_20240125101500.mp4")
    clip.with_suffix(".json").write_text(json.dumps({"camera_id": "CAM77"}))
    s = ingest_paths(reg, [clip])
    assert s.ingested == 0 and "unknown camera 'CAM77'" in s.failed[0].reason
    assert list_clips(reg) == []


def test_cli_camera_and_start(reg: Index, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in" / "clip.mp4")
    s = ingest_paths(reg, [clip], camera="CAM01", start="2024-01-25 10:15:00")
    (c,) = list_clips(reg)
    assert s.ingested == 1 and (c.camera_id, c.time_source, c.start_raw) == ("CAM01", "cli", AT_1015)
    with pytest.raises(NotFoundError, match="CAM77"):
        ingest_paths(reg, [clip], camera="CAM77")


def test_start_is_for_one_clip_and_must_parse(reg: Index, export: Path) -> None:
    with pytest.raises(InputError, match="one clip"):
        ingest_paths(reg, [export], start="2024-01-25 10:15")
    with pytest.raises(InputError, match="malformed time"):
        ingest_paths(reg, [export / "CAM02" / "clip.mp4"], start="25/01/2024 10h15")
    assert list_clips(reg) == []


def test_named_unsupported_or_missing_file_fails(reg: Index, tmp_path: Path) -> None:
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF")
    s = ingest_paths(reg, [doc, tmp_path / "gone.mp4"])
    assert [p.reason.split(" ")[0] for p in s.failed] == ["unsupported", "no"]


def test_copy_elsewhere_keeps_the_registered_path_and_is_verified_too(
    reg: Index, export: Path, tmp_path: Path
) -> None:
    first = ingest_paths(reg, [export / "CAM01"])
    registered = {c.id: c.path for c in list_clips(reg)}
    archive = tmp_path / "archive" / "CAM01"
    shutil.copytree(export / "CAM01", archive)
    s = ingest_paths(reg, [archive])
    assert (s.ingested, s.known, s.failed) == (0, 2, ())
    assert {c.id: c.path for c in list_clips(reg)} == registered, "the registration's path is kept"
    copies = clip_copies(reg)
    assert sorted(copies) == sorted(first.clip_ids)
    assert all(str(archive) in c.path and c.conflict == "" for found in copies.values() for c in found)
    assert len(s.copies) == 2 and ingest_paths(reg, [archive]).copies == ()  # recorded once
    assert verify(reg).clean
    original = next(p for p in registered.values() if p.endswith(".mp4"))
    flip_byte(Path(original))
    (archive / "ch01_20240125102000.mkv").unlink()
    report = verify(reg)
    assert report.changed == (original,), "a changed original is caught although its copy is intact"
    assert report.missing == (str(archive / "ch01_20240125102000.mkv"),)
    assert report.ok == 0 and report.checked == 2


def test_copy_naming_another_camera_or_time_is_refused_naming_both_files(
    reg: Index, export: Path, tmp_path: Path
) -> None:
    ingest_paths(reg, [export / "CAM01" / "ch01_20240125101500.mp4"])
    (before,) = list_clips(reg)
    other = tmp_path / "CAM02" / "ch01_20240125111500.mp4"
    other.parent.mkdir()
    shutil.copy(export / "CAM01" / "ch01_20240125101500.mp4", other)
    s = ingest_paths(reg, [other])
    (problem,) = s.failed
    path, why = problem.path, problem.reason
    assert path == str(other) and before.path in why
    assert "camera is CAM02 (registered as CAM01)" in why and "name says 2024-01-25 11:15:00" in why
    assert list_clips(reg) == [before], "the registration is unchanged"
    ((copy,),) = clip_copies(reg).values()
    assert copy.path == str(other) and copy.camera_id == "CAM02" and "CAM02" in copy.conflict
    named = ingest_paths(reg, [export / "CAM01" / "ch01_20240125101500.mp4"], camera="CAM02")
    assert "registered as CAM01" in named.failed[0].reason and list_clips(reg) == [before]


def test_pending_analysis_includes_clips_left_unanalysed(reg: Index, export: Path) -> None:
    first = ingest_paths(reg, [export / "CAM01"])
    reg.writer.set_clip_status(first.clip_ids[0], "analyzed")
    second = ingest_paths(reg, [export])
    assert pending_analysis(reg, second) == sorted([*second.clip_ids, first.clip_ids[1]])


def test_clip_registered_with_start_is_known_on_a_later_run_without_it(reg: Index, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in" / "clip.mp4")
    first = ingest_paths(reg, [clip], camera="CAM01", start="2024-01-25 10:15:00")
    again = ingest_paths(reg, [tmp_path / "in"], camera="CAM01")
    assert (again.ingested, again.known, again.failed) == (0, 1, ())
    assert again.known_ids == first.clip_ids
    (c,) = list_clips(reg)
    assert (c.time_source, c.start_raw) == ("cli", AT_1015)


def test_name_that_is_not_utf8_is_registered_with_the_clips_after_it(reg: Index, tmp_path: Path) -> None:
    folder = tmp_path / "CAM02"
    write_clip(folder / "ch01_20240125100000.mp4", seed=1)
    odd = os.fsdecode(os.fsencode(folder) + b"/ch01_20240125101000_cam\xe1ra.mp4")  # cp1258 bytes
    write_clip(Path(odd), seed=2)
    write_clip(folder / "ch01_20240125102000.mp4", seed=3)
    s = ingest_paths(reg, [folder])
    assert (s.ingested, s.failed) == (3, ())
    paths = [c.path for c in list_clips(reg)]
    assert paths[1] == odd, "the exact file name is kept"
    assert reg.db.execute("SELECT path FROM clips WHERE path_bytes IS NOT NULL").fetchall() == [
        (str(folder) + "/ch01_20240125101000_cam\\xe1ra.mp4",)]
    assert verify(reg).clean
    assert ingest_paths(reg, [folder]).known == 3


def test_clip_cut_short_is_registered_flagged(reg: Index, tmp_path: Path) -> None:
    path = write_clip(tmp_path / "CAM01" / "ch01_20240125101500.mkv", frames=100, fps=10, seed=1)
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.95)])
    s = ingest_paths(reg, [path])
    assert s.ingested == 1 and [f.path for f in s.flagged] == [str(path)]
    (clip,) = list_clips(reg)
    assert len(clip.flags) == 1 and "decoded 9.50 s" in clip.flags[0]
    assert ingest_paths(reg, [path]).flagged == (), "reported once, when registered"
