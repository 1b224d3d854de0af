"""The run machinery keeps the index and the snapshot files in agreement whatever stops it.

A failed index write, Ctrl-C (or SIGTERM, the same unwinding) during the analysis, during the
index write or just after its commit, a snapshot folder that refuses the files, a killed worker
pool: in every case each snapshot row points at a file with its recorded hash, no staging
folder is left and no run stays ``running``. Clips are small real videos (clipfactory) decoded
by the real pipeline; the detector is a stand-in that finds their white bar (fast).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from clipfactory import write_clip

from camfind.analysis import models as models_mod
from camfind.analysis import run as run_mod
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.snapshots import SnapshotStore, sha256_file
from camfind.index import Index
from camfind.index.writer import AnalysisCounts, Writer
from camfind.types import AnalysisRun, Camera, Clip, Detection

START = datetime(2024, 1, 25, 3, 0, 0, tzinfo=UTC)
SETTINGS = AnalysisSettings(rate_fps=10.0, plates=False, faces=False)


class BarDetector:
    """Finds the clip's moving white bar as a car; ``shift`` moves its box (other snapshot bytes)."""

    name, version, weights_sha = "bar", "1", "0" * 64

    def __init__(self) -> None:
        self.shift = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        cols = np.flatnonzero(image.mean(axis=(0, 2)) > 200)
        if cols.size == 0:
            return []
        h, w = image.shape[:2]
        x1, x2 = max(0, cols[0] - 12 + self.shift), min(w, cols[-1] + 13 + self.shift)
        return [Detection(0, 0.0, (float(x1), 30.0, float(x2), float(h - 30)), "car", 0.9)]


@pytest.fixture
def bar(monkeypatch: pytest.MonkeyPatch) -> BarDetector:
    """The stand-in detector for SETTINGS (model caches restored after the test)."""
    detector = BarDetector()
    monkeypatch.setattr(models_mod, "_CACHE", {})
    monkeypatch.setattr(models_mod, "_DETECTORS", {(SETTINGS.detector, SETTINGS.weights): detector})
    return detector


@pytest.fixture
def case(tmp_path: Path) -> Iterator[tuple[Index, list[int]]]:
    """An index with two registered clips of CAM01."""
    index = Index.open(tmp_path / "case.db", create=True)
    index.writer.upsert_cameras([Camera("CAM01", 10.77, 106.70)])
    ids = []
    for seed in (1, 2):
        path = write_clip(tmp_path / "export" / f"clip{seed}.mp4", frames=40, size=(320, 240), seed=seed)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        clip = Clip("CAM01", str(path), sha, path.stat().st_size, START, START, "cli", 0.0, 4.0, 10.0, 40,
                    320, 240, "h264", "mp4")
        ids.append(index.writer.add_clip(clip)[0])
    yield index, ids
    index.close()


def _snaps(index: Index) -> Path:
    return Path(index.path).parent / "snapshots"


def _files(index: Index) -> dict[str, str]:
    """Every file under the snapshot folder (staging included) -> its SHA-256."""
    root = _snaps(index)
    return {str(p): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()} if root.exists() else {}


def _assert_consistent(index: Index) -> None:
    """Each snapshot row names an existing file with its hash; no staging; no run left running."""
    rows = index.db.execute("SELECT path, sha256 FROM snapshots").fetchall()
    for path, sha in rows:
        assert Path(path).is_file(), path
        assert sha256_file(path) == sha, path
    assert not [p for p in _snaps(index).glob(".staging-*")]
    assert index.db.execute("SELECT COUNT(*) FROM analysis_runs WHERE status = 'running'").fetchone()[0] == 0


def _runs(index: Index) -> list[tuple[int, str, str | None]]:
    return index.db.execute("SELECT clip_id, status, error FROM analysis_runs ORDER BY id").fetchall()


def test_a_rerun_replaces_the_previous_files_after_its_rows(case: tuple[Index, list[int]], bar: BarDetector) -> None:
    index, ids = case
    first = run_mod.analyze_clips(index, ids, settings=SETTINGS)
    assert (first.analyzed, first.failed) == (2, 0) and first.tracks >= 2
    before = _files(index)
    assert len(before) >= 2
    _assert_consistent(index)
    bar.shift = 3  # other crops: other bytes, other names
    again = run_mod.analyze_clips(index, ids, settings=SETTINGS)
    assert again.analyzed == 2
    _assert_consistent(index)
    after = _files(index)
    assert not set(before) & set(after)  # the previous run's files are gone, only the rows' files remain
    assert set(after) == {r[0] for r in index.db.execute("SELECT path FROM snapshots")}


@pytest.mark.parametrize(
    ("error", "reason"),
    [(sqlite3.OperationalError("database or disk is full"), "could not be written"),
     (KeyboardInterrupt(), "interrupted")],
)
def test_a_failed_index_write_keeps_the_previous_files_and_fails_the_run(
    case: tuple[Index, list[int]], bar: BarDetector, monkeypatch: pytest.MonkeyPatch, error: BaseException,
    reason: str,
) -> None:
    index, ids = case
    run_mod.analyze_clips(index, ids[:1], settings=SETTINGS)
    before = _files(index)
    assert before
    bar.shift = 3

    def refuse(self: Writer, run_id: int, clip_id: int, result: object) -> AnalysisCounts:
        raise error

    monkeypatch.setattr(Writer, "write_analysis", refuse)
    with pytest.raises(type(error)):
        run_mod.analyze_clips(index, ids[:1], settings=SETTINGS)
    assert _files(index) == before  # the new files were removed, the old ones untouched
    _assert_consistent(index)
    (_, s1, _), (_, s2, why) = _runs(index)
    assert (s1, s2) == ("done", "failed") and reason in (why or "")


def test_ctrl_c_just_after_the_commit_keeps_the_new_rows_and_files(
    case: tuple[Index, list[int]], bar: BarDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, ids = case
    real = Writer.write_analysis

    def then_interrupt(self: Writer, run_id: int, clip_id: int, result: object) -> dict[str, int]:
        real(self, run_id, clip_id, result)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(Writer, "write_analysis", then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_mod.analyze_clips(index, ids[:1], settings=SETTINGS)
    assert _runs(index) == [(ids[0], "done", "")]
    assert index.db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] >= 1
    _assert_consistent(index)


def test_ctrl_c_while_analysing_leaves_no_staging(
    case: tuple[Index, list[int]], bar: BarDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, ids = case
    real = SnapshotStore.save
    stages: list[Path] = []

    def save_then_interrupt(self: SnapshotStore, *args: object, **kwargs: object) -> object:
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        stages.append(self.root)
        assert any(self.root.glob(".staging-*/*.jpg"))  # the file is staged (in the worker's folder) ...
        raise KeyboardInterrupt  # ... when Ctrl-C lands

    monkeypatch.setattr(SnapshotStore, "save", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_mod.analyze_clips(index, ids, settings=SETTINGS)
    assert len(stages) == 1 and not stages[0].exists()
    assert _files(index) == {}
    assert _runs(index) == []
    _assert_consistent(index)


def test_a_refusing_clip_folder_fails_that_clip_and_the_others_go_on(
    case: tuple[Index, list[int]], bar: BarDetector
) -> None:
    index, ids = case
    sha = index.db.execute("SELECT sha256 FROM clips WHERE id = ?", (ids[0],)).fetchone()[0]
    _snaps(index).mkdir()
    (_snaps(index) / sha[:12]).write_text("a file where the clip's snapshot folder goes")
    summary = run_mod.analyze_clips(index, ids, settings=SETTINGS)
    assert (summary.analyzed, summary.failed) == (1, 1)
    bad = next(c for c in summary.clips if c.status == "failed")
    assert bad.clip_id == ids[0] and "in the way" in bad.error
    assert [(c, s) for c, s, _ in _runs(index)] == [(ids[0], "failed"), (ids[1], "done")]
    assert index.db.execute("SELECT status FROM clips ORDER BY id").fetchall() == [("failed",), ("analyzed",)]
    _assert_consistent(index)


def test_leftovers_of_a_killed_analysis_are_cleaned_at_the_start(
    case: tuple[Index, list[int]], bar: BarDetector, caplog: pytest.LogCaptureFixture
) -> None:
    index, ids = case
    stale = _snaps(index) / ".staging-999999999-ab12cd-0123456789ab-00000000"  # its process is gone
    stale.mkdir(parents=True)
    (stale / "1.jpg").write_bytes(b"half a run")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    with index.transaction():  # a run whose process was killed before recording it
        left = index.writer.begin_run(AnalysisRun(clip_id=ids[0], started_at=START, settings={}, models={},
                                                  camfind_version="0"))
    with caplog.at_level(logging.INFO, logger="camfind"):
        run_mod.analyze_clips(index, ids[:1], settings=SETTINGS)
    assert not stale.exists()
    assert str(stale) in caplog.text
    assert index.db.execute("SELECT status FROM analysis_runs WHERE id = ?", (left,)).fetchone() == ("failed",)
    _assert_consistent(index)


def test_a_stopped_worker_pool_leaves_no_staging_and_stops_at_once(
    case: tuple[Index, list[int]], bar: BarDetector, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Workers (real SSD, spawned) are stopped when the main process is interrupted, not awaited."""
    index, ids = case
    long = write_clip(tmp_path / "export" / "long.mp4", frames=600, size=(320, 240), seed=3)
    sha = hashlib.sha256(long.read_bytes()).hexdigest()
    ids.append(index.writer.add_clip(Clip("CAM01", str(long), sha, long.stat().st_size, START, START, "cli", 0.0,
                                          60.0, 10.0, 600, 320, 240, "h264", "mp4"))[0])
    hit: list[float] = []

    def interrupted(*args: object) -> object:
        hit.append(time.perf_counter())
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "_record", interrupted)
    sparse = AnalysisSettings(rate_fps=1.0, plates=False, faces=False)  # the short clip: 4 frames to analyse
    with pytest.raises(KeyboardInterrupt):
        run_mod.analyze_clips(index, [ids[2], ids[0]], settings=sparse, workers=2)
    assert len(hit) == 1 and time.perf_counter() - hit[0] < 3  # the long clip was not waited for
    _assert_consistent(index)
