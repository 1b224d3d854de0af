"""Recognition on still image files: what ``camfind plates read`` and ``camfind faces match`` run.

Models load once per call; a file that cannot be read as an image gives a result with ``error``
set and the others go on.

Example:
    >>> for result in read_plate_files(["car1.jpg", "car2.png"]):   # doctest: +SKIP
    ...     print(result.image, [p.text for p in result.plates])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camfind.errors import InputError
from camfind.recognition.faces import (
    DEFAULT_MATCH_THRESHOLD,
    FaceEngine,
    face_distance,
    load_face_engine,
)
from camfind.recognition.plates import PlateReader, load_plate_reader
from camfind.types import Box, Face, PlateText

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatesInImage:
    """The plates read in one image file (best first), or why the file could not be read."""

    image: str
    plates: tuple[PlateText, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class FaceMatch:
    """How close the probe's face comes to the faces of one image file."""

    image: str
    faces: int = 0
    best_distance: float | None = None
    match: bool = False
    box: Box | None = None
    error: str | None = None


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as a BGR uint8 array.

    Raises:
        InputError: the file is missing, is a folder, or is not an image OpenCV can decode.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if not p.is_file():
        raise InputError(f"{p}: not a file")
    try:
        data = np.fromfile(p, dtype=np.uint8)
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise InputError(f"{p}: not an image (or a format OpenCV cannot decode)")
    return image


def read_plate_files(
    paths: Iterable[str | Path],
    *,
    backend: str = "rapidocr",
    reader: PlateReader | None = None,
    crop_kind: str = "auto",
) -> Iterator[PlatesInImage]:
    """Read the plates in each image file, loading the plate reader once.

    Raises:
        ModelError: the OCR backend cannot be loaded (before any file is read).
    """
    reader = reader or load_plate_reader(backend)
    for path in paths:
        try:
            image = load_image(path)
            plates = reader.read(image, crop_kind=crop_kind)
        except InputError as exc:
            yield PlatesInImage(str(path), error=str(exc))
            continue
        yield PlatesInImage(str(path), tuple(plates))


def probe_face(path: str | Path, engine: FaceEngine, *, upsample: int = 1) -> Face:
    """The face to look for: the largest face passing the gates in the probe image.

    Raises:
        InputError: the probe is not a readable image, or holds no usable face.
    """
    faces = engine.faces(load_image(path), upsample=upsample)
    if not faces:
        raise InputError(f"{path}: no face found in the probe image (try a larger, sharper, frontal photo)")
    return faces[0]


def match_face_files(
    probe: str | Path,
    paths: Iterable[str | Path],
    *,
    threshold: float = DEFAULT_MATCH_THRESHOLD,
    detector: str = "hog",
    upsample: int = 1,
    engine: FaceEngine | None = None,
) -> Iterator[FaceMatch]:
    """Compare the probe's face with every face in each image file (models loaded once).

    ``match`` is true where the closest face is at most ``threshold`` from the probe's.

    Raises:
        InputError: the probe is unreadable or holds no face (before any image is compared).
        ModelError: the face models cannot be loaded.
    """
    engine = engine or load_face_engine(detector)
    target = probe_face(probe, engine, upsample=upsample)
    for path in paths:
        try:
            faces = engine.faces(load_image(path), upsample=upsample)
        except InputError as exc:
            yield FaceMatch(str(path), error=str(exc))
            continue
        if not faces:
            yield FaceMatch(str(path))
            continue
        dists = [face_distance(target, face) for face in faces]
        best = int(np.argmin(dists))
        yield FaceMatch(
            str(path),
            faces=len(faces),
            best_distance=round(dists[best], 4),
            match=dists[best] <= threshold,
            box=faces[best].box,
        )
