"""Clips analysed in this process overlap: the next clip decodes and detects while the last one's
fragments are still being enriched, with the results of one clip at a time, and a stop (Ctrl-C,
SIGTERM, a failed write) still ends every clip in flight at once, cleanly, so a rerun resumes.

Clips are small real videos (clipfactory) through the real pipeline; the detector is the stand-in
of test_run_robustness (it finds the clip's white bar, fast); enrichment is slowed where a test
needs a long tail.
"""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from clipfactory import write_clip

from camfind.analysis import models as models_mod
from camfind.analysis import pipeline as pipeline_mod
from camfind.analysis import run as run_mod
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.stages import Behind, Stopped
from camfind.index import Index
from camfind.types import Camera, Clip, Detection

START = datetime(2024, 1, 25, 3, 0, 0, tzinfo=UTC)
SETTINGS = AnalysisSettings(rate_fps=10.0, plates=False, faces=False)


class BarDetector:
    """Finds the clip's moving white bar as a car; notes which thread ran each pass, and when."""

    name, version, weights_sha = "bar", "1", "0" * 64

    def __init__(self) -> None:
        self.calls: list[tuple[int, float]] = []

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.calls.append((threading.get_ident(), time.perf_counter()))
        cols = np.flatnonzero(image.mean(axis=(0, 2)) > 200)
        if cols.size == 0:
            return []
        h, w = image.shape[:2]
        x1, x2 = max(0, cols[0] - 12), min(w, cols[-1] + 13)
        return [Detection(0, 0.0, (float(x1), 30.0, float(x2), float(h - 30)), "car", 0.9)]


@pytest.fixture
def bar(monkeypatch: pytest.MonkeyPatch) -> BarDetector:
    detector = BarDetector()
    monkeypatch.setattr(models_mod, "_CACHE", {})
    monkeypatch.setattr(models_mod, "_DETECTORS", {(SETTINGS.detector, SETTINGS.weights): detector})
    return detector


def _case(root: Path, frames: tuple[int, ...] = (40, 40)) -> tuple[Index, list[int]]:
    index = Index.open(root / "case.db", create=True)
    index.writer.upsert_cameras([Camera("CAM01", 10.77, 106.70)])
    ids = []
    for seed, n in enumerate(frames, start=1):
        path = write_clip(root / "export" / f"clip{seed}.mp4", frames=n, size=(320, 240), seed=seed)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        clip = Clip("CAM01", str(path), sha, path.stat().st_size, START, START, "cli", 0.0, n / 10, 10.0, n,
                    320, 240, "h264", "mp4")
        ids.append(index.writer.add_clip(clip)[0])
    return index, ids


@pytest.fixture
def case(tmp_path: Path) -> Iterator[tuple[Index, list[int]]]:
    index, ids = _case(tmp_path)
    yield index, ids
    index.close()


def _slow_enrichment(monkeypatch: pytest.MonkeyPatch, seconds: float) -> list[tuple[int, float, float]]:
    """Every fragment's enrichment takes ``seconds`` more; returns (clip id, start, end) of each."""
    spans: list[tuple[int, float, float]] = []
    real = pipeline_mod._enrich_and_free

    def slow(enrich: object, frag: object, cls: str) -> object:
        t0 = time.perf_counter()
        time.sleep(seconds)
        try:
            return real(enrich, frag, cls)  # type: ignore[arg-type]
        finally:
            spans.append((enrich.clip.id or 0, t0, time.perf_counter()))  # type: ignore[attr-defined]

    monkeypatch.setattr(pipeline_mod, "_enrich_and_free", slow)
    return spans


def _tracks(index: Index) -> list[tuple[object, ...]]:
    return index.db.execute(
        "SELECT clip_id, track_no, cls, first_frame, last_frame, n_frames FROM tracks ORDER BY clip_id, track_no"
    ).fetchall()


def _worker_stages() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("camfind-worker-*")}


def test_the_next_clip_streams_while_the_last_one_enriches(
    case: tuple[Index, list[int]], bar: BarDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, ids = case
    spans = _slow_enrichment(monkeypatch, 0.4)
    summary = run_mod.analyze_clips(index, ids, settings=SETTINGS)
    assert (summary.analyzed, summary.failed) == (2, 0)
    threads = list(dict.fromkeys(t for t, _ in bar.calls))
    assert len(threads) == 2  # one thread per clip
    first = [at for t, at in bar.calls if t == threads[0]]
    second = [at for t, at in bar.calls if t == threads[1]]
    assert max(first) < min(second)  # one clip streams at a time: the detector is never shared
    first_enriched = max(end for clip, _, end in spans if clip == ids[0])
    assert min(second) < first_enriched  # ... but the next one streams while the last one enriches
    starts = [(clip, t0) for clip, t0, _ in spans]
    assert starts == sorted(starts, key=lambda s: s[1])
    assert [c for c, _ in starts] == sorted(c for c, _ in starts)  # jobs start in the order submitted, clip after clip


@pytest.mark.parametrize("threads", [1, 2])
def test_fragments_are_enriched_side_by_side_with_the_results_of_one_thread(
    tmp_path: Path, bar: BarDetector, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """With ENRICH_THREADS 2, two fragments' enrichment overlaps in time (a core would otherwise
    stand idle while the detector waits on the queue); the tracks are those of one thread."""
    from camfind.analysis import stages

    results = []
    plain = pipeline_mod._enrich_and_free
    for n in (1, threads):
        monkeypatch.setattr(stages, "ENRICH_THREADS", n)
        monkeypatch.setattr(stages, "_POOL", None)
        monkeypatch.setattr(pipeline_mod, "_enrich_and_free", plain)
        spans = _slow_enrichment(monkeypatch, 0.15)
        index, ids = _case(tmp_path / f"threads_{n}_{len(results)}", frames=(40, 30, 50))
        try:
            summary = run_mod.analyze_clips(index, ids, settings=SETTINGS)
            assert (summary.analyzed, summary.failed) == (3, 0)
            results.append(_tracks(index))
        finally:
            index.close()
            stages.enrichment_pool().shutdown()
        spans.sort(key=lambda s: s[1])
        overlapping = sum(b[1] < a[2] for a, b in zip(spans, spans[1:], strict=False))
        assert len(spans) >= 3
        assert (overlapping > 0) == (n > 1)
    assert results[0] == results[1] and len(results[0]) >= 3


def test_overlapping_clips_give_the_same_results_as_one_at_a_time(
    tmp_path: Path, bar: BarDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_enrichment(monkeypatch, 0.05)
    results = []
    for flying in (1, 2):
        monkeypatch.setattr(run_mod, "IN_FLIGHT", flying)
        index, ids = _case(tmp_path / f"in_flight_{flying}", frames=(40, 30, 50))
        summary = run_mod.analyze_clips(index, ids, settings=SETTINGS)
        assert (summary.analyzed, summary.failed) == (3, 0)
        assert [c.clip_id for c in summary.clips] == ids  # recorded in order
        results.append(_tracks(index))
        index.close()
    assert results[0] == results[1] and len(results[0]) >= 3


def test_progress_counts_up_over_the_clips_in_order(case: tuple[Index, list[int]], bar: BarDetector) -> None:
    index, ids = case
    seen: list[tuple[int, int, str]] = []
    run_mod.analyze_clips(index, ids, settings=SETTINGS, progress=lambda d, t, n: seen.append((d, t, n)))
    assert seen[-1][0] == seen[-1][1] == 80
    done = [d for d, _, _ in seen]
    assert done == sorted(done)  # never backwards, though two clips are in flight


@pytest.mark.parametrize("stopped_in", ["record", "stream"])
def test_a_stop_ends_the_clips_in_flight_at_once_and_a_rerun_resumes(
    tmp_path: Path, bar: BarDetector, monkeypatch: pytest.MonkeyPatch, stopped_in: str
) -> None:
    """Ctrl-C while the first clip is written (or while the long second one streams): the clip in
    flight stops at its next frame, no staging is left, the written clip stays analysed and a
    rerun analyses only the other."""
    index, ids = _case(tmp_path, frames=(20, 900))
    before = _worker_stages()
    real_record = run_mod._record
    hit: list[float] = []

    def record(*args: object) -> object:
        out = real_record(*args)  # type: ignore[arg-type]
        if stopped_in == "record":
            hit.append(time.perf_counter())
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(run_mod, "_record", record)
    if stopped_in == "stream":
        calls = bar.calls

        def interrupt_main_soon() -> None:  # Ctrl-C lands in the main thread, mid-way through clip 2
            while len({t for t, _ in calls}) < 2 or len(calls) < 40:
                time.sleep(0.01)
            hit.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt_main_soon, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_mod.analyze_clips(index, ids, settings=SETTINGS)
    assert len(hit) == 1 and time.perf_counter() - hit[0] < 2.0  # the long clip was not waited for
    assert len(bar.calls) < 20 + 900  # ... it stopped part-way
    assert _worker_stages() == before  # every clip in flight removed its staging
    assert not list((tmp_path / "snapshots").glob(".staging-*"))
    status = dict(index.db.execute("SELECT id, status FROM clips").fetchall())
    assert index.db.execute("SELECT COUNT(*) FROM analysis_runs WHERE status = 'running'").fetchone()[0] == 0
    todo, _skipped = run_mod.select_clips(index)
    assert status[ids[1]] == "registered" and todo in ([ids[1]], ids)
    if stopped_in == "record":
        assert todo == [ids[1]] and status[ids[0]] == "analyzed"
    monkeypatch.setattr(run_mod, "_record", real_record)
    again = run_mod.analyze_clips(index, todo, settings=SETTINGS)
    assert (again.analyzed, again.failed) == (len(todo), 0)
    assert {s for _, s in index.db.execute("SELECT id, status FROM clips")} == {"analyzed"}
    index.close()


def test_a_stop_in_one_enrichment_job_skips_the_jobs_queued_after_it() -> None:
    stop = threading.Event()
    ran: list[int] = []

    def job(n: int) -> int:
        if n == 1:
            raise KeyboardInterrupt
        time.sleep(0.02)
        ran.append(n)
        return n

    first, second = Behind[int](stop=stop), Behind[int](stop=stop)  # two clips' jobs, one thread
    with pytest.raises(KeyboardInterrupt), first:
        for n in range(3):
            first.submit(n, job, n)
        second.submit(9, job, 9)
        first.results()
    assert stop.is_set() and ran == [0]
    with pytest.raises(Stopped), second:
        second.results()
    assert ran == [0]
