"""Riders and their two-wheelers are one object; pedestrians stay people."""

from __future__ import annotations

import pytest

from camfind.analysis.riders import merge_riders, rides, speed_hps, track_class
from camfind.types import Detection

BIKE = (100.0, 140.0, 160.0, 220.0)


def det(box: tuple[float, float, float, float], cls: str, t: float = 0.0, score: float = 0.8) -> Detection:
    return Detection(0, t, box, cls, score)


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ((105.0, 90.0, 155.0, 200.0), True),  # seated: head above, feet on the footrests
        ((110.0, 70.0, 150.0, 222.0), True),  # legs down to the ground
        ((300.0, 90.0, 340.0, 220.0), False),  # beside the bike
        ((105.0, 20.0, 155.0, 150.0), False),  # standing behind it: feet above the bike's middle
        ((105.0, 150.0, 155.0, 300.0), False),  # in front of it: head below the bike's top
        ((125.0, 132.0, 133.0, 162.0), False),  # far smaller than a rider
    ],
)
def test_rides(person: tuple[float, float, float, float], expected: bool) -> None:
    assert rides(person, BIKE) is expected


def test_merge_joins_bike_and_two_riders_keeps_pedestrian() -> None:
    driver, passenger = (105.0, 90.0, 150.0, 200.0), (115.0, 85.0, 162.0, 205.0)
    walker = (300.0, 90.0, 340.0, 220.0)
    out = merge_riders([det(BIKE, "motorcycle", score=0.5), det(driver, "person"), det(passenger, "person"),
                        det(walker, "person")])
    assert [(d.cls, d.box, d.score, d.riders) for d in out] == [
        ("motorcycle", (100.0, 85.0, 162.0, 220.0), 0.5, 2),
        ("person", walker, 0.8, 0),
    ]


def test_merge_without_bikes_is_unchanged() -> None:
    dets = [det((0.0, 0.0, 10.0, 30.0), "person"), det((50.0, 0.0, 90.0, 30.0), "car")]
    assert merge_riders(dets) == dets


def test_person_track_with_bike_votes_is_a_motorcycle() -> None:
    assert track_class({"person": 4.0, "motorcycle": 1.2}) == "motorcycle"
    assert track_class({"person": 4.0, "motorcycle": 0.5}) == "person"
    assert track_class({"unknown": 3.0}) == "unknown"
    assert track_class({"unknown": 3.0, "car": 0.4}) == "car"


def walk(step_px: float, n: int = 6, height: float = 100.0) -> list[Detection]:
    return [det((10.0 + k * step_px, 0.0, 50.0 + k * step_px, height), "person", t=k * 0.5) for k in range(n)]


def test_fast_person_track_is_a_rider() -> None:
    # 0.5 s steps: 50 px = 1 height/s (walking), 200 px = 4 heights/s (a motorbike)
    assert speed_hps(walk(50.0)) == pytest.approx(1.0)
    assert track_class({"person": 5.0}, walk(50.0)) == "person"
    assert track_class({"person": 5.0}, walk(200.0)) == "motorcycle"
    assert track_class({"person": 5.0}, walk(200.0, n=2)) == "person"  # too few boxes to say


def test_second_look_finds_the_bike_under_a_lone_rider_once() -> None:
    from camfind.analysis.riders import SecondLook

    calls: list[object] = []

    def zoomed(regions: object) -> list[Detection]:
        calls.append(regions)
        return [det((102.0, 150.0, 158.0, 222.0), "motorcycle", score=0.7)]

    look = SecondLook()
    rider = det((105.0, 90.0, 155.0, 200.0), "person")
    [out] = look(0.0, [rider], zoomed, 640, 360)
    assert out.cls == "motorcycle" and out.box == (102.0, 90.0, 158.0, 222.0)
    moved = det((115.0, 92.0, 165.0, 202.0), "person")  # half a second later, 10 px on
    [again] = look(0.5, [moved], zoomed, 640, 360)
    assert again.cls == "motorcycle" and again.box == (112.0, 92.0, 168.0, 224.0)
    assert len(calls) == 1  # remembered: one zoomed pass per rider every few seconds


def test_second_look_leaves_a_pedestrian_and_respects_its_budget() -> None:
    from camfind.analysis.riders import LOOKS_PER_FRAME, SecondLook

    calls: list[object] = []

    def nothing(regions: object) -> list[Detection]:
        calls.append(regions)
        return []

    walkers = [det((50.0 * k, 90.0, 50.0 * k + 40, 220.0), "person") for k in range(5)]
    out = SecondLook()(0.0, walkers, nothing, 640, 360)
    assert [d.cls for d in out] == ["person"] * 5 and len(calls) == LOOKS_PER_FRAME


def test_a_wide_person_box_over_the_scene_is_implausible() -> None:
    from camfind.analysis.riders import implausible_person

    assert implausible_person(det((71.0, 9.0, 983.0, 524.0), "person"), 1006)
    assert not implausible_person(det((200.0, 0.0, 420.0, 360.0), "person"), 640)  # close, tall
    assert not implausible_person(det((71.0, 9.0, 983.0, 524.0), "car"), 1006)
