"""End-to-end analysis speed as a user sees it: one `camfind ingest` per data set, with a per-stage breakdown.

Each data set is ingested by a fresh ``python -m camfind``-equivalent process (interpreter start,
imports and model load included) with analysis on and default settings, exactly as
``camfind --db case.db ingest FOLDER`` runs it. The parent measures the child from outside: wall
clock, CPU seconds (user + system, all threads) and peak resident memory (``wait4``). Inside the
child, thin timers wrap the stages (wall and thread-CPU seconds and call counts): decode, motion
gate, detector (whole frame and zoomed crops), tracker, colour, plate finding (text detection),
OCR (line recognition), faces (detection, encoding), snapshots, index writes, registration
(hashing), model load, linking/assembly. Timers nest (``detector`` includes the crops
``detector.zoom`` runs; ``enrich`` includes colour, plates, faces and their snapshots); their
overhead is a few microseconds a call.

Data sets:
- ``vn``: the clips of ``$CAMFIND_REALDATA/vn/video`` in ONE ingest, one camera per clip (folders
  named by camera id); afterwards ``search --json`` is run and the legible plates of
  ``vn/labels.json`` it surfaces are counted (letters and digits compared).
- ``street``: ``$CAMFIND_REALDATA/video/street_pedestrians_640x360.mp4`` upscaled to 1280x720 and
  looped to ``--seconds`` (60) at 25 fps (H.264, written with PyAV into a temporary folder).

``x_real`` is seconds of video per wall-clock second; ``cpu_x_2cores`` is seconds of video per
CPU second times two: what two otherwise idle cores would reach (compare this one when the
machine is shared; the load average is reported beside it).

Trade-offs measured with it before the SSD's classes were pruned (VN clips unless said; CPU
seconds, the machine shared):
- OpenCV's pool at 1 thread (``CAMFIND_BENCH_CV_THREADS=1``): 42.3 CPU s against 44.3, but wall
  46.9 s against 39.1 s at the same load: the second DNN thread uses the core enrichment leaves.
- Analysis rate 3 fps (``CAMFIND_BENCH_RATE=3``): 38.7 CPU s, 283 detector passes against 360,
  the same 14/18 plates; not the default (fewer looks at fast vehicles everywhere else).
- ``--workers 2``: 52.7 CPU s (models loaded twice, no shared cores) and two ~0.95 GB processes.
- Detector every third frame while tracks are followed: PETS recall 0.861 -> 0.826, IDF1
  0.648 -> 0.564; blobs the last pass saw treated as followed: recall -> 0.778; only still blobs
  (IoU 0.6): IDF1 -> 0.584; zoom only on blobs under 60 px at the SSD's scale: IDF1 -> 0.609.
- Zoom crops batched into one forward: no saving per image (OpenCV DNN, batch 2 or 3).

Two enrichment threads (``stages.ENRICH_THREADS``, kept), measured side by side with the one
thread before (VN clips, idle machine, runs alternated): 57.1 and 56.5 s wall (1.53x) against
53.8 and 49.4 s (1.62-1.76x; 44-49 s in other runs), 80 -> 84-88 CPU s (two OCR passes share the
cores' caches), peak RSS 1.03-1.05 -> 1.07-1.10 GB, the same 17/18 plates; street 60 s: 29.8 s
(2.02x). A per-thread CPU timeline (``/proc/PID/task``, every 0.5 s) showed why: with one thread
it was busy throughout while the detector stood still for most of 15-35 s, blocked on the full
enrichment queue. Text-detection passes over 0.4 Mpx take turns (two at once held two arenas:
1.22 GB with them side by side). Rejected with it: OpenCV's pool at 1 thread (51-53 s, no better);
glibc's mmap threshold at 64 MB (2.25M -> 1.97M minor page faults, system time 10.6 -> 9.8 s,
peak 1.41 GB); a top pad of 64 MB (system time 14.5 s). Of ~10 s system time most is page
faults after the arena is given back; keeping it costs the peak the bound was made for. The
arena given back (and large passes taking turns) from 0.2 Mpx instead of 0.4: peak 1.00-1.06 GB
against 1.07-1.16 GB, but 45.1-45.7 s wall against 40.2-42.6 s: not taken. Fragments waiting
for enrichment per clip (``pipeline.PENDING``, 8): 4: 39.8-41.8 s, 1.08-1.10 GB; 16: 39.6 s,
1.19 GB: within the runs' spread, kept at 8.
Text-detection scale of vehicle crops (whole-crop pass at min(1280, max(L, min(2L, K))), L the
crop's long side; replay of 211 ``Enricher._read`` inputs, 58 valid reads, 31.0 thread-CPU s):
K 960: 28.8 s, 4 reads changed (3 misreads); K 800: 25.7 s, 2 reads lost (30-H 908.72,
89A-078.59): not taken. Of those 31 s the finder's detector passes are 20.1 s, its quick line
readings 4.1 s, the reading of each candidate 8.4 s (recognition 6.3 s).

A guided second read (a view's later crops searched first where its plate was in the box):
5 of 177 crop reads would have been guided (most fragments are read from one crop; the reads
after a valid one are few), 0.3 s: not kept. Of the 177 crop reads, 172 first reads cost 22.9 s
and gave 41 valid reads; the 38 sweeps 9.4 s and 15.

Text-detector model and crop gates, weighed on the 212 ``Enricher._read`` inputs of one VN ingest
(58 valid reads, 45 process-CPU s to read them again):
- PP-OCRv4 detection quantised to int8 (onnxruntime static QDQ, MinMax calibration on a sixth of
  the inputs, this CPU has AVX-512 VNNI): every op quantised, 640 px passes 110 -> 60 ms but the
  probability map saturates (0 valid reads); convolutions only, the DB head kept in float: 110 ->
  97 ms, 960 px 241 -> 203 ms, yet 1-12% of the map's pixels flip at the 0.3 threshold on small
  crops: not taken.
- Each hard-swish the exporter wrote as Add-Clip-Mul-Div fused into one HardSwish (the same
  numbers to 1e-8): 640 px 142 -> 119 ms, 960 px 305 -> 291 ms, a few CPU s of the ~90 for a new
  dependency (``onnx``) to rewrite the graph: not taken.
- Skipping crops with no plate-like area (``color.plate_boxes``: a bright rectangle with dark
  writing): 76 of the 136 crops that read nothing would be skipped, but 16 of the 38 that read
  a plate as well: not taken.
- Motorbikes coming towards the camera (box growing: their front, and Vietnamese motorbikes carry
  only a rear plate): 10 of 174 crop reads: not worth a rule.

Measured with the buffered-IoU tracker (``benchmarks/realdata_vn.py``, PETS test):
- Frames decoded at twice the rate and those between analysed while a tracked object moves half
  its width a period or more (motorbikes close to a 360p camera): c07 3 -> 5 motorcycle tracks,
  direction 34 -> 39 of 68, but VN 1.04x real time, 16/18 plates (81-AA 048.92 lost), sightings
  inflated by fragments (c09 43 -> 78) and PETS ids 26 -> 34: not taken.
- MOG2's shadow pixels counted as motion (dark motorbikes on grey asphalt are labelled shadow
  as often as foreground): PETS recall 0.877 -> 0.834, IDF1 0.729 -> 0.637, 16/18 plates, 1.27x:
  not taken.
- MOG2's shadow pixels counted for the gate's verdict only (kept): the school-road camera
  (vn/c07) took 21 of its 79 analysed frames for still while dark motorbikes passed (its
  foreground under 0.1% of the frame, its "shadow" 0.4-0.7%) and ran the detector on 68; now 1
  and 73. VN: 570 -> 575 detector passes, the
  same 17/18 plates, direction 34 -> 35/68, c07 motorcycle sightings 3 -> 4; street 425 passes
  as before; PETS unchanged (IDF1 0.729). Blobs of foreground and shadow together as zoom
  crops (only where foreground blobs leave one of the two crops free): c07 motorcycle
  sightings 4 -> 7, c04 8 -> 9, the same plates, but PETS IDF1 0.729 -> 0.637 (ids 26 -> 31):
  not taken. Given both crops, it also cost a plate on the basement clip (E1 84-B1 362.17).
- One frame in three detected while tracks are followed: PETS IDF1 0.729 -> 0.546; ByteTrack's
  high-score threshold 0.6 -> 0.45: IDF1 0.690, c07 unchanged: not taken.

``CAMFIND_BENCH_SET=module.CONSTANT=json,...`` sets module constants in the child before the
ingest (a trade-off to weigh, e.g. ``camfind.analysis.riders.LOOKS_PER_FRAME=1``). Measured with
it (the machine shared, load 2-4): second looks at 1 a frame instead of 2: 207 -> 133 zoomed
passes on the VN clips (6.6 -> 4.5 CPU s), 199 -> 143 on the street (6.4 -> 5.4 CPU s), the same
16/18 plates, 16/16 carrier classes, PETS unchanged (recall 0.864, IDF1 0.660), one direction
match fewer (17/68 against 18/68): not the default for about 4% of the CPU. Their memory held 4 s
instead of 2 s: 198 passes, no saving.

Plate-finder trade-offs, weighed on the 207 inputs of ``Enricher._read`` (169 vehicle crops, 38
frame sweeps) saved from one VN ingest and read again (thread-CPU seconds, the machine shared,
load 2-9; 49 valid reads with the defaults):
- upscale capped at 1.5x (``platefind.MAX_UPSCALE``, 2.0): crops 17.4 -> 14.7 s, sweeps 8.3 ->
  7.4 s, one read changed (47-B2 299.21 read 17-B2 299.21); at 1.0x: 11.2 s and 6.8 s, five
  reads lost (59-KA 191.66, 30-H 908.72 twice, 89A-078.59, 47-B2 299.21): not taken.
- narrower recogniser input (``ocr_rapid.MIN_REC_WIDTH`` 192 or 96 instead of 320): 4-5 reads
  lost, no saving at 192.
- text-detector passes tiled at 960 or 800 px (same scale): OCR peak 694 -> 455 / 418 MB, but
  10-25% more CPU and 4 reads lost: not taken.
- no plate search in crops under 240 px wide: 104 of the 169 crops (none gave a read), but only
  1.7 of 19.7 CPU s: not worth a missed plate elsewhere.
- sweeping less often (``plategroups.SWEEP_S``): the 31 blob sweeps cost 2.3 s; the 7 whole-frame
  first sweeps cost 6.3 s and gave 8 valid reads.
- recognition in chunks of 4 line widths (``ocr_rapid.REC_BATCH``, kept): the same 49 reads,
  OCR peak 760 -> 694 MB, no more CPU (a batch of 96 wide lines took 2 GB).
- onnxruntime without its arena: a 1280x1280 detection 1.05 s against 0.58 s and a higher peak;
  arena given back after every pass with a fixed glibc mmap threshold: OCR peak 440 MB but 23%
  more CPU (a whole ingest: peak 895 MB, system time 7 -> 30 s). Kept: the arena given back
  after passes over 0.4 Mpx and glibc's malloc arenas capped at 2 (ingest peak 1.16-1.20 GB ->
  0.98-1.06 GB over runs, the same CPU).

Usage:
    CAMFIND_REALDATA=../shared/realdata python benchmarks/profile_stages.py            # both sets
    CAMFIND_REALDATA=../shared/realdata python benchmarks/profile_stages.py --only vn --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STREET_SRC = "street_pedestrians_640x360.mp4"
STREET_SIZE, STREET_FPS = (1280, 720), 25

# ---------------------------------------------------------------------------------------------
# child side: stage timers around the real code, then the CLI itself


class _Timers:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stages: dict[str, list[float]] = {}
        self.missing: list[str] = []

    def add(self, name: str, wall: float, cpu: float) -> None:
        with self.lock:
            row = self.stages.setdefault(name, [0.0, 0.0, 0])
            row[0] += wall
            row[1] += cpu
            row[2] += 1

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - t0, time.thread_time() - c0)

        return timed

    def wrap_gen(self, name: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            t0, c0 = time.perf_counter(), time.thread_time()
            gen = fn(*args, **kwargs)
            self.add(name + ".open", time.perf_counter() - t0, time.thread_time() - c0)
            while True:
                t0, c0 = time.perf_counter(), time.thread_time()
                try:
                    item = next(gen)
                except StopIteration:
                    return
                finally:
                    self.add(name, time.perf_counter() - t0, time.thread_time() - c0)
                yield item

        return timed


#: (stage, module, attribute path, generator?) wrapped in the child when they exist.
PATCHES: list[tuple[str, str, str, bool]] = [
    ("register", "camfind.ingest", "ingest_paths", False),
    ("model_load.detector", "camfind.analysis.models", "_load_detector", False),
    ("model_load.rest", "camfind.analysis.models", "_load", False),
    ("models.describe", "camfind.analysis.models", "Models.describe", False),
    ("analyze_clip", "camfind.analysis.pipeline", "analyze_clip", False),
    ("decode", "camfind.analysis.pipeline", "iter_frames", True),
    ("motion", "camfind.analysis.motion", "MotionGate.update", False),
    ("detector", "camfind.analysis.detect.ssd", "SsdDetector.detect", False),
    ("detector.zoom", "camfind.analysis.pipeline", "detect_regions", False),
    ("second_look", "camfind.analysis.riders", "SecondLook.__call__", False),
    ("second_look.detector", "camfind.analysis.pipeline", "detect_in_regions", False),
    ("overlay_learn", "camfind.analysis.overlay", "learn_overlays", False),
    ("tracker", "camfind.analysis.tracking", "Tracker.update", False),
    ("enrich", "camfind.analysis.enrich", "Enricher.__call__", False),
    ("enrich.wait_at_clip_end", "camfind.analysis.stages", "Behind.results", False),
    ("colour", "camfind.analysis.enrich", "box_votes", False),
    ("plates", "camfind.analysis.enrich", "Enricher._plates", False),
    ("plate_sweep", "camfind.analysis.enrich", "Enricher.sweep", False),
    ("plates_in_frame", "camfind.recognition.platefind", "read_plates_in_frame", False),
    ("plate_find", "camfind.recognition.ocr_rapid", "RapidOcrBackend.detect", False),
    ("ocr", "camfind.recognition.ocr_rapid", "RapidOcrBackend.recognize", False),
    ("faces", "camfind.analysis.enrich", "Enricher._faces", False),
    ("faces.engine", "camfind.recognition.faces", "FaceEngine.faces", False),
    ("faces.detect", "camfind.recognition.face_detectors", "YuNetDetector.detect", False),
    ("faces.encode", "camfind.recognition.faces", "FaceEngine._gate_and_encode", False),
    ("snapshots", "camfind.analysis.snapshots", "SnapshotStore.save", False),
    ("snapshots.place", "camfind.analysis.snapshots", "SnapshotStore.place", False),
    ("assemble", "camfind.analysis.pipeline", "_assemble", False),
    ("index_writes", "camfind.index.writer", "Writer.write_analysis", False),
    ("index_writes.run", "camfind.index.writer", "Writer.begin_run", False),
]


def _install(timers: _Timers) -> None:
    import importlib

    for stage, module, attr, gen in PATCHES:
        try:
            owner: Any = importlib.import_module(module)
        except ImportError:
            timers.missing.append(f"{module}.{attr}")
            continue
        *parents, name = attr.split(".")
        for p in parents:
            owner = getattr(owner, p, None)
        fn = getattr(owner, name, None) if owner is not None else None
        if fn is None:
            timers.missing.append(f"{module}.{attr}")
            continue
        setattr(owner, name, (timers.wrap_gen if gen else timers.wrap)(stage, fn))
        if module == "camfind.ingest":  # also where its defining module is looked up
            reg = importlib.import_module("camfind.ingest.register")
            setattr(reg, name, getattr(owner, name))


def child(out: str, argv: list[str]) -> None:
    """Run the CLI with ``argv`` under stage timers; write the breakdown to ``out``."""
    t0 = time.perf_counter()
    sys.path.insert(0, str(REPO))
    timers = _Timers()
    import camfind.cli

    imports_s = time.perf_counter() - t0
    if os.environ.get("CAMFIND_BENCH_CV_THREADS"):  # a trade-off to weigh: OpenCV's pool size
        import cv2

        cv2.setNumThreads(int(os.environ["CAMFIND_BENCH_CV_THREADS"]))
    if os.environ.get("CAMFIND_BENCH_RATE"):  # a trade-off to weigh: the analysis rate
        import camfind.workflow

        plain = camfind.workflow.analysis_settings
        rate = float(os.environ["CAMFIND_BENCH_RATE"])
        camfind.workflow.analysis_settings = lambda **kw: plain(**kw, rate_fps=rate)
    for item in filter(None, os.environ.get("CAMFIND_BENCH_SET", "").split(",")):  # constants to weigh
        import importlib

        target, value = item.split("=", 1)
        module, attr = target.rsplit(".", 1)
        setattr(importlib.import_module(module), attr, json.loads(value))
    _install(timers)
    sys.argv = ["camfind", *argv]
    code = 0
    try:
        camfind.cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    finally:
        stages = {k: {"wall_s": round(v[0], 3), "cpu_s": round(v[1], 3), "calls": int(v[2])}
                  for k, v in sorted(timers.stages.items())}
        Path(out).write_text(json.dumps({"imports_s": round(imports_s, 3), "stages": stages,
                                         "missing": timers.missing, "exit": code}))
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# parent side: data sets, one measured child per ingest, plates surfaced


def _run_measured(cmd: list[str], cwd: Path) -> tuple[int, float, float, float]:
    """(exit code, wall s, CPU s, peak RSS MB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_err: list[bytes] = []
    readers = [threading.Thread(target=lambda s=s: out_err.append(s.read())) for s in (proc.stdout, proc.stderr)]
    for r in readers:
        r.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(b"".join(out_err).decode(errors="replace")[-3000:])
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _camfind(db: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "camfind", "--db", str(db), *args]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _duration(path: Path) -> float:
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    n = 0
    while cap.grab():
        n += 1
    cap.release()
    return n / fps if fps else 0.0


def make_street(src: Path, dst: Path, seconds: float) -> Path:
    """``src`` upscaled to 1280x720 and looped to ``seconds`` at 25 fps (H.264, key frame every 2 s)."""
    import av
    import cv2

    frames: list[Any] = []
    cap = cv2.VideoCapture(str(src))
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    if not frames:
        raise SystemExit(f"{src}: no frames")
    with av.open(str(dst), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=STREET_FPS)
        stream.width, stream.height, stream.pix_fmt = STREET_SIZE[0], STREET_SIZE[1], "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "x264-params": f"keyint={2 * STREET_FPS}"}
        for n in range(int(seconds * STREET_FPS)):
            k = n % (2 * len(frames) - 2) if len(frames) > 1 else 0  # ping-pong: no jump at the loop
            img = frames[k if k < len(frames) else 2 * len(frames) - 2 - k]
            big = cv2.resize(img, STREET_SIZE, interpolation=cv2.INTER_CUBIC)
            frame = av.VideoFrame.from_ndarray(big, format="bgr24")
            frame.pts, frame.time_base = n, Fraction(1, STREET_FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return dst


def _manifest(folder: Path, name: str, camera: str, i: int) -> None:
    """A ``manifest.csv`` giving the clip its DVR start time (most real exports carry none)."""
    (folder / "manifest.csv").write_text(f"file,start,camera_id\n{name},2024-01-25 10:{i:02d}:00,{camera}\n")


def _set_vn(real: Path, work: Path) -> tuple[Path, Path, list[Path]]:
    folder, cams = work / "vn", work / "vn_cameras.csv"
    rows = ["id,lat,lon"]
    clips = sorted(p for p in (real / "vn" / "video").iterdir() if p.suffix in (".mp4", ".avi"))
    for i, clip in enumerate(clips):
        cam = clip.name.split("_")[0]
        (folder / cam).mkdir(parents=True)
        (folder / cam / clip.name).symlink_to(clip)
        _manifest(folder / cam, clip.name, cam, i)
        rows.append(f"{cam},{21.02 + i * 0.001:.4f},{105.85 + i * 0.001:.4f}")
    cams.write_text("\n".join(rows) + "\n")
    return folder, cams, clips


def _set_street(real: Path, work: Path, seconds: float) -> tuple[Path, Path, list[Path]]:
    folder, cams = work / "street", work / "street_cameras.csv"
    (folder / "STREET").mkdir(parents=True)
    clip = make_street(real / "video" / STREET_SRC, folder / "STREET" / "street_720p25.mp4", seconds)
    _manifest(folder / "STREET", clip.name, "STREET", 0)
    cams.write_text("id,lat,lon\nSTREET,10.77,106.70\n")
    return folder, cams, [clip]


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def plates_surfaced(real: Path, db: Path) -> dict[str, Any]:
    """Legible clip plates of labels.json that ``search --json`` shows on the right camera."""
    labels = json.loads((real / "vn" / "labels.json").read_text())["items"]
    rows = json.loads(_camfind(db, "search", "--json") or "[]")
    shown: dict[str, set[str]] = {}
    for r in rows:
        if r.get("plate"):
            shown.setdefault(str(r["camera_id"]), set()).add(_alnum(str(r["plate"])))
    legible, found = [], []
    for item in labels:
        if item.get("kind") != "clip":
            continue
        cam = Path(item["file"]).name.split("_")[0]
        for obj in item.get("objects", []):
            plate = obj.get("plate")
            if not plate or str(plate).startswith("partial"):
                continue
            legible.append(plate)
            if _alnum(plate) in shown.get(cam, set()):
                found.append(plate)
    return {"legible": len(legible), "surfaced": len(found), "found": sorted(found),
            "plates_shown": sum(len(v) for v in shown.values())}


def run_set(name: str, work: Path, real: Path, seconds: float, workers: int) -> dict[str, Any]:
    if name == "vn":
        folder, cams, clips = _set_vn(real, work)
    else:
        folder, cams, clips = _set_street(real, work, seconds)
    video_s = sum(_duration(c) for c in clips)
    db = work / f"{name}.db"
    _camfind(db, "cameras", "import", str(cams))
    breakdown = work / f"{name}_stages.json"
    argv = ["--db", str(db), "ingest", str(folder), "--json"] + (["--workers", str(workers)] if workers else [])
    load0 = os.getloadavg()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(breakdown), "--", *argv]
    code, wall, cpu, rss = _run_measured(cmd, REPO)
    row: dict[str, Any] = {
        "set": name, "clips": len(clips), "video_s": round(video_s, 1), "exit": code,
        "wall_s": round(wall, 2), "x_real": round(video_s / wall, 2), "cpu_s": round(cpu, 2),
        "cpu_x_2cores": round(2 * video_s / cpu, 2) if cpu else 0.0, "peak_rss_mb": round(rss, 1),
        "load_avg_before": [round(x, 2) for x in load0], "load_avg_after": [round(x, 2) for x in os.getloadavg()],
    }
    if breakdown.is_file():
        row.update(json.loads(breakdown.read_text()))
    if name == "vn" and code == 0:
        row["plates"] = plates_surfaced(real, db)
    return row


def _print(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(f"{row['set']}: {row['clips']} clip(s), {row['video_s']} s of video: wall {row['wall_s']} s "
              f"({row['x_real']}x real time), CPU {row['cpu_s']} s ({row['cpu_x_2cores']}x on 2 idle cores), "
              f"peak RSS {row['peak_rss_mb']} MB, load {row['load_avg_before']}")
        if "plates" in row:
            p = row["plates"]
            print(f"  plates surfaced by search: {p['surfaced']} of {p['legible']} legible")
        print(f"  {'stage':<22}{'wall_s':>9}{'cpu_s':>9}{'calls':>8}")
        print(f"  {'imports':<22}{row.get('imports_s', 0):>9}")
        for stage, v in row.get("stages", {}).items():
            print(f"  {stage:<22}{v['wall_s']:>9}{v['cpu_s']:>9}{v['calls']:>8}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[4:] if sys.argv[3:4] == ["--"] else sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("vn", "street"), help="one data set only")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the looped street clip")
    parser.add_argument("--workers", type=int, default=0, help="--workers for ingest (0: its default)")
    parser.add_argument("--json", action="store_true", help="the figures as one JSON object on the last line")
    args = parser.parse_args()
    real_env = os.environ.get("CAMFIND_REALDATA")
    if not real_env:
        raise SystemExit("set CAMFIND_REALDATA to the real-data folder (vn/ and video/)")
    real = Path(real_env).resolve()
    rows = []
    with tempfile.TemporaryDirectory(prefix="camfind-speed-") as tmp:
        for name in ([args.only] if args.only else ["vn", "street"]):
            rows.append(run_set(name, Path(tmp), real, args.seconds, args.workers))
    report = {"cpu_count": os.cpu_count(), "rows": rows}
    _print(rows)
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
