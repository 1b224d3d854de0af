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


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cams.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,lat,lon\nC\x001,10.77,106.7\n", "row 2: column id: 'C\\x001' holds the invisible character U+0000"),
        ("id,lat,lon\nC\u200b1,10.77,106.7\n", "row 2: column id: 'C\\u200b1' holds the invisible character U+200B"),
        ("id,lat,lon,neighbors\nC1,10.77,106.7,C\u202e2\n", "row 2: column neighbors: 'C\\u202e2' holds the"),
        ("id,lat,lon,name\nC1,10.77,106.7,Gate\x1b[2J\n", "row 2: column name: 'Gate\\x1b[2J' holds the invisible"),
        ("id,lat,lon\nC1,1_0.77,106.7\n", "row 2: column lat: expected a number, got '1_0.77'"),
        ("id,lat,lon,heading_deg\nC1,10.77,106.7,9_0\n", "row 2: column heading_deg: expected a number, got '9_0'"),
        ("id,lat,lon,fov_deg\nC1,10.77,106.7,\uff19\uff10\n", "row 2: column fov_deg: expected a number, got"),
        ("id,lat,lon,clock_offset_s\nC1,10.77,106.7,6_0\n", "row 2: column clock_offset_s: expected a number"),
        ("id,lat,lon,clock_offset_s\nC1,10.77,106.7,nan\n", "row 2: column clock_offset_s: expected a number"),
        # an unterminated quote: without the check, the address ran to the end of the file, the
        # cameras below it vanished into one value and the import "succeeded" with one camera
        ("id,lat,lon,address\nC1,10.77,106.7,\"12 Le Loi\nC2,10.78,106.7,x\nC3,10.79,106.7,y\n",
         "row 2: a quote opened in this row is never closed, so every line to the end of the file (line 4)"),
        ("id,lat,lon,address\nC1,10.77,106.7,x\nC2,10.78,106.7,\"12\" Le Loi\n", "row 3: not readable as CSV"),
    ],
)
def test_csv_values_that_lenient_parsing_would_hide(tmp_path: Path, text: str, message: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_cameras(path)
    assert str(err.value).startswith(f"{path} ") and message in str(err.value), str(err.value)


def test_csv_plain_values_still_read(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'id,lat,lon,heading_deg,fov_deg,clock_offset_s,address,name\n'
                          'C1,+10.77,106.7,-90,9e1,-3.5,"12 Le Loi,\nPhường Bến Nghé",Cổng\tchợ\n'
                          'C2,.5,106.7,,,,,\n')
    c1, c2 = read_cameras(path)
    assert (c1.lat, c1.heading_deg, c1.fov_deg, c1.clock_offset_s) == (10.77, 270.0, 90.0, -3.5)
    assert c1.address == "12 Le Loi,\nPhường Bến Nghé" and c1.name == "Cổng\tchợ"
    assert c2.lat == 0.5


def test_geojson_hidden_character_in_an_id(tmp_path: Path) -> None:
    path = _geojson(tmp_path, geometry=POINT, properties={"id": "C\u00001"})
    with pytest.raises(InputError, match="feature 1: column id: .* holds the invisible character U"):
        read_cameras(path)


def test_overlay_mask_column_is_checked_and_kept(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("id,lat,lon,mask\nC1,10.7,106.6,0 0 0.4 0.1;0.6 0.9 1 1\n", encoding="utf-8")
    [cam] = read_cameras(good)
    assert cam.extra["mask"] == "0 0 0.4 0.1;0.6 0.9 1 1"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lat,lon,mask\nC1,10.7,106.6,0 0 40 10\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2.*column mask"):
        read_cameras(bad)
