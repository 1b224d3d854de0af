"""Test helper: MOT15 ground truth of the PETS clip and CLEAR/identity metrics via motmetrics.

Ground truth boxes are for 768x576; the avi is 480x360, so boxes are scaled by 0.625, and avi
frame = gt frame - 1. Rows flagged 0 (far people the annotators marked "do not consider") are
don't-care regions: neither misses nor false positives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import motmetrics as mm
import numpy as np

from camfind.analysis.boxes import iou
from camfind.types import Box, Detection

PETS_SCALE = 0.625


@dataclass(frozen=True)
class GtBox:
    """One ground-truth person box in avi pixels."""

    obj: int
    box: Box
    care: bool


@dataclass(frozen=True)
class MotScore:
    """What a tracker scored on the evaluated frames."""

    recall: float
    precision: float
    mota: float
    idf1: float
    switches: int
    gt_ids: int
    hyp_ids: int
    frames: int

    def __str__(self) -> str:
        return (
            f"recall {self.recall:.3f} precision {self.precision:.3f} MOTA {self.mota:.3f} "
            f"IDF1 {self.idf1:.3f} switches {self.switches} ids {self.hyp_ids} for "
            f"{self.gt_ids} people on {self.frames} frames"
        )


def load_pets_gt(path: Path, scale: float = PETS_SCALE) -> dict[int, list[GtBox]]:
    """MOT15 rows ``frame,id,x,y,w,h,flag,...`` keyed by avi frame index (gt frame - 1)."""
    gt: dict[int, list[GtBox]] = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        f, obj, x, y, w, h, flag = line.split(",")[:7]
        x1, y1 = float(x) * scale, float(y) * scale
        box = (x1, y1, x1 + float(w) * scale, y1 + float(h) * scale)
        gt.setdefault(int(f) - 1, []).append(GtBox(int(obj), box, care=flag.strip() != "0"))
    return gt


def evaluate(
    gt: Mapping[int, Sequence[GtBox]],
    hyp: Mapping[int, Sequence[Detection]],
    frames: Iterable[int],
    *,
    min_iou: float = 0.5,
) -> MotScore:
    """CLEAR-MOT and identity metrics over ``frames`` (the analysed ones) with motmetrics.

    ``hyp`` maps frame -> tracked person detections (``track_no`` set). Hypotheses overlapping a
    don't-care box at ``min_iou`` are dropped before matching.
    """
    acc = mm.MOTAccumulator(auto_id=False)
    hyp_ids: set[int] = set()
    frame_list = sorted(set(frames))
    for f in frame_list:
        care = [g for g in gt.get(f, ()) if g.care]
        ignore = [g.box for g in gt.get(f, ()) if not g.care]
        dets = [
            d
            for d in hyp.get(f, ())
            if d.track_no is not None and not any(iou(d.box, b) >= min_iou for b in ignore)
        ]
        hyp_ids.update(d.track_no for d in dets if d.track_no is not None)
        # motmetrics 1.4.0's own iou_matrix calls np.asfarray, gone in numpy 2: same maths here.
        dist = np.full((len(care), len(dets)), np.nan)
        for i, g in enumerate(care):
            for j, d in enumerate(dets):
                overlap = iou(g.box, d.box)
                if overlap >= min_iou:
                    dist[i, j] = 1.0 - overlap
        acc.update([g.obj for g in care], [d.track_no for d in dets], dist, frameid=f)
    summary = mm.metrics.create().compute(
        acc,
        metrics=["recall", "precision", "mota", "idf1", "num_switches", "num_unique_objects"],
        name="x",
    )
    row = summary.loc["x"]
    return MotScore(
        recall=float(row["recall"]),
        precision=float(row["precision"]),
        mota=float(row["mota"]),
        idf1=float(row["idf1"]),
        switches=int(row["num_switches"]),
        gt_ids=int(row["num_unique_objects"]),
        hyp_ids=len(hyp_ids),
        frames=len(frame_list),
    )
