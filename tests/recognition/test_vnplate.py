"""Vietnamese plate rules: shapes, confusion fixes by position, provinces, foreign plates, voting."""

from __future__ import annotations

import pytest

from camfind.recognition import vnplate
from camfind.recognition.vnplate import (
    CONFUSABLE,
    PROVINCES,
    format_plate,
    is_confusable,
    normalize,
    parse,
    vote,
)
from camfind.types import PlateText


@pytest.mark.parametrize(
    ("raw", "layout", "text", "out_layout"),
    [
        ("51F-123.45", "unknown", "51F-123.45", "one-row"),
        ("51f 12345", "unknown", "51F-123.45", "one-row"),
        ("51F-1234", "unknown", "51F-1234", "one-row"),
        ("29LD-001.43", "one-row", "29LD-001.43", "one-row"),
        ("80NG-123.45", "one-row", "80NG-123.45", "one-row"),
        ("59-X1\n123.45", "two-row", "59-X1 123.45", "two-row"),
        ("59X112345", "unknown", "59-X1 123.45", "two-row"),
        ("60-Y7\n3914", "two-row", "60-Y7 3914", "two-row"),
        ("60Y73914", "two-row", "60-Y7 3914", "two-row"),
        ("29-AA\n123.45", "two-row", "29-AA 123.45", "two-row"),
    ],
)
def test_shapes_and_canonical_form(raw: str, layout: str, text: str, out_layout: str) -> None:
    plate = parse(raw, layout=layout, confidence=0.9)
    assert (plate.text, plate.layout, plate.valid) == (text, out_layout, True)
    assert plate.raw == raw and plate.confidence == 0.9


@pytest.mark.parametrize(
    ("raw", "layout", "text"),
    [
        ("298-19939", "one-row", "29B-199.39"),  # 8 in the series slot is B
        ("30A-O4926", "one-row", "30A-049.26"),  # O in a digit slot is 0
        ("29LD-0D143", "one-row", "29LD-001.43"),  # D in a digit slot is 0
        ("51A-12S.45", "one-row", "51A-125.45"),  # S -> 5
        ("51G-B88.Z1", "one-row", "51G-888.21"),  # B -> 8, Z -> 2 (the dash places the series)
        ("51GB88Z1", "one-row", "51GB-8821"),  # without the dash: the shape needing fewer fixes
        ("S1F-598.81", "one-row", "51F-598.81"),  # one fix in the province
        ("514-691.72", "one-row", "51A-691.72"),  # 4 in the series slot is A
        ("515-691.72", "one-row", "51S-691.72"),  # 5 -> S
        ("G3-B1\n387.86", "two-row", "63-B1 387.86"),  # G -> 6 in the province
        ("55-P5\nG876", "two-row", "55-P5 6876"),  # G -> 6 in the number
        ("59-W1\n600.77", "two-row", "59-M1 600.77"),  # W is not issued: M
        ("59-XI\n123.45", "two-row", "59-X1 123.45"),  # I in the series digit slot is 1
    ],
)
def test_confusions_fixed_by_position(raw: str, layout: str, text: str) -> None:
    plate = parse(raw, layout=layout)
    assert plate.text == text
    assert plate.valid


def test_alternatives_win_over_the_fixed_table() -> None:
    # W in the series slot: the table says M; the recogniser's runner-up says N.
    alts: list[dict[str, float]] = [{} for _ in "59W160077"]
    alts[2] = {"W": 0.8, "N": 0.15, "M": 0.05}
    assert parse("59W1\n60077", layout="two-row", alternatives=alts).text == "59-N1 600.77"
    assert parse("59W1\n60077", layout="two-row").text == "59-M1 600.77"


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("29A-123.45", True),  # Hà Nội
        ("43A-123.45", True),  # Đà Nẵng
        ("99A-123.45", True),  # Bắc Ninh
        ("13A-123.45", False),  # no longer issued
        ("42A-123.45", False),  # not a province code
        ("10A-123.45", False),
    ],
)
def test_province_codes(raw: str, valid: bool) -> None:
    plate = parse(raw, layout="one-row")
    assert plate.valid is valid
    assert plate.norm == normalize(raw)


def test_province_table() -> None:
    assert PROVINCES["29"] == "Hà Nội" and PROVINCES["51"] == "TP Hồ Chí Minh"
    assert all(len(code) == 2 and code.isdigit() for code in PROVINCES)
    assert "13" not in PROVINCES and "42" not in PROVINCES


@pytest.mark.parametrize(
    "raw",
    ["ABC1234", "7ABC123", "WXY 1234", "AB-123-CD", "粤B·12345", "B 1234 XYZ", "1234", "", "KL5O123", "M-AB 123"],
)
def test_foreign_and_unknown_plates_are_returned_as_read(raw: str) -> None:
    plate = parse(raw)
    assert not plate.valid
    assert plate.text == " ".join(raw.split())
    assert plate.raw == raw


def test_unknown_province_keeps_the_shape_but_is_not_valid() -> None:
    plate = parse("42A12345")
    assert plate.text == "42A-123.45"
    assert not plate.valid


def test_at_most_one_fix_in_the_province() -> None:
    assert not parse("SSA-123.45").valid
    assert parse("SSA-123.45").text == "SSA-123.45"


@pytest.mark.parametrize(
    ("text", "norm"),
    [(" 51f-123.45 ", "51F12345"), ("59-X1 123.45", "59X112345"), ("29LĐ-001.43", "29LD00143"), ("", "")],
)
def test_normalize(text: str, norm: str) -> None:
    assert normalize(text) == norm


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("0", "O", True), ("O", "D", True), ("Q", "0", True), ("8", "B", True), ("5", "S", True),
     ("2", "Z", True), ("1", "I", True), ("1", "T", True), ("L", "1", True), ("6", "G", True),
     ("4", "A", True), ("a", "4", True), ("3", "8", False), ("B", "D", False), ("X", "K", False)],
)  # fmt: skip
def test_confusable_groups(a: str, b: str, same: bool) -> None:
    assert is_confusable(a, b) is same


def test_confusable_mapping_shape() -> None:
    assert CONFUSABLE["O"] == CONFUSABLE["0"] == CONFUSABLE["D"]
    assert "X" not in CONFUSABLE


@pytest.mark.parametrize(
    ("parts", "layout", "text"),
    [
        (("51", "F", "12345"), "one-row", "51F-123.45"),
        (("51", "F", "1234"), "one-row", "51F-1234"),
        (("59", "X1", "12345"), "two-row", "59-X1 123.45"),
        (("59", "X1", "1234"), "two-row", "59-X1 1234"),
    ],
)
def test_format_plate(parts: tuple[str, str, str], layout: str, text: str) -> None:
    assert format_plate(*parts, layout) == text


def _read(text: str, conf: float, layout: str = "one-row") -> PlateText:
    return parse(text, confidence=conf, layout=layout)


def test_vote_per_position_weighted_by_confidence() -> None:
    readings = [_read("51F-598.81", 0.9), _read("51F-598.87", 0.6), _read("51F-596.81", 0.7)]
    plate = vote(readings)
    assert plate is not None
    assert plate.text == "51F-598.81" and plate.valid and plate.layout == "one-row"
    assert 0 < plate.confidence <= 0.9


def test_vote_confidence_outweighs_count() -> None:
    readings = [_read("51F-598.87", 0.3), _read("51F-598.87", 0.3), _read("51F-598.81", 0.95)]
    plate = vote(readings)
    assert plate is not None and plate.text == "51F-598.81"


def test_vote_on_length_first() -> None:
    readings = [
        _read("51F-598.81", 0.8),
        _read("51F-598.8", 0.9),  # a character lost: a different length does not misalign the vote
        _read("51F-598.81", 0.7),
        _read("51F-598.61", 0.5),
    ]
    plate = vote(readings)
    assert plate is not None and plate.text == "51F-598.81"


def test_vote_two_row_and_box() -> None:
    box = (10.0, 20.0, 90.0, 80.0)
    readings = [
        parse("59-X1\n123.45", confidence=0.9, layout="two-row", box=box),
        parse("59-X1\n123.46", confidence=0.5, layout="two-row"),
    ]
    plate = vote(readings)
    assert plate is not None
    assert (plate.text, plate.layout, plate.box) == ("59-X1 123.45", "two-row", box)


def test_vote_of_nothing() -> None:
    assert vote([]) is None
    assert vote([PlateText("--", 0.9)]) is None


def test_vote_keeps_a_foreign_reading_as_read() -> None:
    readings = [parse("ABC1234", confidence=0.8), parse("ABC1234", confidence=0.7)]
    plate = vote(readings)
    assert plate is not None and plate.text == "ABC1234" and not plate.valid


def test_max_fixes_is_small() -> None:
    assert vnplate.MAX_FIXES == 2
    plate = parse("S1F-SZB.81", layout="one-row")  # 3 fixes at least: returned as read
    assert not plate.valid and plate.text == "S1F-SZB.81"


def test_vote_keeps_the_rows_as_read() -> None:
    # "30H" over "908.72" (a two-row car plate) is not "30-H9" over "0872" (an old motorbike plate)
    car = [vnplate.parse("30H\n90872", confidence=c, layout="two-row") for c in (0.89, 0.93)]
    voted = vnplate.vote(car)
    assert voted is not None and voted.text == "30-H 908.72" and voted.valid
    bike = [vnplate.parse("30H9\n0872", confidence=c, layout="two-row") for c in (0.89, 0.93)]
    voted = vnplate.vote(bike)
    assert voted is not None and voted.text == "30-H9 0872"


@pytest.mark.parametrize(
    ("series", "digits", "layout", "unlikely"),
    [
        ("AA", 4, "two-row", True), ("KA", 4, "two-row", True), ("AA", 5, "two-row", False),
        ("P5", 4, "two-row", False), ("F", 4, "two-row", False), ("LD", 4, "two-row", False),
        ("AA", 4, "one-row", False),
    ],
)  # fmt: skip
def test_a_two_letter_motorbike_series_over_four_digits_is_unlikely(
    series: str, digits: int, layout: str, unlikely: bool
) -> None:
    assert vnplate.unlikely_number(series, digits, layout) is unlikely
