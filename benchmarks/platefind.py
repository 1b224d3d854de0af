"""Plate finders on the real Vietnamese frames and clips of $CAMFIND_REALDATA/vn.

Full frames (vn/images, labels.json): for each finder, and for the old path (one pass of text
detection over the frame, ``--finders scene``), the legible plates read / misread / missed, the
false reads and the time per image. A legible plate is one whose label is neither null nor
``partial: ...``. It is *read* when a reading has its letters and digits; *misread* when it is
not read but a reading lies within 3 edits of it; *missed* otherwise. A *false read* is a valid
reading that matches no labelled plate (legible or partial, ``?`` as any character) within 3 edits
(in clips: no plate labelled anywhere in the clip, as labelled times are approximate).

Clips (B and E1: every vehicle's plate and time range labelled): one frame every ``--step``
seconds; per frame, candidates found, legible plates in view read, false reads and milliseconds
(frame as decoded; E1 also scaled to 1280x720).

Timings are of this machine at the time (load average printed). Prints tables, then one JSON
object on the last line.

Usage: python benchmarks/platefind.py [--realdata DIR] [--finders scene,text,yolo] [--step 1.0]
       [--no-clips] [--no-images]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from camfind.recognition.platefind import load_plate_finder, read_plates_in_frame
from camfind.recognition.plates import OcrPlateReader, PlateReader, load_plate_reader
from camfind.recognition.vnplate import normalize
from camfind.types import PlateText

CLIPS = ("B", "E1")
EDITS = 3


def legible(label: str | None) -> str | None:
    """The label's letters and digits where it is fully legible, else None."""
    if not label or label.startswith("partial"):
        return None
    return normalize(re.sub(r"\(.*?\)", "", label))


def partial_pattern(label: str | None) -> re.Pattern[str] | None:
    if not label or not label.startswith("partial:"):
        return None
    body = label.split(":", 1)[1]
    body = re.sub(r"\(.*?\)", "", body)
    chars = "".join(ch for ch in body.upper() if ch.isalnum() or ch == "?")
    if not chars or not any(ch.isalnum() for ch in chars):
        return None
    return re.compile("".join("." if ch == "?" else re.escape(ch) for ch in chars))



def score(plates: list[PlateText], labels: list[str | None]) -> dict[str, Any]:
    """read / misread / missed of the legible labels, false reads among valid readings."""
    wanted = [n for n in (legible(lbl) for lbl in labels) if n]
    patterns = [p for p in (partial_pattern(lbl) for lbl in labels) if p]
    got = [p.norm for p in plates]
    read = [n for n in wanted if n in got]
    misread = [n for n in wanted if n not in got and any(Levenshtein.distance(n, g) <= EDITS for g in got)]
    missed = [n for n in wanted if n not in read and n not in misread]
    false = [
        p.text
        for p in plates
        if p.valid
        and not any(Levenshtein.distance(p.norm, n) <= EDITS for n in wanted)
        and not any(pat.fullmatch(p.norm) or edits_to_pattern(p.norm, pat) for pat in patterns)
    ]
    return {"legible": len(wanted), "read": read, "misread": misread, "missed": missed, "false": false}


def edits_to_pattern(norm: str, pattern: re.Pattern[str]) -> bool:
    """Within :data:`EDITS` edits of a partial label, its ``?`` matching any character."""
    src = pattern.pattern.replace("\\", "").replace(".", "?")
    prev = list(range(len(src) + 1))
    for i, ca in enumerate(norm, 1):
        cur = [i]
        for j, cb in enumerate(src, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (cb != "?" and ca != cb)))
        prev = cur
    return prev[-1] <= EDITS


def make_readers(names: list[str]) -> tuple[dict[str, Any], dict[str, float]]:
    """name -> callable(image) -> (plates, candidates), and each one's load time."""
    t0 = time.perf_counter()
    reader = load_plate_reader("rapidocr")
    loads = {"ocr": round(time.perf_counter() - t0, 2)}
    runs: dict[str, Any] = {}
    for name in names:
        if name == "scene":
            assert isinstance(reader, OcrPlateReader)
            runs[name] = _scene_run(reader)
            continue
        t0 = time.perf_counter()
        finder = load_plate_finder(name, reader)
        loads[name] = round(time.perf_counter() - t0, 2)
        runs[name] = _FinderRun(finder, reader)
    return runs, loads


def _scene_run(reader: OcrPlateReader) -> Any:
    def run(img: np.ndarray) -> tuple[list[PlateText], int, float | None]:
        plates = reader.read(img, crop_kind="scene")
        return plates, len(plates), None

    return run


class _FinderRun:
    """Finds (timed apart), then reads the candidates found."""

    def __init__(self, finder: Any, reader: PlateReader) -> None:
        self.finder = finder
        self.reader = reader

    def __call__(self, img: np.ndarray) -> tuple[list[PlateText], int, float | None]:
        t = time.perf_counter()
        cands = self.finder.find(img)
        find_ms = (time.perf_counter() - t) * 1000
        plates = read_plates_in_frame(img, finder=_Fixed(cands), reader=self.reader)
        return plates, len(cands), find_ms

    def time_find(self, img: np.ndarray, regions: list[Any]) -> float:
        t = time.perf_counter()
        self.finder.find(img, regions)
        return (time.perf_counter() - t) * 1000


class _Fixed:
    """A finder that returns candidates found already (so they are counted and read once)."""

    name = "fixed"

    def __init__(self, cands: list[Any]) -> None:
        self.cands = cands

    def find(self, image_bgr: np.ndarray, regions: Any = None) -> list[Any]:
        return self.cands


def images_benchmark(realdata: Path, items: list[dict[str, Any]], runs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, run in runs.items():
        rows = []
        for item in items:
            img = cv2.imread(str(realdata / "vn" / item["file"]))
            t = time.perf_counter()
            plates, ncand, find_ms = run(img)
            ms = (time.perf_counter() - t) * 1000
            s = score(plates, [o.get("plate") for o in item["objects"]])
            rows.append({"id": item["id"], "size": f"{img.shape[1]}x{img.shape[0]}", "candidates": ncand,
                         "ms": round(ms), "find_ms": None if find_ms is None else round(find_ms), **s,
                         "texts": [p.text for p in plates]})
        total = {k: sum(len(r[k]) for r in rows) for k in ("read", "misread", "missed", "false")}
        total["legible"] = sum(r["legible"] for r in rows)
        total["median_ms"] = round(statistics.median(r["ms"] for r in rows))
        total["mean_ms"] = round(statistics.mean(r["ms"] for r in rows))
        finds = [r["find_ms"] for r in rows if r["find_ms"] is not None]
        total["median_find_ms"] = round(statistics.median(finds)) if finds else None
        out[name] = {"total": total, "images": rows}
        print(f"\nfull frames, {name}: read {total['read']}/{total['legible']}, misread {total['misread']}, "
              f"missed {total['missed']}, false {total['false']}, median {total['median_ms']} ms/image "
              f"(finding {total['median_find_ms']})")
        for r in rows:
            print(f"  {r['id']:6} {r['size']:>10} cand {r['candidates']:3d} {r['ms']:6d} ms  read {len(r['read'])}/"
                  f"{r['legible']} misread {r['misread']} missed {r['missed']} false {r['false']}")
    return out


def clip_frames(path: Path, step: float) -> list[tuple[float, np.ndarray]]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    frames = []
    for k in range(int(n / fps / step) + 1):
        idx = int(round(k * step * fps))
        if idx >= n:
            break
        cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
        ok, frame = cap.read()
        if ok:
            frames.append((idx / fps, frame))
    cap.release()
    return frames


def clips_benchmark(realdata: Path, items: list[dict[str, Any]], runs: dict[str, Any], step: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        frames = clip_frames(realdata / "vn" / item["file"], step)
        sizes = [("native", None)]
        if frames and frames[0][1].shape[0] > 720:
            sizes.append(("720p", (1280, 720)))
        for size_name, size in sizes:
            for name, run in runs.items():
                key = f"{item['id']}/{size_name}/{name}"
                ms: list[float] = []
                find: list[float] = []
                region_find: list[float] = []
                cands: list[int] = []
                seen: set[str] = set()
                in_view: set[str] = set()
                per_frame_read = 0
                per_frame_legible = 0
                false: list[str] = []
                every = [o.get("plate") for o in item["objects"]]
                for t, frame in frames:
                    img = cv2.resize(frame, size, interpolation=cv2.INTER_AREA) if size else frame
                    labels = [o.get("plate") for o in item["objects"] if o["t"][0] <= t <= o["t"][1]]
                    t0 = time.perf_counter()
                    plates, ncand, find_ms = run(img)
                    ms.append((time.perf_counter() - t0) * 1000)
                    if find_ms is not None:
                        find.append(find_ms)
                        h, w = img.shape[:2]  # one moving region's cost: a box a third of the frame a side
                        region = [(w / 3, h / 3, 2 * w / 3, 2 * h / 3)]
                        region_find.append(run.time_find(img, region))
                    cands.append(ncand)
                    s = score(plates, labels)
                    s["false"] = score(plates, every)["false"]  # seen outside its labelled time: not false
                    per_frame_read += len(s["read"])
                    per_frame_legible += s["legible"]
                    seen.update(s["read"])
                    in_view.update(n for n in (legible(lbl) for lbl in labels) if n)
                    false.extend(f"{t:.1f}s {x}" for x in s["false"])
                out[key] = {
                    "frames": len(frames), "size": f"{img.shape[1]}x{img.shape[0]}",
                    "median_ms": round(statistics.median(ms)),
                    "median_find_ms": round(statistics.median(find)) if find else None,
                    "median_region_find_ms": round(statistics.median(region_find)) if region_find else None,
                    "mean_candidates": round(float(np.mean(cands)), 1),
                    "plates_read_per_frame": f"{per_frame_read}/{per_frame_legible}",
                    "distinct_plates_read": f"{len(seen)}/{len(in_view)}", "false": false,
                }  # fmt: skip
                r = out[key]
                print(f"clip {key:22} {r['size']:>9} {r['frames']:3d} frames, {r['median_ms']:6d} ms/frame "
                      f"(finding {r['median_find_ms']}, in a 1/3 region {r['median_region_find_ms']}), "
                      f"cand {r['mean_candidates']:5}, read per frame {r['plates_read_per_frame']}, "
                      f"distinct {r['distinct_plates_read']}, false {len(false)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", default=os.environ.get("CAMFIND_REALDATA", "../shared/realdata"))
    parser.add_argument("--finders", default="scene,text,yolo")
    parser.add_argument("--step", type=float, default=1.0, help="seconds between clip frames")
    parser.add_argument("--only", default="", help="comma-separated item ids (quick runs)")
    parser.add_argument("--no-clips", action="store_true")
    parser.add_argument("--no-images", action="store_true")
    args = parser.parse_args(argv)
    realdata = Path(args.realdata)
    labels_path = realdata / "vn" / "labels.json"
    if not labels_path.is_file():
        print(f"no real data at {realdata} (set CAMFIND_REALDATA)", file=sys.stderr)
        return 2
    items = json.loads(labels_path.read_text(encoding="utf-8"))["items"]
    if args.only:
        items = [i for i in items if i["id"] in args.only.split(",")]
    runs, loads = make_readers([f.strip() for f in args.finders.split(",") if f.strip()])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out: dict[str, Any] = {"machine": f"{platform.machine()} {os.cpu_count()} cpu", "loadavg_1m_at_start": load,
                           "load_s": loads}
    if not args.no_images:
        out["images"] = images_benchmark(realdata, [i for i in items if i["kind"] == "image"], runs)
    if not args.no_clips:
        clips = [i for i in items if i["kind"] == "clip" and i["id"] in CLIPS]
        out["clips"] = clips_benchmark(realdata, clips, runs, args.step)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
