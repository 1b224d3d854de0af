"""The plate finder's geometry and flow with scripted parts (fast, no model): tiling, region
search, line pairing, tilt, candidates from quick readings, reading candidates in a frame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.errors import InputError, ModelError
from camfind.recognition import plate_lines, plate_yolo, platefind
from camfind.recognition.ocr import LineRead
from camfind.recognition.platefind import PlateCandidate, candidates_from_lines, read_plates_in_frame, search
from camfind.types import Box, PlateText


@pytest.mark.parametrize(
    ("width", "height", "tile", "overlap", "count"),
    [(800, 600, 1280, 200, 1), (3024, 4032, 1280, 213, 12), (2000, 1000, 1280, 213, 2), (1281, 50, 1280, 0, 2)],
)
def test_tiles_cover_the_image_with_the_overlap(width: int, height: int, tile: int, overlap: int, count: int) -> None:
    tiles = plate_lines.tile_grid(width, height, tile, overlap)
    assert len(tiles) == count
    covered = np.zeros((height, width), bool)
    for x1, y1, x2, y2 in tiles:
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert x2 - x1 <= tile and y2 - y1 <= tile
        covered[int(y1) : int(y2), int(x1) : int(x2)] = True
    assert covered.all()
    xs = sorted({(t[0], t[2]) for t in tiles})
    for (_, a_end), (b_start, _) in zip(xs, xs[1:], strict=False):
        assert a_end - b_start >= overlap  # a thing up to `overlap` wide lies whole in one tile


@pytest.mark.parametrize(
    ("width", "height", "fine_from", "sides"),
    [
        (3024, 4032, 1.25, [1280] + [1280] * 6),  # a phone photo: whole, then 2x3 tiles at 2560
        (1600, 1200, 1.25, [1280]),  # at most 1.25x the base size: whole only
        (1600, 1200, 1.0, [1280, 1280, 1280]),  # ... or whole, then 2 tiles at its own size
        (1280, 720, 1.0, [1280]),
        (854, 480, 1.0, [1280]),  # upscaled to the base size
        (300, 200, 1.0, [600]),  # a region: upscaled at most twice
    ],
)
def test_scaled_parts(width: int, height: int, fine_from: float, sides: list[int]) -> None:
    parts = platefind.scaled_parts(width, height, fine_from=fine_from)
    assert [side for _, side in parts] == sides
    assert parts[0][0] == (0.0, 0.0, float(width), float(height))
    fine = min(max(width, height), 2560) / max(width, height)
    for (x1, y1, x2, y2), side in parts[1:]:
        assert max(x2 - x1, y2 - y1) * fine == pytest.approx(side, abs=1)


def test_tile_overlap_must_be_smaller_than_the_tile() -> None:
    with pytest.raises(ValueError, match="overlap"):
        plate_lines.tile_grid(100, 100, 50, 50)


def test_overlapping_regions_are_united_and_apart_ones_kept() -> None:
    chain = [(0.0, 0.0, 10.0, 10.0), (8.0, 8.0, 20.0, 20.0), (19.0, 0.0, 30.0, 9.0)]
    apart = (100.0, 100.0, 110.0, 110.0)
    assert sorted(plate_lines.merge_overlapping([*chain, apart])) == [(0.0, 0.0, 30.0, 20.0), apart]


@pytest.mark.parametrize(
    ("lower", "max_overlap", "paired"),
    [
        ((10.0, 48.0, 110.0, 88.0), 0.35, True),  # just under the upper line
        ((10.0, 20.0, 110.0, 60.0), 0.35, False),  # overlaps by 0.75 of its height
        ((10.0, 20.0, 110.0, 60.0), 0.8, True),  # ... which grown detector boxes do
        ((200.0, 48.0, 300.0, 88.0), 0.8, False),  # beside, not under
        ((10.0, 48.0, 110.0, 168.0), 0.8, False),  # three times as high
    ],
)
def test_stacked_rows_pair(lower: Box, max_overlap: float, paired: bool) -> None:
    upper = (0.0, 10.0, 100.0, 50.0)
    assert bool(plate_lines.stacked_pairs([upper, lower], max_overlap=max_overlap)) is paired


@pytest.mark.parametrize("angle", [-25.0, -8.0, 0.0, 12.0, 30.0])
def test_tilted_text_is_measured_and_turned_level(angle: float) -> None:
    img = np.zeros((400, 400, 3), np.uint8)
    rect = ((200.0, 200.0), (220.0, 40.0), angle)
    quad = cv2.boxPoints(rect)
    cv2.fillPoly(img, [quad.astype(np.int32)], (255, 255, 255))
    measured = plate_lines.text_angle([quad])
    assert measured == pytest.approx(angle, abs=1.0)
    level = plate_lines.rotate(img, measured)
    ys, xs = np.nonzero(level[:, :, 0] > 128)
    assert ys.max() - ys.min() <= 46 and xs.max() - xs.min() >= 210
    warped = plate_lines.warp_quad(img, quad[::-1])  # corner order does not matter
    assert abs(warped.shape[1] - 220) <= 2 and abs(warped.shape[0] - 40) <= 2
    assert warped[5:-5, 5:-5].min() > 200


def test_vertical_text_gives_no_tilt() -> None:
    assert plate_lines.text_angle([cv2.boxPoints(((50.0, 50.0), (10.0, 80.0), 0.0))]) == 0.0
    assert plate_lines.text_angle([]) == 0.0


def _read(text: str, conf: float = 0.95) -> LineRead:
    return LineRead(text, conf)


def test_candidates_from_lines_pair_rows_and_keep_plate_like_lines() -> None:
    lines = [
        (100.0, 100.0, 160.0, 130.0),  # 59-X1
        (95.0, 112.0, 170.0, 147.0),  # 123.45 (boxes grown by the detector overlap by 0.6)
        (400.0, 50.0, 600.0, 90.0),  # 51F-598.81, a one-row plate
        (400.0, 300.0, 600.0, 340.0),  # a shop sign
        (700.0, 100.0, 760.0, 130.0),  # a sign over a number: digits too few for a plate
        (700.0, 128.0, 770.0, 160.0),
    ]
    reads = [_read("59-X1"), _read("123.45"), _read("51F-598.81", 0.9), _read("PHO BO"), _read("EXIT"), _read("12")]
    found = candidates_from_lines(lines, reads)
    assert [(c.box, c.layout) for c in found] == [
        ((95.0, 100.0, 170.0, 147.0), "two-row"),
        ((400.0, 50.0, 600.0, 90.0), "one-row"),
    ]


def test_search_maps_region_hits_back_to_frame_pixels() -> None:
    image = np.zeros((500, 800, 3), np.uint8)
    seen: list[tuple[int, int]] = []

    def find_in(part: np.ndarray) -> list[PlateCandidate]:
        seen.append(part.shape[:2])
        return [PlateCandidate((10.0, 20.0, 30.0, 30.0), 0.5, "one-row")]

    regions = [(100.0, 100.0, 200.0, 200.0), (190.0, 150.0, 300.0, 250.0), (600.0, 400.0, 700.0, 480.0)]
    found = search(image, regions, find_in)
    assert len(seen) == 2  # the two overlapping regions searched once, together
    # grown by 10% of their size, clipped to the frame
    assert sorted(c.box for c in found) == [(100.0, 110.0, 120.0, 120.0), (600.0, 412.0, 620.0, 422.0)]
    assert search(image, None, find_in)[0].box == (10.0, 20.0, 30.0, 30.0)
    assert search(image, [], find_in) == []


def test_candidate_is_validated() -> None:
    with pytest.raises(ValueError, match="box"):
        PlateCandidate((10.0, 10.0, 5.0, 20.0), 0.5)
    with pytest.raises(ValueError, match="score"):
        PlateCandidate((0.0, 0.0, 5.0, 5.0), 1.5)
    with pytest.raises(ValueError, match="layout"):
        PlateCandidate((0.0, 0.0, 5.0, 5.0), 0.5, "three-row")


class FixedFinder:
    name = "fixed"

    def __init__(self, cands: Sequence[PlateCandidate]) -> None:
        self.cands = list(cands)
        self.regions: object = "unset"

    def find(self, image_bgr: np.ndarray, regions: Sequence[Box] | None = None) -> list[PlateCandidate]:
        self.regions = regions
        return self.cands


class ScriptedReader:
    """Reads each candidate crop as the next scripted plate; records crop sizes and kinds."""

    backend = "scripted"

    def __init__(self, plates: Sequence[PlateText]) -> None:
        self.plates = list(plates)
        self.calls: list[tuple[tuple[int, ...], str]] = []

    def read(self, image_bgr: np.ndarray, *, crop_kind: str = "auto") -> list[PlateText]:
        self.calls.append((image_bgr.shape, crop_kind))
        return [self.plates.pop(0)]


def test_read_plates_in_frame_reads_each_candidate_upscaled_and_keeps_plates() -> None:
    frame = np.full((720, 1280, 3), 90, np.uint8)
    cands = [
        PlateCandidate((100.0, 100.0, 140.0, 130.0), 0.9, "two-row"),
        PlateCandidate((500.0, 400.0, 600.0, 424.0), 0.8, "one-row"),
        PlateCandidate((800.0, 100.0, 900.0, 120.0), 0.7, "one-row"),  # a sign
        PlateCandidate((102.0, 101.0, 141.0, 131.0), 0.6, "two-row"),  # the first again
        PlateCandidate((300.0, 300.0, 390.0, 320.0), 0.5, "one-row"),  # foreign, plate-like
    ]
    reader = ScriptedReader([
        PlateText("59-X1 123.45", 0.9, "two-row", True, (0.0, 0.0, 1.0, 1.0)),
        PlateText("51F-598.81", 0.95, "one-row", True, (0.0, 0.0, 1.0, 1.0)),
        PlateText("EXIT", 0.99, "one-row", False, (0.0, 0.0, 1.0, 1.0)),
        PlateText("59-X1 123.46", 0.5, "two-row", True, (0.0, 0.0, 1.0, 1.0)),
        PlateText("AB12345", 0.8, "one-row", False, (0.0, 0.0, 1.0, 1.0)),
    ])  # fmt: skip
    finder = FixedFinder(cands)
    regions = [(50.0, 50.0, 700.0, 500.0)]
    found = read_plates_in_frame(frame, finder=finder, reader=reader, regions=regions)
    assert finder.regions == regions
    assert [(p.text, p.box) for p in found] == [
        ("51F-598.81", (500.0, 400.0, 600.0, 424.0)),
        ("59-X1 123.45", (100.0, 100.0, 140.0, 130.0)),
        ("AB12345", (300.0, 300.0, 390.0, 320.0)),
    ]
    shapes = [shape for shape, _ in reader.calls]
    assert {kind for _, kind in reader.calls} == {"candidate"}
    assert shapes[0][0] == platefind.READ_HEIGHT["two-row"] and shapes[1][0] == platefind.READ_HEIGHT["one-row"]
    # upscaled keeping the crop's shape (margin included)
    assert shapes[1][1] / shapes[1][0] == pytest.approx((100 + 2 * 0.08 * 24) / (24 * 1.16), rel=0.05)


def test_read_plates_in_frame_rejects_a_non_image() -> None:
    with pytest.raises(InputError, match="BGR image"):
        read_plates_in_frame(np.zeros((4, 4)), finder=FixedFinder([]), reader=ScriptedReader([]))


def test_unknown_finder_is_a_named_error() -> None:
    with pytest.raises(ModelError, match="unknown plate finder"):
        platefind.load_plate_finder("tesseract")


def test_altered_weights_are_refused_before_loading(tmp_path: Path) -> None:
    fake = tmp_path / "best.pt"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelError, match="refusing to load"):
        plate_yolo.YoloPlateFinder(fake)


def test_two_views_of_a_place_are_kept_for_reading() -> None:
    """The YOLO finder's hits over the whole frame and its tiles: at most two per place."""
    same = [PlateCandidate((100.0 + d, 100.0, 150.0 + d, 140.0), 0.9 - d / 100, "two-row") for d in (0.0, 2.0, 4.0)]
    apart = PlateCandidate((400.0, 100.0, 450.0, 140.0), 0.3, "two-row")
    kept = plate_yolo._nms([*same, apart])
    assert kept == [same[0], same[1], apart]


def test_a_two_row_reading_with_an_empty_row_is_not_taken_for_a_two_row_plate() -> None:
    """A one-row plate split in halves reads as nothing over the whole line: that must not pass
    for a two-row plate as surely as a reading with both rows (the one-row reading wins)."""
    from camfind.recognition.plates import _variants

    box = (0.0, 0.0, 100.0, 60.0)
    empty_top = max(s.key for s in _variants([_read(""), _read("30F58793")], "two-row", box))
    both_rows = max(s.key for s in _variants([_read("30F5"), _read("8793")], "two-row", box))
    one_row = max(s.key for s in _variants([_read("30F58793")], "one-row", box))
    assert empty_top[1] == 0.0 and both_rows[1] == 1.0 and one_row > empty_top


def test_yolo_finder_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plate_yolo.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match=r"AGPL-3.0.*camfind\[anpr\].*--no-deps fastanpr==0.1.13"):
        platefind.load_plate_finder("yolo")


def test_plate_finder_registry_is_the_vocabulary() -> None:
    from camfind.vocab import PLATE_FINDERS

    assert tuple(platefind.REGISTRY) == PLATE_FINDERS
