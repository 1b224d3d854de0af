"""Evidence export: the timeline CSV (streamed, one row per sighting) and the evidence package.

The timeline is written row by row from an iterator of sightings (:func:`iter_sightings` streams
them from one SQL cursor), so memory does not grow with the index. Columns: see
:data:`TIMELINE_COLUMNS`; times are given both in the case's local time and in UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from camfind.csvsafe import SafeDictWriter
from camfind.errors import EvidenceError, NotFoundError
from camfind.index.queries import get_clip, list_cameras
from camfind.outputs import atomic_output
from camfind.timeutil import iso_local, to_ts
from camfind.types import Camera, Sighting

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

TIMELINE_COLUMNS: tuple[str, ...] = (
    "time_local", "time_utc", "end_time_local", "end_time_utc", "time_source", "clock_offset_s",
    "camera_id", "camera_name", "lat", "lon", "owner_type", "owner_name", "owner_contact", "address",
    "clip_path", "clip_sha256", "offset_s", "frame", "frame_offset_s", "class", "color", "plate",
    "direction", "direction_deg", "confidence", "plate_confidence", "face_distance", "track_id",
    "snapshot_path", "snapshot_sha256", "plate_time_local", "plate_frame", "plate_snapshot_path",
    "plate_snapshot_sha256", "time_dvr_local", "clock_uncertainty_s",
)  # fmt: skip


@dataclass(frozen=True)
class ClipFacts:
    """What a timeline row needs to know about a clip."""

    id: int
    start_ts: float
    fps: float
    duration_s: float
    time_source: str
    clock_offset_s: float
    seg_start_s: float = 0.0  # where the clip begins in its file (a segment of a split recording)


class TimelineContext:
    """Cameras (all, small) and clips (looked up lazily, a bounded cache) for timeline rows."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.cameras: dict[str, Camera] = {c.id: c for c in list_cameras(index)}
        self.clip = lru_cache(maxsize=1024)(self._clip)

    def _clip(self, clip_id: int) -> ClipFacts:
        try:
            clip = get_clip(self.index, clip_id)
        except NotFoundError:
            raise EvidenceError(f"sighting refers to clip {clip_id}, which is not in the index") from None
        return ClipFacts(clip_id, to_ts(clip.start), clip.fps, clip.duration_s, clip.time_source,
                         clip.clock_offset_s, clip.segment_start_s)

    def row(self, s: Sighting) -> dict[str, Any]:
        """One timeline row for a sighting."""
        clip = self.clip(s.clip_id)
        cam = self.cameras.get(s.camera_id)
        tz = self.index.tz
        return {
            "time_local": iso_local(s.time, tz), "time_utc": s.time.isoformat(),
            "end_time_local": iso_local(s.end_time, tz), "end_time_utc": s.end_time.isoformat(),
            "time_source": clip.time_source, "clock_offset_s": clip.clock_offset_s,
            "camera_id": s.camera_id, "camera_name": cam.name if cam else "",
            "lat": cam.lat if cam else "", "lon": cam.lon if cam else "",
            "owner_type": cam.owner_type if cam else "", "owner_name": cam.owner_name if cam else "",
            "owner_contact": cam.owner_contact if cam else "", "address": cam.address if cam else "",
            "clip_path": s.clip_path, "clip_sha256": s.clip_sha256,
            "offset_s": round(s.time.timestamp() - clip.start_ts, 3), "frame": s.frame,
            "frame_offset_s": round(s.frame / clip.fps, 3) if clip.fps else "",
            "class": s.cls, "color": s.color or "", "plate": s.plate or "", "direction": s.direction or "",
            "direction_deg": "" if s.direction_deg is None else round(s.direction_deg, 1),
            "confidence": round(s.confidence, 3),
            "plate_confidence": "" if s.plate_confidence is None else round(s.plate_confidence, 3),
            "face_distance": "" if s.face_distance is None else round(s.face_distance, 4),
            "track_id": s.track_id or "", "snapshot_path": s.snapshot or "",
            "snapshot_sha256": s.snapshot_sha256 or "",
            "plate_time_local": "" if s.plate_time is None else iso_local(s.plate_time, tz),
            "plate_frame": "" if s.plate_frame is None else s.plate_frame,
            "plate_snapshot_path": s.plate_snapshot or "", "plate_snapshot_sha256": s.plate_snapshot_sha256 or "",
            # as the DVR showed it (corrected time + the clip's offset), and how sure that offset is
            "time_dvr_local": iso_local(s.time + timedelta(seconds=clip.clock_offset_s), tz),
            "clock_uncertainty_s": "" if s.clock_uncertainty_s is None else round(s.clock_uncertainty_s, 1),
        }


def timeline_rows(index: Index, sightings: Iterable[Sighting]) -> Iterator[dict[str, Any]]:
    """Timeline rows, one per sighting, in the order given (lazily)."""
    ctx = TimelineContext(index)
    for s in sightings:
        yield ctx.row(s)


def write_timeline(index: Index, sightings: Iterable[Sighting], out: IO[str]) -> int:
    """Stream the timeline CSV to ``out`` (text cells neutralised for spreadsheets, see
    :mod:`camfind.csvsafe`). Returns the number of rows."""
    writer = SafeDictWriter(out, fieldnames=list(TIMELINE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in timeline_rows(index, sightings):
        writer.writerow(row)
        n += 1
    return n


def export_timeline(index: Index, sightings: Iterable[Sighting], path: str | Path) -> int:
    """Write the timeline CSV to ``path`` atomically (a full disk or a crash leaves no half file,
    and a timeline already there intact). Returns the number of rows.

    Raises:
        InputError: ``path`` is a folder.
    """
    with atomic_output(path, newline="") as f:
        n = write_timeline(index, sightings, f)
    logger.info("wrote %d timeline rows to %s", n, path)
    return n
