"""`camfind trace`: JSON shape per the contract, the tree output, --geojson and --html files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run, run_json

HOP_KEYS = {"camera_id", "first_seen", "last_seen", "direction", "distance_m_from_prev", "speed_kmh_from_prev",
            "feasible", "evidence"}
NEXT_KEYS = {"camera_id", "owner_type", "owner_contact", "window_from", "window_to", "footage_ingested"}


@pytest.fixture
def db(db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared street index, with a wide terminal so the tree is not folded."""
    monkeypatch.setenv("COLUMNS", "200")
    return db


def test_trace_json_contract(db: Path) -> None:
    route = run_json("trace", "--plate", "51F-123.45")
    assert {"target", "hops", "gaps", "last_seen", "next_cameras"} <= set(route)
    assert route["target"] == "plate 51F-123.45"
    assert [h["camera_id"] for h in route["hops"]] == ["A", "B", "D"]
    assert all(set(h) >= HOP_KEYS for h in route["hops"])
    b = route["hops"][1]
    assert b["first_seen"] == "2024-03-01T10:00:31+07:00" and b["feasible"] is True
    assert round(b["distance_m_from_prev"]) == 328 and 41 < b["speed_kmh_from_prev"] < 43
    assert all(Path(p).is_file() for p in b["evidence"]) and len(route["hops"][2]["evidence"]) == 1
    assert route["last_seen"] == "2024-03-01T10:01:36+07:00"
    nxt = {c["camera_id"]: c for c in route["next_cameras"]}
    assert all(set(c) >= NEXT_KEYS for c in nxt.values())
    assert nxt["G"]["footage_ingested"] is True and nxt["E"]["footage_ingested"] is False
    assert nxt["E"]["owner_contact"] == "market@example.vn"
    assert route["gaps"][0]["after_camera_id"] == "B" and "passed C unseen" in route["gaps"][0]["note"]


def test_trace_by_track_and_tree_output(db: Path) -> None:
    track = run_json("search", "--plate", "51F12345", "--camera", "A")[0]["track_id"]
    assert [h["camera_id"] for h in run_json("trace", "--track", str(track))["hops"]] == ["A", "B", "D"]
    shown = run("trace", "--plate", "51F12345~0.5", "--from", "2024-03-01 09:00", "--to", "2024-03-01 11:00")
    assert shown.exit_code == 0, shown.stderr
    text = shown.stdout
    assert "Route of plate 51F12345~0.5" in text and "4. D" in text and "0904 777 888" in text
    assert "Next cameras to check" in text and "Before the first sighting" in text


def test_trace_writes_geojson_and_html(db: Path, tmp_path: Path) -> None:
    gj, page = tmp_path / "out" / "route.geojson", tmp_path / "route.html"
    result = run("trace", "--plate", "51F-123.45", "--geojson", gj, "--html", page)
    assert result.exit_code == 0, result.stderr
    data = json.loads(gj.read_text())
    assert data["type"] == "FeatureCollection"
    assert [f["geometry"]["type"] for f in data["features"]].count("LineString") == 1
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "data:image/jpeg;base64," in html
    assert "http://" not in html and "https://" not in html
    assert "wrote the HTML report" in result.stderr


@pytest.mark.parametrize("option", ["--html", "--geojson"])
def test_trace_output_that_is_a_folder_leaves_nothing_behind(db: Path, tmp_path: Path, option: str) -> None:
    (tmp_path / "reports").mkdir()
    result = run("trace", "--plate", "51F-123.45", option, tmp_path / "reports")
    assert result.exit_code == 2 and "reports is a folder" in result.stderr, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["reports"], "a .partial file was left behind"
    assert not list((tmp_path / "reports").iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "exactly one"), (["--plate", "51F*", "--track", "1"], "exactly one"),
     (["--track", "987654"], "no track with id 987654"), (["--plate", "~"], "no letters")],
)
def test_trace_errors(db: Path, args: list[str], message: str) -> None:
    result = run("trace", *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_trace_without_sightings(db: Path) -> None:
    assert run_json("trace", "--plate", "99Z99999") == {
        "target": "plate 99Z99999", "hops": [], "gaps": [], "first_seen": None, "first_camera_id": None,
        "last_seen": None, "last_camera_id": None, "next_cameras": [], "previous_cameras": [], "feasible": True,
    }
    assert "No sighting of plate 99Z99999" in run("trace", "--plate", "99Z99999").stdout
