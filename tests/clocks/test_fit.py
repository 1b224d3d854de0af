"""The clock fit on synthetic equations: pair consensus, the network solve, anchors, outliers."""

from __future__ import annotations

import math
import random

import pytest

from camfind.clocks.fit import (
    Anchor,
    CoSighting,
    FitOptions,
    fit_offsets,
    impossible_targets,
    pair_estimate,
    path_support,
)


def trips(a: str, b: str, delta: float, n: int, *, meters: float = 300.0, kmh: tuple[float, float] = (27, 33),
          both_ways: bool = True, seed: int = 0, target: str = "") -> list[CoSighting]:
    """``n`` co-sightings between a and b whose clocks differ by ``delta`` (o_b - o_a), vehicles at
    ``kmh``, alternately a->b and b->a (or all a->b)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        tau = meters / (rng.uniform(*kmh) / 3.6)
        way = 1 if (i % 2 == 0 or not both_ways) else -1
        out.append(CoSighting(a, b, delta + way * tau, meters / (110 / 3.6), meters / (5 / 3.6),
                              key=f"{a}{b}{seed}:{i}", target=target or f"P{seed}-{i}"))
    return out


@pytest.mark.parametrize("delta", [0.0, 4.0, -37.0, 3612.0, -7195.0])
def test_two_way_pair_recovers_the_offset_difference(delta: float) -> None:
    est, rejected = pair_estimate(trips("A", "B", delta, 12))
    assert est is not None and not rejected and est.two_way
    assert est.delta_s == pytest.approx(delta, abs=2.0)
    assert est.sigma_s < 2.0 and len(est.inliers) == 12


def test_one_way_pair_is_honestly_uncertain() -> None:
    """All vehicles went a->b: travel time and offset cannot be told apart, so the sigma is the
    region's width, and the truth lies within it."""
    est, _ = pair_estimate(trips("A", "B", 100.0, 6, both_ways=False))
    assert est is not None and not est.two_way
    assert est.sigma_s > 30.0
    assert abs(est.delta_s - 100.0) < 2 * est.sigma_s


def test_pair_orientation_is_normalised() -> None:
    """An equation given b->a is the same equation: o_a - o_b = -delta."""
    eqs = [CoSighting(e.b, e.a, -e.r_s, e.tau_min_s, e.tau_max_s, key=e.key) for e in trips("A", "B", 50.0, 8)]
    est, _ = pair_estimate(eqs)
    assert est is not None and (est.a, est.b) == ("A", "B") and est.delta_s == pytest.approx(50.0, abs=2.0)


def test_an_outlier_in_a_pair_is_rejected_and_listed() -> None:
    eqs = trips("A", "B", 20.0, 10)
    bad = CoSighting("A", "B", 20.0 + 5000.0, 10.0, 216.0, key="misread")  # another trip, hours later
    est, rejected = pair_estimate([*eqs, bad])
    assert est is not None and est.delta_s == pytest.approx(20.0, abs=2.0)
    assert [r.cosighting.key for r in rejected] == ["misread"]
    assert "disagrees with the 10 co-sightings between A and B" in rejected[0].reason


def test_a_stop_on_the_way_is_rejected_as_a_straggler() -> None:
    eqs = trips("A", "B", 0.0, 10)
    stop = CoSighting("A", "B", 40.0 + 180.0, 10.0, 300.0, key="coffee")  # a->b with a 3-minute stop
    est, rejected = pair_estimate([*eqs, stop])
    assert est is not None and est.delta_s == pytest.approx(0.0, abs=2.0)
    assert [r.cosighting.key for r in rejected] == ["coffee"] and "far from the others" in rejected[0].reason


def test_no_agreement_means_no_estimate() -> None:
    eqs = [CoSighting("A", "B", r, 10.0, 60.0, key=str(r)) for r in (0.0, 1000.0, 2000.0)]
    est, rejected = pair_estimate(eqs)
    assert est is None and len(rejected) == 3 and "no other co-sighting" in rejected[0].reason


def chain(offsets: dict[str, float], n: int, seed: int = 0) -> list[CoSighting]:
    cams = sorted(offsets)
    out: list[CoSighting] = []
    for i, (a, b) in enumerate(zip(cams, cams[1:], strict=False)):
        out += trips(a, b, offsets[b] - offsets[a], n, seed=seed * 100 + i)
    return out


def test_network_chain_is_anchored_and_each_camera_says_what_is_behind_it() -> None:
    truth = {"A": 0.0, "B": 37.0, "C": -95.0, "D": 3612.0}
    fit = fit_offsets(chain(truth, 10), [Anchor("A", 0.0, 0.5)])
    for cid, off in truth.items():
        cam = fit.camera(cid)
        assert cam.offset_s == pytest.approx(off, abs=5.0)
        assert abs(cam.offset_s - off) <= 3 * (cam.uncertainty_s or 0)
    d = fit.camera("D")
    assert d.status == "estimated" and d.anchor == "A" and d.path == ("D", "C", "B", "A")
    assert d.n_cosightings == 10 and path_support(fit, "D") == 10
    assert fit.camera("A").status == "anchor"
    # uncertainty grows along the path (its links' errors add up)
    assert fit.camera("B").uncertainty_s < fit.camera("C").uncertainty_s < d.uncertainty_s  # type: ignore[operator]


def test_an_inconsistent_pair_is_rejected_by_the_network() -> None:
    """A-B, B-C and A-C form a loop; the A-C pair (a clone's trips, all agreeing among themselves)
    says 600 s more than the other two: it is rejected, and the offsets stand."""
    truth = {"A": 0.0, "B": 30.0, "C": 90.0}
    eqs = chain(truth, 10) + trips("A", "C", 90.0 + 600.0, 6, seed=9)
    fit = fit_offsets(eqs, [Anchor("A", 0.0, 0.5)])
    assert fit.camera("C").offset_s == pytest.approx(90.0, abs=3.0)
    assert {(r.cosighting.a, r.cosighting.b) for r in fit.rejected} == {("A", "C")}
    assert "disagrees with the rest of the network" in fit.rejected[0].reason
    assert ("A", "C") not in {(p.a, p.b) for p in fit.pairs}


def test_cameras_without_a_path_to_an_anchor_are_unanchored() -> None:
    eqs = chain({"A": 0.0, "B": 10.0}, 6) + trips("Y1", "Y2", 500.0, 6, seed=3)
    fit = fit_offsets(eqs, [Anchor("A", 0.0, 0.5)], cameras=["A", "B", "Y1", "Y2", "Z"])
    y1 = fit.camera("Y1")
    assert y1.status == "unanchored" and y1.offset_s is None and y1.uncertainty_s is None
    assert y1.linked_to == ("Y2",) and y1.n_cosightings == 6
    assert fit.camera("Z").status == "no-cosightings" and path_support(fit, "Z") == 0


def test_two_anchors_both_pull() -> None:
    truth = {"A": 0.0, "B": 40.0, "C": 80.0}
    fit = fit_offsets(chain(truth, 10), [Anchor("A", 0.0, 0.5), Anchor("C", 80.0, 1.0, "set-clock")])
    assert fit.camera("B").offset_s == pytest.approx(40.0, abs=2.0)
    assert fit.camera("C").status == "anchor"


def test_a_plate_seen_too_quickly_at_two_cameras_is_left_out_entirely() -> None:
    """Plate X at A and, 3 s later, at C 600 m away (a clone): every co-sighting of X goes."""
    truth = {"A": 0.0, "B": 20.0, "C": -40.0}
    clone = [CoSighting("A", "C", -40.0 + 3.0, 600 / (110 / 3.6), 600 / (5 / 3.6), key="x1", target="X"),
             CoSighting("A", "B", 20.0 + 40.0, 300 / (110 / 3.6), 300 / (5 / 3.6), key="x2", target="X")]
    fit = fit_offsets(chain(truth, 10) + clone, [Anchor("A", 0.0, 0.5)])
    gone = {r.cosighting.key: r.reason for r in fit.rejected}
    assert set(gone) == {"x1", "x2"} and "cloned plate or a misread" in gone["x1"]
    assert all(e.target != "X" for p in fit.pairs for e in p.inliers)
    assert impossible_targets(clone, {"A": (0.0, 0.5), "C": (-40.0, 1.0)}) == {"X": gone["x1"]}


def test_uncertainty_shrinks_with_more_cosightings() -> None:
    sig = {}
    for n in (4, 16, 64):
        errs, sigmas = [], []
        for seed in range(10):
            fit = fit_offsets(trips("A", "B", 25.0, n, kmh=(20, 40), seed=seed), [Anchor("A", 0.0, 0.5)])
            errs.append(fit.camera("B").offset_s - 25.0)  # type: ignore[operator]
            sigmas.append(fit.camera("B").uncertainty_s)
        sig[n] = math.sqrt(sum(e * e for e in errs) / len(errs))
    assert sig[64] < sig[16] < sig[4]


def test_bad_equations_are_refused_when_built() -> None:
    with pytest.raises(ValueError, match="two different cameras"):
        CoSighting("A", "A", 1.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="tau_min <= tau_max"):
        CoSighting("A", "B", 1.0, 5.0, 2.0)


def test_options_change_the_rejection_level() -> None:
    truth = {"A": 0.0, "B": 30.0, "C": 90.0}
    eqs = chain(truth, 10) + trips("A", "C", 90.0 + 600.0, 6, seed=9)
    loose = fit_offsets(eqs, [Anchor("A", 0.0, 0.5)], options=FitOptions(reject_k=1e6))
    assert not loose.rejected  # nothing rejected: the clone's pair is only down-weighted (Huber)
