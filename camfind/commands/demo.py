"""`camfind demo`: the main job end to end on the built-in sample network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from camfind.commands._common import err, index_session, out
from camfind.commands._progress import progress_bar
from camfind.commands._routes import show_route

app = typer.Typer()


@app.command("demo")
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", help="Working folder for the sample case.")] = Path(
        "camfind-demo"
    ),
    force: Annotated[bool, typer.Option("--force", help="Rebuild a folder that already holds a demo.")] = False,
) -> None:
    """Build the sample camera network, ingest and analyse it, trace the sample vehicle's plate and
    the sample person's face, print both routes and write report.html.

    Runs offline. The folder keeps camfind.db, ground_truth.json and report.html: go on with
    e.g. `camfind --db camfind-demo/camfind.db search --class motorcycle`.

    Example: camfind demo --workdir demo-case --force
    """
    from camfind.demo import DB_NAME, build_sample, prepare_workdir, run_demo

    folder = prepare_workdir(workdir, force=force)
    err.print(f"generating the sample network in {folder} ...")
    scenario = build_sample(folder)
    with index_session("demo", create=True, path=str(folder / DB_NAME)) as (index, counts):
        with progress_bar("hashing", in_bytes=True) as hashing, progress_bar("analysing") as analysing:
            result = run_demo(folder, scenario, index, hash_progress=hashing, analysis_progress=analysing)
        counts.update(ingested=result.ingest.ingested, failed=len(result.ingest.failed),
                      hops={t.subject.id: len(t.route.hops) for t in result.traces})
        tz = index.tz
    s = result.ingest
    out.print(f"Ingested {s.ingested} clips from {len(scenario.cameras)} cameras; {len(s.failed)} failed:")
    for problem in s.failed:
        out.print(f"  {problem.path}: {problem.reason}", markup=False, highlight=False)
    for traced in result.traces:
        out.print(f"\n[bold]{traced.subject.id}[/bold] ({traced.subject.description}): trace by {traced.target}")
        show_route(traced.route, tz)
    out.print(f"\nReports: {result.report} (vehicle), {result.person_report} (person)")
    out.print(f"Index: {result.db}   ground truth: {scenario.ground_truth}")
