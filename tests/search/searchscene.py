"""Build real test indexes for the search tests: cameras, real small clips (PyAV, MPEG-4 with a
keyframe every second), snapshots as real JPEG files, and analysis rows written through Writer."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np

from camfind.index import Index
from camfind.index.writer import AnalysisResult
from camfind.recognition import vnplate
from camfind.types import AnalysisRun, Camera, Clip, Face, FaceSighting, PlateRead, PlateText, Snapshot, Track

T0 = datetime(2024, 3, 1, 3, 0, 0, tzinfo=UTC)  # 10:00 in Ho Chi Minh City
FPS = 10


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_clip(
    path: Path, seconds: float, *, label: str = "", fps: int = FPS, size: tuple[int, int] = (160, 120)
) -> int:
    """A real MPEG-4 clip with ``label`` and the frame number drawn on each frame (distinct content,
    distinct hash). Returns the frame count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(round(seconds * fps))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = fps
        for i in range(n):
            img = np.full((size[1], size[0], 3), (i * 5) % 255, np.uint8)
            cv2.putText(img, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
            cv2.putText(img, label, (4, 110), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return n


@dataclass
class TrackSpec:
    """A track to write: times are seconds into its clip."""

    start_s: float
    end_s: float
    cls: str = "car"
    plate: str | None = None
    plate_conf: float = 0.9
    reads: Sequence[tuple[str, float]] = ()  # extra plate reads (text, confidence)
    color: str | None = None
    direction_deg: float | None = None
    face: np.ndarray | None = None
    confidence: float = 0.8
    track_no: int = 0


@dataclass
class ClipSpec:
    clip: Clip
    tracks: list[TrackSpec] = field(default_factory=list)
    orphan_reads: list[tuple[float, str, float]] = field(default_factory=list)  # (offset, text, conf)


class Scene:
    """Fill an index with cameras, clips and analysis rows; ``commit`` writes the analysis."""

    def __init__(self, index: Index, root: Path) -> None:
        self.index = index
        self.root = root
        self.clips: dict[int, ClipSpec] = {}
        self.track_ids: dict[tuple[int, int], int] = {}

    def cameras(self, cams: Sequence[Camera]) -> None:
        self.index.writer.upsert_cameras(cams)

    def clip(self, camera_id: str, start: datetime, seconds: float = 8.0, clock_offset_s: float = 0.0) -> int:
        """Register a real clip whose corrected start is ``start``; returns its id."""
        path = self.root / "clips" / f"{camera_id}_{start:%H%M%S}_{len(self.clips)}.mp4"
        frames = write_clip(path, seconds, label=path.stem)
        clip = Clip(
            camera_id=camera_id, path=str(path), sha256=sha256_file(path), size_bytes=path.stat().st_size,
            start=start, start_raw=start + timedelta(seconds=clock_offset_s), time_source="cli",
            clock_offset_s=clock_offset_s, duration_s=frames / FPS, fps=FPS, frames=frames, width=160,
            height=120, codec="mpeg4", container="mp4",
        )
        clip_id, _ = self.index.writer.add_clip(clip)
        self.clips[clip_id] = ClipSpec(Clip(**{**clip.__dict__, "id": clip_id}))
        return clip_id

    def track(self, clip_id: int, spec: TrackSpec) -> tuple[int, int]:
        spec.track_no = len(self.clips[clip_id].tracks) + 1
        self.clips[clip_id].tracks.append(spec)
        return clip_id, spec.track_no

    def orphan_read(self, clip_id: int, offset_s: float, text: str, conf: float = 0.7) -> None:
        self.clips[clip_id].orphan_reads.append((offset_s, text, conf))

    def commit(self) -> None:
        for clip_id, spec in self.clips.items():
            self._write(clip_id, spec)
        rows = self.index.db.execute("SELECT id, clip_id, track_no FROM tracks").fetchall()
        self.track_ids = {(c, n): i for i, c, n in rows}

    def tid(self, key: tuple[int, int]) -> int:
        return self.track_ids[key]

    def _snapshot(self, clip: Clip, frame: int, color: int) -> Snapshot:
        path = self.root / "snaps" / f"c{clip.id}_f{frame}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        img = np.zeros((48, 64, 3), np.uint8)
        img[:] = (color * 37 % 255, 120, 200)
        cv2.imwrite(str(path), img)
        return Snapshot(clip_id=clip.id or 0, frame=frame, time=clip.time_at(frame / FPS), path=str(path),
                        sha256=sha256_file(path), kind="track", box=(1.0, 1.0, 40.0, 30.0))

    def _write(self, clip_id: int, spec: ClipSpec) -> None:
        clip = spec.clip
        run = self.index.writer.begin_run(AnalysisRun(clip_id, datetime.now(UTC), {"test": True}, {}, "test"))
        tracks, reads, faces, snaps = [], [], [], []
        for t in spec.tracks:
            f0, f1 = int(t.start_s * FPS), int(t.end_s * FPS)
            best = (f0 + f1) // 2
            snap = self._snapshot(clip, best, t.track_no)
            snaps.append(snap)
            plate = None if t.plate is None else PlateText(t.plate, t.plate_conf, "one-row", True)
            tracks.append(Track(
                clip_id=clip_id, camera_id=clip.camera_id, track_no=t.track_no, cls=t.cls,
                first_time=clip.time_at(t.start_s), last_time=clip.time_at(t.end_s), first_frame=f0,
                last_frame=f1, n_frames=f1 - f0 + 1, confidence=t.confidence, direction_deg=t.direction_deg,
                color=t.color, plate=plate, best_frame=best, snapshot=snap,
            ))
            for text, conf in ([(t.plate, t.plate_conf)] if t.plate else []) + list(t.reads):
                reads.append(PlateRead(clip_id, clip.camera_id, clip.time_at(best / FPS), best,
                                       _read(text, conf), track_id=t.track_no, snapshot=snap))
            if t.face is not None:
                face = Face((2.0, 2.0, 20.0, 20.0), np.asarray(t.face, np.float32))
                faces.append(FaceSighting(clip_id, clip.camera_id, clip.time_at(best / FPS), best, face,
                                          track_id=t.track_no, snapshot=snap))
        for offset, text, conf in spec.orphan_reads:
            frame = int(offset * FPS)
            reads.append(PlateRead(clip_id, clip.camera_id, clip.time_at(offset), frame, _read(text, conf)))
        self.index.writer.write_analysis(run, clip_id, AnalysisResult(tracks, (), reads, faces, snaps))


def _read(text: str, conf: float) -> PlateText:
    """A plate read as the analysis stores it: the text as read, valid where the plate rules say so."""
    return PlateText(text, conf, valid=vnplate.parse(text).valid)


def unit(seed: int, dim: int = 128) -> np.ndarray:
    """A random unit vector (a synthetic face encoding)."""
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def near(base: np.ndarray, dist: float, seed: int) -> np.ndarray:
    """A vector exactly ``dist`` away from ``base``."""
    d = np.random.default_rng(seed).normal(size=base.shape).astype(np.float32)
    d /= np.linalg.norm(d)
    return (base + dist * d).astype(np.float32)


# -- the street scene ------------------------------------------------------------------------------
# The street scene shared by the search tests: eight cameras, real clips, tracks written by Writer.
#
# Cameras W-A-B-C-D-G run west to east ~330 m apart (linked), E is ~330 m north of D, F ~330 m
# south of C. The car 51F-123.45 (red, heading east) passes A, B, C (read 51F-1Z3.45 there) and D;
# a person (face P) walks past A, C and D; other traffic adds decoys. G has a long clip covering
# the minutes after the car leaves D; W and E have no footage.
LAT, LON = 10.7700, 106.7000
FACE_P = unit(1)


def street_cameras() -> list[Camera]:
    return [
        Camera("W", LAT, LON - 0.003, name="Bridge", owner_type="public", neighbors=("A",)),
        Camera("A", LAT, LON, name="Le Loi west", owner_type="public", neighbors=("B",)),
        Camera("B", LAT, LON + 0.003, name="Cafe Sua", owner_type="business", owner_name="Cafe Sua",
               owner_contact="0901 111 222", neighbors=("A", "C")),
        Camera("C", LAT, LON + 0.006, name="House 12", owner_type="resident", owner_name="Mr Binh",
               owner_contact="0902 333 444", neighbors=("B", "D", "F")),
        Camera("D", LAT, LON + 0.009, name="House 40", owner_type="resident", owner_name="Ms Lan",
               owner_contact="0903 555 666", neighbors=("C", "E")),
        Camera("E", LAT + 0.003, LON + 0.009, name="Market gate", owner_type="business",
               owner_name="Market", owner_contact="market@example.vn", neighbors=("D",)),
        Camera("F", LAT - 0.003, LON + 0.006, name="School", owner_type="public", neighbors=("C",)),
        Camera("G", LAT, LON + 0.012, name="House 77", owner_type="resident", owner_name="Mr Tam",
               owner_contact="0904 777 888", neighbors=("D",)),
    ]


def build_street(index: Index, root: Path) -> Scene:
    """Fill ``index`` with the street scene; returns the scene (track ids after commit)."""
    s = Scene(index, root)
    s.cameras(street_cameras())
    at = {cam: s.clip(cam, T0 + timedelta(seconds=30 * k)) for k, cam in enumerate("ABCD")}
    s.clip("G", T0 + timedelta(seconds=80), seconds=180)
    car = {"cls": "car", "plate": "51F-123.45", "color": "red", "direction_deg": 90.0}
    s.track(at["A"], TrackSpec(1.0, 3.0, **car))  # type: ignore[arg-type]
    s.track(at["B"], TrackSpec(1.0, 3.0, **car))  # type: ignore[arg-type]
    s.track(at["C"], TrackSpec(1.0, 2.5, cls="car", plate="51F-1Z3.45", plate_conf=0.6, color="red",
                                direction_deg=100.0))
    s.track(at["D"], TrackSpec(2.0, 4.0, **car))  # type: ignore[arg-type]
    s.track(at["B"], TrackSpec(4.0, 6.0, cls="motorcycle", plate="59G1-660.05", color="blue",
                                direction_deg=180.0))
    s.track(at["C"], TrackSpec(5.0, 7.0, cls="car", plate="29B-999.99", color="silver/grey",
                                direction_deg=350.0))
    s.track(at["A"], TrackSpec(4.0, 7.0, cls="person", color="black", direction_deg=80.0, face=FACE_P))
    s.track(at["C"], TrackSpec(3.0, 5.0, cls="person", face=near(FACE_P, 0.3, 2)))
    s.track(at["D"], TrackSpec(0.5, 1.5, cls="person", face=near(FACE_P, 0.5, 3)))
    s.track(at["B"], TrackSpec(6.0, 7.5, cls="person", face=near(FACE_P, 0.7, 4)))
    s.orphan_read(at["D"], 6.0, "51F 123.45", 0.5)
    s.commit()
    return s
