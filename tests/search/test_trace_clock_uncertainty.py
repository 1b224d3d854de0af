"""Trace and clock uncertainty: a hop too quick by less than the two clocks' uncertainties allow is not
impossible; otherwise it is, and the note says which offset would explain it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from searchscene import T0, Scene, TrackSpec

from camfind.index import Index
from camfind.search.trace import TraceTarget, trace
from camfind.types import Camera


def _pair(tmp_path) -> Index:
    """P and Q 1 km apart; the car is at Q 19 s after P (190 km/h): 14 s too quick for a car."""
    idx = Index.open(tmp_path / "pair.db", create=True)
    s = Scene(idx, tmp_path)
    s.cameras([Camera("P", 10.77, 106.70, neighbors=("Q",)), Camera("Q", 10.77, 106.7092, neighbors=("P",))])
    p, q = s.clip("P", T0), s.clip("Q", T0 + timedelta(seconds=20))
    s.track(p, TrackSpec(1, 2, plate="51F-123.45", plate_conf=0.95))
    s.track(q, TrackSpec(1, 2, plate="51F-123.45", plate_conf=0.9))
    s.commit()
    return idx


def test_a_hop_within_the_clocks_uncertainty_is_feasible(tmp_path) -> None:
    idx = _pair(tmp_path)
    for cam in ("P", "Q"):
        idx.writer.set_clock_offset(cam, 0.0, "estimate", 8.0)  # two estimates, +- 8 s each
    q = trace(idx, TraceTarget(plate="51F12345")).hops[1]
    assert q.feasible and q.speed_kmh_from_prev == pytest.approx(1000 / 19 * 3.6, rel=0.02)
    assert "14 s too quick for the distance, within the clocks' uncertainty (23 s)" in q.note
    assert "camera Q offset -14 s (now +0 +- 8.0 s, estimate) or camera P offset +14 s" in q.note
    idx.close()


def test_a_hop_beyond_the_clocks_uncertainty_is_impossible_and_names_the_offset(tmp_path) -> None:
    idx = _pair(tmp_path)
    idx.writer.set_clock_offset("P", 0.0, "estimate", 2.0)
    idx.writer.set_clock_trusted(["Q"])  # synchronised: +- 0.5 s
    q = trace(idx, TraceTarget(plate="51F12345")).hops[1]
    assert not q.feasible and "impossible for a car" in q.note
    assert "camera Q offset -14 s (now +0 +- 0.5 s, trusted) or camera P offset +14 s (now +0 +- 2.0 s, estimate) " \
           "would explain it" in q.note
    idx.close()


def test_unknown_uncertainty_keeps_the_hop_impossible(tmp_path) -> None:
    idx = _pair(tmp_path)
    idx.writer.set_clock_offset("P", 0.0, "estimate", 30.0)  # Q's clock was never checked
    q = trace(idx, TraceTarget(plate="51F12345")).hops[1]
    assert not q.feasible and "never checked" in q.note and "camera Q offset -14 s (now +0 s, none)" in q.note
    idx.close()
