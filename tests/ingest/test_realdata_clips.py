"""Probe and register real third-party footage (read from $CAMFIND_REALDATA, never copied)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from camfind.index import Index
from camfind.index.queries import list_clips
from camfind.ingest import ingest_paths
from camfind.ingest.probe import hash_and_probe
from camfind.types import Camera


def _videos(realdata: Path) -> list[dict[str, str]]:
    entries = json.loads((realdata / "PROVENANCE.json").read_text())
    return [e for e in entries if e["path"].endswith((".mp4", ".avi"))]


def test_probe_matches_provenance(realdata: Path) -> None:
    videos = _videos(realdata)
    assert videos
    for entry in videos:
        size = re.match(r"(\d+)x(\d+), ([\d.]+) fps, (\d+) frames decoded", entry["opens"])
        assert size, entry["opens"]
        got = hash_and_probe(realdata / entry["path"])
        assert got.sha256 == entry["sha256"], entry["path"]
        p = got.probe
        assert (p.width, p.height, p.frames) == (int(size[1]), int(size[2]), int(size[4])), entry["path"]
        assert p.fps == pytest.approx(float(size[3]), abs=0.01)
        assert p.duration_s == pytest.approx(p.frames / p.fps, rel=0.02)


def test_register_real_folder(realdata: Path, index: Index) -> None:
    index.writer.upsert_cameras([Camera("REAL01", 10.77, 106.70)])
    folder = realdata / "video"
    before = {p: p.stat().st_mtime_ns for p in folder.iterdir()}
    summary = ingest_paths(index, [folder], camera="REAL01")
    # The three MP4s carry a creation time; the AVI has none and needs --start.
    assert summary.ingested == 3
    assert [(Path(p.path).name, "--start" in p.reason) for p in summary.failed] == [
        ("pets09_s2l1_view001_480x360.avi", True)]
    assert {c.time_source for c in list_clips(index)} == {"container"}
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == before
