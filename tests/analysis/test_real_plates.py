"""Plates on real Vietnamese footage, through what ``camfind ingest`` runs.

A phone walks past a row of parked motorbikes (realdata/vn B): labels.json lists each bike's
two-row plate as legible. Every plate surfaced must sit on a motorcycle sighting, no sighting may
carry a plate no labelled bike has, and most legible plates must be surfaced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from analysed import Analysed, analyse_file  # tests/analysis/analysed.py

CLIP = "vn/video/B_parked_motorbikes_walk.mp4"


def _norm(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


@pytest.fixture(scope="module")
def walk(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Analysed:
    return analyse_file(realdata / CLIP, tmp_path_factory.mktemp("walk"), plates=True)


@pytest.fixture(scope="module")
def legible(realdata: Path) -> set[str]:
    items = json.loads((realdata / "vn/labels.json").read_text(encoding="utf-8"))["items"]
    [item] = [i for i in items if i["file"].endswith(Path(CLIP).name)]
    plates = [o["plate"] for o in item["objects"] if o.get("plate") and not o["plate"].startswith("partial")]
    return {_norm(p.split("(")[0]) for p in plates}


@pytest.mark.slow
def test_parked_motorbike_plates_are_surfaced_on_motorcycles(walk: Analysed, legible: set[str]) -> None:
    carried = {no: _norm(p) for no, p in walk.plates.items()}
    classes = walk.classes()
    surfaced = set(carried.values()) & legible
    assert len(surfaced) >= 0.7 * len(legible), (sorted(surfaced), sorted(legible))
    assert all(classes[no] == "motorcycle" for no, p in carried.items() if p in legible), (carried, classes)
    strangers = {p for p in carried.values() if p not in legible}
    assert len(strangers) <= 1, strangers  # at most one misread (a faded plate)


PAN = "vn/video/E1_basement_parking_frames.mp4"


@pytest.fixture(scope="module")
def basement(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Analysed:
    return analyse_file(realdata / PAN, tmp_path_factory.mktemp("basement"), plates=True)


@pytest.mark.slow
def test_plates_a_pan_brings_under_a_standing_box_are_read(basement: Analysed, realdata: Path) -> None:
    """A phone pans along a row of parked motorbikes in a dark basement and jumps on: the
    detector's boxes stand where they were while the bikes under them change, so a fragment's
    best crops (sharper, more confident, taken before the jump) show other bikes than its
    later ones. Each view of a box is read (camfind.analysis.trackbook): every legible plate of
    the clip is surfaced, each on a motorcycle."""
    items = json.loads((realdata / "vn/labels.json").read_text(encoding="utf-8"))["items"]
    [item] = [i for i in items if i["file"].endswith(Path(PAN).name)]
    legible = {_norm(o["plate"].split("(")[0]) for o in item["objects"]
               if o.get("plate") and not o["plate"].startswith("partial")}
    carried = {no: _norm(p) for no, p in basement.plates.items()}
    assert legible <= set(carried.values()), (sorted(legible), carried)
    classes = basement.classes()
    assert all(classes[no] == "motorcycle" for no, p in carried.items() if p in legible), (carried, classes)
    # the first sweep reads plates before the tracker follows their bikes: those reads join the
    # track that reads the same plate moments later (one sighting, with its colour), they do not
    # make a plate-only sighting of their own
    assert all(basement.colors[no] is not None for no, p in carried.items() if p in legible), (
        carried, basement.colors)
