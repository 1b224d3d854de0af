"""The plate finders and `plates read` on real Vietnamese full frames ($CAMFIND_REALDATA/vn).

The labels give each vehicle's box (by eye) and its plate text: a plate found must lie inside
its vehicle's box, and be read as labelled.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import cv2
import pytest
from cli_run import run

from camfind.recognition.platefind import PlateFinder, load_plate_finder, read_plates_in_frame
from camfind.recognition.plates import PlateReader, load_plate_reader
from camfind.recognition.vnplate import normalize
from camfind.types import Box

#: Frames whose every legible plate the finders must find: rear views of parked motorbikes, a
#: road-level car frame (two-row car plates) and a junction queue.
FRAMES = ("img12", "img13", "img10")
HAS_ANPR = importlib.util.find_spec("fastanpr") is not None
FINDER_NAMES = ["text", pytest.param("yolo", marks=pytest.mark.skipif(not HAS_ANPR, reason="needs camfind[anpr]"))]


@pytest.fixture(scope="module")
def items(realdata: Path) -> dict[str, dict[str, Any]]:
    labels = json.loads((realdata / "vn" / "labels.json").read_text(encoding="utf-8"))
    return {item["id"]: item for item in labels["items"]}


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return load_plate_reader("rapidocr")


@pytest.fixture(scope="module")
def finders(reader: PlateReader) -> dict[str, PlateFinder]:
    return {}


def _finder(finders: dict[str, PlateFinder], name: str, reader: PlateReader) -> PlateFinder:
    if name not in finders:
        finders[name] = load_plate_finder(name, reader)
    return finders[name]


def _legible(item: dict[str, Any]) -> list[tuple[str, Box]]:
    return [
        (normalize(o["plate"]), tuple(o["approx_bbox"]))
        for o in item["objects"]
        if o.get("plate") and not o["plate"].startswith("partial")
    ]


def _inside(box: Box, outer: Box, slack: float = 15.0) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return outer[0] - slack <= cx <= outer[2] + slack and outer[1] - slack <= cy <= outer[3] + slack


@pytest.mark.parametrize("name", FINDER_NAMES)
@pytest.mark.parametrize("frame_id", FRAMES)
def test_finder_finds_and_reads_the_labelled_plates(
    realdata: Path, items: dict[str, dict[str, Any]], reader: PlateReader,
    finders: dict[str, PlateFinder], name: str, frame_id: str,
) -> None:  # fmt: skip
    item = items[frame_id]
    image = cv2.imread(str(realdata / "vn" / item["file"]))
    finder = _finder(finders, name, reader)
    candidates = finder.find(image)
    wanted = _legible(item)
    for _norm, vehicle in wanted:
        assert any(_inside(c.box, vehicle) for c in candidates), (frame_id, vehicle, candidates)
    plates = read_plates_in_frame(image, finder=finder, reader=reader)
    by_norm = {p.norm: p for p in plates}
    for norm, vehicle in wanted:
        assert norm in by_norm, (frame_id, norm, [p.text for p in plates])
        got = by_norm[norm]
        assert got.valid and got.box is not None and _inside(got.box, vehicle), (norm, got.box, vehicle)


@pytest.mark.parametrize("name", FINDER_NAMES)
def test_regions_restrict_the_search(
    realdata: Path, items: dict[str, dict[str, Any]], reader: PlateReader, finders: dict[str, PlateFinder], name: str
) -> None:
    """Searching one vehicle's box gives that vehicle's plate only, in frame pixels."""
    item = items["img12"]
    image = cv2.imread(str(realdata / "vn" / item["file"]))
    (norm, vehicle), *others = _legible(item)
    plates = read_plates_in_frame(image, finder=_finder(finders, name, reader), reader=reader, regions=[vehicle])
    assert [p.norm for p in plates if p.valid] == [norm]
    assert plates[0].box is not None and _inside(plates[0].box, vehicle)
    assert not any(n in {p.norm for p in plates} for n, _ in others)


def test_a_tilted_large_plate_in_a_phone_photo_is_levelled_and_read(realdata: Path, reader: PlateReader) -> None:
    """A two-row plate turned ~20 degrees, cut loosely from a 3024x4032 photo: read as labelled."""
    image = cv2.imread(str(realdata / "vn" / "images" / "img16_student_parking_dense_b.jpg"))
    crop = image[1850:2600, 550:1330]  # 50-AD 235.59, around the plate and some of the bike
    got = reader.read(crop, crop_kind="candidate")
    assert [(p.text, p.layout, p.valid) for p in got] == [("50-AD 235.59", "two-row", True)]


def test_plates_read_on_a_full_frame_returns_the_labelled_plates(
    realdata: Path, items: dict[str, dict[str, Any]], index_path: Path
) -> None:
    item = items["img13"]
    path = realdata / "vn" / item["file"]
    result = run("plates", "read", path, "--json")
    assert result.exit_code == 0, result.stderr
    (obj,) = json.loads(result.stdout)
    assert obj["image"] == str(path)
    got = {normalize(p["text"]): p for p in obj["plates"]}
    for norm, vehicle in _legible(item):
        assert norm in got, (norm, [p["text"] for p in obj["plates"]])
        plate = got[norm]
        assert plate["valid"] is True and plate["layout"] == "two-row" and 0.5 < plate["confidence"] <= 1.0
        assert _inside(tuple(plate["box"]), vehicle)
    assert not index_path.exists()


@pytest.mark.parametrize(
    ("rows", "cols", "text"),
    [
        ((1120, 1420), (20, 250), "83-AA 118.38"),  # leaning, squat rows: "83-AA 1838" when read as cut
        ((1507, 1788), (620, 826), "50-AD 235.59"),  # leaning ~20 degrees, cut tight: "50-AL" unsheared
    ],
)
def test_a_slanted_plate_with_squat_rows_is_read_whole(
    realdata: Path, reader: PlateReader, rows: tuple[int, int], cols: tuple[int, int], text: str
) -> None:
    """Two-row plates of a dense phone photo of parked bikes, seen from the side: the crop is
    sheared upright and its squat rows stretched before they are read."""
    image = cv2.imread(str(realdata / "vn" / "images" / "img15_student_parking_dense_a.jpg"))
    crop = image[rows[0] : rows[1], cols[0] : cols[1]]
    got = reader.read(crop, crop_kind="candidate")
    assert [(p.text, p.layout, p.valid) for p in got] == [(text, "two-row", True)]


def test_a_plate_half_hidden_is_not_completed_from_what_lies_beside_it(realdata: Path, reader: PlateReader) -> None:
    """A two-row plate whose bottom row is partly behind a bar ("93-F? ?302" as labelled): its
    rows are seen and read, so a whole-crop reading that adds digits from the bar is refused."""
    image = cv2.imread(str(realdata / "vn" / "images" / "img15_student_parking_dense_a.jpg"))
    got = reader.read(image[686:898, 2148:2318], crop_kind="candidate")
    assert not any(p.valid for p in got), [p.text for p in got]
