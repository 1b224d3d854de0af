"""How the clock-offset error shrinks with the number of co-sightings.

Two measurements:

1. One camera pair 300 m apart, the anchor's clock true, the other's off by 25 s; ``n`` co-sightings,
   alternately each way, vehicles at 20-40 km/h (uniform). For each ``n``: the RMS error of the
   offset over many seeds, and the mean uncertainty the fit states (it should cover the error).
2. The index-level network scenario of :mod:`camfind.sample.clockscene` (9 cameras, clocks off by
   seconds to two hours, a cloned plate, an unanchored island), with 10 to 240 vehicles: the RMS
   and worst error over the anchored cameras, the median number of co-sightings behind each, and
   the share of cameras with at least three two-way co-sightings on every link to an anchor that
   come within 5 s.

Usage:
    python benchmarks/clock_fit.py            # the figures, JSON on the last line
    python benchmarks/clock_fit.py --seeds 10 # quicker
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from camfind.clocks.estimate import estimate_clocks  # noqa: E402
from camfind.clocks.fit import Anchor, CoSighting, fit_offsets, path_support  # noqa: E402
from camfind.index import Index  # noqa: E402
from camfind.sample.clockscene import build_clock_scenario  # noqa: E402


def pair_curve(ns: list[int], seeds: int, meters: float = 300.0, truth: float = 25.0) -> list[dict[str, float]]:
    out = []
    for n in ns:
        errs, sigmas = [], []
        for seed in range(seeds):
            rng = random.Random(seed * 1000 + n)
            eqs = []
            for i in range(n):
                tau = meters / (rng.uniform(20, 40) / 3.6)
                way = 1 if i % 2 == 0 else -1
                eqs.append(CoSighting("A", "B", truth + way * tau + rng.gauss(0, 0.5), meters / (110 / 3.6),
                                      meters / (5 / 3.6), key=str(i), target=f"P{i}"))
            b = fit_offsets(eqs, [Anchor("A", 0.0, 0.5)]).camera("B")
            errs.append((b.offset_s or 0.0) - truth)
            sigmas.append(b.uncertainty_s or 0.0)
        rms = math.sqrt(sum(e * e for e in errs) / len(errs))
        out.append({"n": n, "rms_error_s": round(rms, 2), "max_error_s": round(max(map(abs, errs)), 2),
                    "mean_stated_sigma_s": round(statistics.mean(sigmas), 2)})
    return out


def network_curve(vehicles: list[int], seeds: int) -> list[dict[str, float]]:
    out = []
    for v in vehicles:
        errs, support, within, linked, covered = [], [], 0, 0, 0
        for seed in range(seeds):
            with Index.open(":memory:", create=True) as idx:
                scene = build_clock_scenario(idx, vehicles=v, seed=seed)
                fit = estimate_clocks(idx).fit
            for cam in fit.cameras:
                if cam.status != "estimated" or cam.offset_s is None:
                    continue
                err = cam.offset_s - scene.offsets[cam.camera_id]
                errs.append(err)
                support.append(cam.n_cosightings)
                covered += abs(err) <= 3 * (cam.uncertainty_s or 0)
                if path_support(fit, cam.camera_id) >= 3:
                    linked += 1
                    within += abs(err) <= 5.0
        out.append({
            "vehicles": v, "estimated": len(errs),
            "rms_error_s": round(math.sqrt(sum(e * e for e in errs) / max(len(errs), 1)), 2),
            "max_error_s": round(max(map(abs, errs), default=0.0), 2),
            "median_cosightings": statistics.median(support) if support else 0,
            "linked_by_3": linked, "linked_by_3_within_5s": within,
            "within_3_sigma": round(covered / max(len(errs), 1), 3),
        })
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=40)
    args = ap.parse_args()
    t0 = time.perf_counter()
    pairs = pair_curve([2, 3, 4, 6, 8, 12, 16, 32, 64, 128], args.seeds)
    print("one pair, 300 m, 20-40 km/h, alternate directions")
    print(f"{'n':>5} {'rms err s':>10} {'max err s':>10} {'stated sigma s':>15}")
    for r in pairs:
        print(f"{r['n']:>5} {r['rms_error_s']:>10} {r['max_error_s']:>10} {r['mean_stated_sigma_s']:>15}")
    net = network_curve([10, 15, 30, 60, 120, 240], max(args.seeds // 4, 3))
    print("\nnetwork scenario (9 cameras, 27-33 km/h), estimated cameras over all seeds")
    print(f"{'vehicles':>8} {'cams':>5} {'rms s':>7} {'max s':>7} {'med cosight':>12} {'>=3 linked':>11} "
          f"{'of them <=5 s':>14} {'<=3 sigma':>10}")
    for r in net:
        print(f"{r['vehicles']:>8} {r['estimated']:>5} {r['rms_error_s']:>7} {r['max_error_s']:>7} "
              f"{r['median_cosightings']:>12} {r['linked_by_3']:>11} {r['linked_by_3_within_5s']:>14} "
              f"{r['within_3_sigma']:>10}")
    print(json.dumps({"pair": pairs, "network": net, "seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
