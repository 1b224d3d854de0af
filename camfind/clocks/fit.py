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
from dataclasses import dataclass

import networkx as nx
import numpy as np

from camfind.clocks.pairs import CoSighting, FitOptions, PairEstimate, Rejected, pair_estimate

__all__ = ["Anchor", "CameraOffset", "ClockFit", "CoSighting", "FitOptions", "PairEstimate", "Rejected",
           "fit_offsets", "impossible_targets", "pair_estimate", "path_support"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    """A clock whose offset is known: trusted (synchronised), observed by hand, or read on screen."""

    camera_id: str
    offset_s: float
    uncertainty_s: float
    source: str = "trusted"


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


def _network(pairs: Sequence[PairEstimate]) -> nx.Graph[str]:
    g: nx.Graph[str] = nx.Graph()
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


def _camera_outcome(cid: str, g: nx.Graph[str], anchor_of: dict[str, Anchor],
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
