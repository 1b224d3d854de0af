"""Analysis speed: each real clip and a generated 720p/25 fps street clip, as a multiple of real time.

For every clip, in the same run: decode-only time (the decode the pipeline itself does: every
frame grabbed, the frames at the analysis rate converted), then the full analysis at default
settings (motion gate, SSD detector, ByteTrack, linking, colour, plates, faces, snapshots), with
the models loaded once beforehand (load time reported apart). ``analysis_x`` is seconds of video
per wall-clock second; ``cpu_x_2cores`` is video seconds per CPU second of the process times two:
the multiple two otherwise idle cores would reach, which is what to compare when the machine is
shared (the wall-clock figure then depends on what else runs). Peak memory per clip is the peak
resident set size sampled every 20 ms while the clip is analysed (native OpenCV/dlib/onnxruntime
buffers included) and the Python-heap peak (tracemalloc on numpy and Python objects, measured in
a separate pass so it does not slow the timed one down when ``--tracemalloc`` is given).

The generated clip is a street drawn by camfind.sample (shophouses, road) with motorbikes carrying
readable Vietnamese plates and pedestrians with visible faces crossing every few seconds, encoded
as H.264 at 1280x720, 25 fps.

Usage:
    CAMFIND_REALDATA=../shared/realdata python benchmarks/analyze_speed.py
    python benchmarks/analyze_speed.py --seconds 300   # a longer generated clip (memory bound)
    python benchmarks/analyze_speed.py --json          # figures as one JSON object on the last line
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np

from camfind.analysis.frames import container_fps, iter_frames
from camfind.analysis.models import get_models
from camfind.analysis.pipeline import analyze_clip
from camfind.analysis.settings import AnalysisSettings
from camfind.analysis.snapshots import SnapshotStore
from camfind.types import Camera, Clip

SIZE, FPS = (1280, 720), 25
#: Clips whose header frame rate is wrong (PETS: the avi says 10, seqinfo.ini says 7).
TRUE_FPS = {"pets09_s2l1_view001_480x360.avi": 7.0}


class RssSampler:
    """Peak resident set size of this process while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> RssSampler:
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def street_frames(seconds: float, seed: int = 0) -> Iterator[np.ndarray]:
    """A drawn street with plated motorbikes and pedestrians crossing, at 1280x720 and 25 fps."""
    from camfind.sample.cast import looks
    from camfind.sample.street import StreetStyle, draw_street

    rng = np.random.default_rng(seed)
    street = draw_street(StreetStyle(signs=("PHỞ 24", "NHÀ THUỐC", "TẠP HÓA")), SIZE, rng)
    cast = looks()
    lanes = {"near": int(SIZE[1] * 0.845), "far": int(SIZE[1] * 0.68), "walk": SIZE[1] + 60}
    movers = []  # (start time, subject, direction)
    subjects = ("V1", "P1", "V2", "P2")
    for k, t0 in enumerate(np.arange(0.5, seconds - 3.0, 3.5)):
        movers.append((float(t0), subjects[k % 4], 1 if k % 3 else -1))
    noise = [np.clip(street.astype(np.float32) + rng.standard_normal(street.shape, dtype=np.float32) * 2.5,
                     0, 255).astype(np.uint8) for _ in range(3)]
    for i in range(int(seconds * FPS)):
        t = i / FPS
        frame = noise[i % 3].copy()
        for t0, who, direction in movers:
            look = cast[who]
            sprite = look.right if direction > 0 else look.left
            w, h = sprite.size
            travelled = look.speed_px_s * (t - t0)
            x = int(-w + travelled) if direction > 0 else int(SIZE[0] - travelled)
            if t >= t0 and -w < x < SIZE[0]:
                _paste(frame, sprite.image, sprite.alpha, x, lanes[look.bottom] - h)
        yield frame


def _paste(frame: np.ndarray, image: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    h, w = image.shape[:2]
    x1, y1, x2, y2 = max(0, x), max(0, y), min(frame.shape[1], x + w), min(frame.shape[0], y + h)
    if x2 <= x1 or y2 <= y1:
        return
    a = alpha[y1 - y:y2 - y, x1 - x:x2 - x, None]
    roi = frame[y1:y2, x1:x2].astype(np.float32)
    frame[y1:y2, x1:x2] = (roi + (image[y1 - y:y2 - y, x1 - x:x2 - x] - roi) * a).astype(np.uint8)


def write_street(path: Path, seconds: float) -> Path:
    """Encode the generated street as H.264 mp4 (a key frame every 2 s, like a DVR)."""
    import av

    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "26", "x264-params": f"keyint={2 * FPS}"}
        for n, image in enumerate(street_frames(seconds)):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def clip_of(path: Path, clip_id: int) -> Clip:
    fps = TRUE_FPS.get(path.name) or container_fps(path)
    frames = _count(path)
    start = datetime(2024, 1, 25, 3, tzinfo=UTC)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return Clip("BENCH", str(path), sha, path.stat().st_size, start, start, "cli", 0.0, frames / fps, fps,
                frames, 0, 0, "", path.suffix[1:], id=clip_id)


def _count(path: Path) -> int:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.grab():
        n += 1
    cap.release()
    return n


def measure(clip: Clip, settings: AnalysisSettings, snapshots: Path, trace: bool) -> dict[str, object]:
    models = get_models(settings)
    t0 = time.perf_counter()
    n = sum(1 for _ in iter_frames(clip.path, rate_fps=settings.rate_fps, fps_override=clip.fps))
    decode_s = time.perf_counter() - t0
    camera = Camera("BENCH", 10.77, 106.70, heading_deg=0.0)
    store = SnapshotStore(snapshots, clip.sha256, clip.id or 0)
    cpu0 = time.process_time()
    with RssSampler() as rss:
        result, stats = analyze_clip(clip, camera, models=models, settings=settings, store=store)
    cpu_s = time.process_time() - cpu0
    store.discard()
    row: dict[str, object] = {
        "clip": Path(clip.path).name, "video_s": round(clip.duration_s, 1), "fps": round(clip.fps, 2),
        "size": _size(clip.path), "frames_analysed": n, "detector_frames": stats.detected_frames,
        "decode_s": round(decode_s, 2), "decode_x": round(clip.duration_s / decode_s, 1),
        "analysis_s": round(stats.seconds, 2), "analysis_x": round(stats.speed, 2),
        "cpu_s": round(cpu_s, 2), "cpu_x_2cores": round(2 * clip.duration_s / cpu_s, 2),
        "tracks": len(result.tracks), "plates": sorted({t.plate.text for t in result.tracks if t.plate}),
        "faces": len(result.faces), "peak_rss_mb": round(rss.peak / 2**20, 1),
    }
    if trace:
        tracemalloc.start()
        store = SnapshotStore(snapshots, clip.sha256, clip.id or 0)
        analyze_clip(clip, camera, models=models, settings=settings, store=store)
        store.discard()
        row["python_heap_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    return row


def _size(path: str) -> str:
    import cv2

    cap = cv2.VideoCapture(path)
    size = f"{int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))}x{int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))}"
    cap.release()
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the generated street clip")
    parser.add_argument("--rate", type=float, default=AnalysisSettings().rate_fps, help="analysis rate")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the Python-heap peak")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on the last line")
    parser.add_argument("--only-generated", action="store_true", help="skip the real clips")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    settings = AnalysisSettings(rate_fps=args.rate)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        street = write_street(work / "street_720p25.mp4", args.seconds)
        print(f"generated {street.name} ({args.seconds:.0f} s) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        clips = [street]
        real = os.environ.get("CAMFIND_REALDATA")
        if real and not args.only_generated:
            clips = sorted(p for p in (Path(real) / "video").iterdir() if p.suffix in (".mp4", ".avi")) + clips
        elif not real:
            print("CAMFIND_REALDATA is not set: real clips skipped", file=sys.stderr)
        t0 = time.perf_counter()
        get_models(settings)
        load_s = time.perf_counter() - t0
        rows = [measure(clip_of(p, i + 1), settings, work / "snaps", args.tracemalloc) for i, p in enumerate(clips)]
    report = {"cpu_count": os.cpu_count(), "load_avg": os.getloadavg(), "model_load_s": round(load_s, 2),
              "settings": vars(settings), "clips": rows,
              "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    _print(report)
    if args.json:
        print(json.dumps(report))


def _print(report: dict[str, object]) -> None:
    print(f"models loaded once in {report['model_load_s']} s; {report['cpu_count']} cores, "
          f"load average {tuple(round(x, 1) for x in report['load_avg'])}")  # type: ignore[union-attr]
    head = ("clip", "size", "fps", "video_s", "decode_x", "analysis_x", "cpu_x_2cores", "tracks", "faces",
            "peak_rss_mb")
    print("  ".join(f"{h:>12}" for h in head) + "  plates")
    for row in report["clips"]:  # type: ignore[attr-defined]
        cells = [str(row[h])[:28] for h in head]
        print("  ".join(f"{c:>12}" for c in cells) + "  " + ", ".join(row["plates"]))
    print(f"process peak RSS (getrusage): {report['ru_maxrss_mb']} MB")


if __name__ == "__main__":
    main()
