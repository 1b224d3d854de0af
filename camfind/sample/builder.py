"""Build the sample camera network into a folder: cameras.csv, clips/, probes/, ground_truth.json.

>>> from pathlib import Path; import tempfile
>>> scenario = generate(Path(tempfile.mkdtemp()))  # doctest: +SKIP
>>> [p.camera_id for p in scenario.subject("V1").route]  # doctest: +SKIP
['CAM01', 'CAM02', 'CAM03', 'CAM04', 'CAM05']
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from camfind.errors import CamfindError
from camfind.geo import compass_word
from camfind.sample import render
from camfind.sample.cast import CAST, looks, write_probe
from camfind.sample.network import CAMERAS, ClipPlan, Pass, camera_spec, story
from camfind.types import Camera

logger = logging.getLogger(__name__)

CAMERA_COLUMNS: tuple[str, ...] = (
    "id", "name", "lat", "lon", "owner_type", "owner_name", "owner_contact", "address",
    "heading_deg", "fov_deg", "clock_offset_s", "neighbors",
)


@dataclass(frozen=True)
class RoutePoint:
    """A subject seen at a camera: true local time (+07:00) its centre crosses mid-picture."""

    camera_id: str
    time: datetime
    direction: str


@dataclass(frozen=True)
class Subject:
    """A subject of the ground truth. ``plate`` for vehicles, ``face_image`` (probe) for people."""

    id: str
    kind: str
    description: str
    route: tuple[RoutePoint, ...]
    plate: str | None = None
    face_image: Path | None = None
    color: str | None = None


@dataclass(frozen=True)
class SampleClip:
    """A written DVR file: ``start`` is true time, ``dvr_start`` what its name says."""

    camera_id: str
    path: Path
    start: datetime
    dvr_start: datetime
    duration_s: float
    fps: float
    subjects: tuple[str, ...]
    corrupt: bool = False


@dataclass(frozen=True)
class Scenario:
    """Everything :func:`generate` wrote, with absolute paths."""

    out_dir: Path
    cameras_csv: Path
    clips_dir: Path
    ground_truth: Path
    probes: tuple[Path, ...]
    corrupt_clip: Path
    subjects: tuple[Subject, ...]
    clips: tuple[SampleClip, ...]
    cameras: tuple[Camera, ...]

    def subject(self, subject_id: str) -> Subject:
        """The subject called ``subject_id``; KeyError if there is none."""
        for s in self.subjects:
            if s.id == subject_id:
                return s
        raise KeyError(subject_id)

    @property
    def vehicle(self) -> Subject:
        """The main vehicle (V1): the plate the demo traces."""
        return self.subject("V1")

    @property
    def person(self) -> Subject:
        """The main person (P1): the face the demo traces."""
        return self.subject("P1")


def dvr_file_name(dvr_start: datetime) -> str:
    """Hikvision-style export name in DVR local time: ``ch01_YYYYMMDDHHMMSS.mp4``."""
    return f"ch01_{dvr_start.strftime('%Y%m%d%H%M%S')}.mp4"


def write_cameras_csv(path: Path, cameras: tuple[Camera, ...]) -> None:
    """The camera registry in CLI.md's columns (UTF-8, neighbours joined by ``;``)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CAMERA_COLUMNS)
        for c in cameras:
            writer.writerow([
                c.id, c.name, f"{c.lat:.6f}", f"{c.lon:.6f}", c.owner_type, c.owner_name,
                c.owner_contact, c.address, f"{c.heading_deg:g}", f"{c.fov_deg:g}",
                f"{c.clock_offset_s:g}", ";".join(c.neighbors),
            ])


def _route(passes: list[Pass]) -> tuple[RoutePoint, ...]:
    return tuple(RoutePoint(p.camera_id, p.time, compass_word(p.bearing_deg)) for p in passes)


def _subjects(passes: dict[str, list[Pass]], probes: dict[str, Path]) -> tuple[Subject, ...]:
    return tuple(
        Subject(c.id, c.kind, c.description, _route(passes[c.id]), plate=c.plate,
                face_image=probes.get(c.id), color=c.color)
        for c in CAST
    )


def ground_truth_dict(subjects: tuple[Subject, ...], base: Path) -> dict[str, object]:
    """The ground-truth document; ``face_image`` paths are relative to ``base``."""
    out = []
    for s in subjects:
        row: dict[str, object] = {"id": s.id, "kind": s.kind}
        if s.plate is not None:
            row["plate"] = s.plate
        if s.face_image is not None:
            row["face_image"] = s.face_image.relative_to(base).as_posix()
        row["route"] = [
            {"camera_id": p.camera_id, "time": p.time.isoformat(), "direction": p.direction}
            for p in s.route
        ]
        out.append(row)
    return {"subjects": out}


def _write_clip(plan: ClipPlan, clips_dir: Path, subject_looks: dict[str, render.Look],
                rng: np.random.Generator) -> SampleClip:
    offset = camera_spec(plan.camera_id).camera.clock_offset_s
    dvr_start = plan.start + timedelta(seconds=offset)
    folder = clips_dir / plan.camera_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / dvr_file_name(dvr_start)
    if plan.corrupt:
        render.write_corrupt(plan, subject_looks, path, rng)
    else:
        render.encode(render.frames(plan, subject_looks, rng), path)
    return SampleClip(plan.camera_id, path, plan.start, dvr_start, plan.duration_s,
                      float(render.FPS), tuple(p.subject for p in plan.passes), plan.corrupt)


def generate(out_dir: Path, *, seed: int = 0) -> Scenario:
    """Write the sample network into ``out_dir`` (created if needed) and return what was written.

    The story (cameras, plates, routes, times) is fixed; ``seed`` drives the scenery details and
    the pixel noise, and the same seed writes the same clips.

    Args:
        out_dir: destination folder; existing sample files in it are overwritten.
        seed: random seed for scenery and noise.

    Returns:
        The :class:`Scenario`: file paths, subjects with their true routes, clips, cameras.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        clips_dir = out_dir / "clips"
        clips_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise CamfindError(f"cannot create the sample folder {out_dir}: {exc.strerror}") from None
    cameras = tuple(spec.camera for spec in CAMERAS)
    cameras_csv = out_dir / "cameras.csv"
    write_cameras_csv(cameras_csv, cameras)
    probes = {c.id: write_probe(c.probe_source, out_dir / "probes" / f"{c.id}.jpg")
              for c in CAST if c.probe_source}
    passes, plans = story()
    subject_looks = looks()

    def write(item: tuple[int, ClipPlan]) -> SampleClip:
        rng = np.random.default_rng([seed, item[0]])  # one stream per clip: order-independent
        return _write_clip(item[1], clips_dir, subject_looks, rng)

    # x264 and numpy release the GIL: two clips at a time use both cores.
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        clips = tuple(pool.map(write, enumerate(plans)))
    subjects = _subjects(passes, probes)
    ground_truth = out_dir / "ground_truth.json"
    doc = ground_truth_dict(subjects, out_dir)
    ground_truth.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    corrupt = next(c.path for c in clips if c.corrupt)
    logger.info("sample network written to %s in %.1f s", out_dir, time.perf_counter() - started)
    return Scenario(out_dir, cameras_csv, clips_dir, ground_truth, tuple(probes.values()),
                    corrupt, subjects, clips, cameras)
