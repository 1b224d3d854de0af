"""The pure analysis worker: a job of data in, an output of data out; no index, nothing left on disk.

Clips are small real videos (clipfactory) decoded by the real pipeline; the detector is a stand-in
that finds their white bar (fast).
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from clipfactory import write_clip

from camfind.analysis import models as models_mod
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.snapshots import SnapshotStore
from camfind.analysis.work import ClipJob, SnapshotBlob, analyze_job
from camfind.types import Camera, Clip, Detection

START = datetime(2024, 1, 25, 3, 0, 0, tzinfo=UTC)
SETTINGS = AnalysisSettings(rate_fps=10.0, plates=False, faces=False)


class BarDetector:
    name, version, weights_sha = "bar", "1", "0" * 64

    def detect(self, image: np.ndarray) -> list[Detection]:
        cols = np.flatnonzero(image.mean(axis=(0, 2)) > 200)
        if cols.size == 0:
            return []
        x1, x2 = max(0, cols[0] - 12), min(image.shape[1], cols[-1] + 13)
        return [Detection(0, 0.0, (float(x1), 30.0, float(x2), float(image.shape[0] - 30)), "car", 0.9)]


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClipJob:
    monkeypatch.setattr(models_mod, "_CACHE", {})
    monkeypatch.setattr(models_mod, "_DETECTORS", {(SETTINGS.detector, SETTINGS.weights): BarDetector()})
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = write_clip(tmp_path / "clip.mp4", frames=40, size=(320, 240), seed=1)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    clip = Clip("CAM01", str(path), sha, path.stat().st_size, START, START, "cli", 0.0, 4.0, 10.0, 40,
                320, 240, "h264", "mp4", id=7)
    return ClipJob(clip, Camera("CAM01", 10.77, 106.70), SETTINGS)


def test_a_job_gives_rows_and_snapshot_bytes_as_data(job: ClipJob, tmp_path: Path) -> None:
    out = pickle.loads(pickle.dumps(analyze_job(pickle.loads(pickle.dumps(job)))))
    assert out.ok and out.clip_id == 7 and out.result.tracks and out.stats.frames > 0
    assert out.worker.pid > 0 and out.worker.host and out.wall_s > 0 and out.cpu_s > 0
    names = {b.name for b in out.snapshots}
    assert names and all(hashlib.sha256(b.data).hexdigest() == b.sha256 for b in out.snapshots)
    assert {s.path for s in out.result.snapshots} == names  # bare names: the writer gives the paths
    assert {t.snapshot.path for t in out.result.tracks if t.snapshot} <= names
    assert not list((tmp_path / "tmp").iterdir())  # the worker's staging is gone


def test_a_clip_whose_bytes_changed_is_refused(job: ClipJob) -> None:
    with open(job.clip.path, "ab") as fh:
        fh.write(b"\0")
    out = analyze_job(job)
    assert not out.ok and out.result is None and not out.snapshots
    assert "changed since it was registered" in out.error and job.clip.path in out.error


def test_a_job_from_another_camfind_version_is_refused(job: ClipJob) -> None:
    from dataclasses import replace

    out = analyze_job(replace(job, camfind_version="0.0.0"))
    assert not out.ok and "same version on every node" in out.error


def test_a_blob_must_carry_its_own_hash() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        SnapshotBlob("1_track_1.jpg", "0" * 64, b"jpeg")
    with pytest.raises(ValueError, match="bare"):
        SnapshotBlob("../1_track_1.jpg", hashlib.sha256(b"x").hexdigest(), b"x")


def test_put_keeps_an_earlier_file_with_other_bytes(tmp_path: Path) -> None:
    earlier = tmp_path / ("ab" * 6) / "12_track_3.jpg"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"earlier run")
    store = SnapshotStore(tmp_path, "ab" * 32, clip_id=1)
    same = SnapshotStore(tmp_path, "ab" * 32, clip_id=1).put("12_track_3.jpg", b"earlier run")
    other = store.put("12_track_3.jpg", b"new run")
    assert same == str(earlier)
    assert other == str(earlier.with_name(f"12_track_3.{hashlib.sha256(b'new run').hexdigest()[:16]}.jpg"))
    assert store.place() == [Path(other)] and earlier.read_bytes() == b"earlier run"
