"""Registration throughput: `camfind ingest --no-analyze` beside `sha256sum` on the same files.

Generates a few GB of valid H.264 MP4 clips (one clip encoded with PyAV, then copied with a
unique title in its metadata, so every copy is a valid video with its own SHA-256), then times,
in the same run and twice each (alternating order):

- ``sha256sum FILES`` (coreutils, one process), and ``openssl dgst -sha256 FILES`` where present
  (OpenSSL uses the CPU's SHA instructions, as Python's hashlib does; coreutils 9.1 does not);
- ``python -m camfind ingest DIR --no-analyze`` into a fresh index (hash + probe + register).

The page cache cannot be dropped here, so the files are in memory for every run: the figures
are warm-cache throughput, which is what the CPU side of registration costs. Prints a table and
a final JSON line.

Usage: python benchmarks/register.py [--size-gb 2] [--workdir benchmarks/out/register]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np

MARK = b"camfind-bench-00000000"


def make_template(path: Path, frames: int = 250, qp: int = 12) -> None:
    """One 720p H.264 clip of busy noise (large and fast to encode), titled with MARK."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    with av.open(str(path), "w") as out:
        out.metadata["title"] = MARK.decode()
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": str(qp)}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(base, i * 7, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def make_clips(folder: Path, total_bytes: int) -> list[Path]:
    """Copies of the template, each with a different title (same length), until ``total_bytes``."""
    folder.mkdir(parents=True, exist_ok=True)
    template = folder.parent / "template.mp4"
    if not template.exists():
        make_template(template)
    data = template.read_bytes()
    at = data.find(MARK)
    if at < 0:
        raise SystemExit("template has no title mark")
    n = max(1, round(total_bytes / len(data)))
    clips = []
    for i in range(n):
        path = folder / f"ch01_20240125{10 + i // 60:02d}{i % 60:02d}00.mp4"
        if not path.exists() or path.stat().st_size != len(data):
            mark = f"camfind-bench-{i:08d}".encode()
            path.write_bytes(data[:at] + mark + data[at + len(mark):])
        clips.append(path)
    return clips


def time_hasher(command: list[str], clips: list[Path]) -> float:
    t = time.perf_counter()
    subprocess.run([*command, *map(str, clips)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def time_ingest(workdir: Path, clips_dir: Path, run: int) -> tuple[float, dict[str, object]]:
    db = workdir / f"bench-{run}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "CAMFIND_DB": str(db)}
    cams = workdir / "cameras.csv"
    cams.write_text("id,lat,lon\nBENCH01,10.77,106.70\n")
    camfind = [sys.executable, "-m", "camfind"]
    subprocess.run([*camfind, "cameras", "import", str(cams)], check=True, env=env, stdout=subprocess.DEVNULL)
    t = time.perf_counter()
    done = subprocess.run([*camfind, "ingest", str(clips_dir), "--no-analyze", "--json"], check=True, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    return elapsed, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-gb", type=float, default=2.0, help="total size of generated clips (GB)")
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out/register"))
    parser.add_argument("--keep", action="store_true", help="keep the generated clips")
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        raise SystemExit("sha256sum (coreutils) is needed for the comparison")
    clips_dir = args.workdir / "BENCH01"
    t = time.perf_counter()
    clips = make_clips(clips_dir, int(args.size_gb * 1e9))
    total = sum(p.stat().st_size for p in clips)
    print(f"{len(clips)} clips, {total / 1e9:.2f} GB generated in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    hashers = {"sha256sum": ["sha256sum"]}
    if shutil.which("openssl"):
        hashers["openssl"] = ["openssl", "dgst", "-sha256"]
    results: dict[str, list[float]] = {k: [] for k in [*hashers, "camfind", "camfind_in_process"]}
    for run in (1, 2):
        order = [*hashers, "camfind"] if run == 1 else ["camfind", *reversed(hashers)]
        for tool in order:
            if tool in hashers:
                results[tool].append(total / 1e6 / time_hasher(hashers[tool], clips))
            else:
                elapsed, summary = time_ingest(args.workdir, clips_dir, run)
                if summary["ingested"] != len(clips) or summary["failed"]:
                    raise SystemExit(f"ingest did not register every clip: {summary}")
                results["camfind"].append(total / 1e6 / elapsed)
                results["camfind_in_process"].append(total / 1e6 / float(summary["seconds"]))  # type: ignore[arg-type]

    print(f"\n{'tool':<40}{'run 1 MB/s':>12}{'run 2 MB/s':>12}")
    labels = {"sha256sum": "sha256sum (coreutils)", "openssl": "openssl dgst -sha256 (SHA-NI)",
              "camfind": "camfind ingest --no-analyze", "camfind_in_process": "  of which registration (no start-up)"}
    for key, label in labels.items():
        if key not in results:
            continue
        print(f"{label:<40}{results[key][0]:>12.0f}{results[key][1]:>12.0f}")
    best = {k: max(v) for k, v in results.items()}
    ratios = [c / h for c, h in zip(results["camfind"], results["sha256sum"], strict=True)]
    print(f"\ncamfind / sha256sum, same run (warm page cache): {ratios[0]:.2f}x, {ratios[1]:.2f}x; "
          f"best of each: {best['camfind'] / best['sha256sum']:.2f}x")
    if "openssl" in best:
        print(f"camfind / openssl (the hash alone, SHA-NI), best of each: {best['camfind'] / best['openssl']:.2f}x")
    print(json.dumps({"benchmark": "register", "files": len(clips), "bytes": total,
                      "sha256sum_mb_s": [round(v, 1) for v in results["sha256sum"]],
                      "camfind_mb_s": [round(v, 1) for v in results["camfind"]],
                      "camfind_registration_mb_s": [round(v, 1) for v in results["camfind_in_process"]],
                      "openssl_mb_s": [round(v, 1) for v in results.get("openssl", [])],
                      "ratio_per_run": [round(r, 3) for r in ratios], "ratio_min": round(min(ratios), 3),
                      "cache": "warm", "load_avg": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}))
    if not args.keep:
        shutil.rmtree(clips_dir)


if __name__ == "__main__":
    main()
