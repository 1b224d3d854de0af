"""Clock offsets estimated over an index: the scenario of camfind.sample.clockscene (clocks off by
seconds to two hours, vehicles crossing both ways, a cloned plate, an island with no anchor), written
through the one writer as an analysis would."""

from __future__ import annotations

from pathlib import Path

import pytest

from camfind.clocks.apply import apply_estimates, clock_table
from camfind.clocks.estimate import EstimateOptions, estimate_clocks, record_estimates
from camfind.clocks.fit import path_support
from camfind.errors import InputError, NotFoundError
from camfind.index import Index
from camfind.index.queries import camera_clocks, plate_sightings
from camfind.sample.clockscene import CLONE_PLATE, T0, build_clock_scenario


@pytest.fixture
def scene_index(tmp_path: Path):
    idx = Index.open(tmp_path / "clocks.db", create=True)
    yield idx, build_clock_scenario(idx, vehicles=120, seed=7)
    idx.close()


@pytest.mark.parametrize(("vehicles", "seed"), [(120, 7), (30, 2), (30, 5), (15, 3)])
def test_every_offset_linked_by_three_cosightings_is_recovered_within_5_s(tmp_path: Path, vehicles: int,
                                                                          seed: int) -> None:
    with Index.open(tmp_path / "c.db", create=True) as idx:
        scene = build_clock_scenario(idx, vehicles=vehicles, seed=seed)
        fit = estimate_clocks(idx).fit
    checked = 0
    for cam in fit.cameras:
        if cam.status in ("anchor", "estimated") and path_support(fit, cam.camera_id) >= 3:
            assert cam.offset_s == pytest.approx(scene.offsets[cam.camera_id], abs=5.0), cam
            checked += 1
        if cam.offset_s is not None:  # and every estimate's uncertainty covers its error
            assert abs(cam.offset_s - scene.offsets[cam.camera_id]) <= 3 * (cam.uncertainty_s or 0), cam
    assert checked >= 5


def test_the_clone_is_rejected_and_the_island_is_unanchored(scene_index) -> None:
    idx, scene = scene_index
    fit = estimate_clocks(idx).fit
    clone_tracks = {p.track_id for p in scene.passes if p.plate == CLONE_PLATE}
    gone = [r for r in fit.rejected if r.cosighting.target == CLONE_PLATE]
    # every co-sighting of the cloned plate (6 pairs of its 4 sightings) is left out, and said why
    assert len(gone) == 6 and all("cloned plate or a misread" in r.reason for r in gone)
    assert {dict(r.cosighting.info)["track_a"] for r in gone} <= clone_tracks
    assert all(e.target != CLONE_PLATE for p in fit.pairs for e in p.inliers)
    for cid in ("Y1", "Y2"):
        cam = fit.camera(cid)
        assert cam.status == "unanchored" and cam.offset_s is None and cam.n_cosightings > 0
    assert fit.camera("A").status == "anchor" and fit.camera("F").status == "anchor"  # trusted, set-clock


def test_each_estimate_names_its_cosightings(scene_index) -> None:
    idx, scene = scene_index
    fit = estimate_clocks(idx).fit
    d = fit.camera("D")
    assert d.n_cosightings == len(d.cosightings) > 20
    tracks = {p.track_id: p for p in scene.passes}
    for eq in d.cosightings:
        info = dict(eq.info)
        assert "D" in (info["camera_a"], info["camera_b"])
        assert tracks[info["track_a"]].plate == tracks[info["track_b"]].plate == info["plate"]


def test_apply_keeps_raw_times_recomputes_corrected_ones_and_refits_the_same(scene_index) -> None:
    idx, scene = scene_index
    before = {r[0]: r[1:] for r in idx.db.execute("SELECT id, start_raw_ts, start_ts FROM clips")}
    raw_tracks = {s.track_id: s.first_raw_ts for s in plate_sightings(idx)}
    est = estimate_clocks(idx)
    record_estimates(idx, est)
    done = apply_estimates(idx, all_cameras=True)
    assert sorted(a.camera_id for a in done) == ["B", "C", "D", "E", "G"]  # anchors and the island stay
    clocks = {c.camera_id: c for c in camera_clocks(idx)}
    for a in done:
        assert clocks[a.camera_id].source == "estimate" and clocks[a.camera_id].uncertainty_s == a.uncertainty_s
        assert a.offset_s == pytest.approx(scene.offsets[a.camera_id], abs=5.0)
    after = {r[0]: r[1:] for r in idx.db.execute("SELECT id, start_raw_ts, start_ts, clock_offset_s, camera_id "
                                                 "FROM clips")}
    for cid, (raw, start, offset, cam) in after.items():
        assert raw == before[cid][0]  # raw DVR time kept
        assert start == pytest.approx(raw - clocks[cam].offset_s) and offset == clocks[cam].offset_s
    # sightings moved with their clips: raw times unchanged, true times now within 5 s of the truth
    assert {s.track_id: s.first_raw_ts for s in plate_sightings(idx)} == pytest.approx(raw_tracks)
    for p in scene.passes:
        if p.camera_id == "D":
            ts = idx.db.execute("SELECT (first_ts + last_ts) / 2 FROM tracks WHERE id = ?", (p.track_id,)).fetchone()
            assert ts[0] == pytest.approx(p.true_time.timestamp(), abs=5.0)
    again = estimate_clocks(idx).fit
    for a in done:
        assert again.camera(a.camera_id).offset_s == pytest.approx(a.offset_s, abs=1e-6)
    rows = {r.camera_id: r for r in clock_table(idx)}
    assert rows["D"].source == "estimate" and rows["D"].estimate_applied
    assert rows["A"].trusted and rows["F"].source == "set-clock" and rows["Y1"].estimate_status == "unanchored"


def test_apply_refuses_what_it_cannot_apply(scene_index) -> None:
    idx, _ = scene_index
    with pytest.raises(NotFoundError, match="run 'camfind clocks estimate' first"):
        apply_estimates(idx, ["B"])
    record_estimates(idx, estimate_clocks(idx))
    with pytest.raises(InputError, match="no path of co-sightings to a trusted clock"):
        apply_estimates(idx, ["Y1"])
    with pytest.raises(InputError, match="it is an anchor"):
        apply_estimates(idx, ["A"])
    with pytest.raises(InputError, match="or pass --all"):
        apply_estimates(idx, ["B"], all_cameras=True)
    with pytest.raises(NotFoundError, match="unknown camera 'NOPE'"):
        apply_estimates(idx, ["NOPE"])
    assert {c.camera_id: c.source for c in camera_clocks(idx)}["B"] == "none"  # nothing half-applied
    idx.writer.record_clock("C", T0, T0)  # C's clock read by hand after the estimate: it is not replaced
    with pytest.raises(InputError, match="its clock was read or marked trusted since the estimate"):
        apply_estimates(idx, ["B", "C"])
    assert "C" not in {a.camera_id for a in apply_estimates(idx, all_cameras=True)}
    assert {c.camera_id: c.source for c in camera_clocks(idx)}["C"] == "set-clock"


def test_the_window_limits_the_sightings(scene_index) -> None:
    idx, _ = scene_index
    assert estimate_clocks(idx).sightings > estimate_clocks(idx, time_to=_t(idx, 0.5)).sightings > 0


def _t(idx: Index, fraction: float):
    from camfind.timeutil import from_ts

    lo, hi = idx.db.execute("SELECT MIN(first_ts), MAX(first_ts) FROM tracks").fetchone()
    return from_ts(lo + (hi - lo) * fraction)


def test_sightings_carry_their_dvr_time_offset_and_uncertainty(scene_index) -> None:
    from datetime import datetime

    from camfind.search.query import SearchQuery, search
    from camfind.search.records import sighting_record

    idx, scene = scene_index
    record_estimates(idx, estimate_clocks(idx))
    (d,) = apply_estimates(idx, ["D"])
    at_a = {p.plate for p in scene.passes if p.camera_id == "A"}
    plate = next(p.plate for p in scene.passes if p.camera_id == "D" and p.plate in at_a and p.plate != CLONE_PLATE)
    found = {s.camera_id: s for s in search(idx, SearchQuery(plate=plate))}
    s = found["D"]
    assert s.clock_offset_s == d.offset_s and s.clock_uncertainty_s == d.uncertainty_s
    raw = {x.track_id: x.first_raw_ts for x in plate_sightings(idx)}[s.track_id]
    rec = sighting_record(s, idx.tz)
    assert rec["clock_uncertainty_s"] == d.uncertainty_s
    assert datetime.fromisoformat(rec["time_dvr"]).timestamp() == pytest.approx(raw, abs=1e-3)
    assert found["A"].clock_uncertainty_s == 0.5  # trusted, no recorded uncertainty: half a second
    if "B" in found:
        assert found["B"].clock_uncertainty_s is None  # never checked: unknown


def test_faces_strongly_alike_at_two_cameras_are_cosightings(tmp_path: Path) -> None:
    """No vehicles: only people on foot between A, B and C, known by their faces."""
    with Index.open(tmp_path / "faces.db", create=True) as idx:
        scene = build_clock_scenario(idx, vehicles=0, clone=False, walkers=60, seed=2)
        fit = estimate_clocks(idx).fit
        no_faces = estimate_clocks(idx, options=EstimateOptions(faces=False)).fit
    for cid in ("B", "C"):
        cam = fit.camera(cid)
        assert cam.status == "estimated" and cam.n_cosightings >= 10
        assert all(e.target.startswith("face:") for e in cam.cosightings)
        assert abs(cam.offset_s - scene.offsets[cid]) <= 3 * (cam.uncertainty_s or 0)  # type: ignore[operator]
        assert cam.uncertainty_s < 15.0  # type: ignore[operator]
        assert no_faces.camera(cid).status == "no-cosightings"
    walkers = {p.vehicle for p in scene.passes}
    targets = {e.target for p in fit.pairs for e in p.inliers}
    assert len(targets) <= len(walkers)  # one target per person, never two people merged into more
