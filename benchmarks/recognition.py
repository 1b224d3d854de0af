"""Recognition on the real stills of $CAMFIND_REALDATA: plate accuracy and speed for both OCR
backends, face distance margins and speed.

Plates: every image of plates/labels.csv read with the same call the CLI makes
(``reader.read(image)``, crop_kind auto); letters+digits exact match of the first plate, per
folder and layout; median milliseconds per plate (model load excluded, reported apart).
Faces: the largest face of every image of faces/identities.csv (multi/ and video/ left out),
every pair: the worst same-person distance, the best different-person distance, how many pairs
the default threshold gets right, and milliseconds per image (detection + gates + encoding).

Prints tables, then one JSON object on the last line.

Usage: python benchmarks/recognition.py [--realdata DIR] [--backends rapidocr,easyocr]
       [--limit N] [--no-faces]
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

from camfind.recognition.faces import face_distance, load_face_engine
from camfind.recognition.plates import load_plate_reader
from camfind.vocab import FACE_MATCH_THRESHOLD, normalize_plate


def plates_benchmark(realdata: Path, backend: str, limit: int | None) -> dict[str, Any]:
    """Accuracy per (folder, layout) and timings of one OCR backend."""
    with open(realdata / "plates" / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    t0 = time.perf_counter()
    reader = load_plate_reader(backend)
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
        "load_s": round(load_s, 2),
        "groups": table,
        "overall_accuracy": round(exact / max(len(rows), 1), 4),
        "median_ms_per_plate": round(statistics.median(all_ms), 1) if all_ms else None,
    }


def faces_benchmark(realdata: Path) -> dict[str, Any]:
    """Distance margins over every pair of labelled single-person photos, and timings."""
    with open(realdata / "faces" / "identities.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if "/multi/" not in r["file"] and "/video/" not in r["file"]]
    t0 = time.perf_counter()
    engine = load_face_engine()
    load_s = time.perf_counter() - t0
    found: dict[str, tuple[str, Any]] = {}
    ms: list[float] = []
    missing: list[str] = []
    for row in rows:
        image = cv2.imread(str(realdata / row["file"]))
        t = time.perf_counter()
        faces = engine.faces(image)
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


def print_plates(result: dict[str, Any]) -> None:
    print(f"\nplates, backend {result['backend']} (model load {result['load_s']} s)")
    print(f"{'folder/layout':45} {'n':>4} {'exact':>6} {'acc':>7} {'med ms':>8}")
    for name, g in result["groups"].items():
        print(f"{name:45} {g['n']:4d} {g['exact']:6d} {g['accuracy']:7.1%} {g['median_ms']:8.1f}")
    print(f"{'all':45} {'':4} {'':6} {result['overall_accuracy']:7.1%} {result['median_ms_per_plate']:8.1f}")
    for g in result["groups"].values():
        for miss in g["misses"][:8]:
            print(f"  miss {miss}")


def print_faces(result: dict[str, Any]) -> None:
    print(f"\nfaces, dlib HOG + ResNet 128-d (model load {result['load_s']} s)")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", default=os.environ.get("CAMFIND_REALDATA", "../shared/realdata"))
    parser.add_argument("--backends", default="rapidocr,easyocr")
    parser.add_argument("--limit", type=int, default=None, help="only the first N plates (quick runs)")
    parser.add_argument("--no-faces", action="store_true")
    args = parser.parse_args(argv)
    realdata = Path(args.realdata)
    if not (realdata / "plates" / "labels.csv").is_file():
        print(f"no real data at {realdata} (set CAMFIND_REALDATA)", file=sys.stderr)
        return 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out: dict[str, Any] = {"machine": f"{platform.machine()} {os.cpu_count()} cpu", "loadavg_1m_at_start": load}
    out["plates"] = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        result = plates_benchmark(realdata, backend, args.limit)
        print_plates(result)
        out["plates"].append(result)
    if not args.no_faces:
        out["faces"] = faces_benchmark(realdata)
        print_faces(out["faces"])
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
