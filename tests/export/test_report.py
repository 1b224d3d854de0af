"""The HTML trace report (self-contained, rendered by a real headless Chromium) and GeoJSON."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from searchscene import FACE_P, Scene

from camfind.export.geojson import route_geojson
from camfind.export.report import render_report
from camfind.index import Index
from camfind.index.queries import list_cameras
from camfind.search.trace import TraceTarget, trace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _page(street: tuple[Index, Scene], target: TraceTarget) -> str:
    idx, _ = street
    cams = {c.id: c for c in list_cameras(idx)}
    return render_report(trace(idx, target), cams, idx.tz, idx.path)


def test_report_is_self_contained(street: tuple[Index, Scene]) -> None:
    page = _page(street, TraceTarget(faces=(FACE_P,), label="probe.jpg"))
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert page.count("data:image/jpeg;base64,") == 3  # a snapshot per hop, embedded
    assert "<svg" in page and page.count("class=\"hopdot") == 3 and "hopdot bad" in page
    assert "impossible for a person" in page and "0904 777 888" in page and "market@example.vn" in page
    assert "2024-03-01 10:00:04" in page  # local time of the case


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(street: tuple[Index, Scene], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(_page(street, TraceTarget(plate="51F12345~0.5")), encoding="utf-8")
    shot = tmp_path / "shot.png"
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            f"--screenshot={shot}", "--window-size=1200,900", page.as_uri()]
    subprocess.run(args, capture_output=True, timeout=90, check=False)
    assert shot.exists() and shot.stat().st_size > 10_000
    import cv2

    img = cv2.imread(str(shot))
    assert img.shape[:2] == (900, 1200)
    blue = (img[:, :, 0] > 200) & (img[:, :, 1] > 90) & (img[:, :, 1] < 130) & (img[:, :, 2] < 60)
    orange = (img[:, :, 2] > 200) & (img[:, :, 1] > 100) & (img[:, :, 1] < 135) & (img[:, :, 0] < 40)
    assert blue.sum() > 500  # the route and hop markers (#1f6feb) were drawn
    assert orange.sum() > 50  # the next cameras' rings (#e67700)
    assert float(np.std(img)) > 10


def test_geojson_points_line_and_frontier(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    cams = {c.id: c for c in list_cameras(idx)}
    gj = route_geojson(trace(idx, TraceTarget(plate="51F-123.45")), cams, idx.tz)
    kinds = [f["properties"]["kind"] for f in gj["features"]]
    assert kinds.count("hop") == 3 and kinds.count("route") == 1
    line = next(f for f in gj["features"] if f["properties"]["kind"] == "route")
    assert line["geometry"]["coordinates"] == [[cams[c].lon, cams[c].lat] for c in "ABD"]
    hop1 = gj["features"][0]["properties"]
    assert hop1["first_seen"] == "2024-03-01T10:00:01+07:00" and hop1["feasible"] is True
    nxt = {f["properties"]["camera_id"]: f["properties"] for f in gj["features"] if f["properties"]["kind"] == "next"}
    assert nxt["G"]["footage_ingested"] is True and nxt["E"]["footage_ingested"] is False
