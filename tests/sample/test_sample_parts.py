"""The sample generator's parts: plates, geometry, names, the story's timing, errors, the script."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from camfind.errors import CamfindError
from camfind.geo import bearing_deg, compass_word, haversine_m
from camfind.sample import assets, dvr_file_name, generate
from camfind.sample.network import CAMERAS, LOCAL, camera_spec, local_to_latlon, story
from camfind.sample.plate import plate_rows, render_plate
from camfind.sample.render import image_direction

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("plate", "rows"),
    [("59-X3 472.18", ("59-X3", "472.18")), ("51F-123.45", ("51F-123.45",))],
)
def test_plate_rows(plate: str, rows: tuple[str, ...]) -> None:
    assert plate_rows(plate) == rows


def test_plate_rows_rejects_three_rows() -> None:
    with pytest.raises(ValueError, match="one or two rows"):
        plate_rows("59 X3 472 18")


def test_plate_shapes_follow_the_layout() -> None:
    two_row, one_row = render_plate("59-X3 472.18"), render_plate("51F-123.45")
    assert two_row.shape == (280, 380, 3) and one_row.shape == (220, 1040, 3)
    # Black lettering on a white plate: both are present in quantity.
    assert (two_row < 60).mean() > 0.1 and (two_row > 200).mean() > 0.4


@pytest.mark.parametrize(
    ("heading", "bearing", "expected"),
    [(0, 90, 1), (0, 270, -1), (180, 90, -1), (180, 270, 1), (90, 0, -1), (270, 0, 1),
     (90, 180, 1)],
)
def test_image_direction(heading: float, bearing: float, expected: int) -> None:
    assert image_direction(heading, bearing) == expected
    # and back: image right = heading + 90
    assert compass_word(heading + (90 if expected > 0 else 270)) == compass_word(bearing)


def test_image_direction_refuses_travel_along_the_line_of_sight() -> None:
    with pytest.raises(ValueError, match="across the view"):
        image_direction(0, 0)


def test_dvr_file_name_is_hikvision_style() -> None:
    start = datetime(2026, 11, 14, 9, 27, 32, tzinfo=LOCAL)
    assert dvr_file_name(start) == "ch01_20261114092732.mp4"


def test_local_grid_matches_haversine() -> None:
    lat1, lon1 = local_to_latlon(0, 0)
    lat2, lon2 = local_to_latlon(300, 400)
    assert haversine_m(lat1, lon1, lat2, lon2) == pytest.approx(500, rel=0.01)
    assert bearing_deg(lat1, lon1, lat2, lon2) == pytest.approx(36.87, abs=0.5)


def test_story_clips_cover_their_passes_and_headings_fit() -> None:
    passes, clips = story()
    shown = [p for c in clips for p in c.passes]
    assert sorted(shown, key=lambda p: (p.subject, p.time)) == sorted(
        (p for v in passes.values() for p in v), key=lambda p: (p.subject, p.time))
    for clip in clips:
        for p in clip.passes:
            # Every pass is inside its clip with room for the crossing on both sides.
            assert clip.start + timedelta(seconds=2) <= p.time
            assert p.time + timedelta(seconds=2) <= clip.start + timedelta(seconds=clip.duration_s)
            image_direction(camera_spec(p.camera_id).camera.heading_deg or 0.0, p.bearing_deg)
    assert [p.camera_id for p in passes["V1"]] == ["CAM01", "CAM02", "CAM03", "CAM04", "CAM05"]
    assert len({c.camera.id for c in CAMERAS}) == len(CAMERAS) >= 5


def test_sprites_cut_out_cleanly() -> None:
    bike = assets.motorcycle()
    w, h = bike.size
    assert 550 < w < 650 and 330 < h < 420
    # Solid bodywork, and the garage behind shows through nowhere near the corners.
    assert bike.alpha.mean() > 0.35 and bike.alpha[:20, -40:].max() < 0.5
    x1, y1, x2, y2 = bike.anchors["plate"]
    assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
    mirrored = bike.mirrored()
    assert mirrored.anchors["plate"] == (w - x2, y1, w - x1, y2)
    assert np.array_equal(mirrored.image[:, ::-1], bike.image)
    for person in (assets.astronaut(), assets.hopper()):
        fx1, fy1, fx2, fy2 = person.anchors["face"]
        assert person.alpha[(fy1 + fy2) // 2, (fx1 + fx2) // 2] > 0.99


def test_generate_into_a_file_is_a_named_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(CamfindError, match="not_a_folder"):
        generate(blocker)


def test_script_reports_errors_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("samples_generate", REPO / "samples" / "generate.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert script.main([str(blocker)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create the sample folder") and err.count("\n") == 1
