"""Step 1 of the clock fit (:mod:`camfind.clocks.fit`): the co-sighting equations and the
consensus of one camera pair.

>>> eqs = [CoSighting("A", "B", 60 + s * 30, 10, 200) for s in (1, -1, 1, -1)]
>>> est, rejected = pair_estimate(eqs)
>>> round(est.delta_s), est.two_way, rejected
(60, True, [])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

#: Travel times between two cameras vary by about this fraction from vehicle to vehicle: the prior
#: spread of a direction's travel times, before its own co-sightings say more.
TRAVEL_SPREAD = 0.25


@dataclass(frozen=True)
class CoSighting:
    """One equation: the same target at cameras ``a`` and ``b``; ``r_s`` = raw time at b minus at a."""

    a: str
    b: str
    r_s: float
    tau_min_s: float
    tau_max_s: float
    key: str = ""
    spread_s: float = 1.0
    target: str = ""
    info: tuple[tuple[str, object], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.a == self.b:
            raise ValueError(f"expected two different cameras, got {self.a!r} twice")
        if not (0 <= self.tau_min_s <= self.tau_max_s) or not math.isfinite(self.r_s):
            raise ValueError(f"expected 0 <= tau_min <= tau_max and a finite r, got {self}")

    def oriented(self) -> CoSighting:
        """The same equation with ``a < b`` (``r`` negated if swapped)."""
        return self if self.a < self.b else replace(self, a=self.b, b=self.a, r_s=-self.r_s)

    def bands(self) -> list[tuple[float, float]]:
        """Where ``o_b - o_a`` may lie: one band each way (merged when they touch)."""
        lo, hi = max(self.tau_min_s - self.spread_s, 0.0), self.tau_max_s + self.spread_s
        if lo == 0.0:
            return [(self.r_s - hi, self.r_s + hi)]
        return [(self.r_s - hi, self.r_s - lo), (self.r_s + lo, self.r_s + hi)]


@dataclass(frozen=True)
class PairEstimate:
    """The consensus of one camera pair: ``o_b - o_a`` with its uncertainty and the agreeing co-sightings."""

    a: str
    b: str
    delta_s: float
    sigma_s: float
    inliers: tuple[CoSighting, ...]
    two_way: bool


@dataclass(frozen=True)
class Rejected:
    """A co-sighting left out of the fit, and why."""

    cosighting: CoSighting
    reason: str


@dataclass(frozen=True)
class FitOptions:
    """Tunables: Huber threshold and rejection level (in sigmas), the smallest pair sigma."""

    huber_k: float = 2.0
    reject_k: float = 4.0
    min_sigma_s: float = 1.0
    iterations: int = 30


def _max_regions(eqs: Sequence[CoSighting]) -> tuple[int, list[tuple[float, float, frozenset[int]]]]:
    """The regions of ``delta`` allowed by the most equations: (count, [(lo, hi, equation indexes)])."""
    events: list[tuple[float, int, int]] = []  # (position, 0 = open / 1 = close, equation)
    for i, eq in enumerate(eqs):
        for lo, hi in eq.bands():
            events += [(lo, 0, i), (hi, 1, i)]
    events.sort()
    active: set[int] = set()
    best, regions = 0, list[tuple[float, float, frozenset[int]]]()
    for n, (pos, kind, i) in enumerate(events):
        if kind == 1:
            active.discard(i)
            continue
        active.add(i)
        if len(active) >= best:  # only an opening band can reach the most; its close comes later
            if len(active) > best:
                best, regions = len(active), []
            regions.append((pos, events[n + 1][0], frozenset(active)))
    return best, regions


def pair_estimate(
    eqs: Sequence[CoSighting], opts: FitOptions | None = None
) -> tuple[PairEstimate | None, list[Rejected]]:
    """The consensus of the co-sightings between one camera pair (all oriented ``a < b``)."""
    opts = opts or FitOptions()
    eqs = [e.oriented() for e in eqs]
    count, regions = _max_regions(eqs)
    a, b = eqs[0].a, eqs[0].b
    if count <= 1 and len(eqs) > 1:
        return None, [Rejected(e, f"no other co-sighting between {a} and {b} agrees with it") for e in eqs]
    members = min({r[2] for r in regions}, key=lambda m: np.ptp([eqs[i].r_s for i in m]))
    mine = [(lo, hi) for lo, hi, m in regions if m == members]
    inliers = [eqs[i] for i in sorted(members)]
    rejected = [Rejected(e, f"disagrees with the {count} co-sightings between {a} and {b} that agree")
                for i, e in enumerate(eqs) if i not in members]
    # Regions where some went each way: travel times cancel. Of several readings (which co-sightings
    # went which way), the one whose travel times agree best (smallest sigma) wins; then stragglers go.
    readings = [(c[0], lo, hi) for lo, hi in mine if (c := _two_way(inliers, lo, hi, opts, drop=False))]
    if readings:
        _, lo, hi = min(readings)
        sigma, delta, kept, slow = _two_way(inliers, lo, hi, opts) or (0.0, 0.0, [], [])
        rejected += [Rejected(e, f"its travel time between {a} and {b} is far from the others' that way "
                                 "(a stop on the way, or another trip)") for e in slow]
        return PairEstimate(a, b, delta, sigma, tuple(kept), True), rejected
    lo, hi = min(x for x, _ in mine), max(y for _, y in mine)
    sigma = max((hi - lo) / math.sqrt(12), opts.min_sigma_s)
    return PairEstimate(a, b, (lo + hi) / 2, sigma, tuple(inliers), False), rejected


def _two_way(eqs: Sequence[CoSighting], lo: float, hi: float, opts: FitOptions, drop: bool = True
             ) -> tuple[float, float, list[CoSighting], list[CoSighting]] | None:
    """The symmetric (NTP-like) estimate in region [lo, hi]: (sigma, delta, kept, stragglers), or
    None when everyone there went the same way (or, with ``drop``, all but the stragglers)."""
    mid = (lo + hi) / 2
    kept, slow = _drop_stragglers(eqs, mid) if drop else (list(eqs), [])
    r = np.array([e.r_s for e in kept])
    fwd, back = r[r > mid], r[r < mid]
    if not (len(fwd) and len(back)):
        return None
    delta = float((fwd.mean() + back.mean()) / 2)  # not clipped to the region: stragglers shaped it
    tau = (fwd.mean() - back.mean()) / 2
    prior = max(max(e.spread_s for e in kept), TRAVEL_SPREAD * tau)
    var = sum((((x - x.mean()) ** 2).sum() + prior**2) / len(x) ** 2 for x in (fwd, back))
    return max(0.5 * math.sqrt(var), opts.min_sigma_s), delta, kept, slow


def _drop_stragglers(eqs: Sequence[CoSighting], mid: float) -> tuple[list[CoSighting], list[CoSighting]]:
    """Split off, in each direction, co-sightings whose travel time is far from that direction's median
    (over 5 robust sigmas, half the median travel time and 5 s): a vehicle that stopped on the way
    biases the mean."""
    kept, slow = list[CoSighting](), list[CoSighting]()
    for side in (1, -1):
        mine = [e for e in eqs if (e.r_s - mid) * side > 0]
        r = np.array([e.r_s for e in mine])
        if len(r) < 3:
            kept += mine
            continue
        med = float(np.median(r))
        limit = max(5 * 1.4826 * float(np.median(np.abs(r - med))), 0.5 * abs(med - mid), 5.0,
                    max(e.spread_s for e in mine))
        for e in mine:
            (kept if abs(e.r_s - med) <= limit else slow).append(e)
    return kept, slow
