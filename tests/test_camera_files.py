"""Reading camera registries (camfind.cameras): every wrong JSON type, stray character or
lenient number is one InputError naming the file, the row or feature, and the column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camfind.cameras import read_cameras
from camfind.errors import InputError

POINT = {"type": "Point", "coordinates": [106.7, 10.77]}


def _geojson(tmp_path: Path, **feature: object) -> Path:
    path = tmp_path / "cams.geojson"
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": "C1", **feature}]}
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ({"geometry": "10.77,106.7"}, "column geometry: expected a Point [lon, lat], got a string"),
        ({"geometry": [106.7, 10.77]}, "column geometry: expected a Point [lon, lat], got a list"),
        ({"geometry": None}, "column geometry: expected a Point [lon, lat], got null"),
        ({"geometry": 5}, "column geometry: expected a Point [lon, lat], got a number"),
        ({"geometry": {"type": ["Point"], "coordinates": [106.7, 10.77]}}, 'got type ["Point"]'),
        ({"geometry": {"type": "Point", "coordinates": "106.7,10.77"}}, "expected Point coordinates"),
        ({"geometry": {"type": "Point", "coordinates": [[106.7], [10.77]]}}, "expected Point coordinates"),
        ({"geometry": {"type": "Point", "coordinates": [True, 10.77]}}, "expected Point coordinates"),
        ({"geometry": {"type": "Point", "coordinates": [None, 10.77]}}, "expected Point coordinates"),
        ({"geometry": {"type": "Point", "coordinates": [106.7]}}, "expected Point coordinates"),
        ({"geometry": POINT, "properties": [["A"]]}, "properties: expected an object of named values, got a list"),
        ({"geometry": POINT, "properties": "id=A"}, "properties: expected an object of named values, got a string"),
        ({"geometry": POINT, "properties": 3}, "properties: expected an object of named values, got a number"),
        ({"geometry": POINT, "properties": {"neighbors": [{"id": "C2"}]}}, "column neighbors: expected a list of"),
        ({"geometry": POINT, "properties": {"neighbors": [True]}}, "column neighbors: expected a list of"),
    ],
)
def test_geojson_members_of_the_wrong_json_type(tmp_path: Path, feature: dict[str, object], message: str) -> None:
    path = _geojson(tmp_path, **feature)
    with pytest.raises(InputError) as err:
        read_cameras(path)
    assert f"{path} feature 1: " in str(err.value) and message in str(err.value)


def test_geojson_feature_that_is_no_object(tmp_path: Path) -> None:
    path = tmp_path / "cams.geojson"
    path.write_text('{"type": "FeatureCollection", "features": ["C1"]}')
    with pytest.raises(InputError, match="feature 1: expected a GeoJSON Feature object, got a string"):
        read_cameras(path)


def test_geojson_good_feature_still_reads(tmp_path: Path) -> None:
    path = _geojson(tmp_path, geometry={"type": "Point", "coordinates": [106.7, 10.77, 4.0]},
                    properties={"neighbors": ["C2", 7]})
    (cam,) = read_cameras(path)
    assert (cam.id, cam.lat, cam.lon, cam.neighbors) == ("C1", 10.77, 106.7, ("C2", "7"))
