"""The street scene shared by the search tests: six cameras, real clips, tracks written by Writer.

Cameras W-A-B-C-D-G run west to east ~330 m apart (linked), E is ~330 m north of D, F ~330 m
south of C. The car 51F-123.45 (red, heading east) passes A, B, C (read 51F-1Z3.45 there) and D;
a person (face P) walks past A, C and D; other traffic adds decoys. G has a long clip covering
the minutes after the car leaves D; W and E have no footage.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from searchscene import T0, Scene, TrackSpec, near, unit

from camfind.index import Index
from camfind.types import Camera

LAT, LON = 10.7700, 106.7000
FACE_P = unit(1)


def street_cameras() -> list[Camera]:
    return [
        Camera("W", LAT, LON - 0.003, name="Bridge", owner_type="public", neighbors=("A",)),
        Camera("A", LAT, LON, name="Le Loi west", owner_type="public", neighbors=("B",)),
        Camera("B", LAT, LON + 0.003, name="Cafe Sua", owner_type="business", owner_name="Cafe Sua",
               owner_contact="0901 111 222", neighbors=("A", "C")),
        Camera("C", LAT, LON + 0.006, name="House 12", owner_type="resident", owner_name="Mr Binh",
               owner_contact="0902 333 444", neighbors=("B", "D", "F")),
        Camera("D", LAT, LON + 0.009, name="House 40", owner_type="resident", owner_name="Ms Lan",
               owner_contact="0903 555 666", neighbors=("C", "E")),
        Camera("E", LAT + 0.003, LON + 0.009, name="Market gate", owner_type="business",
               owner_name="Market", owner_contact="market@example.vn", neighbors=("D",)),
        Camera("F", LAT - 0.003, LON + 0.006, name="School", owner_type="public", neighbors=("C",)),
        Camera("G", LAT, LON + 0.012, name="House 77", owner_type="resident", owner_name="Mr Tam",
               owner_contact="0904 777 888", neighbors=("D",)),
    ]


def build_street(index: Index, root: Path) -> Scene:
    """Fill ``index`` with the street scene; returns the scene (track ids after commit)."""
    s = Scene(index, root)
    s.cameras(street_cameras())
    at = {cam: s.clip(cam, T0 + timedelta(seconds=30 * k)) for k, cam in enumerate("ABCD")}
    s.clip("G", T0 + timedelta(seconds=80), seconds=180)
    car = {"cls": "car", "plate": "51F-123.45", "color": "red", "direction_deg": 90.0}
    s.track(at["A"], TrackSpec(1.0, 3.0, **car))  # type: ignore[arg-type]
    s.track(at["B"], TrackSpec(1.0, 3.0, **car))  # type: ignore[arg-type]
    s.track(at["C"], TrackSpec(1.0, 2.5, cls="car", plate="51F-1Z3.45", plate_conf=0.6, color="red",
                                direction_deg=100.0))
    s.track(at["D"], TrackSpec(2.0, 4.0, **car))  # type: ignore[arg-type]
    s.track(at["B"], TrackSpec(4.0, 6.0, cls="motorcycle", plate="59G1-660.05", color="blue",
                                direction_deg=180.0))
    s.track(at["C"], TrackSpec(5.0, 7.0, cls="car", plate="29B-999.99", color="silver/grey",
                                direction_deg=350.0))
    s.track(at["A"], TrackSpec(4.0, 7.0, cls="person", color="black", direction_deg=80.0, face=FACE_P))
    s.track(at["C"], TrackSpec(3.0, 5.0, cls="person", face=near(FACE_P, 0.3, 2)))
    s.track(at["D"], TrackSpec(0.5, 1.5, cls="person", face=near(FACE_P, 0.5, 3)))
    s.track(at["B"], TrackSpec(6.0, 7.5, cls="person", face=near(FACE_P, 0.7, 4)))
    s.orphan_read(at["D"], 6.0, "51F 123.45", 0.5)
    s.commit()
    return s


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Index, Scene]]:
    root = tmp_path_factory.mktemp("street")
    index = Index.open(root / "case.db", create=True)
    scene = build_street(index, root)
    yield index, scene
    index.close()
