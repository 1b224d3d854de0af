"""`camfind search`: JSON keys per the contract, CSV, table, filters, errors, audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cli_run import rows, run, run_json

CONTRACT_KEYS = {"camera_id", "time", "end_time", "class", "color", "direction", "direction_deg", "plate",
                 "confidence", "track_id", "clip_sha256", "clip_path", "frame", "snapshot"}


def test_plate_search_json(db: Path) -> None:
    found = run_json("search", "--plate", "51F-123.45")
    assert [r["camera_id"] for r in found] == ["A", "B", "D", "D"]
    assert all(set(r) >= CONTRACT_KEYS for r in found)
    first = found[0]
    assert first["time"] == "2024-03-01T10:00:01+07:00" and first["end_time"] == "2024-03-01T10:00:03+07:00"
    assert first["class"] == "car" and first["direction"] == "E" and first["direction_deg"] == 90.0
    assert first["plate"] == "51F-123.45" and len(first["clip_sha256"]) == 64 and first["frame"] == 20
    assert Path(first["snapshot"]).is_file() and Path(first["clip_path"]).is_file()
    assert found[-1]["track_id"] is None  # a plate read that belongs to no track
    audit = rows(db, "SELECT command, counts_json FROM audit ORDER BY id DESC LIMIT 1")[0]
    assert audit[0] == "search" and json.loads(audit[1])["rows"] == 4


def test_filters_from_the_command_line(db: Path) -> None:
    def cams(*args: str) -> list[str]:
        return [r["camera_id"] for r in run_json("search", *args)]

    assert cams("--plate", "51F*", "--class", "car", "--direction", "E", "--color", "red") == ["A", "B", "C", "D"]
    assert cams("--plate", "51F12345~0.5", "--camera", "C", "--camera", "D") == ["C", "D", "D"]
    assert cams("--near", "10.77,106.7031", "--radius", "60") == ["B", "B", "B"]
    assert cams("--class", "motorbike") == ["B"]
    assert cams("--direction", "350") == ["C"]
    assert cams("--from", "2024-03-01 10:00:31", "--to", "2024-03-01 10:00:33") == ["B"]
    assert cams("--from", "2024-03-01T03:00:31Z", "--to", "2024-03-01T03:00:33Z") == ["B"]
    assert len(cams("--limit", "2")) == 2
    assert cams("--plate", "99Z*") == []


def test_csv_and_table(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    result = run("search", "--plate", "51F*", "--csv")
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(table) == 5 and set(table[0]) >= CONTRACT_KEYS and table[0]["plate"] == "51F-123.45"
    empty = run("search", "--plate", "99Z*", "--csv")
    assert set(empty.stdout.splitlines()[0].split(",")) >= CONTRACT_KEYS
    shown = run("search", "--plate", "51F*")
    assert shown.exit_code == 0 and "51F-1Z3.45" in shown.stdout and "2024-03-01 10:00:01" in shown.stdout
    # a plate search's table names the read behind each match: its time and confidence
    header = next(line for line in shown.stdout.splitlines() if "camera_id" in line)
    assert "plate_time" in header and "plate_confidence" in header, header
    first = next(r for r in table if r["plate_confidence"])
    assert f"{float(first['plate_confidence']):.3f}" in shown.stdout


def test_color_help_lists_the_colours_the_analysis_gives() -> None:
    from camfind.vocab import COLOR_NAMES

    shown = " ".join(run("search", "--help").stdout.split())
    assert all(name in shown for name in COLOR_NAMES), shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--near", "ten,eleven"], "--near expects LAT,LON"),
        (["--near", "1_0.77,106.7"], "--near expects LAT,LON"),  # float() reads 1_0.77 as 10.77
        (["--near", "10.77,106.7", "--radius", "1_0"], "--radius: expected a finite decimal number"),
        (["--near", "10.77,106.7", "--radius", "0.5"], "--radius expects a number at least 1, got '0.5'"),
        (["--threshold", "nan"], "--threshold: expected a finite decimal number"),
        (["--camera", "NOPE"], "unknown camera NOPE"),
        (["--class", "tank"], "unknown class"),
        (["--direction", "up"], "direction"),
        (["--plate", "51F*~1"], "wildcards or ~N"),
        (["--plate", "51F~-1"], "not a fuzzy suffix"),
        (["--color", "blurple"], "unknown colour 'blurple': expected one of red"),
        (["--color", ""], "unknown colour ''"),
        (["--from", "yesterday"], "malformed time"),
        (["--face", "missing.jpg"], "probe image missing.jpg: no such file"),
        (["--face", "/dev/null"], "probe image /dev/null: is not a regular file"),
    ],
)
def test_bad_input_is_one_line(db: Path, args: list[str], message: str) -> None:
    result = run("search", *args)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def faces_db(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index whose person tracks carry real dlib encodings of four people's photos."""
    import cv2
    from searchscene import T0, Scene, TrackSpec, street_cameras

    from camfind.index import Index
    from camfind.search.probe import _engine

    engine = _engine()  # the engine search --face will use: loaded once
    root = tmp_path_factory.mktemp("faces")
    index = Index.open(root / "case.db", create=True)
    scene = Scene(index, root)
    scene.cameras(street_cameras())
    photos = {"A": "obama/obama.jpg", "B": "biden/biden.jpg", "C": "kit_harington/john1.jpeg",
              "D": "obama/obama3.jpg"}
    for k, (cam, rel) in enumerate(photos.items()):
        faces = engine.faces(cv2.imread(str(realdata / "faces" / rel)))
        clip = scene.clip(cam, T0 + timedelta(minutes=10 * k))
        scene.track(clip, TrackSpec(1, 3, cls="person", face=faces[0].encoding))
    scene.commit()
    index.close()
    return root / "case.db"


def test_face_probe_with_real_photos(faces_db: Path, realdata: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMFIND_DB", str(faces_db))
    probe = realdata / "faces" / "obama" / "obama2.jpg"
    found = run_json("search", "--face", probe)
    assert [r["camera_id"] for r in found] == ["A", "D"] or [r["camera_id"] for r in found] == ["D", "A"]
    assert all(r["face_distance"] < 0.6 for r in found)
    assert found[0]["face_distance"] <= found[1]["face_distance"]  # ranked by distance
    loose = run_json("search", "--face", probe, "--threshold", "1.2", "--order", "time")
    assert [r["camera_id"] for r in loose] == ["A", "B", "C", "D"]
    route = run_json("trace", "--face", probe)
    assert route["target"] == "face obama2.jpg" and [h["camera_id"] for h in route["hops"]] == ["A", "D"]
    no_face = run("search", "--face", realdata / "plates" / "labels.csv")
    assert no_face.exit_code == 2 and "not an image" in no_face.stderr


@pytest.mark.parametrize("limit", [str(2**63), "99999999999999999999", "1000000001"])
@pytest.mark.parametrize("command", ["search", "audit"])
def test_limit_beyond_the_bound_is_a_usage_error(db: Path, command: str, limit: str) -> None:
    result = run(command, "--limit", limit)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert "--limit" in result.stderr and "1000000000" in result.stderr and "Traceback" not in result.stderr
    assert run(command, "--limit", "1000000000").exit_code == 0


def test_class_alias_is_named_on_stderr_only(db: Path) -> None:
    result = run("search", "--class", "bike", "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["class"] for r in json.loads(result.stdout)] == ["motorcycle"]
    assert "--class 'bike' means motorcycle or bicycle: searching both" in result.stderr
    plain = run("search", "--class", "motorcycle", "--json")
    assert plain.stderr == "" and json.loads(plain.stdout) == json.loads(result.stdout)
    shown = " ".join(run("search", "--help").stdout.split())
    assert "xe máy" in shown and "bike, two-wheeler, xe hai bánh = motorcycle + bicycle" in shown


def test_empty_search_says_so_in_table_mode_only(db: Path) -> None:
    table = run("search", "--class", "xe đạp")
    assert table.exit_code == 0 and table.stdout.strip() == "no sightings match the search"
    assert json.loads(run("search", "--class", "xe đạp", "--json").stdout) == []
    as_csv = run("search", "--class", "xe đạp", "--csv").stdout
    assert "no sightings" not in as_csv and set(as_csv.splitlines()[0].split(",")) >= CONTRACT_KEYS
