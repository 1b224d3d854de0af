"""A track cut in two by its plates: each part shows its own vehicle.

A handheld walk past a row of parked bikes: the tracker's box slides from one bike to the next,
so one fragment reads plate A on its first frames and plate B on its last ones. Each part's
picture must lie within its own frames (never the other bike's, however sharp) and prefer the
frame its plate was read on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from camfind.analysis.enrich import Findings
from camfind.analysis.pipeline import PICTURE_NEAR_READ_S, _build_tracks, _Stream
from camfind.analysis.plategroups import _read
from camfind.analysis.snapshots import SnapshotStore
from camfind.types import Camera, Clip, Detection, PlateRead, Snapshot

START = datetime(2024, 1, 25, 10, 0, tzinfo=UTC)
FPS = 30.0
A, B = "59-GA 185.93", "29-H1 643.97"


def _clip() -> Clip:
    return Clip("CAM", "walk.mp4", "ab" * 32, 1, START, START, "manifest", 0.0, 20.0, FPS, 600, 854, 480,
                "h264", "mp4", id=1)


def _snap(store: SnapshotStore, frame: int, kind: str = "track") -> Snapshot:
    image = np.full((40, 30, 3), frame % 255, np.uint8)
    return store.save(image, frame=frame, kind=kind, track_no=1, time=START, provisional=True)


def _read_at(store: SnapshotStore, frame: int, norm: str, confidence: float = 0.95) -> PlateRead:
    r = _read(frame, norm, confidence)
    return replace(r, track_id=1, snapshot=_snap(store, frame, "plate"))


def _stream(findings: Findings) -> _Stream:
    dets = [Detection(f, f / FPS, (100.0, 50.0, 300.0, 400.0), "motorcycle", 0.8, 1) for f in range(0, 601, 15)]
    return _Stream(detections={1: dets}, findings={1: [findings]}, votes={1: {"motorcycle": 5.0}},
                   appearance={}, width=854, height=480)


def _build(findings: Findings, store: SnapshotStore) -> list:
    return _build_tracks(_clip(), Camera("CAM", 21.0, 105.8), _stream(findings), [1], store, None)


def test_each_part_shows_its_own_vehicle(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, "ab" * 32, 1)
    reads = [_read_at(store, 60, A), _read_at(store, 90, A), _read_at(store, 450, B), _read_at(store, 480, B)]
    found = Findings(
        1,
        # the sharpest picture of the fragment is of the second bike (frame 465, part B)
        snapshot=_snap(store, 465), best_quality=0.9, best_frame=465,
        pictures=[_snap(store, 60)],  # the first bike, on the frame its plate was read from its crop
        plate_reads=reads, color_votes=Counter(black=1.0),
    )
    built = {b.track.plate.norm: b.track for b in _build(found, store)}
    assert set(built) == {"59GA18593", "29H164397"}
    first, second = built["59GA18593"], built["29H164397"]
    assert first.snapshot is not None and first.snapshot.frame == 60
    assert second.snapshot is not None and second.snapshot.frame == 465  # 0.5 s from a read of B
    assert first.first_frame <= first.best_frame <= first.last_frame  # type: ignore[operator]
    assert second.first_frame <= second.best_frame <= second.last_frame  # type: ignore[operator]


def test_a_plate_sighting_shows_its_plate_rather_than_a_picture_far_from_every_read(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, "ab" * 32, 1)
    far = int(round((PICTURE_NEAR_READ_S + 1.5) * FPS))
    read = _read_at(store, 150, A)
    found = Findings(1, snapshot=_snap(store, 150 + far), best_quality=0.9, best_frame=150 + far,
                     plate_reads=[read], color_votes=Counter(black=1.0))
    [b] = _build(found, store)
    assert b.track.plate is not None and b.track.plate.norm == "59GA18593"
    assert b.track.snapshot is not None and b.track.snapshot.kind == "plate" and b.track.snapshot.frame == 150


def test_a_track_without_a_plate_keeps_its_sharpest_picture(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, "ab" * 32, 1)
    found = Findings(1, snapshot=_snap(store, 300), best_quality=0.9, best_frame=300,
                     color_votes=Counter(white=1.0))
    [b] = _build(found, store)
    assert b.track.plate is None and b.track.snapshot is not None and b.track.snapshot.frame == 300
    assert b.track.color == "white"
