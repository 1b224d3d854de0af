"""Vietnamese licence-plate rules: shapes, province codes, OCR confusion fixes, formatting, voting.

Pure Python, no models. The plate reader hands every OCR reading to :func:`parse`; the video
pipeline combines the readings of one vehicle with :func:`vote`; search matches plates on
:func:`camfind.vocab.normalize_plate` and treats :data:`CONFUSABLE` characters as cheap edits.

Shapes (letters+digits, separators ignored on input):

- one-row car plate: province (2 digits), series (1 letter, or 2 letters such as ``LD``), then
  5 digits ``51F-123.45`` or 4 digits ``51F-1234``;
- two-row motorbike plate: top line province + series (letter and digit ``X1``, or 2 letters),
  bottom line 4 or 5 digits, written top then bottom: ``59-X1 123.45``.

A reading that fits no shape, even after fixing at most :data:`MAX_FIXES` confusable characters,
is returned as read (a foreign or unknown plate is never forced into Vietnamese shape).

Example:
    >>> parse("51F 59881").text
    '51F-598.81'
    >>> parse("S9-X1\\n12345", layout="two-row").text
    '59-X1 123.45'
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from camfind.types import Box, PlateText
from camfind.vocab import normalize_plate as normalize  # the one plate normal form

logger = logging.getLogger(__name__)

#: Province (and central agency) codes on civilian plates, with the authority they belong to.
PROVINCES: Mapping[str, str] = {
    "11": "Cao Bằng", "12": "Lạng Sơn", "14": "Quảng Ninh", "15": "Hải Phòng", "16": "Hải Phòng",
    "17": "Thái Bình", "18": "Nam Định", "19": "Phú Thọ", "20": "Thái Nguyên", "21": "Yên Bái",
    "22": "Tuyên Quang", "23": "Hà Giang", "24": "Lào Cai", "25": "Lai Châu", "26": "Sơn La",
    "27": "Điện Biên", "28": "Hòa Bình", "29": "Hà Nội", "30": "Hà Nội", "31": "Hà Nội",
    "32": "Hà Nội", "33": "Hà Nội", "34": "Hải Dương", "35": "Ninh Bình", "36": "Thanh Hóa",
    "37": "Nghệ An", "38": "Hà Tĩnh", "39": "Đồng Nai", "40": "Hà Nội", "41": "TP Hồ Chí Minh",
    "43": "Đà Nẵng", "47": "Đắk Lắk", "48": "Đắk Nông", "49": "Lâm Đồng", "50": "TP Hồ Chí Minh",
    "51": "TP Hồ Chí Minh", "52": "TP Hồ Chí Minh", "53": "TP Hồ Chí Minh",
    "54": "TP Hồ Chí Minh", "55": "TP Hồ Chí Minh", "56": "TP Hồ Chí Minh",
    "57": "TP Hồ Chí Minh", "58": "TP Hồ Chí Minh", "59": "TP Hồ Chí Minh", "60": "Đồng Nai",
    "61": "Bình Dương", "62": "Long An", "63": "Tiền Giang", "64": "Vĩnh Long", "65": "Cần Thơ",
    "66": "Đồng Tháp", "67": "An Giang", "68": "Kiên Giang", "69": "Cà Mau", "70": "Tây Ninh",
    "71": "Bến Tre", "72": "Bà Rịa - Vũng Tàu", "73": "Quảng Bình", "74": "Quảng Trị",
    "75": "Thừa Thiên Huế", "76": "Quảng Ngãi", "77": "Bình Định", "78": "Phú Yên",
    "79": "Khánh Hòa", "80": "Cơ quan trung ương", "81": "Gia Lai", "82": "Kon Tum",
    "83": "Sóc Trăng", "84": "Trà Vinh", "85": "Ninh Thuận", "86": "Bình Thuận",
    "88": "Vĩnh Phúc", "89": "Hưng Yên", "90": "Hà Nam", "92": "Quảng Nam", "93": "Bình Phước",
    "94": "Bạc Liêu", "95": "Hậu Giang", "97": "Bắc Kạn", "98": "Bắc Giang", "99": "Bắc Ninh",
}  # fmt: skip

#: Series letters in use (I, J, O, Q, W are not issued: they look like digits or other letters).
SERIES_LETTERS: frozenset[str] = frozenset("ABCDEFGHKLMNPRSTUVXYZ")
#: Two-letter series with a meaning of their own (may contain otherwise unused letters).
SPECIAL_SERIES: Mapping[str, str] = {
    "LD": "joint-venture / foreign-invested enterprise",
    "KT": "military-run enterprise",
    "NG": "diplomatic",
    "NN": "foreign organisation or person",
    "QT": "international organisation",
    "CV": "foreign technical staff",
    "HC": "restricted-use vehicle",
    "MD": "electric motorbike (MĐ)",
    "DA": "project vehicle",
    "TD": "pilot-produced vehicle (TĐ)",
}

#: OCR look-alike groups: each character maps to its group. Two characters whose groups are
#: equal are easy to confuse (search costs such a substitution less than another edit).
CONFUSABLE: Mapping[str, str] = {
    ch: group
    for group in ("0ODQ", "8B", "5S", "2Z", "1ITL", "6G", "4A")
    for ch in group
}

#: A letter read in a digit slot, and what digit it most likely is.
DIGIT_FIXES: Mapping[str, str] = {
    "O": "0", "D": "0", "Q": "0", "U": "0",
    "I": "1", "L": "1", "T": "1", "J": "1",
    "Z": "2", "S": "5", "G": "6", "B": "8", "A": "4",
}  # fmt: skip
#: A digit (or an unused letter) read in a series-letter slot, and what letter it most likely is.
LETTER_FIXES: Mapping[str, str] = {
    "8": "B", "0": "D", "4": "A", "5": "S", "2": "Z", "6": "G", "1": "T", "7": "T", "3": "B",
    "O": "D", "Q": "D", "I": "T", "J": "T", "W": "M",
}  # fmt: skip
#: A letter read in the digit slot of a motorbike series (``X1``).
SERIES_DIGIT_FIXES: Mapping[str, str] = DIGIT_FIXES

#: At most this many characters are changed to make a reading fit a Vietnamese shape (at most
#: one of them in the province code, and the full count only where the result is valid).
MAX_FIXES = 2

Alternatives = Sequence[Mapping[str, float]]


@dataclass(frozen=True)
class Shape:
    """One plate shape: ``series`` is a pattern of ``L`` (letter) and ``D`` (digit) slots."""

    layout: str
    series: str
    digits: int

    @property
    def slots(self) -> str:
        return "DD" + self.series + "D" * self.digits

    @property
    def top_len(self) -> int:
        return 2 + len(self.series)


#: Shapes in order of preference when a reading fits several equally well.
ONE_ROW_SHAPES: tuple[Shape, ...] = (
    Shape("one-row", "L", 5), Shape("one-row", "L", 4), Shape("one-row", "LL", 5),
    Shape("one-row", "LL", 4),
)  # fmt: skip
TWO_ROW_SHAPES: tuple[Shape, ...] = (
    Shape("two-row", "LD", 5), Shape("two-row", "LD", 4), Shape("two-row", "L", 5),
    Shape("two-row", "L", 4), Shape("two-row", "LL", 5), Shape("two-row", "LL", 4),
)  # fmt: skip


def is_confusable(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are the same character or OCR look-alikes (``0``/``O``/``D``...)."""
    a, b = a.upper(), b.upper()
    return a == b or (a in CONFUSABLE and CONFUSABLE.get(a) == CONFUSABLE.get(b))


def format_plate(province: str, series: str, number: str, layout: str) -> str:
    """Canonical text: ``51F-123.45``, ``51F-1234``, ``59-X1 123.45``, ``59-X1 1234``."""
    num = f"{number[:3]}.{number[3:]}" if len(number) == 5 else number
    if layout == "two-row":
        return f"{province}-{series} {num}"
    return f"{province}{series}-{num}"


def series_valid(series: str) -> bool:
    """Whether a series (``F``, ``LD``, ``X1``, ``AA``) is one in use."""
    if series in SPECIAL_SERIES:
        return True
    if len(series) == 2 and series[1].isdigit():
        return series[0] in SERIES_LETTERS
    return all(ch in SERIES_LETTERS for ch in series)


def unlikely_number(series: str, digits: int, layout: str) -> bool:
    """Whether a valid plate's number is one its series is not issued with: a two-row plate
    whose series is two ordinary letters (``83-AA``, ``59-KA``) over four digits.

    Thông tư 58/2020/TT-BCA (and 24/2023/TT-BCA, which replaced it) give a motorbike plate's
    order number five digits, 000.01 to 999.99; four-digit motorbike numbers are from older
    issues, with a letter+digit series ("29-P5 2906"). A four-digit reading of a
    two-letter series has most likely lost a digit (a squat row read with too few frames).
    This ranks readings, it does not decide validity: the plate reader looks again at such a
    reading, and keeps it only where no reading needing fewer fixes is found.
    """
    two_letters = len(series) == 2 and series.isalpha() and series not in SPECIAL_SERIES
    return layout == "two-row" and digits == 4 and two_letters


@dataclass(frozen=True)
class Fit:
    """How a reading fits a plate shape: the shape, the fixed letters+digits, the fixes made."""

    shape: Shape
    fixed: str
    fixes: int
    valid: bool


def parse(
    text: str,
    *,
    confidence: float = 1.0,
    layout: str = "unknown",
    box: Box | None = None,
    alternatives: Alternatives | None = None,
) -> PlateText:
    """Read an OCR reading as a Vietnamese plate, fixing confusions by position.

    Args:
        text: what the OCR read; for a two-row plate, the top line, a newline, the bottom line.
        confidence: the OCR's confidence in [0, 1].
        layout: ``one-row``, ``two-row`` or ``unknown`` (then inferred from the shape).
        box: where the plate is in the image.
        alternatives: per letter/digit of ``normalize(text)``, other characters the OCR
            considered with their probabilities; used before the fixed confusion table.

    Returns:
        The plate in canonical form with ``valid`` set, or, where no Vietnamese shape fits,
        the text as read (stripped) with ``valid`` False.
    """
    return parse_fit(
        text, confidence=confidence, layout=layout, box=box, alternatives=alternatives
    )[0]


def parse_fit(
    text: str,
    *,
    confidence: float = 1.0,
    layout: str = "unknown",
    box: Box | None = None,
    alternatives: Alternatives | None = None,
) -> tuple[PlateText, Fit | None]:
    """:func:`parse`, also telling how the reading fit (None: returned as read)."""
    norm = normalize(text)
    fit = best_fit(
        norm,
        layout=layout,
        top_len=_top_len(text),
        series_end=_series_end(text),
        alternatives=alternatives,
    )
    if fit is None:
        shown = " ".join(text.split())
        return PlateText(shown, float(confidence), layout, False, box, text), None
    shape, fixed, valid = fit.shape, fit.fixed, fit.valid
    top = shape.top_len
    province, series, number = fixed[:2], fixed[2:top], fixed[top:]
    out_layout = layout
    if layout == "unknown":  # a letter+digit series is a motorbike's (two-row) plate
        out_layout = "two-row" if shape.series.endswith("D") else "one-row"
    formatted = format_plate(province, series, number, out_layout)
    return PlateText(formatted, float(confidence), out_layout, valid, box, text), fit


def _top_len(text: str) -> int | None:
    lines = [normalize(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    return len(lines[0]) if len(lines) == 2 else None


def _series_end(text: str) -> int | None:
    """Letters+digits before a one-row plate's dash (``51F-``: 3), where the dash follows a series."""
    if "\n" in text.strip() or "-" not in text:
        return None
    n = len(normalize(text.split("-", 1)[0]))
    return n if n >= 3 else None


def best_fit(
    norm: str,
    *,
    layout: str = "unknown",
    top_len: int | None = None,
    series_end: int | None = None,
    alternatives: Alternatives | None = None,
) -> Fit | None:
    """The shape ``norm`` fits best, or None.

    Fewer fixes win, then a valid plate over an invalid one, then the preferred shape for the
    layout. ``top_len`` (the length of a two-row plate's top line, when known) rules out shapes
    whose top line is longer or shorter; ``series_end`` (where a dash was read) counts as one
    fix against shapes whose series ends elsewhere.
    """
    if layout == "one-row":
        shapes = ONE_ROW_SHAPES + TWO_ROW_SHAPES
    elif layout == "two-row":
        shapes = TWO_ROW_SHAPES + ONE_ROW_SHAPES
    else:
        shapes = tuple(sorted(ONE_ROW_SHAPES + TWO_ROW_SHAPES, key=_unknown_order))
    best: tuple[tuple[int, int, int], Shape, str, bool] | None = None
    for order, shape in enumerate(shapes):
        if len(shape.slots) != len(norm) or (top_len is not None and shape.top_len != top_len):
            continue
        fitted = _fit(norm, shape, alternatives)
        if fitted is None:
            continue
        fixed, cost = fitted
        valid = fixed[:2] in PROVINCES and series_valid(fixed[2 : shape.top_len])
        if cost >= MAX_FIXES and not valid:
            continue
        misplaced = series_end is not None and series_end != shape.top_len
        key = (cost + int(misplaced), 0 if valid else 1, order)
        if best is None or key < best[0]:
            best = (key, shape, fixed, valid)
    if best is None:
        return None
    return Fit(best[1], best[2], best[0][0], best[3])


def _unknown_order(shape: Shape) -> int:
    preferred = ("one-row", "L", 5), ("two-row", "LD", 5), ("one-row", "L", 4), ("two-row", "LD", 4)
    key = (shape.layout, shape.series, shape.digits)
    return preferred.index(key) if key in preferred else len(preferred)


def _fit(norm: str, shape: Shape, alternatives: Alternatives | None) -> tuple[str, int] | None:
    """Coerce ``norm`` into ``shape`` slot by slot; None when more than MAX_FIXES are needed."""
    out: list[str] = []
    cost = 0
    province_fixed = False
    special = norm[2 : shape.top_len] in SPECIAL_SERIES
    for i, (ch, slot) in enumerate(zip(norm, shape.slots, strict=True)):
        want_letter = slot == "L"
        letter_ok = ch.isalpha() if special else ch in SERIES_LETTERS
        if letter_ok if want_letter else ch.isdigit():
            out.append(ch)
            continue
        alts = alternatives[i] if alternatives is not None and i < len(alternatives) else {}
        repl = _replacement(ch, want_letter, alts)
        if repl is None or (i < 2 and province_fixed):
            return None
        province_fixed = province_fixed or i < 2
        out.append(repl)
        cost += 1
        if cost > MAX_FIXES:
            return None
    return "".join(out), cost


def _replacement(ch: str, want_letter: bool, alts: Mapping[str, float]) -> str | None:
    """The character a slot most likely holds: the OCR's best alternative, else the table."""
    ranked = sorted(alts.items(), key=lambda kv: -kv[1])
    for cand, prob in ranked:
        cand = cand.upper()
        fits = cand in SERIES_LETTERS if want_letter else cand.isdigit()
        if fits and prob >= 0.01:
            return cand
    table = LETTER_FIXES if want_letter else DIGIT_FIXES
    return table.get(ch)


def vehicle_kind(plate: PlateText) -> str | None:
    """What a valid plate's shape says about its vehicle: ``car`` (one row, or two rows with a
    one-letter series: "30H 908.72"), ``motorcycle`` (two rows with a letter+digit series,
    "59-X1 234.56", or two ordinary letters, "59-KA 191.66"), or None where the shape is shared
    (two rows with a special series such as LD, NG, KT, which cars carry too).

    >>> [vehicle_kind(parse(t, layout=k)) for t, k in [("51F59881", "one-row"), ("59X123456", "two-row")]]
    ['car', 'motorcycle']
    """
    if not plate.valid:
        return None
    if plate.layout == "one-row":
        return "car"
    series = normalize(plate.text.split(" ", 1)[0])[2:]
    if len(series) == 2 and series[0].isalpha() and series[1].isdigit():
        return "motorcycle"
    if len(series) == 1:
        return "car"
    if len(series) == 2 and (series not in SPECIAL_SERIES or series == "MD"):
        return "motorcycle"  # two letters over five digits: AA-AD under 50 cc, KA, GA...
    return None


def vote(readings: Sequence[PlateText]) -> PlateText | None:
    """Combine several readings of one vehicle into one plate.

    The length (letters+digits) with the most confidence behind it wins first; then each
    position takes the character with the highest summed confidence among readings of that
    length. The result is parsed again by the plate rules. Its confidence is the mean share of
    the winning characters times the mean confidence of the readings that voted.

    Returns:
        The combined plate, or None when no reading has any letter or digit.
    """
    usable = [r for r in readings if normalize(r.text)]
    if not usable:
        return None
    by_len: dict[int, list[PlateText]] = defaultdict(list)
    for reading in usable:
        by_len[len(normalize(reading.text))].append(reading)
    group = max(by_len.values(), key=lambda rs: (sum(_weight(r) for r in rs), len(rs)))
    length = len(normalize(group[0].text))
    chars: list[str] = []
    shares: list[float] = []
    total = sum(_weight(r) for r in group)
    for pos in range(length):
        tally: dict[str, float] = defaultdict(float)
        for reading in group:
            tally[normalize(reading.text)[pos]] += _weight(reading)
        ch, weight = max(tally.items(), key=lambda kv: (kv[1], kv[0]))
        chars.append(ch)
        shares.append(weight / total)
    layout = _vote_layout(group)
    best = max(group, key=lambda r: r.confidence)
    voted = "".join(chars)
    top = _vote_top_len(group, length)
    if top:  # the rows as read: "30H" over "908.72" is a car's plate, "30-H9" over "0872" a motorbike's
        voted = voted[:top] + "\n" + voted[top:]
    mean_conf = sum(r.confidence for r in group) / len(group)
    confidence = sum(shares) / len(shares) * mean_conf
    plate = parse(voted, confidence=confidence, layout=layout, box=best.box)
    if not plate.valid and best.norm == voted:
        return PlateText(best.text, confidence, best.layout, best.valid, best.box, voted)
    return plate


def _vote_top_len(group: Sequence[PlateText], length: int) -> int | None:
    """The top row's length (letters+digits) the two-row readings of ``group`` agree on most."""
    tally: dict[int, float] = defaultdict(float)
    for reading in group:
        if "\n" in reading.raw:
            top = len(normalize(reading.raw.split("\n", 1)[0]))
            if 0 < top < length:
                tally[top] += _weight(reading)
    return max(tally.items(), key=lambda kv: kv[1])[0] if tally else None


def _weight(reading: PlateText) -> float:
    return max(float(reading.confidence), 1e-3)


def _vote_layout(group: Sequence[PlateText]) -> str:
    tally: dict[str, float] = defaultdict(float)
    for reading in group:
        if reading.layout != "unknown":
            tally[reading.layout] += _weight(reading)
    return max(tally.items(), key=lambda kv: kv[1])[0] if tally else "unknown"
