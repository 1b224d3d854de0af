"""Recognition on the real stills of $CAMFIND_REALDATA: plate accuracy and speed for both OCR
backends, face distance margins and speed.

Plates: every image of plates/labels.csv read with the same call the CLI makes
(``reader.read(image)``, crop_kind auto); letters+digits exact match of the first plate, per
folder and layout; median milliseconds per plate (model load excluded, reported apart).
Faces, for each detector (YuNet, the default, and dlib HOG): the largest face of every image of
faces/identities.csv (multi/ and video/ left out), every pair: the worst same-person distance,
the best different-person distance, how many pairs the default threshold gets right, and
milliseconds per image (detection + gates + encoding). Then faces by size: each labelled photo
shrunk so its face is N px wide, its head region enlarged again to ~200 px as the pipeline does,
encoded, and compared with the full-size encodings of the other photos (what the size gate,
MIN_ENCODE_PX, is set from). Then faces on real street and CCTV frames (video/, vn/video/; a few
frames of each clip, unlabelled): faces found, how many encoded, milliseconds per frame.

Prints tables, then one JSON object on the last line.

Usage: python benchmarks/recognition.py [--realdata DIR] [--backends rapidocr,easyocr]
       [--limit N] [--no-faces] [--finder text|yolo] [--frames N]
       (``--backends ''`` runs the faces part alone)
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camfind.recognition.faces import MIN_ENCODE_PX, face_distance, load_face_engine
from camfind.recognition.plates import load_plate_reader
from camfind.vocab import FACE_MATCH_THRESHOLD, normalize_plate


def plates_benchmark(realdata: Path, backend: str, limit: int | None, finder: str | None = None) -> dict[str, Any]:
    """Accuracy per (folder, layout) and timings of one OCR backend (and plate finder, used
    where a crop is not read directly, as `plates read` runs it)."""
    with open(realdata / "plates" / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    t0 = time.perf_counter()
    reader = load_plate_reader(backend, finder=finder)
    load_s = time.perf_counter() - t0
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: {"n": 0, "exact": 0, "ms": [], "misses": []})
    all_ms: list[float] = []
    for row in rows:
        image = cv2.imread(str(realdata / row["file"]))
        t = time.perf_counter()
        plates = reader.read(image)
        ms = (time.perf_counter() - t) * 1000
        got = plates[0] if plates else None
        ok = got is not None and got.norm == normalize_plate(row["plate_text"])
        g = groups[f"{Path(row['file']).parent.name}/{row['layout']}"]
        g["n"] += 1
        g["exact"] += int(ok)
        g["ms"].append(ms)
        all_ms.append(ms)
        if not ok:
            g["misses"].append(f"{Path(row['file']).name}: {row['plate_text']} read {got.text if got else '-'}")
    table = {
        name: {
            "n": g["n"],
            "exact": g["exact"],
            "accuracy": round(g["exact"] / g["n"], 4),
            "median_ms": round(statistics.median(g["ms"]), 1),
            "misses": g["misses"],
        }
        for name, g in sorted(groups.items())
    }
    exact = sum(g["exact"] for g in groups.values())
    return {
        "backend": backend,
        "finder": finder,
        "load_s": round(load_s, 2),
        "groups": table,
        "overall_accuracy": round(exact / max(len(rows), 1), 4),
        "median_ms_per_plate": round(statistics.median(all_ms), 1) if all_ms else None,
    }


def _labelled_rows(realdata: Path) -> list[dict[str, str]]:
    with open(realdata / "faces" / "identities.csv", newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if "/multi/" not in r["file"] and "/video/" not in r["file"]]


def faces_benchmark(realdata: Path, detector: str = "yunet") -> dict[str, Any]:
    """Distance margins over every pair of labelled single-person photos, and timings."""
    rows = _labelled_rows(realdata)
    t0 = time.perf_counter()
    engine = load_face_engine(detector)
    load_s = time.perf_counter() - t0
    found: dict[str, tuple[str, Any]] = {}
    ms: list[float] = []
    missing: list[str] = []
    for row in rows:
        image = cv2.imread(str(realdata / row["file"]))
        t = time.perf_counter()
        faces = [f for f in engine.faces(image) if f.encoding is not None]
        ms.append((time.perf_counter() - t) * 1000)
        if faces:
            found[row["file"]] = (row["identity"], faces[0])
        else:
            missing.append(row["file"])
    same: list[tuple[float, str, str]] = []
    diff: list[tuple[float, str, str]] = []
    for (a, (ia, fa)), (b, (ib, fb)) in itertools.combinations(found.items(), 2):
        (same if ia == ib else diff).append((face_distance(fa, fb), a, b))
    worst_same, best_diff = max(same), min(diff)
    thr = FACE_MATCH_THRESHOLD
    return {
        "detector": detector,
        "images": len(rows),
        "without_face": missing,
        "load_s": round(load_s, 2),
        "median_ms_per_image": round(statistics.median(ms), 1),
        "same_pairs": len(same),
        "different_pairs": len(diff),
        "threshold": thr,
        "same_matched": sum(d <= thr for d, _, _ in same),
        "different_matched": sum(d <= thr for d, _, _ in diff),
        "worst_same": {"distance": round(worst_same[0], 4), "pair": worst_same[1:]},
        "best_different": {"distance": round(best_diff[0], 4), "pair": best_diff[1:]},
        "margin_same": round(thr - worst_same[0], 4),
        "margin_different": round(best_diff[0] - thr, 4),
    }


def faces_by_size(realdata: Path, sizes: tuple[int, ...] = (12, 16, 20, 24, 28, 32, 40, 50)) -> dict[str, Any]:
    """Each labelled photo shrunk so its face is N px wide, the head region enlarged back to
    ~200 px (at most 4x, as the pipeline does) and encoded without the size gate; compared with
    the full-size encodings of the other photos and of itself."""
    engine = load_face_engine()
    full: dict[str, tuple[str, Any, Any]] = {}
    for row in _labelled_rows(realdata):
        image = cv2.imread(str(realdata / row["file"]))
        face = next(f for f in engine.faces(image) if f.encoding is not None)
        full[row["file"]] = (row["identity"], face, image)
    out: dict[str, Any] = {"min_encode_px": MIN_ENCODE_PX, "sizes": []}
    for size in sizes:
        small: dict[str, Any] = {}
        for name, (_identity, face, image) in full.items():
            k = size / (face.box[2] - face.box[0])
            tiny = cv2.resize(image, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
            cx, cy, half = (face.box[0] + face.box[2]) / 2 * k, (face.box[1] + face.box[3]) / 2 * k, 1.25 * size
            x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
            region = tiny[y0:int(cy + half), x0:int(cx + half)]
            up = min(4.0, max(1.0, 200 / region.shape[1]))
            big = cv2.resize(region, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)
            encoded = [f for f in engine.faces(big) if f.encoding is not None]  # not told: no size gate
            if encoded:
                small[name] = encoded[0]
        same, diff, itself = [], [], []
        for name, face in small.items():
            for other, (identity, ref, _) in full.items():
                d = face_distance(face, ref)
                if other == name:
                    itself.append(d)
                else:
                    (same if identity == full[name][0] else diff).append(d)
        thr = FACE_MATCH_THRESHOLD
        out["sizes"].append({
            "face_px": size, "encoded": len(small), "photos": len(full),
            "self_distance_median": round(float(np.median(itself)), 3) if itself else None,
            "self_distance_max": round(max(itself), 3) if itself else None,
            "same_matched": sum(d <= thr for d in same), "same_pairs": len(same),
            "different_matched": sum(d <= thr for d in diff), "different_pairs": len(diff),
            "best_different": round(min(diff), 3) if diff else None,
        })
    return out


def faces_on_street_frames(realdata: Path, frames: int = 4) -> dict[str, Any]:
    """Faces each detector finds on a few frames of every real clip (unlabelled): found,
    encoded, kept unencoded (YuNet), median milliseconds per frame (the faster of two runs)."""
    clips = sorted((realdata / "video").glob("*.mp4")) + sorted((realdata / "vn" / "video").glob("*.mp4"))
    engines = {name: load_face_engine(name) for name in ("yunet", "hog")}
    rows: list[dict[str, Any]] = []
    totals = {name: {"frames": 0, "found": 0, "encoded": 0, "ms": []} for name in engines}
    for clip in clips:
        shots = _frames_of(clip, frames)
        row: dict[str, Any] = {"clip": clip.name, "size": f"{shots[0].shape[1]}x{shots[0].shape[0]}" if shots else ""}
        for name, engine in engines.items():
            found = encoded = 0
            widths: list[int] = []
            for shot in shots:
                runs = []
                for _ in range(2):  # the faster of two runs: the machine may be shared
                    t = time.perf_counter()
                    faces = engine.faces(shot)
                    runs.append((time.perf_counter() - t) * 1000)
                totals[name]["ms"].append(min(runs))
                found += len(faces)
                encoded += sum(f.encoding is not None for f in faces)
                widths += [round(f.box[2] - f.box[0]) for f in faces]
            row[name] = {"found": found, "encoded": encoded, "widths_px": sorted(widths)}
            totals[name]["frames"] += len(shots)
            totals[name]["found"] += found
            totals[name]["encoded"] += encoded
        rows.append(row)
    summary = {name: {"frames": t["frames"], "found": t["found"], "encoded": t["encoded"],
                      "median_ms_per_frame": round(statistics.median(t["ms"]), 1) if t["ms"] else None}
               for name, t in totals.items()}
    return {"frames_per_clip": frames, "clips": rows, "total": summary}


def _frames_of(path: Path, count: int) -> list[Any]:
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    shots = []
    for k in range(count):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(n * (k + 0.5) / count))
        ok, frame = cap.read()
        if ok:
            shots.append(frame)
    cap.release()
    return shots


def print_plates(result: dict[str, Any]) -> None:
    print(f"\nplates, backend {result['backend']}, finder {result['finder']} (model load {result['load_s']} s)")
    print(f"{'folder/layout':45} {'n':>4} {'exact':>6} {'acc':>7} {'med ms':>8}")
    for name, g in result["groups"].items():
        print(f"{name:45} {g['n']:4d} {g['exact']:6d} {g['accuracy']:7.1%} {g['median_ms']:8.1f}")
    print(f"{'all':45} {'':4} {'':6} {result['overall_accuracy']:7.1%} {result['median_ms_per_plate']:8.1f}")
    for g in result["groups"].values():
        for miss in g["misses"][:8]:
            print(f"  miss {miss}")


def print_faces(result: dict[str, Any]) -> None:
    print(f"\nfaces, {result['detector']} + dlib ResNet 128-d (model load {result['load_s']} s)")
    print(f"images {result['images']}, without a face: {result['without_face'] or 'none'}")
    print(f"median ms per image (detect + gates + encode): {result['median_ms_per_image']}")
    ws, bd = result["worst_same"], result["best_different"]
    print(f"worst same-person pair      {ws['distance']:.4f}  {ws['pair'][0]} ~ {ws['pair'][1]}")
    print(f"best different-person pair  {bd['distance']:.4f}  {bd['pair'][0]} ~ {bd['pair'][1]}")
    print(
        f"threshold {result['threshold']}: same {result['same_matched']}/{result['same_pairs']} matched, "
        f"different {result['different_matched']}/{result['different_pairs']} matched; "
        f"margins {result['margin_same']:+.4f} (same) / {result['margin_different']:+.4f} (different)"
    )


def print_sizes(result: dict[str, Any]) -> None:
    print(f"\nfaces by size (YuNet; size gate MIN_ENCODE_PX = {result['min_encode_px']})")
    print(f"{'face px':>7} {'encoded':>8} {'self d med/max':>15} {'same <= thr':>12} {'diff <= thr':>12} "
          f"{'best diff':>9}")
    for r in result["sizes"]:
        print(f"{r['face_px']:7d} {r['encoded']:4d}/{r['photos']:<3d} {r['self_distance_median']:7.3f}/"
              f"{r['self_distance_max']:.3f} {r['same_matched']:6d}/{r['same_pairs']:<5d} "
              f"{r['different_matched']:6d}/{r['different_pairs']:<5d} {r['best_different']:9.3f}")


def print_street(result: dict[str, Any]) -> None:
    print(f"\nfaces on real street/CCTV frames ({result['frames_per_clip']} frames per clip): found (encoded)")
    print(f"{'clip':52} {'size':>9} {'yunet':>9} {'hog':>9}  yunet face widths px")
    for r in result["clips"]:
        yu, hog = r["yunet"], r["hog"]
        print(f"{r['clip'][:52]:52} {r['size']:>9} {yu['found']:4d} ({yu['encoded']:2d}) {hog['found']:4d} "
              f"({hog['encoded']:2d})  {yu['widths_px']}")
    for name, t in result["total"].items():
        print(f"{name}: {t['found']} faces ({t['encoded']} encoded) on {t['frames']} frames, "
              f"median {t['median_ms_per_frame']} ms per frame")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", default=os.environ.get("CAMFIND_REALDATA", "../shared/realdata"))
    parser.add_argument("--backends", default="rapidocr,easyocr")
    parser.add_argument("--limit", type=int, default=None, help="only the first N plates (quick runs)")
    parser.add_argument("--no-faces", action="store_true")
    parser.add_argument("--finder", default=None, help="plate finder for scenes (text, yolo); default none")
    parser.add_argument("--frames", type=int, default=4, help="frames per real clip for faces on street frames")
    args = parser.parse_args(argv)
    realdata = Path(args.realdata)
    if not (realdata / "plates" / "labels.csv").is_file():
        print(f"no real data at {realdata} (set CAMFIND_REALDATA)", file=sys.stderr)
        return 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out: dict[str, Any] = {"machine": f"{platform.machine()} {os.cpu_count()} cpu", "loadavg_1m_at_start": load}
    out["plates"] = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        result = plates_benchmark(realdata, backend, args.limit, args.finder)
        print_plates(result)
        out["plates"].append(result)
    if not args.no_faces:
        out["faces"] = faces_benchmark(realdata, "yunet")
        print_faces(out["faces"])
        out["faces_hog"] = faces_benchmark(realdata, "hog")
        print_faces(out["faces_hog"])
        out["faces_by_size"] = faces_by_size(realdata)
        print_sizes(out["faces_by_size"])
        out["faces_street"] = faces_on_street_frames(realdata, args.frames)
        print_street(out["faces_street"])
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
