"""`camfind faces ...` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from camfind.commands._common import CsvOpt, JsonOpt, emit_rows
from camfind.vocab import DEFAULT_FACE_DETECTOR, FACE_DETECTORS, FACE_MATCH_THRESHOLD

app = typer.Typer(
    help="Faces: compare a probe photo with images.\n\nExample: camfind faces match suspect.jpg frame_0412.png",
    no_args_is_help=True,
)

MATCH_COLUMNS = ("image", "faces", "unencoded", "best_distance", "match", "box")


@app.command("match")
def match(
    probe: Annotated[Path, typer.Argument(help="Photo of the person sought (its largest face is used).")],
    images: Annotated[list[Path], typer.Argument(help="Images to look for that face in.")],
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            min=0.0,
            max=2.0,
            help="Distance at or under which a face matches (measured on real photos).",
        ),
    ] = FACE_MATCH_THRESHOLD,
    detector: Annotated[
        str,
        typer.Option(
            "--detector",
            help="Face detector: yunet (default, finds small faces), hog (dlib) or cnn (dlib, slow on CPU).",
        ),
    ] = DEFAULT_FACE_DETECTOR,
    upsample: Annotated[
        int | None,
        typer.Option(
            "--upsample", min=0, max=3,
            help="Double images this many times to find smaller faces (default: yunet 0, hog/cnn 1).",
        ),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Is the probe's face in each image? Prints the number of faces ("unencoded": those too
    small or blurred to compare), the closest face's distance to the probe (lower is
    closer) and whether it is under the threshold. No index needed.

    A probe without a usable face (none found, too small, too blurred) is one error line saying
    which, before any image is compared.

    Files that cannot be read are reported on stderr, one line each; the others are still
    compared, and the exit code is then 1.

    Example: camfind faces match suspect.jpg frame_0412.png frame_0977.png --json
    """
    from camfind.recognition.stills import match_face_files

    if detector not in FACE_DETECTORS:
        raise typer.BadParameter(f"expected one of {', '.join(FACE_DETECTORS)}, got {detector!r}",
                                 param_hint="--detector")
    rows: list[dict[str, Any]] = []
    failed = 0
    results = match_face_files(probe, images, threshold=threshold, detector=detector, upsample=upsample)
    for result in results:
        if result.error is not None:
            typer.echo(f"camfind: {result.error}", err=True)
            failed += 1
            continue
        rows.append(
            {
                "image": result.image,
                "faces": result.faces,
                "unencoded": result.unencoded,
                "best_distance": result.best_distance,
                "match": result.match,
                "box": list(result.box) if result.box else None,
                "threshold": threshold,
            }
        )
    emit_rows("Face match", rows, MATCH_COLUMNS, as_json=as_json, as_csv=as_csv)
    if failed:
        raise typer.Exit(1)
