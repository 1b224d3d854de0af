"""The plate reader's own logic with a scripted OCR backend (fast, no model): crop routing, edge
characters dropped, readings of several crops merged, line geometry."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from camfind.errors import InputError, ModelError
from camfind.recognition import plate_lines
from camfind.recognition.ocr import PLATE_CHARSET, LineRead, load_backend
from camfind.recognition.plates import OcrPlateReader, merge_reads
from camfind.types import Box


def _line(text: str, probs: Sequence[float] | None = None, alts: Sequence[dict[str, float]] | None = None) -> LineRead:
    probs = tuple(probs) if probs is not None else tuple(0.99 for _ in text)
    return LineRead(text, float(np.mean(probs)) if probs else 0.0, probs, tuple(alts) if alts else ())


class ScriptedOcr:
    """Answers recognize() from a list of scripted lines; detect() returns fixed boxes."""

    name = "scripted"
    plate_inset = (0.0, 0.0)

    def __init__(self, lines: list[LineRead], boxes: list[Box] | None = None) -> None:
        self.lines = list(lines)
        self.boxes = boxes or []
        self.recognized: list[tuple[int, int]] = []
        self.detected = 0

    def recognize(self, lines: Sequence[np.ndarray], *, charset: str = PLATE_CHARSET) -> list[LineRead]:
        self.recognized.extend(img.shape[:2] for img in lines)
        out = [self.lines.pop(0) if self.lines else LineRead("", 0.0) for _ in lines]
        return out

    def detect(self, image: np.ndarray, *, max_side: int = 960) -> list[Box]:
        self.detected += 1
        return list(self.boxes)


WIDE = np.full((24, 94, 3), 200, np.uint8)


def test_one_row_crop_is_recognised_directly() -> None:
    ocr = ScriptedOcr([_line("51F-598.81")])
    plates = OcrPlateReader(ocr).read(WIDE)
    assert [p.text for p in plates] == ["51F-598.81"]
    assert ocr.detected == 0 and ocr.recognized == [(24, 94)]


def test_an_unsure_border_character_is_dropped() -> None:
    probs = [0.99] * 10 + [0.3]
    ocr = ScriptedOcr([_line("29A-572.247", probs)])
    assert OcrPlateReader(ocr).read(WIDE)[0].text == "29A-572.24"


def test_a_sure_extra_character_is_not_dropped() -> None:
    ocr = ScriptedOcr([_line("29A-572.247")] * 4)
    plate = OcrPlateReader(ocr).read(WIDE, crop_kind="plate")[0]
    assert plate.norm == "29A572247"


def test_fixes_trigger_a_second_look_and_the_crops_vote() -> None:
    # First crop: W (needs a fix); the extra crops see M: the merged reading needs no fix.
    first = _line("59-W1", alts=[{"5": 0.99}, {"9": 0.99}, {"-": 0.9}, {"W": 0.9, "N": 0.1}, {"1": 0.99}])
    m = _line("59-M1", alts=[{"5": 0.99}, {"9": 0.99}, {"-": 0.9}, {"M": 0.8, "W": 0.2}, {"1": 0.99}])
    bottom = _line("600.77")
    boxes: list[Box] = [(10, 10, 90, 45), (5, 50, 95, 90)]
    ocr = ScriptedOcr([first, bottom, m, m, m, bottom, bottom, bottom], boxes)
    square = np.full((100, 100, 3), 200, np.uint8)
    plate = OcrPlateReader(ocr).read(square, crop_kind="plate")[0]
    assert (plate.text, plate.layout, plate.valid) == ("59-M1 600.77", "two-row", True)
    assert len(ocr.recognized) == 8  # 2 lines, then 3 more crops of each


def test_merge_reads_votes_per_position() -> None:
    a = _line("51F59881", [0.9] * 8)
    b = _line("51F59887", [0.9] * 7 + [0.4])
    c = _line("51F59881", [0.8] * 8)
    d = _line("51F5981", [0.99] * 7)  # other length: left out
    merged = merge_reads([a, b, c, d])
    assert merged.text == "51F59881"
    assert len(merged.char_probs) == 8 and merged.char_probs[-1] == pytest.approx((0.9 + 0.8) / 3)


def test_scene_route_pairs_stacked_lines() -> None:
    boxes: list[Box] = [(400, 300, 470, 330), (395, 334, 478, 366), (50, 40, 300, 70)]
    ocr = ScriptedOcr([_line("HOTEL"), _line("59-H1"), _line("542.89")], boxes)
    # lines are read largest first: the sign, then the bottom line, then the top line
    ocr.lines = [_line("HOTEL SAIGON"), _line("542.89"), _line("59-H1")]
    scene = np.full((720, 1280, 3), 90, np.uint8)
    plates = OcrPlateReader(ocr).read(scene)
    assert plates[0].text == "59-H1 542.89" and plates[0].layout == "two-row"
    assert plates[0].box == (395, 300, 478, 366)
    assert all(p.norm != "HOTELSAIGON" for p in plates)


@pytest.mark.parametrize(
    "bad",
    [None, "plate.jpg", np.zeros((0, 0, 3), np.uint8), np.zeros((4, 40, 3), np.uint8), np.zeros((30, 90, 2), np.uint8)],
)
def test_bad_images_raise_input_error(bad: object) -> None:
    with pytest.raises(InputError):
        OcrPlateReader(ScriptedOcr([])).read(bad)  # type: ignore[arg-type]


def test_unknown_crop_kind_and_backend() -> None:
    with pytest.raises(InputError, match="crop_kind"):
        OcrPlateReader(ScriptedOcr([])).read(WIDE, crop_kind="car")
    with pytest.raises(ModelError, match="unknown OCR backend"):
        load_backend("tesseract")


def test_grey_and_bgra_images_are_accepted() -> None:
    ocr = ScriptedOcr([_line("51F-598.81"), _line("51F-598.81")])
    reader = OcrPlateReader(ocr)
    assert reader.read(WIDE[:, :, 0])[0].valid
    assert reader.read(cv2.cvtColor(WIDE, cv2.COLOR_BGR2BGRA))[0].valid


def test_group_lines_and_stacked_pairs() -> None:
    boxes: list[Box] = [(10, 10, 40, 40), (45, 12, 80, 41), (200, 10, 230, 40), (12, 45, 82, 75)]
    lines = plate_lines.group_lines(boxes, max_gap=1.0)
    assert sorted(lines) == [(10, 10, 80, 41), (12, 45, 82, 75), (200, 10, 230, 40)]
    upper, lower = lines.index((10, 10, 80, 41)), lines.index((12, 45, 82, 75))
    assert plate_lines.stacked_pairs(lines) == [(upper, lower)]
    assert plate_lines.group_lines(boxes[:3], max_gap=1e9) == [(10, 10, 230, 41)]


def test_projection_split_finds_the_gap_between_two_text_rows() -> None:
    img = np.full((200, 300, 3), 230, np.uint8)
    cv2.putText(img, "59-H1", (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (20, 20, 20), 6)
    cv2.putText(img, "54289", (30, 175), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (20, 20, 20), 6)
    cut = plate_lines.projection_split(img)
    assert 82 <= cut <= 118


def test_crop_pads_with_edge_pixels_outside_the_image() -> None:
    img = np.arange(100, dtype=np.uint8).reshape(10, 10)
    out = plate_lines.crop(img, (0, 0, 10, 10), pad=0.2)
    assert out.shape == (14, 14) and out[0, 0] == img[0, 0] and out[-1, -1] == img[-1, -1]
    assert plate_lines.crop(img, (2, 2, 6, 6)).shape == (4, 4)


def _strokes(height: int = 120, width: int = 360) -> np.ndarray:
    img = np.full((height, width, 3), 225, np.uint8)
    cv2.putText(img, "11 HH 14", (20, 95), cv2.FONT_HERSHEY_SIMPLEX, 2.6, (25, 25, 25), 8)
    return img


@pytest.mark.parametrize("k", [0.3, -0.25])
def test_slant_measures_how_far_strokes_lean(k: float) -> None:
    upright = _strokes()
    assert abs(plate_lines.slant(upright)) <= 0.04
    leaning = plate_lines.shear(upright, k)
    assert plate_lines.slant(leaning) == pytest.approx(-k, abs=0.06)
    # sheared back by what slant says, the strokes stand upright again
    back = plate_lines.shear(leaning, plate_lines.slant(leaning))
    assert abs(plate_lines.slant(back)) <= 0.04


def test_shear_keeps_rows_and_widens_the_canvas() -> None:
    img = _strokes()
    out = plate_lines.shear(img, 0.5)
    assert out.shape[0] == img.shape[0] and out.shape[1] == img.shape[1] + 60
    before, after = (np.flatnonzero((a[:, :, 0] < 100).any(axis=1)) for a in (img, out))
    assert abs(int(after.min()) - int(before.min())) <= 1 and abs(int(after.max()) - int(before.max())) <= 1


def test_a_two_letter_series_over_four_digits_gets_a_second_look() -> None:
    # "83-AA 1838" is valid but a two-letter series takes five digits: the extra crops are read,
    # they see "118.38", and their vote wins.
    top, short, full = _line("83-AA"), _line("1838"), _line("118.38")
    boxes: list[Box] = [(10, 10, 90, 45), (5, 50, 95, 90)]
    ocr = ScriptedOcr([top, short, top, top, top, full, full, full], boxes)
    square = np.full((100, 100, 3), 200, np.uint8)
    plate = OcrPlateReader(ocr).read(square, crop_kind="plate")[0]
    assert (plate.text, plate.valid) == ("83-AA 118.38", True)
    assert len(ocr.recognized) == 8  # 2 rows, then each again from 3 other paddings


def test_squat_strips_are_stretched_before_recognition() -> None:
    """A 1:1 strip (a two-row plate's top row) is fed to the recogniser at least 2:1 wide."""
    from camfind.recognition import ocr_rapid

    seen: list[np.ndarray] = []

    class Session:
        def get_inputs(self) -> list[object]:
            return [type("Input", (), {"name": "x"})()]

        def run(self, _outputs: object, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
            seen.append(feed["x"])
            n, _c, _h, w = feed["x"].shape
            return [np.zeros((n, w // 8, 3), np.float32)]

    backend = ocr_rapid.RapidOcrBackend.__new__(ocr_rapid.RapidOcrBackend)
    backend._rec_session = Session()
    backend._chars = ["blank", "A", " "]
    backend._masks = {}
    backend.recognize([np.full((40, 40, 3), 255, np.uint8)])
    filled = np.flatnonzero(seen[0][0, 0, 0] > 0.5)  # white columns (the padding is 0)
    assert filled.max() + 1 == int(np.ceil(ocr_rapid.REC_HEIGHT * ocr_rapid.MIN_LINE_ASPECT))


def test_a_whole_crop_reading_must_hold_the_rows_detected() -> None:
    from camfind.recognition.plates import _holds_rows
    from camfind.types import PlateText

    def reading(raw: str, valid: bool = True) -> PlateText:
        return PlateText(raw.replace("\n", " "), 0.9, "two-row", valid, None, raw)

    seen = reading("93FL\n302", valid=False)
    assert not _holds_rows(reading("93-FL\n130.27"), seen)  # two characters beside the row: not it
    assert _holds_rows(reading("93-FL\n1302"), seen)  # one cut off at the row's end: kept
    assert _holds_rows(reading("75-F1\n568.65"), reading("75F1\n", valid=False))  # a row read as nothing
    assert not _holds_rows(reading("93FL130277"), seen) and _holds_rows(reading("93FL13021"), seen)  # one line
