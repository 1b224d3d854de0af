"""A probe without a usable face is one named line on stderr (exit 2), saying why: none found,
too small or too blurred; `faces match` counts the faces it could not compare. Real photo from
$CAMFIND_REALDATA/faces; probes derived from it in a temporary folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import pytest
from cli_run import run

from camfind.index import Index
from camfind.recognition.faces import MIN_ENCODE_PX


@pytest.fixture(scope="module")
def probes(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The 240p portrait as it is, shrunk (its face ~21 px wide) and blurred."""
    root = tmp_path_factory.mktemp("probes")
    image = cv2.imread(str(realdata / "faces" / "obama" / "obama-240p.jpg"))
    out = {"sharp": realdata / "faces" / "obama" / "obama-240p.jpg", "small": root / "small.png",
           "blurred": root / "blurred.png"}
    cv2.imwrite(str(out["small"]), cv2.resize(image, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(out["blurred"]), cv2.GaussianBlur(image, (0, 0), 5.0))
    return out


EXPECTED = {
    "small": rf"the probe's face is too small to match \(2\d px wide, {MIN_ENCODE_PX} needed\): use a closer",
    "blurred": "the probe's face is too blurred to match: use a sharper photo",
}


@pytest.mark.parametrize("kind", ["small", "blurred"])
def test_faces_match_says_why_the_probe_is_unusable(probes: dict[str, Path], realdata: Path, kind: str) -> None:
    result = run("faces", "match", probes[kind], realdata / "faces" / "obama" / "obama2.jpg")
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert re.match(f"camfind: error: {re.escape(str(probes[kind]))}: {EXPECTED[kind]}", line), line


@pytest.mark.parametrize(("command", "kind"), [("search", "small"), ("trace", "blurred")])
def test_search_and_trace_say_why_the_probe_is_unusable(
    probes: dict[str, Path], index_path: Path, command: str, kind: str
) -> None:
    Index.open(index_path, create=True).close()
    result = run(command, "--face", probes[kind])
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert re.match(f"camfind: error: {re.escape(str(probes[kind]))}: {EXPECTED[kind]}", line), line


def test_faces_match_counts_faces_it_cannot_compare(probes: dict[str, Path]) -> None:
    result = run("faces", "match", probes["sharp"], probes["small"], probes["sharp"], "--json")
    assert result.exit_code == 0, result.output
    small, same = json.loads(result.stdout)
    assert (small["faces"], small["unencoded"], small["best_distance"], small["match"]) == (1, 1, None, False)
    assert (same["faces"], same["unencoded"], same["best_distance"], same["match"]) == (1, 0, 0.0, True)


def test_an_unknown_detector_is_one_line(probes: dict[str, Path]) -> None:
    result = run("faces", "match", probes["sharp"], probes["sharp"], "--detector", "haar")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "expected one of yunet, hog, cnn, got 'haar'" in result.stderr


def test_the_hog_detector_still_matches(probes: dict[str, Path], realdata: Path) -> None:
    other = realdata / "faces" / "obama" / "obama2.jpg"
    result = run("faces", "match", probes["sharp"], other, "--detector", "hog", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["match"] is True and row["unencoded"] == 0
