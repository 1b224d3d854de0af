"""Recognition on still image files: what ``camfind plates read`` and ``camfind faces match`` run.

Models load once per call; a file that cannot be read as an image gives a result with ``error``
set and the others go on.

Example:
    >>> for result in read_plate_files(["car1.jpg", "car2.png"]):   # doctest: +SKIP
    ...     print(result.image, [p.text for p in result.plates])
"""

from __future__ import annotations

import logging
import stat
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from camfind.errors import InputError
from camfind.evidence import open_readonly
from camfind.recognition.faces import (
    DEFAULT_DETECTOR,
    FaceEngine,
    face_distance,
    load_face_engine,
    usable_faces,
)
from camfind.recognition.platefind import DEFAULT_FINDER
from camfind.recognition.plates import PlateReader, load_plate_reader
from camfind.types import Box, Face, PlateText
from camfind.vocab import FACE_MATCH_THRESHOLD

logger = logging.getLogger(__name__)

#: The largest image decoded at full size, in pixels: 50 MP (a 30000x30000 PNG would take gigabytes).
MAX_IMAGE_PIXELS = 50_000_000
_JPEG_REDUCTIONS = ((2, cv2.IMREAD_REDUCED_COLOR_2), (4, cv2.IMREAD_REDUCED_COLOR_4), (8, cv2.IMREAD_REDUCED_COLOR_8))


@dataclass(frozen=True)
class PlatesInImage:
    """The plates read in one image file (best first), or why the file could not be read."""

    image: str
    plates: tuple[PlateText, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class FaceMatch:
    """How close the probe's face comes to the faces of one image file.

    ``faces`` counts every face found, ``unencoded`` those among them too small or blurred
    to be compared (never matched).
    """

    image: str
    faces: int = 0
    best_distance: float | None = None
    match: bool = False
    box: Box | None = None
    error: str | None = None
    unencoded: int = 0


def load_image(path: str | Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Read an image file as a BGR uint8 array, checking its size before decoding it.

    The width and height are read from the file's header (Pillow, no pixel decoded). An image of
    more than ``max_pixels`` is refused, except a JPEG, which is decoded at 1/2, 1/4 or 1/8 of its
    size (libjpeg's cheap DCT scaling) to fit. Formats Pillow does not know go to OpenCV as they
    are (OpenCV caps those at 2^30 pixels). The file is read with ``O_NOATIME`` where allowed.

    Raises:
        InputError: the file is missing, a folder, not a regular file, too large, or not an image
            OpenCV can decode (every message starts with the path).
    """
    p = Path(path)
    _check_regular_file(p)
    try:
        with open_readonly(p) as raw:
            flags = _decode_flags(p, raw, max_pixels)
            raw.seek(0)
            data = np.frombuffer(raw.readall(), dtype=np.uint8)
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    image = cv2.imdecode(data, flags) if data.size else None
    if image is None:
        raise InputError(f"{p}: not an image (or a format OpenCV cannot decode)")
    return image


def _check_regular_file(p: Path) -> None:
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(mode):
        raise InputError(f"{p}: is a folder, not an image file")
    if not stat.S_ISREG(mode):
        raise InputError(f"{p}: is not a regular file (a device, pipe or socket), not an image file")


def _decode_flags(p: Path, raw: BinaryIO, max_pixels: int) -> int:
    """The ``cv2.imdecode`` flags for this file: full colour, or a JPEG reduction that fits."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(raw) as im:
                (width, height), fmt = im.size, im.format
    except Image.DecompressionBombError:
        raise InputError(f"{p}: image too large to read (far over the {max_pixels / 1e6:g} megapixels "
                         "read): scale it down first") from None
    except (UnidentifiedImageError, ValueError, SyntaxError, EOFError, ImportError):
        # Not a format Pillow knows (or a broken header): OpenCV decides. ImportError: once
        # ultralytics is imported in the process (the YOLO detector), it patches Image.open to
        # import pi_heif on an unidentified file, and that optional package is not installed.
        return cv2.IMREAD_COLOR
    pixels = width * height
    if pixels <= max_pixels:
        return cv2.IMREAD_COLOR
    if fmt == "JPEG":
        for factor, flag in _JPEG_REDUCTIONS:
            if pixels <= max_pixels * factor * factor:
                logger.info("%s: %dx%d px JPEG decoded at 1/%d size", p, width, height, factor)
                return flag
    raise InputError(f"{p}: image too large to read ({width}x{height} px, {pixels / 1e6:.0f} megapixels; "
                     f"at most {max_pixels / 1e6:g} are read): scale it down first")


def read_plate_files(
    paths: Iterable[str | Path],
    *,
    backend: str = "rapidocr",
    reader: PlateReader | None = None,
    crop_kind: str = "auto",
    finder: str | None = DEFAULT_FINDER,
) -> Iterator[PlatesInImage]:
    """Read the plates in each image file, loading the plate reader once.

    A plate crop is read as it is; a photo or frame is searched with the plate finder
    ``finder`` (:data:`camfind.recognition.platefind.FINDERS`; None: one pass of text
    detection) and every candidate is read as a plate crop, boxes in image pixels.

    Raises:
        ModelError: the OCR backend or the finder cannot be loaded (before any file is read).
    """
    reader = reader or load_plate_reader(backend, finder=finder)
    for path in paths:
        try:
            plates = reader.read(load_image(path), crop_kind=crop_kind)
        except InputError as exc:
            yield PlatesInImage(str(path), error=_naming(path, exc))
            continue
        yield PlatesInImage(str(path), tuple(plates))


def _naming(path: str | Path, exc: InputError) -> str:
    """The error as one line that names the file (``image too small...`` does not by itself)."""
    text = str(exc)
    return text if text.startswith(f"{Path(path)}:") else f"{Path(path)}: {text}"


def probe_face(path: str | Path, engine: FaceEngine, *, upsample: int | None = None) -> Face:
    """The face to look for: the largest encoded face in the probe image.

    Raises:
        InputError: the probe is not a readable image.
        NoUsableFaceError: it holds no face, or none large and sharp enough to encode
            (the message says which).
    """
    return usable_faces(engine.faces(load_image(path), upsample=upsample), str(path))[0]


def match_face_files(
    probe: str | Path,
    paths: Iterable[str | Path],
    *,
    threshold: float = FACE_MATCH_THRESHOLD,
    detector: str = DEFAULT_DETECTOR,
    upsample: int | None = None,
    engine: FaceEngine | None = None,
) -> Iterator[FaceMatch]:
    """Compare the probe's face with every encoded face in each image file (models loaded once).

    ``match`` is true where the closest face is at most ``threshold`` from the probe's.

    Raises:
        InputError: the probe is unreadable (before any image is compared).
        NoUsableFaceError: the probe holds no usable face (before any image is compared).
        ModelError: the face models cannot be loaded.
    """
    engine = engine or load_face_engine(detector)
    target = probe_face(probe, engine, upsample=upsample)
    for path in paths:
        try:
            faces = engine.faces(load_image(path), upsample=upsample)
        except InputError as exc:
            yield FaceMatch(str(path), error=_naming(path, exc))
            continue
        encoded = [f for f in faces if f.encoding is not None]
        unencoded = len(faces) - len(encoded)
        if not encoded:
            yield FaceMatch(str(path), faces=len(faces), unencoded=unencoded)
            continue
        dists = [face_distance(target, face) for face in encoded]
        best = int(np.argmin(dists))
        yield FaceMatch(
            str(path),
            faces=len(faces),
            best_distance=round(dists[best], 4),
            match=dists[best] <= threshold,
            box=encoded[best].box,
            unencoded=unencoded,
        )
