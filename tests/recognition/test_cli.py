"""`camfind plates read` and `camfind faces match` end to end on real images (no index needed)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from cli_run import run


@pytest.fixture
def junk(tmp_path: Path) -> Path:
    path = tmp_path / "notes.jpg"
    path.write_text("not an image\n", encoding="utf-8")
    return path


def test_plates_read_json_goes_on_past_bad_files(realdata: Path, index_path: Path, junk: Path, tmp_path: Path) -> None:
    crops = realdata / "plates" / "vn_vitocolerole_crops"
    missing = tmp_path / "gone.png"
    result = run("plates", "read", crops / "3CarLongPlate503.jpg", junk, missing, crops / "9xemay1438.jpg", "--json")
    assert result.exit_code == 1
    objects = json.loads(result.stdout)
    assert [o["image"] for o in objects] == [str(crops / "3CarLongPlate503.jpg"), str(crops / "9xemay1438.jpg")]
    first, second = (o["plates"][0] for o in objects)
    assert (first["text"], first["layout"], first["valid"]) == ("51F-598.81", "one-row", True)
    assert (second["text"], second["layout"], second["valid"]) == ("59-U1 622.31", "two-row", True)
    assert 0.5 < first["confidence"] <= 1.0 and first["box"] == [0.0, 0.0, 780.0, 165.0]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and str(junk) in errors[0] and str(missing) in errors[1]
    assert "Traceback" not in result.output
    assert not index_path.exists(), "plates read must not create or open an index"


def test_plates_read_table_and_csv(
    realdata: Path, index_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # a wide terminal: table cells are not folded
    tiny = realdata / "plates" / "vn_onerow_lprnet_crops" / "29LD00143_0005_0.jpg"
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), (cv2.imread(str(tiny)) * 0 + 255))
    table = run("plates", "read", tiny, blank)
    assert table.exit_code == 0, table.stderr
    assert "29LD-001.43" in table.stdout and "no plate found" in table.stdout
    csv_out = run("plates", "read", tiny, "--csv", "--crop", "plate")
    assert csv_out.exit_code == 0, csv_out.stderr
    header, row = csv_out.stdout.strip().splitlines()
    assert header.startswith("image,rank,text,confidence,layout,valid,box")
    assert ",1,29LD-001.43," in row
    assert not index_path.exists()


@pytest.mark.parametrize(("option", "value"), [("--backend", "tesseract"), ("--crop", "car"), ("--finder", "haar")])
def test_plates_read_rejects_bad_options(realdata: Path, option: str, value: str) -> None:
    tiny = realdata / "plates" / "vn_onerow_lprnet_crops" / "29LD00143_0005_0.jpg"
    result = run("plates", "read", tiny, option, value)
    assert result.exit_code == 2 and value in result.output


def test_plates_read_with_easyocr(realdata: Path) -> None:
    plate = realdata / "plates" / "vn_vitocolerole_crops" / "4CarLongPlate846.jpg"
    result = run("plates", "read", plate, "--backend", "easyocr", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["plates"][0]["text"] == "51G-513.32"


def test_faces_match_json(realdata: Path, index_path: Path, junk: Path) -> None:
    faces = realdata / "faces"
    plate = realdata / "plates" / "vn_vitocolerole_crops" / "7xemay1922.jpg"
    probe = faces / "obama" / "obama.jpg"
    group = faces / "multi" / "obama_and_biden.jpg"
    images = [faces / "obama" / "obama2.jpg", faces / "biden" / "biden.jpg", plate, junk, group]
    result = run("faces", "match", probe, *images, "--json")
    assert result.exit_code == 1
    rows = {Path(r["image"]).name: r for r in json.loads(result.stdout)}
    assert set(rows) == {"obama2.jpg", "biden.jpg", "7xemay1922.jpg", "obama_and_biden.jpg"}
    assert rows["obama2.jpg"]["match"] is True and rows["obama2.jpg"]["best_distance"] < 0.5
    assert rows["biden.jpg"]["match"] is False and rows["biden.jpg"]["best_distance"] > 0.6
    assert rows["7xemay1922.jpg"] == {**rows["7xemay1922.jpg"], "faces": 0, "best_distance": None, "match": False}
    assert rows["obama_and_biden.jpg"]["faces"] >= 2 and rows["obama_and_biden.jpg"]["match"] is True
    assert result.stderr.strip().splitlines() == [f"camfind: {junk}: not an image (or a format OpenCV cannot decode)"]
    assert not index_path.exists()

    strict = run("faces", "match", probe, faces / "obama" / "obama2.jpg", "--threshold", "0.2", "--json")
    assert strict.exit_code == 0
    assert json.loads(strict.stdout)[0]["match"] is False


def test_faces_match_probe_without_face(realdata: Path) -> None:
    plate = realdata / "plates" / "vn_vitocolerole_crops" / "7xemay1922.jpg"
    result = run("faces", "match", plate, realdata / "faces" / "obama" / "obama2.jpg")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"camfind: error: {plate}: no face found in the probe image (try a larger, sharper, frontal photo)"
    ]


def test_help_has_examples() -> None:
    for path in (("plates", "read"), ("faces", "match")):
        result = run(*path, "--help")
        assert result.exit_code == 0 and "Example: camfind " + " ".join(path) in result.stdout
