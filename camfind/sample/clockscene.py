"""A clock-offset scenario written at the index level: cameras with known DVR clock errors, vehicles
driving through them both ways, a cloned plate and an island of cameras with no trusted clock.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> scene = build_clock_scenario(idx, vehicles=20, seed=1)
>>> sorted(scene.offsets)[:3], scene.trusted
(['A', 'B', 'C'], ('A',))

No video is written: each camera gets one registered clip row covering the whole period (its hash
is made up) and the tracks an analysis would have written, through the one writer, with raw (DVR)
times ``true + offset`` and no offset applied, as footage collected without a clock check.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from camfind.index.queries import camera_clocks, track_ids
from camfind.network import CameraNetwork, load_network
from camfind.types import AnalysisResult, AnalysisRun, Camera, Clip, Face, FaceSighting, PlateRead, PlateText, Track

if TYPE_CHECKING:
    from camfind.index import Index

T0 = datetime(2024, 3, 1, 1, 0, 0, tzinfo=UTC)  # 08:00 in Ho Chi Minh City
#: DVR clock minus true time, seconds: a few seconds to two hours, both signs.
OFFSETS: Mapping[str, float] = {
    "A": 0.0, "B": 37.0, "C": -95.0, "D": 3612.0, "E": -7195.0, "F": 4.0, "G": 1260.0,
    "Y1": 600.0, "Y2": -30.0,
}  # fmt: skip
#: (id, lat, lon, owner_type, neighbours): a street A..E, F and G off C and D; Y1-Y2 far away.
LAYOUT: Sequence[tuple[str, float, float, str, tuple[str, ...]]] = (
    ("A", 10.7700, 106.7000, "public", ("B",)),
    ("B", 10.7730, 106.7000, "resident", ("C",)),
    ("C", 10.7760, 106.7000, "resident", ("D", "F")),
    ("D", 10.7790, 106.7000, "business", ("E", "G")),
    ("E", 10.7820, 106.7000, "resident", ()),
    ("F", 10.7760, 106.7030, "resident", ()),
    ("G", 10.7790, 106.6970, "resident", ()),
    ("Y1", 10.8300, 106.7600, "resident", ("Y2",)),
    ("Y2", 10.8330, 106.7600, "resident", ()),
)
CLONE_PLATE = "51F99999"


@dataclass(frozen=True)
class Pass:
    """One vehicle at one camera: true time of its mid-view, the track written for it."""

    camera_id: str
    plate: str
    true_time: datetime
    vehicle: int
    track_id: int = 0
    face: tuple[float, ...] = ()  # a walker's face encoding (128-d); walkers carry no plate


@dataclass
class ClockScenario:
    """What was written, and the truth to check a fit against."""

    offsets: Mapping[str, float]
    trusted: tuple[str, ...]
    observed: tuple[str, ...]
    passes: list[Pass] = field(default_factory=list)
    clone_vehicles: tuple[int, int] = (-1, -1)


def build_clock_scenario(
    index: Index, vehicles: int = 120, seed: int = 7, hours: float = 3.0, clone: bool = True,
    offsets: Mapping[str, float] = OFFSETS, speed_kmh: tuple[float, float] = (27.0, 33.0), walkers: int = 0,
) -> ClockScenario:
    """Write the scenario into ``index``: A trusted (public, synchronised), F read by hand (set-clock),
    the other clocks unknown; ``vehicles`` trips over ``hours``; plate ``51F99999`` on two vehicles at
    once (a clone) when ``clone``; a few trips on Y1-Y2, which no anchor reaches; ``walkers`` people on
    foot between A, B and C at about 5 km/h, with a face (128-d) and no plate."""
    rng = random.Random(seed)
    index.writer.upsert_cameras([Camera(c, lat, lon, owner_type=o, neighbors=n) for c, lat, lon, o, n in LAYOUT])
    index.writer.set_clock_trusted(["A"])
    index.writer.record_clock("F", T0 + timedelta(seconds=offsets["F"]), T0, note="scenario")  # applied to F
    net = load_network(index)
    main = [c for c in offsets if not c.startswith("Y")]
    scene = ClockScenario(dict(offsets), ("A",), ("F",))
    for v in range(vehicles):
        cams = rng.sample(["Y1", "Y2"] if v % 15 == 14 else main, 2)
        path = net.shortest_path(cams[0], cams[1]) or cams
        start = T0 + timedelta(seconds=rng.uniform(300, hours * 3600 - 900))
        plate = f"51{'ABCDEFGHKL'[v % 10]}{10000 + v:05d}"
        scene.passes += _drive(net, path, plate, start, rng.uniform(*speed_kmh), v, rng)
    for w in range(walkers):  # people on foot between A, B and C, known by their faces only
        face = tuple(rng.gauss(0, 0.07) for _ in range(128))
        cams = rng.sample(["A", "B", "C"], 2)
        start = T0 + timedelta(seconds=rng.uniform(300, hours * 3600 - 1800))
        trip = _drive(net, net.shortest_path(cams[0], cams[1]) or cams, "", start, rng.uniform(4.5, 5.5),
                      vehicles + 10 + w, rng)
        scene.passes += [replace(p, face=tuple(x + rng.gauss(0, 0.01) for x in face)) for p in trip]
    if clone:  # the same plate at A then B and, at the same moments, at E then D: 1.3 km apart
        start = T0 + timedelta(seconds=hours * 1800)
        scene.passes += _drive(net, ["A", "B"], CLONE_PLATE, start, 30.0, vehicles)
        scene.passes += _drive(net, ["E", "D"], CLONE_PLATE, start + timedelta(seconds=3), 30.0, vehicles + 1)
        scene.clone_vehicles = (vehicles, vehicles + 1)
    scene.passes = _write(index, scene.passes, offsets, hours)
    return scene


def _drive(net: CameraNetwork, path: Sequence[str], plate: str, start: datetime, kmh: float, vehicle: int,
           rng: random.Random | None = None) -> list[Pass]:
    """The passes of one trip along ``path`` at about ``kmh`` (each link within 10% of it)."""
    out, t = [Pass(path[0], plate, start, vehicle)], start
    for a, b in zip(path, path[1:], strict=False):
        speed = kmh * (1.0 if rng is None else rng.uniform(0.9, 1.1)) / 3.6
        t += timedelta(seconds=(net.link_m(a, b) or net.distance_m(a, b)) / speed)
        out.append(Pass(b, plate, t, vehicle))
    return out


def _write(index: Index, passes: list[Pass], offsets: Mapping[str, float], hours: float) -> list[Pass]:
    """One clip per camera over the period (raw time; the camera's offset in use applied, as ingest does),
    one track with one plate read per pass."""
    written = []
    applied = {c.camera_id: c.offset_s for c in camera_clocks(index)}
    for cam in sorted({p.camera_id for p in passes}):
        start_raw = T0 + timedelta(seconds=offsets[cam])
        start = start_raw - timedelta(seconds=applied[cam])
        sha = hashlib.sha256(f"clock-scenario {cam}".encode()).hexdigest()
        clip = Clip(camera_id=cam, path=f"clock-scenario/{cam}.mp4", sha256=sha, size_bytes=1, start=start,
                    start_raw=start_raw, time_source="container", clock_offset_s=applied[cam], duration_s=hours * 3600,
                    fps=10.0, frames=int(hours * 36000), width=1280, height=720, codec="h264", container="mp4")
        clip_id, _ = index.writer.add_clip(clip)
        mine = sorted((p for p in passes if p.camera_id == cam), key=lambda p: p.true_time)
        tracks, reads, faces = [], [], []
        for n, p in enumerate(mine, start=1):
            mid = p.true_time + timedelta(seconds=offsets[cam] - applied[cam])  # DVR time, then corrected
            frame = int((mid - start).total_seconds() * 10)
            plate = PlateText(p.plate, 0.9, "one-row", True) if p.plate else None
            cls = "person" if p.face else "motorcycle" if p.vehicle % 3 == 0 else "car"
            tracks.append(Track(clip_id, cam, n, cls, mid - timedelta(seconds=1.5), mid + timedelta(seconds=1.5),
                                frame - 15, frame + 15, 31, 0.9, plate=plate))
            if plate is not None:
                reads.append(PlateRead(clip_id, cam, mid, frame, plate, track_id=n))
            if p.face:
                face = Face((10.0, 10.0, 60.0, 60.0), np.asarray(p.face, dtype=np.float32), quality=0.9)
                faces.append(FaceSighting(clip_id, cam, mid, frame, face, track_id=n))
        with index.transaction():
            run = index.writer.begin_run(AnalysisRun(clip_id, datetime.now(UTC), {"scenario": "clocks"}, {}, "test"))
        index.writer.write_analysis(run, clip_id, AnalysisResult(tracks=tracks, plate_reads=reads, faces=faces))
        ids = track_ids(index, clip_id)
        written += [replace(p, track_id=int(ids[n])) for n, p in enumerate(mine, 1)]
    return written
