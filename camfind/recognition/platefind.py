"""Finding licence plates in a whole frame, then reading each one as a plate crop.

A :class:`PlateFinder` returns :class:`PlateCandidate` boxes in frame pixels; the plate reader
reads each candidate cut from the frame at its original resolution (with a margin, upscaled to
the recogniser's working height). Two finders:

- ``text`` (:class:`camfind.recognition.plate_text.TextPlateFinder`, the default): the
  PP-OCRv4 text detector already used for reading, run over the frame at two scales (the
  fine one in tiles, so small plates in a large photo are found); stacked lines are paired
  into two-row plates and single lines are kept where a quick recognition of them looks like
  a plate;
- ``yolo`` (:class:`camfind.recognition.plate_yolo.YoloPlateFinder`, opt-in): the YOLOv8n
  licence-plate detector shipped in ``fastanpr`` (code and weights AGPL-3.0).

Measured on the ten real Vietnamese frames of benchmarks/platefind.py, the text finder reads 21
of their 23 legible plates and the YOLO finder 20 (each misses a ~40 px plate its way); the text
finder is the default as it needs no torch and no AGPL component, the YOLO finder is cheaper
inside small regions.

``regions`` (motion blobs, vehicle boxes) restrict the search; where they are given, only they
are searched, each grown a little and overlapping ones united.

Example:
    >>> reader = load_plate_reader()                                     # doctest: +SKIP
    >>> finder = load_plate_finder("text", reader)                       # doctest: +SKIP
    >>> [p.text for p in read_plates_in_frame(frame, finder=finder, reader=reader)]  # doctest: +SKIP
    ['59-X1 234.56', '51F-598.81']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from camfind.errors import InputError, ModelError
from camfind.recognition import plate_lines
from camfind.recognition.ocr import LineRead
from camfind.types import Box, PlateText
from camfind.vocab import DEFAULT_PLATE_FINDER, PLATE_FINDERS

if TYPE_CHECKING:
    from camfind.recognition.plates import PlateReader

logger = logging.getLogger(__name__)

FINDERS = PLATE_FINDERS
DEFAULT_FINDER = DEFAULT_PLATE_FINDER
LAYOUT_HINTS: tuple[str, ...] = ("one-row", "two-row", "unknown")

#: Search scales (:func:`scaled_parts`): the whole frame at this long side (upscaled up to
#: it, MAX_UPSCALE times at most), then, for frames larger than FINE_FROM times it, at
#: FINE_SIDE in tiles of TILE px (overlapping by a sixth).
BASE_SIDE = 1280
FINE_SIDE = 2560
FINE_FROM = 1.25
#: The text detector misses characters under ~10 px: any frame larger than the base size is
#: searched at the finer scale too (YOLO's plate detector holds up at the base size).
TEXT_FINE_FROM = 1.0
TILE = 1280
MAX_UPSCALE = 2.0
#: A search region is grown by this share of its size on each side before it is searched.
REGION_GROW = 0.1
#: Text lines lower than this (frame px) cannot be read; at most MAX_LINES are looked at.
MIN_LINE_HEIGHT = 6.0
MAX_LINES = 96
#: The detector grows its boxes (DB unclip 1.6), so the two rows of a plate overlap: boxes
#: join one line only where they overlap by LINE_OVERLAP of the lower height, and two lines
#: are a plate's rows where they overlap by at most ROW_OVERLAP.
LINE_OVERLAP = 0.75
ROW_OVERLAP = 0.75
#: Boxes join one line across a gap of at most this times the line height (the space in
#: "51F 598.81"); more would join a tilted plate's row with whatever lies beside it.
LINE_GAP = 0.6
#: Candidates read per frame, largest score first.
MAX_CANDIDATES = 32
#: Margin (share of the candidate's height) cut around a candidate, and the height a crop is
#: upscaled to before reading (one-row, two-row).
CROP_MARGIN = 0.08
READ_HEIGHT = {"one-row": 96, "two-row": 192}


@dataclass(frozen=True)
class PlateCandidate:
    """A place in a frame where a plate may be: box in frame pixels, score in [0, 1], and the
    layout the finder expects there (``one-row``, ``two-row`` or ``unknown``)."""

    box: Box
    score: float
    layout: str = "unknown"

    def __post_init__(self) -> None:
        x1, y1, x2, y2 = self.box
        if not (x2 > x1 and y2 > y1):
            raise ValueError(f"expected a box (x1, y1, x2, y2) with x2>x1, y2>y1, got {self.box!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"expected a score in [0, 1], got {self.score}")
        if self.layout not in LAYOUT_HINTS:
            raise ValueError(f"expected a layout in {LAYOUT_HINTS}, got {self.layout!r}")


class PlateFinder(Protocol):
    """Finds where plates may be in a BGR frame."""

    name: str

    def find(self, image_bgr: np.ndarray, regions: Sequence[Box] | None = None) -> list[PlateCandidate]:
        """Candidates in frame pixels, best first; only inside ``regions`` where given."""
        ...


def _load_text(reader: PlateReader | None) -> PlateFinder:
    from camfind.recognition.plate_text import TextPlateFinder

    ocr = getattr(reader, "ocr", None)
    if ocr is None:
        from camfind.recognition.ocr import load_backend

        ocr = load_backend("rapidocr")
    return TextPlateFinder(ocr)


def _load_yolo(reader: PlateReader | None) -> PlateFinder:
    from camfind.recognition.plate_yolo import YoloPlateFinder

    return YoloPlateFinder()


#: Plate finder name (:data:`camfind.vocab.PLATE_FINDERS`) -> loader, given the plate reader
#: whose OCR a finder may share; each finder is one module, imported only when loaded.
REGISTRY: Mapping[str, Callable[[PlateReader | None], PlateFinder]] = {"text": _load_text, "yolo": _load_yolo}
assert tuple(REGISTRY) == FINDERS, "the plate finder registry and camfind.vocab.PLATE_FINDERS disagree"


def load_plate_finder(name: str = DEFAULT_FINDER, reader: PlateReader | None = None) -> PlateFinder:
    """Load a plate finder by name (``text`` or ``yolo``).

    Args:
        name: ``text`` (the PP-OCRv4 text detector; reuses ``reader``'s OCR models) or ``yolo``
            (fastanpr's YOLOv8n plate detector, AGPL-3.0, from the ``anpr`` extra).
        reader: the plate reader whose OCR backend the text finder shares (loaded if None).

    Raises:
        ModelError: unknown name, or the finder's models are missing or altered.
    """
    loader = REGISTRY.get(name)
    if loader is None:
        raise ModelError(f"unknown plate finder {name!r}; expected one of {', '.join(FINDERS)}")
    return loader(reader)


def search(
    image: np.ndarray, regions: Sequence[Box] | None, find_in: Callable[[np.ndarray], list[PlateCandidate]]
) -> list[PlateCandidate]:
    """Run ``find_in`` on the whole image, or on each (grown, united) region, in frame pixels."""
    h, w = image.shape[:2]
    if regions is None:
        return find_in(image)
    grown = [plate_lines.grow(r, REGION_GROW, w, h) for r in regions if r[2] > r[0] and r[3] > r[1]]
    found: list[PlateCandidate] = []
    for x1, y1, x2, y2 in plate_lines.merge_overlapping(grown):
        xa, ya, xb, yb = int(x1), int(y1), int(np.ceil(x2)), int(np.ceil(y2))
        if xb - xa < 8 or yb - ya < 8:
            continue
        for c in find_in(image[ya:yb, xa:xb]):
            bx1, by1, bx2, by2 = c.box
            found.append(replace(c, box=(bx1 + xa, by1 + ya, bx2 + xa, by2 + ya)))
    return sorted(found, key=lambda c: -c.score)


def scaled_parts(width: int, height: int, *, fine_from: float = FINE_FROM) -> list[tuple[Box, int]]:
    """Where and at what size a frame is searched: (part of the frame, long side it is scaled
    to). The whole frame at :data:`BASE_SIDE` (up- or down-scaled to it); and a frame larger
    than ``fine_from`` times that, again at up to :data:`FINE_SIDE` (never beyond its own
    size), in tiles of :data:`TILE` px at that scale overlapping by a sixth."""
    long = max(width, height)
    whole: Box = (0.0, 0.0, float(width), float(height))
    parts: list[tuple[Box, int]] = [(whole, int(min(BASE_SIDE, MAX_UPSCALE * long)))]
    if long <= BASE_SIDE * fine_from:
        return parts
    scale = min(long, FINE_SIDE) / long
    tile = int(round(TILE / scale))
    for box in plate_lines.tile_grid(width, height, tile, tile // 6):
        side = max(32, int(round(max(box[2] - box[0], box[3] - box[1]) * scale)))
        parts.append((box, side))
    return parts


def candidates_from_lines(lines: Sequence[Box], reads: Sequence[LineRead]) -> list[PlateCandidate]:
    """Plate candidates from text lines and a quick reading of each: stacked pairs whose
    readings together look like a two-row plate, and single lines that look like a plate."""
    out: list[PlateCandidate] = []
    for i, j in plate_lines.stacked_pairs(lines, max_overlap=ROW_OVERLAP):
        top, bottom = _alnum(reads[i].text), _alnum(reads[j].text)
        if _two_row_like(top, bottom):
            conf = (reads[i].confidence + reads[j].confidence) / 2
            out.append(PlateCandidate(plate_lines.union([lines[i], lines[j]]), _clip01(conf), "two-row"))
    for line, read in zip(lines, reads, strict=True):
        text = _alnum(read.text)
        if plate_like(text):
            layout = "one-row" if (line[2] - line[0]) >= 2.0 * (line[3] - line[1]) else "unknown"
            out.append(PlateCandidate(line, _clip01(read.confidence), layout))
    return sorted(out, key=lambda c: -c.score)


def _two_row_like(top: str, bottom: str) -> bool:
    """The two lines of a plate: a 3-4 character top (province and series) over 4-5 digits."""
    digits = sum(ch.isdigit() for ch in top + bottom)
    return 2 <= len(top) <= 6 and 3 <= len(bottom) <= 7 and digits >= 5


def plate_like(norm: str) -> bool:
    """A reading (letters and digits) that could be a plate, Vietnamese or not."""
    digits = sum(ch.isdigit() for ch in norm)
    return 5 <= len(norm) <= 10 and digits >= 3 and digits < len(norm)


def read_plates_in_frame(
    image: np.ndarray,
    *,
    finder: PlateFinder,
    reader: PlateReader,
    regions: Sequence[Box] | None = None,
) -> list[PlateText]:
    """Find the plates in a frame and read each one as a plate crop.

    Each candidate is cut from ``image`` at its resolution with a margin, upscaled to the
    recogniser's working height and read as one plate (one-row or two-row). A reading is kept
    when it is a valid Vietnamese plate, or (``valid`` false) when it looks like a plate.

    Args:
        image: the frame, BGR uint8.
        finder: where to look (:func:`load_plate_finder`).
        reader: how to read (:func:`camfind.recognition.plates.load_plate_reader`).
        regions: boxes (frame px) to search, e.g. moving regions or vehicle boxes; None: all.

    Returns:
        Plates best first (valid first, then by confidence), boxes in frame pixels, one per
        plate: the same text or the same place read twice is kept once.
    """
    img = check_frame(image)
    plates = [read_candidate(img, c, reader=reader) for c in finder.find(img, regions)[:MAX_CANDIDATES]]
    return _distinct([p for p in plates if p is not None])


def read_candidate(image: np.ndarray, candidate: PlateCandidate, *, reader: PlateReader) -> PlateText | None:
    """Read one candidate as a plate crop (see :func:`read_plates_in_frame`).

    Returns:
        The plate with its box in frame pixels, or None where the reading is neither a valid
        Vietnamese plate nor plate-like.
    """
    got = reader.read(candidate_crop(image, candidate), crop_kind="candidate")
    if not got or not (got[0].valid or plate_like(got[0].norm)):
        return None
    return replace(got[0], box=candidate.box)


def candidate_crop(image: np.ndarray, cand: PlateCandidate) -> np.ndarray:
    """The candidate cut from ``image`` with :data:`CROP_MARGIN`, upscaled (bicubic) to at least
    the working height of its layout (:data:`READ_HEIGHT`)."""
    crop = plate_lines.crop(image, cand.box, pad=CROP_MARGIN)
    h, w = crop.shape[:2]
    two_row = cand.layout == "two-row" or (cand.layout == "unknown" and w < 2.0 * h)
    want = READ_HEIGHT["two-row" if two_row else "one-row"]
    if h < want:
        scale = want / h
        crop = cv2.resize(crop, (max(8, int(round(w * scale))), want), interpolation=cv2.INTER_CUBIC)
    return crop


def _distinct(plates: Sequence[PlateText]) -> list[PlateText]:
    """Best first; a plate whose text, or whose place, was kept already is dropped."""
    kept: list[PlateText] = []
    for plate in sorted(plates, key=lambda p: (not p.valid, -p.confidence)):
        if plate.box is None:
            continue
        box = plate.box
        if any(plate.norm == k.norm or plate_lines.overlap_of_smaller(box, k.box or box) > 0.5 for k in kept):
            continue
        kept.append(plate)
    return kept


def check_frame(image: object) -> np.ndarray:
    """``image`` as a BGR uint8 frame of at least 8x8 px.

    Raises:
        InputError: it is not one.
    """
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 8:
        got = getattr(image, "shape", type(image).__name__)
        raise InputError(f"expected a BGR image HxWx3 of at least 8x8 px, got {got}")
    return image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _clip01(value: float) -> float:
    return float(min(1.0, max(0.0, value)))
