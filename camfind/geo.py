"""Small geometry helpers shared by the network, analysis and trace: distances and bearings."""

from __future__ import annotations

import math

from camfind.numbers import parse_decimal

EARTH_RADIUS_M = 6_371_008.8
COMPASS_WORDS: tuple[str, ...] = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres.

    >>> round(haversine_m(10.77, 106.70, 10.78, 106.70))
    1112
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial compass bearing from point 1 to point 2 (0 = north, 90 = east).

    >>> round(bearing_deg(10.0, 106.0, 10.0, 106.1))
    90
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(x, y)) % 360.0


def compass_word(deg: float) -> str:
    """One of the eight compass words for a bearing.

    >>> compass_word(10), compass_word(100), compass_word(350)
    ('N', 'E', 'N')
    """
    return COMPASS_WORDS[int(((deg % 360.0) + 22.5) // 45.0) % 8]


def angle_diff(a: float, b: float) -> float:
    """Smallest absolute difference between two bearings, in [0, 180]."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


def parse_direction(text: str) -> float:
    """A compass word (N, NE, ...) or degrees as a bearing; ValueError otherwise."""
    word = text.strip().upper()
    if word in COMPASS_WORDS:
        return COMPASS_WORDS.index(word) * 45.0
    try:
        degrees = parse_decimal(word)  # strict: float() reads "9_0" as 90, and "nan", "inf" as numbers
    except ValueError:
        degrees = math.nan
    if not math.isfinite(degrees):
        raise ValueError(f"expected a direction N NE E SE S SW W NW or degrees, got {text!r}")
    return degrees % 360.0
