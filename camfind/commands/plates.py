"""`camfind plates ...` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from camfind.commands import plates_batch
from camfind.commands._common import CsvOpt, JsonOpt, emit_csv, emit_json, emit_table
from camfind.vocab import OCR_BACKENDS

app = typer.Typer(
    help=(
        "Licence plates: read them from images, search a watchlist.\n\n"
        "Example: camfind plates read car.jpg plate.png --json"
    ),
    no_args_is_help=True,
)
app.command("batch")(plates_batch.batch)

PLATE_COLUMNS = ("image", "rank", "text", "confidence", "layout", "valid", "box")


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
    objects: list[dict[str, Any]] = []
    failed = 0
    for result in read_plate_files(images, backend=backend, crop_kind=crop):
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
