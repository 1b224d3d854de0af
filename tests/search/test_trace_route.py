"""trace(): route order, hop merging, speeds, infeasible hops and their notes, gaps, frontier."""

from __future__ import annotations

from datetime import timedelta

import pytest
from searchscene import FACE_P, T0, Scene, TrackSpec

from camfind.errors import InputError, NotFoundError
from camfind.index import Index
from camfind.search.query import SearchQuery, search
from camfind.search.trace import TraceTarget, group_hops, trace
from camfind.types import Camera


def test_plate_route_order_merge_speed_and_frontier(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    route = trace(idx, TraceTarget(plate="51F-123.45"))
    assert route.target == "plate 51F-123.45"
    assert [h.camera_id for h in route.hops] == ["A", "B", "D"]
    d = route.hops[2]
    assert len(d.sightings) == 2  # the track and the plate read with no track, merged
    assert d.first_seen == T0 + timedelta(seconds=92) and d.last_seen == T0 + timedelta(seconds=96)
    b = route.hops[1]
    assert b.distance_m_from_prev == pytest.approx(328, abs=3)
    assert b.speed_kmh_from_prev == pytest.approx(328 / 28 * 3.6, abs=0.5)
    assert all(h.feasible for h in route.hops) and route.hops[0].distance_m_from_prev is None
    assert d.distance_m_from_prev == pytest.approx(656, abs=5)  # along B-C-D
    # the gap B -> D: C passed unseen, its clip covers only part of the window
    assert [(g.after_camera_id, g.before_camera_id) for g in route.gaps] == [("B", "D")]
    assert "passed C unseen" in route.gaps[0].note and "covers" in route.gaps[0].note
    # heading east from D: G (footage ingested over the window) and E (north, no footage)
    nxt = {c.camera_id: c for c in route.next_cameras}
    assert set(nxt) == {"G", "E"}
    g = nxt["G"]
    assert g.footage_ingested is True and g.owner_contact == "0904 777 888" and g.owner_type == "resident"
    assert g.window_from < d.last_seen + timedelta(seconds=20) < g.window_to
    assert nxt["E"].footage_ingested is False and "request it" in nxt["E"].reason
    assert nxt["E"].owner_contact == "market@example.vn"
    # before A, heading east: it came from the west, W (no footage)
    assert [(c.camera_id, c.footage_ingested) for c in route.previous_cameras] == [("W", False)]
    assert route.previous_cameras[0].window_to <= route.hops[0].first_seen + timedelta(seconds=30)


def test_fuzzy_plate_and_track_and_face_targets(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    assert [h.camera_id for h in trace(idx, TraceTarget(plate="51F12345~0.5")).hops] == ["A", "B", "C", "D"]
    car_at_a = search(idx, SearchQuery(plate="51F12345", cameras=("A",)))[0].track_id
    assert [h.camera_id for h in trace(idx, TraceTarget(track_id=car_at_a)).hops] == ["A", "B", "D"]
    face = trace(idx, TraceTarget(faces=(FACE_P,), label="probe.jpg"))
    assert face.target == "face probe.jpg"
    assert [h.camera_id for h in face.hops] == ["A", "C", "D"]
    a, c, d = face.hops
    assert a.feasible and not c.feasible and not d.feasible  # ~42 km/h on foot
    assert "impossible for a person (max 20 km/h)" in c.note
    assert "weaker match: C (face distance 0.30)" in c.note and "weaker match: D (face distance 0.50)" in d.note
    with pytest.raises(NotFoundError):
        trace(idx, TraceTarget(track_id=424242))
    with pytest.raises(InputError, match="exactly one"):
        TraceTarget(plate="51F*", track_id=3)
    assert trace(idx, TraceTarget(plate="99Z99999")).hops == ()


def _pair(tmp_path, *, weak_at_q: bool = True) -> tuple[Index, Scene]:
    idx = Index.open(tmp_path / "pair.db", create=True)
    s = Scene(idx, tmp_path)
    s.cameras([
        Camera("P", 10.77, 106.70, owner_type="public", neighbors=("Q",)),
        Camera("Q", 10.77, 106.7092, owner_type="resident", owner_contact="0909", neighbors=("P",)),
    ])
    p, q = s.clip("P", T0), s.clip("Q", T0 + timedelta(seconds=20))
    s.track(p, TrackSpec(1, 2, plate="51F-123.45", plate_conf=0.95))
    s.track(q, TrackSpec(1, 2, plate="51F-123.45", plate_conf=0.4 if weak_at_q else 0.99))
    s.commit()
    return idx, s


def test_impossible_hop_is_flagged_with_weaker_match_and_clock(tmp_path) -> None:
    idx, _ = _pair(tmp_path)
    route = trace(idx, TraceTarget(plate="51F12345"))
    p, q = route.hops
    assert p.feasible and not q.feasible
    assert q.speed_kmh_from_prev == pytest.approx(1000 / 19 * 3.6, rel=0.02)  # ~190 km/h
    assert "impossible for a car" in q.note
    assert "weaker match: Q" in q.note and "OCR confidence 0.40" in q.note
    assert "clock error of" in q.note and "never checked" in q.note
    # once both clocks are checked against true time, the clock no longer explains it
    w = idx.writer
    w.record_clock("P", T0, T0)
    w.record_clock("Q", T0, T0)
    q2 = trace(idx, TraceTarget(plate="51F12345")).hops[1]
    assert not q2.feasible and "clocks verified" in q2.note and "weaker match: Q" in q2.note
    idx.close()


def test_clock_offset_can_explain_a_hop(tmp_path) -> None:
    idx, _ = _pair(tmp_path / "x", weak_at_q=False)
    # Q's DVR runs 30 s fast; the offset is recorded and applied, which puts Q first, 9 s before
    # P, 1 km away: if that offset were wrong, it would explain the hop
    idx.writer.record_clock("Q", T0 + timedelta(seconds=30), T0)
    idx.writer.record_clock("P", T0, T0)
    route = trace(idx, TraceTarget(plate="51F12345"))
    assert [h.camera_id for h in route.hops] == ["Q", "P"]  # corrected time reorders them
    second = route.hops[1]
    assert not second.feasible and second.speed_kmh_from_prev == pytest.approx(1005 / 9 * 3.6, rel=0.02)
    assert "weaker match: P (plate read '51F-123.45', OCR confidence 0.95)" in second.note
    assert "clock error of 24 s would explain it: camera Q clock: offset +30 s applied" in second.note
    assert "camera P clock" not in second.note  # checked, no offset: not a suspect
    idx.close()


def test_group_hops_splits_long_returns(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    a = search(idx, SearchQuery(cameras=("A",)))
    assert len(group_hops(a, 300)) == 1
    assert len(group_hops(a, 0.5)) == 2


def _clone_scene(tmp_path, second_start_s: float) -> Index:
    """One plate at P and at Q (1 km apart, M between them) during overlapping times: a clone."""
    idx = Index.open(tmp_path / "clone.db", create=True)
    s = Scene(idx, tmp_path)
    s.cameras([
        Camera("P", 10.77, 106.70, owner_type="public", neighbors=("M",)),
        Camera("M", 10.77, 106.7046, owner_type="public", neighbors=("P", "Q")),
        Camera("Q", 10.77, 106.7092, owner_type="resident", neighbors=("M",)),
    ])
    p, q = s.clip("P", T0), s.clip("Q", T0 + timedelta(seconds=second_start_s))
    s.clip("M", T0)
    s.track(p, TrackSpec(1, 6, plate="51F-123.45", plate_conf=0.95))
    s.track(q, TrackSpec(1, 6, plate="51F-123.45", plate_conf=0.6))
    s.commit()
    return idx


@pytest.mark.parametrize("second_start_s", [0.0, 2.0])
def test_overlapping_sightings_at_two_cameras_are_hops_flagged_impossible(tmp_path, second_start_s) -> None:
    # same plate at P and at Q, 1 km apart, at the same moment (or overlapping): no window was given,
    # so no internal window may fail as if it were user input
    idx = _clone_scene(tmp_path, second_start_s)
    route = trace(idx, TraceTarget(plate="51F12345"))
    assert [h.camera_id for h in route.hops] == ["P", "Q"]
    p, q = route.hops
    assert p.feasible and not q.feasible
    assert q.first_seen < p.last_seen  # they overlap
    assert "at the same time" in q.note and "weaker match: Q" in q.note
    gap = route.gaps[0]
    assert (gap.after_camera_id, gap.before_camera_id) == ("P", "Q")
    assert "seen at P and Q at overlapping times" in gap.note
    assert {c.camera_id for c in route.next_cameras} | {c.camera_id for c in route.previous_cameras} <= {"M"}
    idx.close()


def test_overlapping_sightings_at_cameras_side_by_side_are_feasible(tmp_path) -> None:
    # two linked cameras 30 m apart seeing one car at once: two hops, both possible, no gap
    idx = Index.open(tmp_path / "near.db", create=True)
    s = Scene(idx, tmp_path)
    s.cameras([Camera("P", 10.77, 106.70, neighbors=("Q",)), Camera("Q", 10.77, 106.70027, neighbors=("P",))])
    p, q = s.clip("P", T0), s.clip("Q", T0 + timedelta(seconds=2))
    s.track(p, TrackSpec(1, 6, plate="51F-123.45"))
    s.track(q, TrackSpec(1, 6, plate="51F-123.45"))
    s.commit()
    route = trace(idx, TraceTarget(plate="51F12345"))
    assert [(h.camera_id, h.feasible) for h in route.hops] == [("P", True), ("Q", True)]
    assert route.hops[1].speed_kmh_from_prev is None and route.gaps == ()
    idx.close()
