"""Distances, bearings and compass words."""

from __future__ import annotations

import pytest

from camfind.geo import angle_diff, bearing_deg, compass_word, haversine_m, parse_direction


def test_haversine_one_hundredth_degree_latitude() -> None:
    assert haversine_m(10.77, 106.70, 10.78, 106.70) == pytest.approx(1112, abs=2)


@pytest.mark.parametrize(
    ("lat2", "lon2", "expected"),
    [(10.1, 106.0, 0.0), (10.0, 106.1, 90.0), (9.9, 106.0, 180.0), (10.0, 105.9, 270.0)],
)
def test_bearing_cardinal(lat2: float, lon2: float, expected: float) -> None:
    assert angle_diff(bearing_deg(10.0, 106.0, lat2, lon2), expected) < 0.1


@pytest.mark.parametrize(
    ("deg", "word"),
    [(0, "N"), (22.4, "N"), (22.6, "NE"), (90, "E"), (180, "S"), (225, "SW"), (337.6, "N"), (-45, "NW")],
)
def test_compass_word(deg: float, word: str) -> None:
    assert compass_word(deg) == word


@pytest.mark.parametrize(("text", "deg"), [("ne", 45.0), ("W", 270.0), ("100", 100.0), ("-90", 270.0)])
def test_parse_direction(text: str, deg: float) -> None:
    assert parse_direction(text) == deg


def test_parse_direction_rejects_words() -> None:
    with pytest.raises(ValueError, match="expected a direction"):
        parse_direction("north-ish")


def test_angle_diff_wraps() -> None:
    assert angle_diff(350, 10) == 20
