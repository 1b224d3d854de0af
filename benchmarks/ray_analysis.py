"""Analysis on Ray against in-process analysis, Ray's per-clip overhead, the writer's ceiling.

On the generated sample network (8 clips of 9 s, real models at default settings):

- ``in_process``: :func:`camfind.analysis.work.analyze_job` clip after clip in this process
  (models loaded beforehand);
- ``ray_1`` / ``ray_2``: the same clips on a local Ray runtime with 1 and 2 workers (actors
  started and their models loaded before the clock starts: startup reported apart);
- ``overhead``: tiny clips (5 frames, 64x48, plates and faces off) sent to 1 Ray worker one at
  a time: each clip's round trip less the worker's own time on it (``AnalysisOutput.wall_s``)
  is what Ray adds (scheduling, pickling the job and the output, the object store);
- ``writer``: :func:`camfind.analysis.run._record` (stage the snapshot bytes, place them, write
  the rows in one transaction, the previous run's files removed) timed per clip on the
  in-process outputs, written again and again: the clips per second one writer takes;
- ``projection_cpu`` / ``projection_wall``: clips per second for N one-core workers, ``N / (cost + overhead)`` with the
  in-process cost per clip and the Ray overhead per clip, capped by the writer; the worker count
  from which the writer is the bottleneck, and the efficiency ``cost / (cost + overhead)``
  (the issue's aim: at least 0.8 x N the single-worker throughput).

Wall-clock figures depend on what else runs on the machine; CPU seconds per clip (the worker
process's, all threads) are given beside them, with ``cores_used`` (the workers' CPU seconds
over the wall clock: what the machine actually gave). ``projection_cpu`` assumes one idle core
per worker (the per-clip CPU cost); ``projection_wall`` uses the wall clock measured here.

Usage:
    python benchmarks/ray_analysis.py            # figures as a table, one JSON object last
    python benchmarks/ray_analysis.py --rounds 5 # more writer rounds
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from camfind.analysis import run as run_mod
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.work import AnalysisOutput, ClipJob, analyze_job
from camfind.index import Index

SETTINGS = AnalysisSettings()
TINY = AnalysisSettings(plates=False, faces=False)
PROJECT_NODES = (1, 2, 4, 8, 16, 32, 50, 64, 100, 200)


def _tiny_clip(path: Path, seed: int) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            img = np.full((48, 64, 3), (seed * 37) % 200, np.uint8)
            img[:, (i * 7 + seed) % 48:(i * 7 + seed) % 48 + 8] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _case(root: Path) -> tuple[Index, list[ClipJob], list[ClipJob]]:
    from camfind.cameras import import_cameras
    from camfind.ingest import ingest_paths
    from camfind.sample import generate

    scenario = generate(root / "net")
    index = Index.open(root / "case.db", create=True)
    import_cameras(index, scenario.cameras_csv)
    sample = ingest_paths(index, [scenario.clips_dir])
    tiny_dir = root / "tiny" / "CAM01"
    tiny_dir.mkdir(parents=True)
    for seed in range(12):
        _tiny_clip(tiny_dir / f"ch01_2026111410{seed:02d}00.mp4", seed)
    tiny = ingest_paths(index, [tiny_dir], camera="CAM01")
    clips = {c.id: c for c in _clips(index)}
    jobs = [run_mod.make_job(index, clips[i], SETTINGS) for i in sample.clip_ids]
    tiny_jobs = [run_mod.make_job(index, clips[i], TINY) for i in tiny.clip_ids]
    return index, jobs, tiny_jobs


def _clips(index: Index) -> list[Any]:
    from camfind.index.queries import list_clips

    return list(list_clips(index))


def _cpu() -> float:
    return time.process_time()


def in_process(jobs: list[ClipJob]) -> tuple[dict[str, float], list[AnalysisOutput]]:
    from camfind.analysis.models import get_models

    get_models(jobs[0].settings)
    wall = time.perf_counter()
    outs = [analyze_job(job) for job in jobs]
    wall = time.perf_counter() - wall
    assert all(o.ok for o in outs), [o.error for o in outs]
    return _figures(len(jobs), wall, [o.cpu_s for o in outs]), outs


def on_ray(jobs: list[ClipJob], workers: int, one_at_a_time: bool = False) -> dict[str, float]:
    from camfind.analysis.cluster import RayAnalysis

    t0 = time.perf_counter()
    cluster = RayAnalysis("auto", settings=jobs[0].settings, workers=workers)
    cluster.ready()
    startup = time.perf_counter() - t0
    wall, cpu = time.perf_counter(), _cpu()
    outs, trips = [], []
    for batch in [[job] for job in jobs] if one_at_a_time else [jobs]:
        sent = time.perf_counter()
        outs += list(cluster.run(batch))
        trips.append(time.perf_counter() - sent)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    cluster.close()
    assert all(o.ok for o in outs), [o.error for o in outs]
    figures = {**_figures(len(jobs), wall, [o.cpu_s for o in outs]), "startup_s": round(startup, 2),
               "workers": cluster.workers, "driver_cpu_per_clip_s": round(cpu / len(jobs), 4)}
    if one_at_a_time:  # what Ray adds to one clip: its round trip less the worker's own time on it
        extra = [t - o.wall_s for t, o in zip(trips, outs, strict=True)]
        figures.update(overhead_per_clip_s=round(statistics.fmean(extra), 4),
                       overhead_median_s=round(statistics.median(extra), 4))
    return figures


def _figures(n: int, wall: float, cpu: list[float]) -> dict[str, float]:
    """Throughput, and the cores the workers got on average (their CPU seconds over the wall clock)."""
    return {"clips": n, "wall_s": round(wall, 3), "clips_per_s": round(n / wall, 3),
            "wall_per_clip_s": round(wall / n, 4), "cpu_per_clip_s": round(statistics.fmean(cpu), 4),
            "cores_used": round(sum(cpu) / wall, 2)}


def writer(index: Index, outs: list[AnalysisOutput], rounds: int) -> dict[str, float]:
    from camfind.analysis.snapshots import default_snapshot_dir, new_owner

    root, owner = default_snapshot_dir(index.path, None), new_owner()
    status = {c.id: c.status for c in _clips(index)}
    times, cpus = [], []
    for _ in range(rounds):
        for out in outs:
            wall, cpu = time.perf_counter(), _cpu()
            done = run_mod._record(index, out, status[out.clip_id], SETTINGS, root, owner)
            times.append(time.perf_counter() - wall)
            cpus.append(_cpu() - cpu)
            assert done.status == "done", done.error
    rows = statistics.fmean(len(o.result.tracks) + len(o.result.detections) + len(o.result.plate_reads)
                            + len(o.result.faces) for o in outs if o.result)
    return {"writes": len(times), "per_clip_s": round(statistics.fmean(times), 4),
            "median_per_clip_s": round(statistics.median(times), 4), "cpu_per_clip_s": round(statistics.fmean(cpus), 4),
            "clips_per_s": round(1 / statistics.fmean(times), 1),
            "snapshots_per_clip": round(statistics.fmean(len(o.snapshots) for o in outs), 1),
            "rows_per_clip": round(rows, 1)}


def projection(cost_s: float, overhead_s: float, writer_per_clip_s: float) -> dict[str, Any]:
    per_worker = 1 / (cost_s + max(overhead_s, 0.0))
    ceiling = 1 / writer_per_clip_s
    table = {str(n): round(min(n * per_worker, ceiling), 2) for n in PROJECT_NODES}
    return {"per_worker_clips_per_s": round(per_worker, 3), "writer_ceiling_clips_per_s": round(ceiling, 1),
            "efficiency_vs_in_process": round(cost_s / (cost_s + max(overhead_s, 0.0)), 3),
            "writer_bound_from_workers": int(ceiling / per_worker), "clips_per_s_by_workers": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="writer rounds over the clips")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="camfind-raybench-") as tmp:
        index, jobs, tiny_jobs = _case(Path(tmp))
        local, outs = in_process(jobs)
        ray_1 = on_ray(jobs, 1)
        ray_2 = on_ray(jobs, 2)
        tiny_ray = on_ray(tiny_jobs, 1, one_at_a_time=True)
        write = writer(index, outs, args.rounds)
        index.close()
    overhead = float(tiny_ray["overhead_per_clip_s"])
    result = {
        "cpus": os.cpu_count(), "note": "shared, loaded machine: wall clock varies; CPU s per clip beside it",
        "in_process": local, "ray_1": ray_1, "ray_2": ray_2,
        "speedup_ray_2_vs_in_process": round(ray_2["clips_per_s"] / local["clips_per_s"], 2),
        "speedup_ray_2_vs_ray_1": round(ray_2["clips_per_s"] / ray_1["clips_per_s"], 2),
        "overhead": {"tiny_ray_1": tiny_ray, "ray_per_clip_s": round(overhead, 4)},
        "writer": write,
        # analysis per clip: CPU seconds (one idle core per worker) or wall clock as measured here
        # (loaded); the writer per clip: wall clock (its files are flushed to disk: I/O, not CPU)
        "projection_cpu": projection(local["cpu_per_clip_s"], overhead, write["per_clip_s"]),
        "projection_wall": projection(local["wall_per_clip_s"], overhead, write["per_clip_s"]),
    }
    for key in ("in_process", "ray_1", "ray_2"):
        r = result[key]
        print(f"{key:>10}: {r['clips_per_s']:.3f} clips/s ({r['wall_per_clip_s']:.2f} s wall, "
              f"{r['cpu_per_clip_s']:.2f} s CPU per clip)", file=sys.stderr)
    print(f"  overhead: {overhead * 1000:.0f} ms per clip (tiny clips, one at a time)", file=sys.stderr)
    print(f"    writer: {write['clips_per_s']} clips/s ({write['per_clip_s'] * 1000:.1f} ms per clip)", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
