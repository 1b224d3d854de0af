"""Plate reading on the real Vietnamese plates of $CAMFIND_REALDATA/plates (rapidocr, the default).

Letters+digits exact match of the first plate, per folder and layout, with one code path for all
(crop_kind="auto": the reader decides what each image is). Also: plates found in a scene.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from camfind.recognition.plates import PlateReader, load_plate_reader
from camfind.vocab import normalize_plate

#: (folder, layout) -> minimum share of plates read exactly (issue 3).
BARS = {
    ("vn_onerow_lprnet_crops", "one-row"): 0.95,
    ("vn_vitocolerole_crops", "one-row"): 0.95,
    ("vn_vitocolerole_crops", "two-row"): 0.90,
}


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return load_plate_reader("rapidocr")


@pytest.fixture(scope="module")
def labelled(realdata: Path) -> list[dict[str, str]]:
    with open(realdata / "plates" / "labels.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def scores(reader: PlateReader, labelled: list[dict[str, str]], realdata: Path) -> dict[tuple[str, str], list[bool]]:
    out: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for row in labelled:
        image = cv2.imread(str(realdata / row["file"]))
        assert image is not None, row["file"]
        plates = reader.read(image)
        got = plates[0].norm if plates else ""
        out[(Path(row["file"]).parent.name, row["layout"])].append(got == normalize_plate(row["plate_text"]))
    return out


@pytest.mark.parametrize("group", list(BARS), ids=lambda g: f"{g[0]}/{g[1]}")
def test_accuracy_per_folder_and_layout(scores: dict[tuple[str, str], list[bool]], group: tuple[str, str]) -> None:
    results = scores[group]
    assert len(results) >= 14, f"expected the real plates of {group}, found {len(results)}"
    share = sum(results) / len(results)
    assert share >= BARS[group], f"{group}: {sum(results)}/{len(results)} = {share:.1%} < {BARS[group]:.0%}"


def test_read_gives_canonical_valid_plates(reader: PlateReader, realdata: Path) -> None:
    crops = realdata / "plates" / "vn_vitocolerole_crops"
    one = reader.read(cv2.imread(str(crops / "3CarLongPlate503.jpg")))
    two = reader.read(cv2.imread(str(crops / "7xemay1922.jpg")), crop_kind="plate")
    assert [(p.text, p.layout, p.valid) for p in one] == [("51F-598.81", "one-row", True)]
    assert [(p.text, p.layout, p.valid) for p in two] == [("60-Y7 3914", "two-row", True)]
    assert one[0].box == (0.0, 0.0, 780.0, 165.0) and 0.5 < one[0].confidence <= 1.0


def _street_frame(realdata: Path) -> np.ndarray:
    cap = cv2.VideoCapture(str(realdata / "video" / "intel_car-detection_768x432.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    return cv2.resize(frame, (1280, 720))


def _paste(scene: np.ndarray, plate: np.ndarray, x: int, y: int, width: int) -> tuple[int, int, int, int]:
    h = round(plate.shape[0] * width / plate.shape[1])
    scene[y : y + h, x : x + width] = cv2.resize(plate, (width, h), interpolation=cv2.INTER_AREA)
    return x, y, x + width, y + h


def test_plates_found_in_a_scene(reader: PlateReader, realdata: Path) -> None:
    """Two real plates pasted into a real street frame: both found, read, and placed."""
    crops = realdata / "plates" / "vn_vitocolerole_crops"
    scene = _street_frame(realdata)
    one_box = _paste(scene, cv2.imread(str(crops / "4CarLongPlate846.jpg")), 150, 480, 260)
    two_box = _paste(scene, cv2.imread(str(crops / "1xemay587.jpg")), 820, 430, 150)
    found = reader.read(scene)
    by_norm = {p.norm: p for p in found if p.valid}
    assert "51G51332" in by_norm and "59H154289" in by_norm, [p.text for p in found]
    assert by_norm["59H154289"].layout == "two-row"
    for norm, box in (("51G51332", one_box), ("59H154289", two_box)):
        got = by_norm[norm].box
        assert got is not None
        cx, cy = (got[0] + got[2]) / 2, (got[1] + got[3]) / 2
        assert box[0] <= cx <= box[2] and box[1] <= cy <= box[3], (norm, got, box)


def test_a_street_frame_without_plates_gives_no_valid_plate(reader: PlateReader, realdata: Path) -> None:
    assert not [p for p in reader.read(_street_frame(realdata)) if p.valid]
