"""`camfind cameras ...`: import, list, set-clock, link, calibrate; errors name the row and column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import rows, run, run_json
from clipfactory import CAMERAS_CSV

CSV = CAMERAS_CSV


@pytest.fixture
def cams_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cameras.csv"
    path.write_text(CSV)
    return path


def test_import_and_list(case: str, cams_csv: Path) -> None:
    result = run("cameras", "import", cams_csv)
    assert result.exit_code == 0, result.stderr
    assert "3 cameras (3 new" in result.stdout
    listed = {c["id"]: c for c in run_json("cameras", "list")}
    assert set(listed) == {"CAM01", "CAM02", "CAM03"}
    assert listed["CAM01"]["owner_type"] == "public" and listed["CAM01"]["extra"] == {"street": "Le Loi"}
    assert listed["CAM02"]["neighbors"] == ["CAM01", "CAM03"]
    assert rows(case, "SELECT a, b FROM camera_links ORDER BY a") == [("CAM01", "CAM02"), ("CAM02", "CAM03")]


def test_import_geojson(case: str, tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.70, 10.77]},
         "properties": {"id": "G1", "owner_type": "business", "neighbors": ["G2"], "floor": 2}},
        {"type": "Feature", "id": "G2", "geometry": {"type": "Point", "coordinates": [106.701, 10.77]},
         "properties": {}},
    ]}
    path = tmp_path / "cams.geojson"
    path.write_text(json.dumps(doc))
    assert run("cameras", "import", path).exit_code == 0
    assert rows(case, "SELECT id, lat, lon, owner_type, extra_json FROM cameras ORDER BY id") == [
        ("G1", 10.77, 106.70, "business", '{"floor": "2"}'), ("G2", 10.77, 106.701, "resident", "{}")]
    assert rows(case, "SELECT a, b FROM camera_links") == [("G1", "G2")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,lat\nCAM01,10.7\n", "missing required column(s) lon"),
        ("id,lat,lon\nCAM01,10.7,106.7\nCAM02,north,106.7\n", "row 3: column lat: expected a number, got 'north'"),
        ("id,lat,lon\nCAM01,95,106.7\n", "row 2: column lat: expected a number in [-90, 90]"),
        ("id,lat,lon,owner_type\nCAM01,10.7,106.7,police\n", "row 2: column owner_type: expected one of"),
        ("id,lat,lon\n,10.7,106.7\n", "row 2: column id"),
        ("id,lat,lon\nCAM01,10.7,106.7\nCAM01,10.8,106.7\n", "row 3: column id: camera 'CAM01' already given"),
        ("id,lat,lon\nCAM01,10.7,\n", "row 2: column lon: a value is required"),
    ],
)
def test_bad_files_name_row_and_column_and_write_nothing(
    case: str, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = run("cameras", "import", path)
    assert result.exit_code == 2
    assert message in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert rows(case, "SELECT COUNT(*) FROM cameras") == [(0,)]


def test_set_clock_retimes_and_survives_reimport(case: str, cams_csv: Path) -> None:
    run("cameras", "import", cams_csv)
    out = run_json("cameras", "set-clock", "CAM03", "--dvr-time", "2024-01-25 10:20:05",
                   "--actual-time", "2024-01-25 10:19:00")
    assert out["clock_offset_s"] == 65.0
    assert rows(case, "SELECT offset_s, dvr_ts - actual_ts FROM clock_observations") == [(65.0, 65.0)]
    run("cameras", "import", cams_csv)  # the file gives no offset: the observed one stays
    assert rows(case, "SELECT clock_offset_s FROM cameras WHERE id='CAM03'") == [(65.0,)]


def test_set_clock_bad_time_and_unknown_camera(case: str, cams_csv: Path) -> None:
    run("cameras", "import", cams_csv)
    bad = run("cameras", "set-clock", "CAM03", "--dvr-time", "10h20", "--actual-time", "2024-01-25 10:19")
    assert bad.exit_code == 2 and "malformed time '10h20'" in bad.stderr
    unknown = run("cameras", "set-clock", "CAM99", "--dvr-time", "2024-01-25 10:19", "--actual-time",
                  "2024-01-25 10:19")
    assert unknown.exit_code == 2 and "CAM99" in unknown.stderr
    assert rows(case, "SELECT COUNT(*) FROM clock_observations") == [(0,)]


def test_link(case: str, cams_csv: Path) -> None:
    run("cameras", "import", cams_csv)
    result = run("cameras", "link", "CAM03", "CAM01", "--meters", "240")
    assert result.exit_code == 0 and "240 m" in result.stdout
    assert ("CAM01", "CAM03", 240.0, "declared") in rows(case, "SELECT a, b, meters, source FROM camera_links")
    bad = run("cameras", "link", "CAM01", "CAM99")
    assert bad.exit_code == 2 and "CAM99" in bad.stderr
    assert run("cameras", "link", "CAM01", "CAM01").exit_code == 2


def test_calibrate(case: str, cams_csv: Path) -> None:
    run("cameras", "import", cams_csv)
    points = ["100,700=10.77010,106.70020", "1180,700=10.77012,106.70060", "900,300=10.77060,106.70055",
              "380,300=10.77058,106.70025", "640,500=10.77035,106.70040"]
    out = run_json("cameras", "calibrate", "CAM01", *[a for p in points for a in ("--point", p)])
    assert out["points"] == 5 and out["reprojection_error_m"] < 5.0
    stored = rows(case, "SELECT points_json, reprojection_error_m FROM calibrations WHERE camera_id='CAM01'")
    assert len(json.loads(stored[0][0])["image"]) == 5
    few = run("cameras", "calibrate", "CAM01", "--point", points[0], "--point", points[1])
    assert few.exit_code == 2 and "4 or more" in few.stderr
    bad = run("cameras", "calibrate", "CAM01", *[a for p in [*points[:3], "1,2=north"] for a in ("--point", p)])
    assert bad.exit_code == 2 and "X,Y=LAT,LON" in bad.stderr


def test_time_zone_of_a_new_index(case: str, cams_csv: Path) -> None:
    assert run("cameras", "import", cams_csv, "--tz", "Asia/Bangkok").exit_code == 0
    assert rows(case, "SELECT value FROM meta WHERE key='timezone'") == [("Asia/Bangkok",)]
    again = run("cameras", "import", cams_csv, "--tz", "Europe/Paris")
    assert again.exit_code == 2 and "cannot be changed" in again.stderr


def test_list_needs_an_index(index_path: Path) -> None:
    result = run("cameras", "list")
    assert result.exit_code == 2 and "no index" in result.stderr
    assert not index_path.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("c.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "A"},'
                      ' "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}]}',
         "feature 1: column geometry: expected a Point"),
        ("c.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": "10.7,106.7",'
                      ' "properties": {"id": "A"}}]}', "feature 1: column geometry: expected a Point [lon, lat], got"),
        ("c.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": ["A"],'
                      ' "geometry": {"type": "Point", "coordinates": [106.7, 10.7]}}]}',
         "feature 1: properties: expected an object of named values, got a list"),
        ("c.geojson", '{"type": "Feature"}', "expected a GeoJSON FeatureCollection"),
        ("c.geojson", "{oops", "not valid JSON"),
        ("c.xlsx", "PK", "expected a .csv or .geojson"),
        ("c.csv", "", "empty cameras file"),
    ],
)
def test_bad_geojson_and_formats(case: str, tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = run("cameras", "import", path)
    assert result.exit_code == 2 and message in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert rows(case, "SELECT COUNT(*) FROM cameras") == [(0,)]


def test_list_shows_heading_and_field_of_view(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    path = tmp_path / "cams.csv"
    path.write_text("id,lat,lon,heading_deg,fov_deg\nCAM01,10.77,106.70,90,75\nCAM02,10.78,106.70,-45,\n"
                    "CAM03,10.79,106.70,,\n")
    assert run("cameras", "import", path).exit_code == 0
    table = run("cameras", "list").stdout
    assert "heading_deg" in table and "fov_deg" in table
    lines = {line.split("│")[1].strip(): line for line in table.splitlines() if line.startswith("│")}
    assert "90 (E)" in lines["CAM01"] and "│ 75 " in lines["CAM01"]
    assert "315 (NW)" in lines["CAM02"] and "not set" in lines["CAM03"]
    listed = {c["id"]: c for c in run_json("cameras", "list")}
    assert (listed["CAM01"]["heading_deg"], listed["CAM01"]["fov_deg"]) == (90.0, 75.0)
    assert listed["CAM03"]["heading_deg"] is None
