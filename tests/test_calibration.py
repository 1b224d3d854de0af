"""Ground-plane calibration recovers positions, bearings and speeds of a perspective view."""

from __future__ import annotations

import math

import numpy as np
import pytest

from camfind.calibration import _from_plane, calibrate, fit_ground_model, load_ground_model, parse_point
from camfind.errors import InputError
from camfind.geo import angle_diff
from camfind.index import Index
from camfind.types import Camera

ORIGIN = (10.7700, 106.7000)
# A camera looking north along a street: ground (east, north) metres -> pixels (1280x960).
G2I = np.array([[40.0, 32.0, 640.0], [0.0, 10.0, 900.0], [0.0, 0.05, 1.0]])  # horizon at y = 200


def _pixel(east: float, north: float) -> tuple[float, float]:
    v = G2I @ np.array([east, north, 1.0])
    return float(v[0] / v[2]), float(v[1] / v[2])


def _points(ground: list[tuple[float, float]]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return [(_pixel(e, n), _from_plane(e, n, *ORIGIN)) for e, n in ground]


GROUND = [(-5.0, 2.0), (5.0, 2.0), (5.0, 30.0), (-5.0, 30.0), (0.0, 12.0)]


def test_fit_recovers_the_ground() -> None:
    model = fit_ground_model("CAM01", _points(GROUND))
    assert model.reprojection_error_m < 0.05
    e0, n0 = model.to_world(*_pixel(0.0, 5.0))
    e1, n1 = model.to_world(*_pixel(0.0, 25.0))
    assert math.hypot(e1 - e0, n1 - n0) == pytest.approx(20.0, abs=0.05)
    assert angle_diff(model.bearing_deg(_pixel(0, 5), _pixel(0, 25)), 0.0) < 0.5
    assert model.bearing_deg(_pixel(-4, 10), _pixel(4, 10)) == pytest.approx(90.0, abs=0.5)
    assert model.speed_kmh(_pixel(0, 5), _pixel(0, 25), 2.0) == pytest.approx(36.0, abs=0.1)
    lat, lon = model.to_latlon(*_pixel(5.0, 30.0))
    assert (lat, lon) == pytest.approx(_from_plane(5.0, 30.0, *ORIGIN), abs=1e-6)


def test_above_the_horizon_is_refused() -> None:
    model = fit_ground_model("CAM01", _points(GROUND))
    with pytest.raises(ValueError, match="horizon"):
        model.to_world(640.0, 100.0)  # the sky above the vanishing line


@pytest.mark.parametrize(
    ("ground", "message"),
    [
        (GROUND[:3], "4 or more"),
        ([(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)], "no ground plane"),
        ([GROUND[0], GROUND[0], GROUND[1], GROUND[2]], "distinct"),
    ],
)
def test_bad_point_sets(ground: list[tuple[float, float]], message: str) -> None:
    with pytest.raises(InputError, match=message):
        fit_ground_model("CAM01", _points(ground))


@pytest.mark.parametrize("text", ["1,2", "1,2=3", "a,b=1,2", "-1,2=10,106", "1,2=95,106"])
def test_parse_point_rejects(text: str) -> None:
    with pytest.raises(InputError):
        parse_point(text)


def test_stored_and_loaded(index: Index) -> None:
    index.writer.upsert_cameras([Camera("CAM01", *ORIGIN)])
    assert load_ground_model(index, "CAM01") is None
    fitted = calibrate(index, "CAM01", _points(GROUND))
    loaded = load_ground_model(index, "CAM01")
    assert loaded is not None
    px = _pixel(1.0, 17.0)
    assert loaded.to_world(*px) == pytest.approx(fitted.to_world(*px), abs=1e-6)
    assert loaded.reprojection_error_m == pytest.approx(fitted.reprojection_error_m)
