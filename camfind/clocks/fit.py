"""The clock fit: camera clock offsets from co-sightings, anchored on trusted clocks.

The model. Camera ``c``'s DVR clock runs ``o_c`` seconds ahead of true time (``clock_offset_s``),
so a moment it records at raw time ``t`` happened at ``t - o_c``. The same target seen at camera
``a`` (raw time ``t_a``) and at camera ``b`` (raw ``t_b``), ``d`` metres apart, travelled between
them in a time ``tau`` between ``d / vmax`` and ``d / vmin`` for its class, one way or the other::

    r = t_b - t_a = (o_b - o_a) + s * tau,   s = +1 (a then b) or -1 (b then a)

so each co-sighting confines ``delta = o_b - o_a`` to two bands, ``r - [tau_min, tau_max]`` and
``r + [tau_min, tau_max]`` (widened by the time each camera saw the target).

1. Per camera pair, a consensus: the ``delta`` that the most co-sightings allow (a sweep over the
   band ends). Co-sightings that allow none of it are outliers (another trip, a cloned plate, a
   misread) and are rejected. When the agreeing co-sightings run both ways, ``delta`` is the mean of
   the two directions' means (as NTP does: travel times cancel if both directions are alike) and its
   uncertainty comes from their spread; when they run one way only, travel time and offset cannot
   be told apart, so ``delta`` is the middle of the region allowed and its uncertainty that
   region's width (``width / sqrt(12)``): honest, and large.
2. Over the network, the pair equations ``o_b - o_a = delta +- sigma`` and the anchors
   ``o_c = v_c +- sigma_c`` (trusted clocks, observed offsets) are solved by iteratively reweighted
   least squares with a Huber loss on the pairs; a pair whose standardised residual stays above
   ``reject_k`` is rejected (worst first) and the fit redone. Each camera's uncertainty is the square
   root of its diagonal of the covariance ``(A^T W A)^-1``, scaled up by the residuals when they
   exceed the stated sigmas, and never less than the sum of the pair sigmas along its best path to
   an anchor (the pairs of one path share vehicles, so their errors add up rather than average out).
   A group of cameras with no anchor among them gets no offset: it is reported as unanchored.
3. A plate seen at two cameras sooner after each other than one vehicle could travel, given the
   fitted offsets, is a cloned plate or a misread: all its co-sightings are left out, and the fit
   redone.

>>> eqs = [CoSighting("A", "B", 60 + s * 30, 10, 200, key=str(i)) for i, s in enumerate([1, -1, 1, -1])]
>>> fit = fit_offsets(eqs, [Anchor("A", 0.0, 0.5)])
>>> b = fit.camera("B")
>>> b.status, round(b.offset_s), b.n_cosightings
('estimated', 60, 4)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np

logger = logging.getLogger(__name__)

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
class Anchor:
    """A clock whose offset is known: trusted (synchronised), observed by hand, or read on screen."""

    camera_id: str
    offset_s: float
    uncertainty_s: float
    source: str = "trusted"


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
class CameraOffset:
    """One camera's outcome: ``anchor``, ``estimated``, ``unanchored`` or ``no-cosightings``."""

    camera_id: str
    status: str
    offset_s: float | None
    uncertainty_s: float | None
    cosightings: tuple[CoSighting, ...] = ()
    anchor: str | None = None
    path: tuple[str, ...] = ()
    linked_to: tuple[str, ...] = ()

    @property
    def n_cosightings(self) -> int:
        return len(self.cosightings)


@dataclass(frozen=True)
class ClockFit:
    """Every camera's offset, the pair consensus behind them and the rejected co-sightings."""

    cameras: tuple[CameraOffset, ...]
    pairs: tuple[PairEstimate, ...]
    rejected: tuple[Rejected, ...]

    def camera(self, camera_id: str) -> CameraOffset:
        for c in self.cameras:
            if c.camera_id == camera_id:
                return c
        raise KeyError(camera_id)


@dataclass(frozen=True)
class FitOptions:
    """Tunables: Huber threshold and rejection level (in sigmas), the smallest pair sigma."""

    huber_k: float = 2.0
    reject_k: float = 4.0
    min_sigma_s: float = 1.0
    iterations: int = 30


# -- step 1: each camera pair ------------------------------------------------------------------
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


# -- step 2: the network -----------------------------------------------------------------------
def _solve(cams: Sequence[str], pairs: Sequence[PairEstimate], anchors: Sequence[Anchor], opts: FitOptions
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IRLS (Huber) over one anchored component. Returns (offsets, sigmas, pair residuals in sigmas)."""
    col = {c: i for i, c in enumerate(cams)}
    rows, rhs, sig = [], [], []
    for p in pairs:
        row = np.zeros(len(cams))
        row[col[p.b]], row[col[p.a]] = 1.0, -1.0
        rows.append(row)
        rhs.append(p.delta_s)
        sig.append(p.sigma_s)
    for an in anchors:
        row = np.zeros(len(cams))
        row[col[an.camera_id]] = 1.0
        rows.append(row)
        rhs.append(an.offset_s)
        sig.append(max(an.uncertainty_s, 1e-3))
    A, y, s = np.array(rows), np.array(rhs), np.array(sig)
    n_pairs = len(pairs)
    w = np.ones(len(y))
    x = np.zeros(len(cams))
    for _ in range(opts.iterations):
        sw = np.sqrt(w) / s
        x_new = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0]
        e = (A @ x_new - y) / s
        w = np.ones(len(y))
        big = np.abs(e[:n_pairs]) > opts.huber_k
        w[:n_pairs][big] = opts.huber_k / np.abs(e[:n_pairs][big])
        done = np.allclose(x_new, x, atol=1e-4)
        x = x_new
        if done:
            break
    e = (A @ x - y) / s
    dof = len(y) - len(cams)
    scale = math.sqrt(max(1.0, float((e**2).sum()) / dof)) if dof > 0 else 1.0
    W = w / s**2
    cov = np.linalg.pinv(A.T @ (A * W[:, None]))
    return x, np.sqrt(np.clip(np.diag(cov), 0, None)) * scale, e[:n_pairs]


def _network(pairs: Sequence[PairEstimate]) -> nx.Graph:
    g: nx.Graph = nx.Graph()
    for p in pairs:
        g.add_edge(p.a, p.b, pair=p, weight=p.sigma_s)
    return g


def fit_offsets(
    cosightings: Iterable[CoSighting], anchors: Iterable[Anchor], cameras: Iterable[str] = (),
    options: FitOptions | None = None,
) -> ClockFit:
    """Estimate every camera's clock offset from co-sightings, anchored on known clocks (see the module)."""
    opts = options or FitOptions()
    anchor_of = {a.camera_id: a for a in anchors}
    eqs = [eq.oriented() for eq in cosightings]
    suspects: dict[str, str] = {}
    for _ in range(3):  # a plate seen where one vehicle cannot be is left out, and the fit redone
        pairs, rejected, solved = _fit_once([e for e in eqs if e.target not in suspects], anchor_of, opts)
        found = impossible_targets(eqs, solved, suspects)
        if not found:
            break
        suspects.update(found)
    rejected += [Rejected(e, suspects[e.target]) for e in eqs if e.target in suspects]
    everyone = sorted({*cameras, *anchor_of, *(c for p in pairs for c in (p.a, p.b)),
                       *(c for r in rejected for c in (r.cosighting.a, r.cosighting.b))})
    g = _network(pairs)
    out = [_camera_outcome(c, g, anchor_of, solved) for c in everyone]
    return ClockFit(tuple(out), tuple(pairs), tuple(rejected))


def _fit_once(eqs: Sequence[CoSighting], anchor_of: dict[str, Anchor], opts: FitOptions
              ) -> tuple[list[PairEstimate], list[Rejected], dict[str, tuple[float, float]]]:
    by_pair: dict[tuple[str, str], list[CoSighting]] = {}
    for eq in eqs:
        by_pair.setdefault((eq.a, eq.b), []).append(eq)
    pairs, rejected = [], []
    for key in sorted(by_pair):
        est, out = pair_estimate(by_pair[key], opts)
        rejected += out
        if est is not None:
            pairs.append(est)
    pairs, dropped, solved = _fit_network(pairs, anchor_of, opts)
    return pairs, rejected + dropped, solved


def impossible_targets(eqs: Sequence[CoSighting], solved: dict[str, tuple[float, float]],
                       known: dict[str, str] | None = None) -> dict[str, str]:
    """Targets (plates) seen at two cameras sooner after each other than one vehicle could travel,
    with the fitted offsets and two sigmas of slack: a cloned plate or a misread. Returns target -> why."""
    out: dict[str, str] = {}
    for e in eqs:
        if not e.target or e.target in out or e.target in (known or {}) or e.a not in solved or e.b not in solved:
            continue
        (xa, sa), (xb, sb) = solved[e.a], solved[e.b]
        travel = abs(e.r_s - (xb - xa))
        if travel + 2 * math.hypot(sa, sb) < e.tau_min_s - e.spread_s:
            out[e.target] = (f"plate {e.target} was at {e.a} and {e.b} {travel:.0f} s apart (at least "
                             f"{e.tau_min_s:.0f} s needed): a cloned plate or a misread; its co-sightings are left out")
    return out


def _fit_network(pairs: list[PairEstimate], anchor_of: dict[str, Anchor], opts: FitOptions
                 ) -> tuple[list[PairEstimate], list[Rejected], dict[str, tuple[float, float]]]:
    """Solve each anchored component, rejecting the worst inconsistent pair until none is left."""
    dropped: list[Rejected] = []
    while True:
        g = _network(pairs)
        g.add_nodes_from(anchor_of)
        solved: dict[str, tuple[float, float]] = {}
        worst: tuple[float, PairEstimate] | None = None
        for comp in nx.connected_components(g):
            anchors = [anchor_of[c] for c in comp if c in anchor_of]
            if not anchors:
                continue
            cams = sorted(comp)
            mine = [p for p in pairs if p.a in comp]
            x, sig, e = _solve(cams, mine, anchors, opts)
            solved.update({c: (float(x[i]), float(sig[i])) for i, c in enumerate(cams)})
            for p, ei in zip(mine, e, strict=True):
                if abs(ei) > opts.reject_k and (worst is None or abs(ei) > worst[0]):
                    worst = (abs(float(ei)), p)
        if worst is None:
            return pairs, dropped, solved
        p = worst[1]
        logger.info("clock fit: pair %s-%s disagrees with the network by %.1f sigma; rejected", p.a, p.b, worst[0])
        pairs = [q for q in pairs if q is not p]
        dropped += [Rejected(e, f"the {p.a}-{p.b} offset these give ({p.delta_s:+.0f} s) disagrees with the rest "
                                f"of the network ({worst[0]:.0f} sigma)") for e in p.inliers]


def _camera_outcome(cid: str, g: nx.Graph, anchor_of: dict[str, Anchor],
                    solved: dict[str, tuple[float, float]]) -> CameraOffset:
    eqs = tuple(e for _, _, d in (g.edges(cid, data=True) if cid in g else ()) for e in d["pair"].inliers)
    if cid in anchor_of and cid in solved:
        return CameraOffset(cid, "anchor", *solved[cid], eqs, anchor=cid, path=(cid,))
    if cid in solved:
        anchors = [a for a in anchor_of if a in g and nx.has_path(g, cid, a)]
        paths = [nx.shortest_path(g, cid, a, weight="weight") for a in anchors]
        along = [sum(g.edges[u, v]["weight"] for u, v in zip(p, p[1:], strict=False)) for p in paths]
        best = min(range(len(paths)), key=lambda i: (along[i], paths[i]))
        offset, sigma = solved[cid]  # errors along one path share vehicles: they add up, never less
        return CameraOffset(cid, "estimated", offset, max(sigma, along[best]), eqs, anchor=paths[best][-1],
                            path=tuple(paths[best]))
    if cid in g:
        linked = tuple(sorted(nx.node_connected_component(g, cid) - {cid}))
        return CameraOffset(cid, "unanchored", None, None, eqs, linked_to=linked)
    return CameraOffset(cid, "no-cosightings", None, None)


def path_support(fit: ClockFit, camera_id: str) -> int:
    """The fewest co-sightings behind any link of the camera's path to its anchor (0 if none); a link
    whose co-sightings all ran one way counts 0 (its offset cannot be told from the travel time)."""
    cam = fit.camera(camera_id)
    if cam.status == "anchor":
        return 10**9
    if len(cam.path) < 2:
        return 0
    by_pair = {(p.a, p.b): len(p.inliers) if p.two_way else 0 for p in fit.pairs}
    links = zip(cam.path, cam.path[1:], strict=False)
    return min(by_pair.get(tuple(sorted(link)), 0) for link in links)  # type: ignore[arg-type]
