"""Real clips analysed the way ``camfind ingest`` analyses them, for tests that score the result.

A clip is registered in a fresh index (:func:`camfind.ingest.ingest_paths`), analysed by
:func:`camfind.analysis.analyze_clips` (the stages, linking, class votes, plate cuts and writes
``ingest`` runs) and its tracks are read back from the index: the figures these tests report are
the product's, not a twin pipeline's.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from camfind.analysis import analyze_clips
from camfind.analysis.settings import AnalysisSettings
from camfind.index import Index
from camfind.ingest import ingest_paths
from camfind.types import Camera, Detection

START = "2024-01-25 10:00:00"


@dataclass(frozen=True)
class Analysed:
    """One clip's tracks as the index holds them after analysis."""

    tracks: dict[int, tuple[Detection, ...]]  # track_no -> boxes in frame order, cls = the track's
    seconds: float  # analysis time (models loaded before)
    plates: dict[int, str]  # track_no -> voted plate text
    start: datetime
    colors: dict[int, str | None] = field(default_factory=dict)  # track_no -> colour

    def by_frame(
        self, classes: tuple[str, ...] | None = None, frames: Sequence[int] = (), max_gap: int = 30
    ) -> dict[int, list[Detection]]:
        """Each frame's boxes. The index keeps a box where the detector ran and the object moved;
        on the ``frames`` in between (at most ``max_gap`` frames apart) a track's box is
        interpolated, as the track says the object was there."""
        out: dict[int, list[Detection]] = defaultdict(list)
        wanted = sorted(frames)
        for dets in self.tracks.values():
            if classes is not None and dets[0].cls not in classes:
                continue
            for d in dets:
                out[d.frame].append(d)
            for a, b in zip(dets, dets[1:], strict=False):
                if b.frame - a.frame > max_gap:
                    continue
                for f in wanted[bisect_right(wanted, a.frame):bisect_left(wanted, b.frame)]:
                    k = (f - a.frame) / (b.frame - a.frame)
                    box = tuple(u + k * (v - u) for u, v in zip(a.box, b.box, strict=True))
                    out[f].append(replace(a, frame=f, box=box))  # type: ignore[arg-type]
        return dict(out)

    def classes(self) -> dict[int, str]:
        return {no: dets[0].cls for no, dets in self.tracks.items()}


def analyse_file(
    path: Path, root: Path, *, rate_fps: float = 4.0, true_fps: float | None = None, plates: bool = False,
    faces: bool = False, heading_deg: float | None = None,
) -> Analysed:
    """Register ``path`` (read-only) in a new index under ``root`` and analyse it.

    ``true_fps``: the clip's real frame rate where its header is wrong (PETS' AVI says 10, the
    ground truth is 7 fps); the registered clip is given it before analysis, as a sidecar would.
    """
    index = Index.open(root / "case.db", create=True)
    try:
        index.writer.upsert_cameras([Camera("CAM", 21.0, 105.8, heading_deg=heading_deg)])
        summary = ingest_paths(index, [path], camera="CAM", start=START)
        [clip_id] = summary.clip_ids
        if true_fps is not None:
            with index.db:
                index.db.execute("UPDATE clips SET fps = ?, duration_s = frames / ? WHERE id = ?",
                                 (true_fps, true_fps, clip_id))
        settings = AnalysisSettings(rate_fps=rate_fps, plates=plates, faces=faces,
                                    snapshot_dir=str(root / "snapshots"))
        result = analyze_clips(index, [clip_id], settings=settings)
        return _read_back(index, clip_id, result.seconds)
    finally:
        index.close()


def _read_back(index: Index, clip_id: int, seconds: float) -> Analysed:
    rows = index.db.execute(
        "SELECT t.track_no, t.cls, d.frame, d.offset_s, d.x1, d.y1, d.x2, d.y2, d.score FROM detections d "
        "JOIN tracks t ON t.id = d.track_id WHERE t.clip_id = ? ORDER BY t.track_no, d.frame", (clip_id,))
    tracks: dict[int, list[Detection]] = defaultdict(list)
    for no, cls, frame, offset, x1, y1, x2, y2, score in rows:
        tracks[int(no)].append(Detection(int(frame), float(offset), (x1, y1, x2, y2), cls, float(score), int(no)))
    plates = dict(index.db.execute(
        "SELECT track_no, plate_text FROM tracks WHERE clip_id = ? AND plate_text IS NOT NULL", (clip_id,)))
    colors = dict(index.db.execute("SELECT track_no, color FROM tracks WHERE clip_id = ?", (clip_id,)))
    from camfind.index.queries import get_clip

    return Analysed({no: tuple(d) for no, d in tracks.items()}, seconds, plates, get_clip(index, clip_id).start,
                    colors)
