"""`camfind plates batch`: a watchlist of plate patterns in, every hit out (CSV or JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from camfind.commands._common import JsonOpt, emit_json, index_session, to_stdout

if TYPE_CHECKING:
    from camfind.search.batch import BatchHit


def batch(
    watchlist: Annotated[
        Path,
        typer.Argument(help="CSV of plate patterns: a header naming a plate (or pattern) column, with label and "
                       "note optional, or no header and rows of plate,label,note."),
    ],
    time_from: Annotated[str | None, typer.Option("--from", help="Window start (local time of the case).")] = None,
    time_to: Annotated[str | None, typer.Option("--to", help="Window end.")] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the hits (CSV, or JSON with --json) to this file instead of stdout. "
                     "An existing file is replaced, only once every hit is written (a device or a pipe is "
                     "written directly); evidence, the index and the watchlist itself are refused."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search every plate pattern of a watchlist in one pass: one row per hit (watch, label, note,
    plate, camera, time, confidence, snapshot, clip). A summary goes to stderr; exit 0 with or
    without hits.

    The watchlist: if its first row names any of plate, pattern, label, note (any case), it is the
    header; it must then name exactly one plate (or pattern) column and no column twice, and other
    columns are ignored. Otherwise the file has no header and each row is plate,label,note by
    position (its first plate must contain a digit). Blank rows and rows starting with # are
    skipped. Patterns: exact (51F-123.45), wildcards (51F*, 51F-1?3.45), fuzzy (51F12345~1).

    Example: camfind plates batch watchlist.csv --from "2024-01-25" --out hits.csv
    """
    from camfind.search.batch import batch_search, read_watchlist, summary
    from camfind.timeutil import parse_time

    entries = read_watchlist(watchlist)
    with index_session("plates batch") as (index, counts):
        hits = batch_search(index, entries, None if time_from is None else parse_time(time_from, index.tz),
                            None if time_to is None else parse_time(time_to, index.tz))
        counts.update(entries=len(entries), hits=len(hits))
        _emit(hits, index.tz, out_file, as_json=as_json)
    typer.echo(summary(entries, hits) + (f"; written to {out_file}" if out_file else ""), err=True)


def _emit(hits: Sequence[BatchHit], tz: str, out_file: Path | None, *, as_json: bool) -> None:
    """The hits as JSON or CSV, to stdout or written atomically to ``out_file``."""
    from camfind.search.batch import hit_record, write_hits_csv
    from camfind.search.files import atomic_output

    if as_json:
        records = [hit_record(h, tz) for h in hits]
        if out_file is None:
            emit_json(records)
            return
        with atomic_output(out_file) as f:
            f.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return
    if out_file is None:
        with to_stdout():
            write_hits_csv(hits, tz, sys.stdout)
        return
    with atomic_output(out_file, newline="") as f:
        write_hits_csv(hits, tz, f)
