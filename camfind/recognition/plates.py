"""Licence-plate reading: locate text, recognise it, assemble lines, apply Vietnamese rules.

One interface (:class:`PlateReader`) over the OCR backends. Given a plate crop, the reader
recognises it directly (one-row: the recogniser alone; two-row: the two lines found by text
detection, else by horizontal projection, read line by line). Given a photo or a vehicle crop, it
detects text lines, pairs stacked lines, and reads every candidate.

Example:
    >>> reader = load_plate_reader()                        # doctest: +SKIP
    >>> reader.read(cv2.imread("car.jpg"))[0].text           # doctest: +SKIP
    '51F-598.81'
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from rapidfuzz.distance import Levenshtein

from camfind.errors import InputError
from camfind.recognition import plate_lines, vnplate
from camfind.recognition.ocr import LineRead, OcrBackend, load_backend
from camfind.recognition.platefind import PlateFinder, load_plate_finder, plate_like, read_plates_in_frame
from camfind.types import Box, PlateText
from camfind.vocab import normalize_plate

logger = logging.getLogger(__name__)

#: ``candidate``: a loose crop around one plate, as a plate finder cuts it (rows located in it).
CROP_KINDS: tuple[str, ...] = ("auto", "plate", "scene", "candidate")
#: Width/height from which a crop is taken for a one-row plate (VN one-row plates are ~4.3:1).
ONE_ROW_MIN_ASPECT = 2.0
#: An edge character the recogniser is less sure of than this may be border, not plate.
DROP_PROB = 0.6
#: Text detection size: plate crops (text fills them) and scenes (plates are small in them).
PLATE_DET_SIDE = 320
SCENE_DET_SIDES = (640, 1280)
MAX_SCENE_LINES = 48
#: Paddings (times the line height) of the extra crops read when a first reading needs fixes.
REFINE_PADS = (0.0, 0.15, 0.3)
#: A candidate crop whose text is tilted by at least this many degrees is turned level first.
MIN_DESKEW_DEG = 4.0
#: A candidate crop whose strokes lean by at least this shear (x per y; 0.12 is ~7 degrees,
#: :func:`~camfind.recognition.plate_lines.slant`) is read sheared upright first.
MIN_SHEAR = 0.12
#: A reading of a whole candidate crop is kept only where each of its rows is within this many
#: edits of the text row detected there (read apart), where two rows were detected.
ROW_EDITS = 1


class PlateReader(Protocol):
    """Reads licence plates in a BGR image region (a photo, a vehicle crop or a plate crop)."""

    backend: str

    def read(self, image_bgr: np.ndarray, *, crop_kind: str = "auto") -> list[PlateText]:
        """Plates found, best first (valid plates before others, then by confidence)."""
        ...


def load_plate_reader(backend: str = "rapidocr", *, finder: str | None = None) -> PlateReader:
    """Load a plate reader with its OCR models (once; reuse it for every image).

    Args:
        backend: ``rapidocr`` (PP-OCRv4, the default: measured best on Vietnamese plates) or
            ``easyocr``.
        finder: how a scene (a photo, a frame, a vehicle crop) is searched for plates: a plate
            finder's name (:data:`camfind.recognition.platefind.FINDERS`; each candidate is then
            read as a plate crop), or None for one pass of text detection over the scene.

    Raises:
        ModelError: unknown backend or finder, or their models are missing.
    """
    reader = OcrPlateReader(load_backend(backend))
    if finder is not None:
        reader.finder = load_plate_finder(finder, reader)
    return reader


@dataclass(frozen=True)
class _Scored:
    plate: PlateText
    key: tuple[float, ...]


class OcrPlateReader:
    """The plate reader over any :class:`~camfind.recognition.ocr.OcrBackend`."""

    def __init__(self, ocr: OcrBackend, finder: PlateFinder | None = None) -> None:
        self.ocr = ocr
        self.backend = ocr.name
        self.finder = finder

    def read(self, image_bgr: np.ndarray, *, crop_kind: str = "auto") -> list[PlateText]:
        """Read the plates in ``image_bgr``.

        Args:
            image_bgr: HxWx3 BGR (or HxW grey, HxWx4 BGRA) uint8 image.
            crop_kind: ``plate`` (the image is one plate), ``scene`` (search it for plates) or
                ``auto`` (decide by its shape and by where its text lies).

        Returns:
            Plates best first; a plate crop gives at most one.

        Raises:
            InputError: not an image, or ``crop_kind`` unknown.
        """
        if crop_kind not in CROP_KINDS:
            raise InputError(f"crop_kind must be one of {', '.join(CROP_KINDS)}, got {crop_kind!r}")
        img = _as_bgr(image_bgr)
        h, w = img.shape[:2]
        if crop_kind == "scene":
            return self._scene(img)
        if crop_kind == "plate":
            return [self._plate(img, wide=w / h >= ONE_ROW_MIN_ASPECT)]
        if crop_kind == "candidate":
            return [self._candidate(img)]
        return self._auto(img)

    def _candidate(self, img: np.ndarray) -> PlateText:
        """One plate in a loose crop: the text rows detected in it read as a two-row plate (the
        two largest rows, where stacked), then as a one-row plate (the largest row); the first
        reading valid without fixes wins, else the best of them; the whole crop is read as a
        plate where neither is valid.

        The crop is first turned level (:meth:`_level`); where its strokes lean by at least
        :data:`MIN_SHEAR` (a plate seen from the side, italic characters) the rows are looked
        for and read in the crop sheared upright first, then, where that gives no reading
        valid without fixes, in the crop as it was."""
        img, boxes = self._level(img)
        views = [(img, boxes)]
        k = plate_lines.slant(img)
        if abs(k) >= MIN_SHEAR:
            upright = plate_lines.shear(img, k)
            views.insert(0, (upright, self.ocr.detect(upright, max_side=PLATE_DET_SIDE)))
        tried: list[_Scored] = []
        for view, view_boxes in views:
            for boxes_, layout in _row_tries(view_boxes, view.shape[0]):
                h, w = view.shape[:2]
                tried.append(self._read_boxes(view, boxes_, layout, (0.0, 0.0, float(w), float(h)), pad=0.05))
                if tried[-1].plate.valid and tried[-1].key[2] == 0:  # valid as read, no fixes
                    return tried[-1].plate
        best = max(tried, key=lambda s: s.key, default=None)
        if best is not None and best.plate.valid:
            return best.plate
        h, w = img.shape[:2]
        whole = self._plate(img, wide=w / h >= ONE_ROW_MIN_ASPECT)
        rows = [s.plate for s in tried if s.plate.layout == "two-row" and s.plate.raw.count("\n") == 1]
        if whole.valid and rows and not _holds_rows(whole, rows[0]):
            return best.plate if best is not None else whole  # the rows' reading, invalid as it is
        return whole if whole.valid or best is None else best.plate

    def _auto(self, img: np.ndarray) -> list[PlateText]:
        h, w = img.shape[:2]
        direct: PlateText | None = None
        if ONE_ROW_MIN_ASPECT <= w / h <= 10 and h <= 400:
            direct = self._one_row(img)
        elif w / h < ONE_ROW_MIN_ASPECT and max(h, w) <= 1600:
            boxes = self.ocr.detect(img, max_side=PLATE_DET_SIDE)
            if _fills_crop(boxes, w, h):
                direct = self._two_row(img, boxes)
        if direct is not None and direct.valid:
            return [direct]
        found = self._scene(img)
        if direct is not None and direct.norm and direct.norm not in {p.norm for p in found}:
            found.append(direct)
        return _rank(found)

    def _level(self, img: np.ndarray) -> tuple[np.ndarray, list[Box]]:
        """The crop turned so its text is level (where the backend tells text tilt and it is
        at least :data:`MIN_DESKEW_DEG`), and the text boxes in it."""
        quads_of = getattr(self.ocr, "detect_quads", None)
        if quads_of is None:
            return img, self.ocr.detect(img, max_side=PLATE_DET_SIDE)
        quads = quads_of(img, max_side=PLATE_DET_SIDE) or quads_of(img, max_side=2 * PLATE_DET_SIDE)
        angle = plate_lines.text_angle(quads)
        if abs(angle) < MIN_DESKEW_DEG:
            return img, [_quad_box(q, img.shape) for q in quads]
        img = plate_lines.rotate(img, angle)
        return img, self.ocr.detect(img, max_side=PLATE_DET_SIDE)

    def _plate(self, img: np.ndarray, *, wide: bool) -> PlateText:
        first = self._one_row(img) if wide else self._two_row(img, None)
        if first.valid:
            return first
        second = self._two_row(img, None) if wide else self._one_row(img)
        return second if second.valid else first

    def _one_row(self, img: np.ndarray) -> PlateText:
        h, w = img.shape[:2]
        full: Box = (0.0, 0.0, float(w), float(h))
        fx, fy = self.ocr.plate_inset
        inset: Box = (fx * w, fy * h, (1 - fx) * w, (1 - fy) * h)
        return self._read_boxes(img, [inset], "one-row", full, pad=0.0).plate

    def _two_row(self, img: np.ndarray, boxes: list[Box] | None) -> PlateText:
        h, w = img.shape[:2]
        full: Box = (0.0, 0.0, float(w), float(h))
        if boxes is None:
            boxes = self.ocr.detect(img, max_side=PLATE_DET_SIDE)
        rows = [r for r in plate_lines.group_lines(boxes, max_gap=1e9) if r[3] - r[1] >= 0.12 * h]
        found: _Scored | None = None
        if len(rows) >= 2:
            top, bottom = sorted(sorted(rows, key=lambda r: r[1] - r[3])[:2], key=lambda r: r[1])
            found = self._read_boxes(img, [top, bottom], "two-row", full, pad=0.05)
            if found.plate.valid:
                return found.plate
        cut = plate_lines.projection_split(img)
        halves: list[Box] = [(0.0, 0.0, float(w), float(cut)), (0.0, float(cut), float(w), float(h))]
        by_projection = self._read_boxes(img, halves, "two-row", full, pad=0.0)
        if found is not None and found.key >= by_projection.key:
            return found.plate
        return by_projection.plate

    def _read_boxes(
        self, img: np.ndarray, boxes: Sequence[Box], layout: str, box: Box, *, pad: float
    ) -> _Scored:
        """Read the lines in ``boxes`` as one plate; where that needs fixes, read them again
        from differently padded crops and let the crops vote per character."""
        reads = self.ocr.recognize([plate_lines.crop(img, b, pad=pad) for b in boxes])
        first = _choose([reads], layout, box)
        if first.plate.valid and first.key[2] == 0:
            return first
        pads = [p for p in REFINE_PADS if p != pad]
        extra = self.ocr.recognize([plate_lines.crop(img, b, pad=p) for b in boxes for p in pads])
        merged = [
            merge_reads([reads[k], *extra[k * len(pads) : (k + 1) * len(pads)]])
            for k in range(len(boxes))
        ]
        second = _choose([merged], layout, box)
        # The crops' vote holds more evidence than one crop: it wins unless it is less valid or
        # needs more fixes (its confidence is an average, so not comparable).
        return second if second.key[:3] >= first.key[:3] else first

    def _scene(self, img: np.ndarray) -> list[PlateText]:
        if self.finder is not None:
            return read_plates_in_frame(img, finder=self.finder, reader=self)
        h, w = img.shape[:2]
        side = int(min(max(max(h, w), SCENE_DET_SIDES[0]), SCENE_DET_SIDES[1]))
        boxes = self.ocr.detect(img, max_side=side)
        lines = [b for b in plate_lines.group_lines(boxes) if b[3] - b[1] >= 6]
        lines = sorted(lines, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))[:MAX_SCENE_LINES]
        if not lines:
            return []
        reads = self.ocr.recognize([plate_lines.crop(img, b, pad=0.05) for b in lines])
        found: list[PlateText] = []
        used: set[int] = set()
        for i, j in plate_lines.stacked_pairs(lines):
            pair_box = plate_lines.union([lines[i], lines[j]])
            plate = _choose([[reads[i], reads[j]]], "two-row", pair_box).plate
            if plate.valid:
                found.append(plate)
                used.update((i, j))
        for i, (line, box) in enumerate(zip(reads, lines, strict=True)):
            if i in used:
                continue
            plate = _choose([[line]], "unknown", box).plate
            if plate.valid or plate_like(plate.norm):
                found.append(plate)
        return _rank(found)


def _holds_rows(whole: PlateText, rows: PlateText) -> bool:
    """Whether a reading of a whole crop agrees with the reading of the two text rows detected
    in it: each row as read whole differs from the detected row's reading by at most
    :data:`ROW_EDITS` edits (a row's box may cut off the character at its end). A reading
    that adds more has read what lies beside the plate (a bar over it, its frame), not the
    rows that were seen."""
    got = [normalize_plate(line) for line in whole.raw.split("\n")]
    seen = [normalize_plate(line) for line in rows.raw.split("\n")]
    if not all(seen):  # a row read as nothing tells nothing
        return True
    if len(got) != len(seen):
        return Levenshtein.distance("".join(got), "".join(seen)) <= ROW_EDITS * len(seen)
    return all(Levenshtein.distance(a, b) <= ROW_EDITS for a, b in zip(got, seen, strict=True))



def _row_tries(boxes: Sequence[Box], height: int) -> list[tuple[list[Box], str]]:
    """How a candidate's text boxes are read: the two largest rows as a two-row plate (where
    they are stacked), then the largest row as a one-row plate."""
    rows = [r for r in plate_lines.group_lines(boxes, max_gap=1e9) if r[3] - r[1] >= 0.12 * height]
    tries: list[tuple[list[Box], str]] = []
    if len(rows) >= 2:
        top, bottom = sorted(sorted(rows, key=lambda r: r[1] - r[3])[:2], key=lambda r: r[1])
        if plate_lines.stacked_pairs([top, bottom], max_overlap=0.75):
            tries.append(([top, bottom], "two-row"))
    if rows:
        tries.append(([max(rows, key=lambda r: (r[2] - r[0]) * (r[3] - r[1]))], "one-row"))
    return tries


def _as_bgr(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        shape = getattr(image, "shape", None)
        raise InputError(f"expected an image array HxW or HxWxC, got {type(image).__name__} {shape}")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise InputError(f"expected 1, 3 or 4 channels, got shape {image.shape}")
    if min(image.shape[:2]) < 8:
        raise InputError(f"image too small to hold a plate: {image.shape[1]}x{image.shape[0]} px")
    img = image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
    if img.ndim == 2 or img.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(img.reshape(img.shape[0], img.shape[1], 1), 3, axis=2))
    return np.ascontiguousarray(img[:, :, :3])


def _quad_box(quad: np.ndarray, shape: tuple[int, ...]) -> Box:
    h, w = shape[:2]
    x1, y1 = np.clip(quad.min(axis=0), 0, [w, h])
    x2, y2 = np.clip(quad.max(axis=0), 0, [w, h])
    return (float(x1), float(y1), float(x2), float(y2))


def _fills_crop(boxes: Sequence[Box], w: int, h: int) -> bool:
    """Whether detected text fills the crop the way a plate's characters fill a plate crop."""
    rows = [r for r in plate_lines.group_lines(boxes, max_gap=1e9) if r[3] - r[1] >= 0.12 * h]
    if not 1 <= len(rows) <= 3:
        return False
    x1, y1, x2, y2 = plate_lines.union(rows)
    return (x2 - x1) >= 0.5 * w and (y2 - y1) >= 0.5 * h


def _rank(plates: list[PlateText]) -> list[PlateText]:
    seen: set[str] = set()
    out: list[PlateText] = []
    for plate in sorted(plates, key=lambda p: (not p.valid, -p.confidence)):
        if plate.norm not in seen:
            seen.add(plate.norm)
            out.append(plate)
    return out


def _choose(line_sets: Sequence[Sequence[LineRead]], layout: str, box: Box) -> _Scored:
    """The best plate among the readings of some line sets and their edge-trimmed variants."""
    best: _Scored | None = None
    for lines in line_sets:
        for scored in _variants(lines, layout, box):
            if best is None or scored.key > best.key:
                best = scored
    if best is None:
        return _Scored(PlateText("", 0.0, layout, False, box, ""), (0.0, 0.0, 0.0, 0.0))
    return best


def merge_reads(reads: Sequence[LineRead]) -> LineRead:
    """Combine readings of one line from several crops: per letter/digit position, the
    probabilities (and runner-up probabilities) of the crops are summed; readings of a length
    other than the most common one are left out.
    """
    seqs = [_alnum(r) for r in reads]
    lengths = [len(s) for s in seqs if s]
    if not lengths:
        return LineRead("", 0.0)
    length = max(set(lengths), key=lambda n: (lengths.count(n), n == len(seqs[0])))
    same = [s for s in seqs if len(s) == length]
    text: list[str] = []
    probs: list[float] = []
    alts: list[dict[str, float]] = []
    for pos in range(length):
        tally: dict[str, float] = {same[0][pos][0]: 0.0}
        for seq in same:
            ch, prob, alt, _index = seq[pos]
            for c, v in (alt or {ch: prob}).items():
                if _is_plate_char(c):
                    tally[c] = tally.get(c, 0.0) + v / len(same)
        best = max(tally, key=lambda c: tally[c])
        text.append(best)
        probs.append(tally[best])
        alts.append(tally)
    return LineRead("".join(text), float(np.mean(probs)), tuple(probs), tuple(alts))


def _variants(lines: Sequence[LineRead], layout: str, box: Box) -> list[_Scored]:
    """Score the full reading and the readings without an unsure first or last character."""
    chars = [_alnum(line) for line in lines]
    variants: list[tuple[set[tuple[int, int]], int]] = [(set(), 0)]
    if chars and chars[0] and chars[0][0][1] < DROP_PROB:
        variants.append(({(0, chars[0][0][3])}, 1))
    if chars and chars[-1] and chars[-1][-1][1] < DROP_PROB:
        variants.append(({(len(chars) - 1, chars[-1][-1][3])}, 1))
    out: list[_Scored] = []
    for dropped, n_dropped in variants:
        kept = [[c for c in line if (k, c[3]) not in dropped] for k, line in enumerate(chars)]
        flat = [c for line in kept for c in line]
        text = "\n".join(
            "".join(ch for i, ch in enumerate(line.text.upper()) if (k, i) not in dropped)
            for k, line in enumerate(lines)
        )
        conf = float(np.mean([c[1] for c in flat])) if flat else 0.0
        plate, fit = vnplate.parse_fit(
            text, confidence=conf, layout=layout, box=box, alternatives=[c[2] for c in flat]
        )
        fixes = fit.fixes if fit else 0
        if fit is not None and fit.valid:  # "83-AA 1838": a digit lost, as likely as a fix
            series = fit.fixed[2 : fit.shape.top_len]
            fixes += int(vnplate.unlikely_number(series, fit.shape.digits, fit.shape.layout))
        same_layout = fit is not None and (layout == "unknown" or fit.shape.layout == layout)
        if layout == "two-row" and not all(kept):  # a two-row reading with an empty row
            same_layout = False
        key = (float(plate.valid), float(same_layout), -float(fixes + n_dropped), conf)
        out.append(_Scored(plate, key))
    return out


def _alnum(line: LineRead) -> list[tuple[str, float, dict[str, float], int]]:
    """The letters and digits of a reading: character, probability, alternatives, index."""
    out: list[tuple[str, float, dict[str, float], int]] = []
    for k, ch in enumerate(line.text.upper()):
        if not _is_plate_char(ch):
            continue
        prob = line.char_probs[k] if line.char_probs else line.confidence
        alts = dict(line.alternatives[k]) if line.alternatives else {}
        out.append((ch, float(prob), alts, k))
    return out


def _is_plate_char(ch: str) -> bool:
    return "0" <= ch <= "9" or "A" <= ch <= "Z"
