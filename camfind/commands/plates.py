"""`camfind plates ...`: read plates from still images, and search a watchlist of plate patterns
(every hit out, CSV or JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from camfind.commands._common import CsvOpt, JsonOpt, emit_csv, emit_json, emit_table, index_session, to_stdout
from camfind.vocab import DEFAULT_PLATE_FINDER, OCR_BACKENDS, PLATE_FINDERS

if TYPE_CHECKING:
    from camfind.search.batch import BatchHit

app = typer.Typer(
    help=(
        "Licence plates: read them from images, search a watchlist.\n\n"
        "Example: camfind plates read car.jpg plate.png --json"
    ),
    no_args_is_help=True,
)

PLATE_COLUMNS = ("image", "rank", "text", "confidence", "layout", "valid", "box")


@app.command("batch")
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
    from camfind.outputs import atomic_output
    from camfind.search.batch import hit_record, write_hits_csv

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


@app.command("read")
def read(
    images: Annotated[list[Path], typer.Argument(help="Image files: photos, vehicle crops or plate crops.")],
    backend: Annotated[
        str, typer.Option("--backend", help="OCR backend: rapidocr (default, most accurate) or easyocr.")
    ] = "rapidocr",
    crop: Annotated[
        str,
        typer.Option("--crop", help="What the images are: auto, plate (each is one plate) or scene."),
    ] = "auto",
    finder: Annotated[
        str,
        typer.Option(
            "--finder",
            help=(
                "How plates are found in a photo or frame: text (PP-OCRv4 text detection, default), "
                "yolo (fastanpr's plate detector, AGPL-3.0: pip install 'camfind[anpr]') or "
                "scene (one text-detection pass, the older path)."
            ),
        ),
    ] = DEFAULT_PLATE_FINDER,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Read licence plates in still images (no index needed). Vietnamese plates are checked and
    put in canonical form (51F-123.45, 59-X1 123.45); other plates are shown as read.

    Files that cannot be read are reported on stderr, one line each; the others are still read,
    and the exit code is then 1.

    Example: camfind plates read car1.jpg plate2.png --json
    """
    from camfind.recognition.stills import read_plate_files

    if backend not in OCR_BACKENDS:
        raise typer.BadParameter(f"expected {' or '.join(OCR_BACKENDS)}, got {backend!r}", param_hint="--backend")
    if crop not in ("auto", "plate", "scene"):
        raise typer.BadParameter(f"expected auto, plate or scene, got {crop!r}", param_hint="--crop")
    if finder not in (*PLATE_FINDERS, "scene"):
        raise typer.BadParameter(f"expected {', '.join(PLATE_FINDERS)} or scene, got {finder!r}", param_hint="--finder")
    objects: list[dict[str, Any]] = []
    failed = 0
    found = read_plate_files(images, backend=backend, crop_kind=crop, finder=None if finder == "scene" else finder)
    for result in found:
        if result.error is not None:
            typer.echo(f"camfind: {result.error}", err=True)
            failed += 1
            continue
        plates = [
            {
                "text": p.text,
                "confidence": round(p.confidence, 4),
                "layout": p.layout,
                "valid": p.valid,
                "box": [round(v, 1) for v in p.box] if p.box else None,
                "raw": p.raw,
            }
            for p in result.plates
        ]
        objects.append({"image": result.image, "plates": plates})
    _render(objects, as_json=as_json, as_csv=as_csv)
    if failed:
        raise typer.Exit(1)


def _render(objects: list[dict[str, Any]], *, as_json: bool, as_csv: bool) -> None:
    if as_json:
        emit_json(objects)
        return
    rows: list[dict[str, Any]] = []
    for obj in objects:
        if not obj["plates"]:
            rows.append({"image": obj["image"], "rank": None, "text": "(no plate found)"})
        for rank, plate in enumerate(obj["plates"], start=1):
            rows.append({"image": obj["image"], "rank": rank, **plate})
    if not as_csv:
        for row in rows:
            if row.get("box"):
                row["box"] = ",".join(str(round(v)) for v in row["box"])
    if as_csv:
        emit_csv(rows, PLATE_COLUMNS)
    else:
        emit_table("Plates", rows, PLATE_COLUMNS)
