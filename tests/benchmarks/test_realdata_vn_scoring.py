"""The scoring rules of benchmarks/realdata_vn.py on hand-made inputs: a scoring bug fails here."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def sc() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("vn_scoring")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize(
    ("label", "norm"),
    [
        ("59-X1 234.56", "59X123456"),
        ("30A-123.45", "30A12345"),
        ("66-VA 158.95 (faded)", "66VA15895"),
        ("29-v5 2108", "29V52108"),
        (None, None),
        ("partial: 67-F? 2113 (dirty, blurred)", None),
        ("partial: cut by frame edge", None),
    ],
)
def test_legible_plate(sc: ModuleType, label: str | None, norm: str | None) -> None:
    assert sc.legible_plate(label) == norm


def test_partial_pattern(sc: ModuleType) -> None:
    pat = sc.partial_pattern("partial: 67-F? 2113 (dirty, blurred)")
    assert pat is not None and pat.fullmatch("67F52113") and not pat.fullmatch("67F5211")
    assert sc.partial_pattern("partial: cut by frame edge") is None
    assert sc.partial_pattern("30A-123.45") is None


@pytest.mark.parametrize(("a", "b", "d"), [("", "", 0), ("ABC", "ABC", 0), ("ABC", "ABD", 1), ("ABC", "AC", 1),
                                           ("59X123456", "59X12345", 1), ("KITTEN", "SITTING", 3)])
def test_edit_distance(sc: ModuleType, a: str, b: str, d: int) -> None:
    assert sc.edit_distance(a, b) == d == sc.edit_distance(b, a)


def test_score_plates_surfaced_misread_partial_false(sc: ModuleType) -> None:
    labels = ["59-X1 234.56", "30A-123.45", "partial: 30? 558.78", None]
    reads = ["59-X1 234.56", "59x123456", "30A12346", "30A55878", "ABC123", None, ""]
    s = sc.score_plates(labels, reads)
    assert s.legible == ["30A12345", "59X123456"]
    assert s.surfaced == ["59X123456"]  # one plate read twice (separators, case) counts once
    assert s.missed == ["30A12345"]
    assert s.misread == [("30A12345", "30A12346")]
    assert s.partial_hits == ["30A55878"]
    assert s.false == ["ABC123"]


def test_a_read_two_edits_off_is_a_misread_three_is_false(sc: ModuleType) -> None:
    s = sc.score_plates(["30A-123.45"], ["30A12399", "30A19999"])
    assert s.misread == [("30A12345", "30A12399")]
    assert s.false == ["30A19999"]
    assert s.surfaced == [] and s.missed == ["30A12345"]


@pytest.mark.parametrize(
    ("label", "accepts"),
    [
        ("white", {"white"}),
        ("silver", {"silver/grey"}),
        ("black/red", {"black", "red"}),
        ("white/silver", {"white", "silver/grey"}),
        ("dark blue", {"blue", "black"}),
        ("dark grey (muddy)", {"silver/grey", "black"}),
        ("dark", {"black", "silver/grey"}),
        ("dark (rider red jacket, white helmet)", {"black", "silver/grey"}),  # the rider is not the bike
        ("white scooter (rider teal T-shirt)", {"white"}),
        ("white cab, blue tarpaulin", {"white"}),  # the body before the first comma
        ("beige/gold", {"brown", "yellow"}),
        ("dark blue-grey", {"blue", "silver/grey", "black"}),
        ("green (Mai Linh-style taxi)", {"green"}),
        ("various", None),
        ("", None),
    ],
)
def test_colour_accepts(sc: ModuleType, label: str, accepts: set[str] | None) -> None:
    got = sc.colour_accepts(label)
    assert (None if got is None else set(got)) == accepts


def test_colour_ok(sc: ModuleType) -> None:
    assert sc.colour_ok("black/red", "red") is True
    assert sc.colour_ok("black/red", "silver/grey") is False
    assert sc.colour_ok("white", None) is False
    assert sc.colour_ok("various", "red") is None


@pytest.mark.parametrize(
    ("label", "bearing"),
    [
        ("up", 0.0), ("right", 90.0), ("down", 180.0), ("left", 270.0), ("down-left (exits bottom-left)", 225.0),
        ("up, then stationary at the stop line from ~1 s", 0.0), ("down (slow)", 180.0),
        ("stationary", None), ("stationary/slow (side street)", None), ("unknown", None), ("various", None),
    ],
)
def test_label_bearing(sc: ModuleType, label: str, bearing: float | None) -> None:
    assert sc.label_bearing(label) == bearing


def test_direction_matching_is_one_to_one_within_time_and_angle(sc: ModuleType) -> None:
    w = sc.Window
    labels = [w("motorcycle", 0.0, 2.0, 180.0), w("motorcycle", 1.0, 3.0, 180.0), w("car", 0.0, 5.0, 0.0)]
    one = [w("motorcycle", 0.5, 1.5, 200.0)]
    assert sc.match_count(labels, one) == 1  # one sighting serves one label
    two = [*one, w("motorcycle", 2.5, 4.0, 160.0)]
    assert sc.match_count(labels, two) == 2
    assert sc.match_count(labels, [w("car", 0.0, 5.0, 50.0)]) == 0  # 50 degrees off
    assert sc.match_count(labels, [w("car", 6.5, 9.0, 0.0)]) == 0  # after the window and its 1 s slack
    assert sc.match_count(labels, [w("person", 0.0, 5.0, 0.0)]) == 0  # another class
    assert sc.match_count(labels, [w("car", 0.0, 5.0, None)]) == 0  # no direction
    # The first label fits both sightings, the second only the first one: greedy would give 1.
    first, second = w("motorcycle", 0.0, 3.0, 180.0), w("motorcycle", 0.0, 0.4, 180.0)
    sightings = [w("motorcycle", 0.0, 0.5, 180.0), w("motorcycle", 2.8, 3.0, 180.0)]
    assert sc.match_count([first, second], sightings) == 2


def test_score_clip_carriers_search_and_counts(sc: ModuleType) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        bench = importlib.import_module("realdata_vn")
    finally:
        sys.path.remove(str(BENCHMARKS))
    item = {"id": "X", "kind": "clip", "objects": [
        {"class": "motorcycle", "colour": "red", "plate": "59-X1 234.56", "t": [0, 4], "direction": "stationary"},
        {"class": "motorcycle", "colour": "black", "plate": "47-B2 299.21", "t": [0, 4], "direction": "down"},
        {"class": "car", "colour": "white", "plate": None, "t": [1, 3], "direction": "up"},
        {"class": "motorcycle", "count": 5, "plate": None, "t": [0, 4], "direction": "various"},
    ]}

    def sighting(cls: str, plate: str | None, color: str | None, t0: int, t1: int, deg: float | None) -> dict:
        return {"camera_id": "VN_X", "class": cls, "plate": plate, "color": color, "confidence": 0.9,
                "time": f"2024-05-01T08:00:0{t0}+07:00", "end_time": f"2024-05-01T08:00:0{t1}+07:00",
                "direction_deg": deg}

    run = {
        "clips": [{"camera_id": "VN_X", "start": "2024-05-01T08:00:00+07:00"}],
        "sightings": [{**sighting("person", "59-X1 234.56", "red", 0, 2, None), "plate_confidence": 0.5},
                      {**sighting("motorcycle", "59-X1 234.56", "black", 1, 3, None), "plate_confidence": 0.95},
                      sighting("car", None, "white", 1, 2, 10.0),
                      sighting("car", "51F-000.00", None, 5, 6, None),
                      {**sighting("car", None, None, 0, 1, None), "camera_id": "VN_other"}],
        "per_plate": {"59X123456": [sighting("motorcycle", "59-X1 234.56", "black", 1, 3, None)],
                      "47B229921": [sighting("person", "59-X1 234.56", "red", 0, 2, None)]},
    }
    out = bench.score_clip(item, run)
    assert out["sightings"] == 4  # the other camera's sighting is not this clip's
    assert out["plates"]["surfaced_plates"] == ["59X123456"] and out["plates"]["false"] == ["51F00000"]
    (carrier,) = out["carriers"]
    assert carrier["classes"] == ["motorcycle", "person"] and carrier["class_ok"] is True
    assert carrier["colours"] == ["black", "red"]
    assert carrier["colour_ok"] is False  # the surest read's sighting is black; the label says red
    shown = {p["plate"]: p["showing_other_plate"] for p in out["search_plate"]}
    assert shown == {"59X123456": [], "47B229921": ["59-X1 234.56"]}
    assert out["counts"]["motorcycle"] == {"labelled": 2, "groups": 5, "sightings": 1}
    assert out["counts"]["car"] == {"labelled": 1, "groups": 0, "sightings": 2}
    assert out["direction"] == {"moving_labelled": 2, "matched": 1}  # the car up (10 deg); the bike has none
