"""The main job end to end on the built-in sample network.

Generate the sample ward into a working folder, import its cameras, ingest and analyse its clips
(the corrupt one is reported and skipped), trace the sample vehicle by plate and the sample person
by face, and write the HTML report. The folder keeps ``camfind.db``, ``ground_truth.json`` and
``report.html`` so a user can go on querying the sample index.

>>> result = run_demo(prepare_workdir(Path("demo-case"), force=True), index)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camfind.errors import InputError

if TYPE_CHECKING:
    from camfind.index import Index
    from camfind.ingest import IngestSummary
    from camfind.sample import Scenario, Subject
    from camfind.types import Route

logger = logging.getLogger(__name__)

DB_NAME = "camfind.db"
REPORT_NAME = "report.html"
PERSON_REPORT_NAME = "report_person.html"
#: What the demo writes into its folder; ``--force`` removes only these.
_OWNED = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}.faces.cache", "cameras.csv", "clips", "probes",
          "snapshots", "ground_truth.json", REPORT_NAME, PERSON_REPORT_NAME)

#: Written into a folder before the demo fills it, so an interrupted demo can be rebuilt with --force.
MARKER = ".camfind-demo"

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class TracedSubject:
    """One subject of the sample, the target traced for it, and the route found."""

    subject: Subject
    target: str
    route: Route


@dataclass(frozen=True)
class DemoResult:
    """What the demo did, with paths to what it left behind."""

    workdir: Path
    db: Path
    scenario: Scenario
    ingest: IngestSummary
    analysis: Any
    traces: tuple[TracedSubject, ...]
    report: Path
    person_report: Path


def prepare_workdir(workdir: Path, *, force: bool = False) -> Path:
    """Make ``workdir`` ready for a fresh demo and return its absolute path.

    Only what an earlier demo made is ever removed, and only with ``force``: a folder whose
    ``camfind.db`` was not created by ``camfind demo`` (a real case), or that holds clips or
    snapshots without the demo's ground truth, is refused whatever ``force`` says.

    Raises:
        InputError: ``workdir`` is a file, holds a case that is not a demo, or holds an earlier
            demo and ``force`` is false.
    """
    workdir = Path(workdir).resolve()
    if workdir.exists() and not workdir.is_dir():
        raise InputError(f"{workdir} is a file: --workdir needs a folder (new or holding an earlier demo)")
    present = [name for name in _OWNED if (workdir / name).exists()]
    if not present:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / MARKER).write_text("made by camfind demo: --force rebuilds it\n", encoding="utf-8")
        return workdir
    foreign = _not_a_demo(workdir, present)
    if foreign is not None:
        raise InputError(f"{workdir} {foreign}, so it is not an earlier demo: camfind demo never removes it; "
                         "choose another --workdir")
    if not force:
        query = f", or query it with --db {workdir / DB_NAME}" if DB_NAME in present else ""
        raise InputError(f"{workdir} already holds a demo ({', '.join(present[:3])}): pass --force to rebuild it"
                         f"{query}")
    for name in present:
        target = workdir / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    (workdir / MARKER).write_text("made by camfind demo: --force rebuilds it\n", encoding="utf-8")
    return workdir


def _not_a_demo(workdir: Path, present: list[str]) -> str | None:
    """Why ``workdir`` is not an earlier demo (a phrase), or None if it is one."""
    from camfind.index import first_command

    db = workdir / DB_NAME
    if db.exists():
        if first_command(db) != "demo":
            return f"holds an index ({DB_NAME}) that camfind demo did not create"
        return None
    if not (workdir / MARKER).is_file() and not (workdir / "ground_truth.json").is_file():
        return f"holds {', '.join(present[:3])} but no sign of an earlier demo ({MARKER})"
    return None


def build_sample(workdir: Path) -> Scenario:
    """Generate the sample network into ``workdir``."""
    from camfind.sample import generate

    return generate(workdir)


def run_demo(
    workdir: Path,
    scenario: Scenario,
    index: Index,
    *,
    hash_progress: Progress | None = None,
    analysis_progress: Progress | None = None,
) -> DemoResult:
    """Import, ingest, analyse, trace and report on the generated sample in ``index``."""
    from camfind.cameras import import_cameras
    from camfind.export.report import render_report
    from camfind.index.queries import list_cameras
    from camfind.ingest import ingest_paths, pending_analysis
    from camfind.workflow import analysis_settings, analyze_registered

    import_cameras(index, scenario.cameras_csv)
    summary = ingest_paths(index, [scenario.clips_dir], progress=hash_progress)
    todo = pending_analysis(index, summary)
    analysis = analyze_registered(index, todo, settings=analysis_settings(), progress=analysis_progress)
    traces = (_trace_vehicle(index, scenario.vehicle), _trace_person(index, scenario.person))
    cameras = {c.id: c for c in list_cameras(index)}
    report = workdir / REPORT_NAME
    report.write_text(render_report(traces[0].route, cameras, index.tz, index.path), encoding="utf-8")
    person_report = workdir / PERSON_REPORT_NAME
    person_report.write_text(render_report(traces[1].route, cameras, index.tz, index.path), encoding="utf-8")
    return DemoResult(workdir, Path(index.path), scenario, summary, analysis, traces, report, person_report)


def _trace_vehicle(index: Index, subject: Subject) -> TracedSubject:
    from camfind.search.trace import TraceTarget, trace

    plate = subject.plate or ""
    return TracedSubject(subject, f"plate {plate}", trace(index, TraceTarget(plate=plate)))


def _trace_person(index: Index, subject: Subject) -> TracedSubject:
    from camfind.search.probe import encode_probe
    from camfind.search.trace import TraceTarget, trace

    if subject.face_image is None:
        raise InputError(f"sample subject {subject.id} has no probe photo")
    target = TraceTarget(faces=encode_probe(subject.face_image), label=subject.face_image.name)
    return TracedSubject(subject, f"face {subject.face_image.name}", trace(index, target))
