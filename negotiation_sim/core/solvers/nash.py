"""The generalised Nash bargaining text inside a box of feasible texts, vectorised over worlds.

Red lines and guarantor caps are bounds per issue. Exact for two principals with linear
utilities (the Pareto frontier is piecewise linear: walk its segments in closed form,
``LinearFrontier``, which also gives Kalai-Smorodinsky exactly); for three or more with linear
utilities, an interior-point method on the dual of the bargaining set (``core.solvers.linear_nash``);
a vectorised coordinate ascent with exact one-dimensional line solves for curved utilities.
``utilitarian_text`` is the clout-weighted utilitarian text, the limit of the Nash text as
disagreement points fall. Equations: docs/model.md section 12.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from negotiation_sim.core import columns
from negotiation_sim.core.columns import on_column
from negotiation_sim.core.preferences import (
    FEASIBILITY_TOL,
    Preferences,
    issue_slopes,
    issue_values,
    utilities,
    weighted_mean,
    weighted_median,
)
from negotiation_sim.core.solvers.linear_nash import nash_linear

_TINY = 1e-300  # floor of the Nash objective's log arguments


def utilitarian_text(
    prefs: Preferences, clout: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """The text maximising ``sum_i c_i u_i(x)`` inside the box [lo, hi] (K, N).

    Separable by issue: the clout x salience weighted median of positions for linear
    utilities, the weighted mean for quadratic ones, a one-dimensional concave solve otherwise.
    """
    w = clout[:, None, :] * prefs.salience
    if prefs.linear:
        x = weighted_median(prefs.position, w, ties="mid")
    elif prefs.quadratic.all():
        x = weighted_mean(prefs.position, w)
    else:
        x = bisect_issues(prefs, w, lo, hi)
    return np.clip(x, lo, hi)


def bisect_issues(prefs: Preferences, w: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   iters: int = 48) -> np.ndarray:
    """Per issue, the root of ``sum_i w_ik g'_ik(x)`` on [lo, hi] by bisection (concave g)."""
    a, b = lo.copy(), hi.copy()
    for _ in range(iters):
        mid = 0.5 * (a + b)
        up = (w * issue_slopes(mid, prefs)).sum(axis=0) > 0
        a = np.where(up, mid, a)
        b = np.where(up, b, mid)
    return 0.5 * (a + b)


def nash_text(
    prefs: Preferences,
    disagreement: np.ndarray,
    clout: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised Nash bargaining text inside the box [lo, hi].

    Maximises ``sum_i c_i log(u_i(x) - d_i)`` over texts with ``u_i(x) >= d_i`` for all i.

    Args:
        prefs: the principals' preferences (P actors).
        disagreement: ``(P, N)`` disagreement points d.
        clout: ``(P, N)`` bargaining weights c > 0.
        lo, hi: ``(K, N)`` bounds of feasible texts (``lo <= hi``).

    Returns:
        ``(x, feasible)``: the text ``(K, N)`` and whether any text gives every principal at
        least ``d_i`` (within ``FEASIBILITY_TOL``). Where infeasible, ``x`` is the
        clout-weighted utilitarian text, the limit of the Nash text as all d fall.
    """
    return NashSolver(prefs, clout, lo, hi).solve(disagreement)


def tied_runs(keys: np.ndarray, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Runs of equal values in ``keys`` sorted along axis 0: ``(first, run)``, both like
    ``keys``: whether each position starts a run, and the run's index.

    Issues that trade at the same rate are interchangeable along the Pareto frontier; moving
    them together, by the same fraction, makes texts independent of the order of issues in the
    file (a tie broken by file order would not be).
    """
    first = np.ones(keys.shape, dtype=bool)
    first[1:] = np.abs(np.diff(keys, axis=0)) > tol * np.maximum(1.0, np.abs(keys[1:]))
    return first, np.cumsum(first, axis=0) - 1


def run_totals(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Each run's total of ``values`` (sorted along axis 0) at its first position, 0 elsewhere."""
    cum = np.cumsum(values, axis=0)
    before = np.maximum.accumulate(np.where(first, cum - values, -np.inf), axis=0)
    last = np.ones(first.shape, dtype=bool)
    last[:-1] = first[1:]
    end = np.minimum.accumulate(np.where(last, cum, np.inf)[::-1], axis=0)[::-1]
    return np.where(first, end - before, 0.0)


@dataclass
class LinearFrontier:
    """The Pareto frontier of two principals with linear utilities inside a box.

    The weighted-sum maximisers ``theta u_1 + (1 - theta) u_2`` trace the Pareto frontier; with
    linear utilities each issue jumps from principal 2's (clipped) ideal to principal 1's at
    ``theta_k = s_2k / (s_1k + s_2k)``, so the frontier is a chain of K segments, sorted by that
    ratio, along which both utilities are linear. It depends only on positions, saliences and
    the box, so it is built once and re-used as disagreement points change round by round.

    Issues with the same ratio trade at the same rate: they form one *run* and move together
    (``tied_runs``), so the frontier and every text on it do not depend on the order of issues.

    Attributes (all ``(K, N)``): ``a1``/``a2`` the principals' ideals clipped to the box;
    ``run`` each issue's run (runs in segment order); ``seg_run``/``seg_first`` each segment
    position's run and whether it is the run's first (a run's gains sit on its first segment,
    its other segments are empty); ``g1``/``g2`` principal 1's gain and principal 2's loss
    along each segment; ``start1``/``start2`` the utilities at the start of each segment.
    """

    a1: np.ndarray
    a2: np.ndarray
    run: np.ndarray
    seg_run: np.ndarray
    seg_first: np.ndarray
    g1: np.ndarray
    g2: np.ndarray
    start1: np.ndarray
    start2: np.ndarray

    @classmethod
    def build(cls, prefs: Preferences, lo: np.ndarray, hi: np.ndarray) -> LinearFrontier:
        pos, sal = prefs.position, prefs.salience
        a1 = np.clip(pos[0], lo, hi)
        a2 = np.clip(pos[1], lo, hi)
        gain1 = sal[0] * (np.abs(a2 - pos[0]) - np.abs(a1 - pos[0]))
        loss2 = sal[1] * (np.abs(a1 - pos[1]) - np.abs(a2 - pos[1]))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(gain1 + loss2 > 0, loss2 / (gain1 + loss2), 0.0)
        order = np.argsort(ratio, axis=0, kind="stable")
        seg_first, seg_run = tied_runs(np.take_along_axis(ratio, order, axis=0))
        g1 = run_totals(np.take_along_axis(gain1, order, axis=0), seg_first)
        g2 = run_totals(np.take_along_axis(loss2, order, axis=0), seg_first)
        u1_0 = (sal[0] * (1.0 - np.abs(a2 - pos[0]))).sum(axis=0)
        u2_0 = (sal[1] * (1.0 - np.abs(a2 - pos[1]))).sum(axis=0)
        start1 = u1_0 + np.cumsum(g1, axis=0) - g1
        start2 = u2_0 - (np.cumsum(g2, axis=0) - g2)
        rank = np.argsort(order, axis=0, kind="stable")
        run = np.take_along_axis(seg_run, rank, axis=0)
        return cls(a1, a2, run, seg_run, seg_first, g1, g2, start1, start2)

    def nash(self, d: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The Nash text for disagreement points ``d`` and clouts ``c`` (both ``(2, N)``).

        On each segment the Nash product has a closed-form maximiser; the best feasible
        segment wins. Returns ``(x, feasible)``.
        """
        t, value, ok = _segment_nash(self.start1 - d[0], self.start2 - d[1], self.g1, self.g2,
                                     c[0], c[1], self.moving)
        best = np.argmax(np.where(ok, value, -np.inf), axis=0)  # (N,)
        t_best = np.take_along_axis(t, best[None], axis=0)[0]
        return self.text(best, t_best), ok.any(axis=0)

    @functools.cached_property
    def moving(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(g1 > 0, g2 > 0, both, t_star)``: which segments move each principal's utility,
        and the maximiser of a segment that does not move both (``_segment_nash``), worked out
        once for every set of disagreement points."""
        up, down = self.g1 > 0, self.g2 > 0
        return up, down, up & down, np.where(up, np.inf, -np.inf)

    def text(self, segment: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The text at fraction ``t`` of segment ``segment`` (both ``(N,)``): ``(K, N)``.

        Issues of runs before the segment's sit at principal 1's clipped ideal, after it at
        2's; the issues of the segment's own run all move the same fraction ``t`` (the run's
        later, empty segments stand for its end, ``t = 1``).
        """
        run = np.take_along_axis(self.seg_run, segment[None], axis=0)[0]
        first = np.take_along_axis(self.seg_first, segment[None], axis=0)[0]
        here = np.where(first, t, 1.0)
        frac = np.where(self.run < run, 1.0, np.where(self.run == run, here, 0.0))
        return self.a2 + frac * (self.a1 - self.a2)

    def kalai_smorodinsky(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kalai-Smorodinsky text for disagreement points ``d`` ``(2, N)``, exactly.

        The utopia values are the best each principal gets on the frontier while the other
        keeps its disagreement value; the KS text is the frontier point whose gains are the same
        share of each side's utopia gain. Returns ``(x, defined)`` (x is NaN where undefined).
        """
        y1, y2 = self.start1 - d[0], self.start2 - d[1]  # surpluses at segment starts
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t_lo = np.where(self.g1 > 0, np.maximum(0.0, -y1 / self.g1),
                            np.where(y1 >= -FEASIBILITY_TOL, 0.0, np.inf))
            t_hi = np.where(self.g2 > 0, np.minimum(1.0, y2 / self.g2),
                            np.where(y2 >= -FEASIBILITY_TOL, 1.0, -np.inf))
            ok = t_lo <= t_hi + 1e-9
            best1 = np.where(ok, y1 + np.clip(t_hi, 0, 1) * self.g1, -np.inf).max(axis=0)
            best2 = np.where(ok, y2 - np.clip(t_lo, 0, 1) * self.g2, -np.inf).max(axis=0)
            span1, span2 = np.maximum(best1, 0.0), np.maximum(best2, 0.0)
            # r1(t) - r2(t) rises along the frontier; find the segment where it crosses zero.
            s1, s2 = np.where(span1 > 0, span1, 1.0), np.where(span2 > 0, span2, 1.0)
            slope = self.g1 / s1 + self.g2 / s2
            t = np.where(slope > 0, (y2 / s2 - y1 / s1) / slope, 0.0)
            inside = ok & (slope > 0) & (t >= -1e-12) & (t <= 1 + 1e-12)
        # A frontier of one point (no segment moves anything) is its own KS point.
        point = ok.any(axis=0) & ~inside.any(axis=0) & ~((self.g1 > 0) | (self.g2 > 0)).any(axis=0)
        seg = np.where(point, 0, np.argmax(inside, axis=0))
        t_seg = np.clip(np.take_along_axis(t, seg[None], axis=0)[0], 0.0, 1.0)
        defined = ok.any(axis=0) & (inside.any(axis=0) | point)
        return np.where(defined[None], self.text(seg, t_seg), np.nan), defined

    def take(self, idx: np.ndarray) -> LinearFrontier:
        """The frontier of worlds ``idx`` only."""
        return LinearFrontier(*(columns.take(getattr(self, f), idx)
                                for f in self.__dataclass_fields__))


class NashSolver:
    """Nash texts for fixed preferences, clouts and box, re-solved as disagreement points move.

    Everything that does not depend on the disagreement points (the two-principal frontier,
    the utilitarian fallback) is computed once; ``take`` keeps it aligned when worlds are
    compacted away.
    """

    def __init__(self, prefs: Preferences, clout: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 *, _frontier: LinearFrontier | None = None, _fallback: np.ndarray | None = None,
                 _plans: dict | None = None, _builders: dict | None = None):
        self.prefs, self.clout, self.lo, self.hi = prefs, clout, lo, hi
        self._plans = {} if _plans is None else _plans
        self._builders = {} if _builders is None else _builders  # how each plan was built
        exact = prefs.position.shape[0] == 2 and prefs.linear
        self.frontier = _frontier if _frontier is not None or not exact else \
            on_column(lambda pos, sal, lo, hi: LinearFrontier.build(
                Preferences(pos, sal, prefs.power[..., :1], prefs.quadratic), lo, hi),
                lo.shape[-1], prefs.position, prefs.salience, lo, hi)
        self._fallback = _fallback

    def fallback(self) -> np.ndarray:
        """The clout-weighted utilitarian text (computed on first use)."""
        if self._fallback is None:
            p = self.prefs
            self._fallback = on_column(
                lambda pos, sal, power, clout, lo, hi: utilitarian_text(
                    Preferences(pos, sal, power, p.quadratic), clout, lo, hi),
                self.lo.shape[-1], p.position, p.salience, p.power, self.clout, self.lo, self.hi)
        return self._fallback

    def solve(self, d: np.ndarray, clout: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """``(x, feasible)`` exactly as ``nash_text(prefs, d, clout, lo, hi)`` (``clout``: the
        solver's own unless given)."""
        c = self.clout if clout is None else clout
        if self.frontier is not None:
            x, feasible = self.frontier.nash(d, c)
        elif self.prefs.linear:
            x, feasible = nash_linear(self.prefs, d, c, self.lo, self.hi)
        else:
            x, feasible = nash_coordinate_ascent(self.prefs, d, c, self.lo, self.hi)
        if not feasible.all():
            x = np.where(feasible[None], x, self.fallback())
        return x, feasible

    def feasible(self, d: np.ndarray) -> np.ndarray:
        """``(N,)`` whether some text gives every principal at least ``d`` ``(P, N)``: the
        ``feasible`` of ``solve(d)``, without the text where the frontier gives it cheaply."""
        fr = self.frontier
        if fr is None:
            return self.solve(d)[1]
        up, down = fr.moving[:2]
        return _segment_bounds(fr.start1 - d[0], fr.start2 - d[1], fr.g1, fr.g2, up,
                               down)[2].any(axis=0)

    def plan(self, key, build):
        """What ``build(prefs, lo, hi)`` returns for these worlds, built on first use (on one
        column where they are the same in every world, ``core.columns``) and kept (``take``
        keeps it aligned): a solver's own work that does not depend on the disagreement
        points, such as a proposer's order of issues (``key`` names it)."""
        if key not in self._plans:
            self._builders[key] = build
            p = self.prefs
            self._plans[key] = on_column(
                lambda pos, sal, power, lo, hi: build(Preferences(pos, sal, power, p.quadratic),
                                                      lo, hi),
                self.lo.shape[-1], p.position, p.salience, p.power, self.lo, self.hi)
        return self._plans[key]

    @property
    def constant(self) -> bool:
        """Whether everything it solves with is the same in every world (``core.columns``)."""
        p = self.prefs
        fr = [] if self.frontier is None else [getattr(self.frontier, f)
                                              for f in self.frontier.__dataclass_fields__]
        return columns.all_constant(p.position, p.salience, p.power, self.clout, self.lo,
                                    self.hi, self._fallback, *fr)

    def head(self, m: int) -> NashSolver:
        """The solver of the first ``m`` worlds (contiguous copies, as full arrays are laid
        out)."""
        def h(a):
            return None if a is None else np.ascontiguousarray(a[..., :m])
        p = self.prefs
        fr = self.frontier
        return NashSolver(
            Preferences(h(p.position), h(p.salience), h(p.power), p.quadratic), h(self.clout),
            h(self.lo), h(self.hi),
            _frontier=None if fr is None else LinearFrontier(
                *(h(getattr(fr, f)) for f in fr.__dataclass_fields__)),
            _fallback=h(self._fallback))

    def take(self, idx: np.ndarray, *, plans: bool = True) -> NashSolver:
        """The solver of worlds ``idx`` only (``plans``: with the plans built so far; a caller
        that only solves a few worlds' texts leaves them, as they would be copied unread)."""
        return NashSolver(
            self.prefs.take(idx), columns.take(self.clout, idx), columns.take(self.lo, idx),
            columns.take(self.hi, idx),
            _frontier=None if self.frontier is None else self.frontier.take(idx),
            _fallback=None if self._fallback is None else columns.take(self._fallback, idx),
            _plans={k: v.take(idx) for k, v in self._plans.items()} if plans else None,
            _builders=dict(self._builders))

    def extended(self, prefs: Preferences, clout: np.ndarray, lo: np.ndarray,
                 hi: np.ndarray) -> NashSolver:
        """The solver of worlds whose first ``m`` are this solver's (same preferences, clouts
        and box) and whose others were appended (worlds rejoining the talks): only the
        appended worlds' frontier, fallback and plans are built, and joined to these.

        The same numbers as ``NashSolver(prefs, clout, lo, hi)`` with the same plans built:
        every piece is computed world by world. A single appended world is built with the
        whole (its reductions over issues would run in another order on one column).
        """
        m, n = self.lo.shape[-1], lo.shape[-1]
        if m > 2 and self._held_once(prefs, clout, lo, hi):
            # the same in every world, the appended ones included: their pieces are these
            return self._widened(n)
        if n - m < 2:
            whole = NashSolver(prefs, clout, lo, hi)
            for key, build in self._builders.items():
                whole.plan(key, build)
            return whole
        idx = np.arange(m, n)
        tail = NashSolver(prefs.take(idx), columns.take(clout, idx), columns.take(lo, idx),
                          columns.take(hi, idx))
        fallback = None if self._fallback is None else columns.concat(self._fallback,
                                                                      tail.fallback())
        plans = {key: _joined(plan, tail.plan(key, self._builders[key]))
                 for key, plan in self._plans.items()}
        return NashSolver(prefs, clout, lo, hi,
                          _frontier=None if self.frontier is None
                          else _joined(self.frontier, tail.frontier),
                          _fallback=fallback, _plans=plans, _builders=dict(self._builders))

    def _held_once(self, prefs: Preferences, clout: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray) -> bool:
        """Whether this solver and every piece it keeps are constants (``core.columns``) and
        the given preferences, clouts and box are constants of the same numbers: then a solver
        of any number of worlds built from those inputs has these pieces' numbers."""
        mine = self.prefs
        pairs = ((prefs.position, mine.position), (prefs.salience, mine.salience),
                 (prefs.power, mine.power), (clout, self.clout), (lo, self.lo), (hi, self.hi))
        return (np.array_equal(prefs.quadratic, mine.quadratic) and self.constant
                and all(columns.same_constant(new, old) for new, old in pairs)
                and all(columns.all_constant(*_arrays(plan)) for plan in self._plans.values()))

    def _widened(self, n: int) -> NashSolver:
        """This solver (every piece a constant) over ``n`` worlds."""
        def wide(a):
            return None if a is None else columns.constant(a[..., :1], n)
        p, fr = self.prefs, self.frontier
        return NashSolver(
            Preferences(wide(p.position), wide(p.salience), wide(p.power), p.quadratic),
            wide(self.clout), wide(self.lo), wide(self.hi),
            _frontier=None if fr is None else type(fr)(*(wide(a) for a in _arrays(fr))),
            _fallback=wide(self._fallback),
            _plans={k: type(v)(*(wide(a) for a in _arrays(v))) for k, v in self._plans.items()},
            _builders=dict(self._builders))


def _arrays(piece) -> list[np.ndarray]:
    """The fields of a solver's piece (a dataclass of arrays over worlds), in order."""
    return [getattr(piece, f) for f in piece.__dataclass_fields__]


def _joined(a, b):
    """Two dataclasses of arrays over worlds joined on the worlds axis (``columns.concat``)."""
    return type(a)(*(columns.concat(u, v) for u, v in zip(_arrays(a), _arrays(b))))


def _segment_nash(y1, y2, g1, g2, c1, c2, moving=None):
    """Maximise ``c1 log(y1 + t g1) + c2 log(y2 - t g2)`` over t in [0, 1] with both terms >= 0.

    ``moving``: ``LinearFrontier.moving`` of ``g1``, ``g2`` (worked out here if not given).
    Returns ``(t, value, feasible)`` per segment, arrays of the shape of ``y1``.
    """
    if moving is None:
        up, down = g1 > 0, g2 > 0
        moving = up, down, up & down, np.where(up, np.inf, -np.inf)
    up, down, both, edge = moving
    t_lo, t_hi, ok = _segment_bounds(y1, y2, g1, g2, up, down)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        interior = (c1 * g1 * y2 - c2 * g2 * y1) / ((c1 + c2) * g1 * g2)
        t_star = np.where(both, interior, edge)
        t = np.clip(t_star, t_lo, np.maximum(t_lo, t_hi))
        t = np.where(ok, np.clip(t, 0.0, 1.0), 0.0)
        value = c1 * np.log(np.maximum(y1 + t * g1, _TINY)) + c2 * np.log(
            np.maximum(y2 - t * g2, _TINY)
        )
    return t, value, ok


def _segment_bounds(y1, y2, g1, g2, up, down):
    """``(t_lo, t_hi, feasible)`` per segment: the part of it where both terms of
    ``_segment_nash`` are at least 0 (``up``, ``down``: where ``g1``, ``g2`` are positive)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t_lo = np.where(up, np.maximum(0.0, -y1 / g1), np.where(y1 >= -FEASIBILITY_TOL, 0.0, np.inf))
        t_hi = np.where(down, np.minimum(1.0, y2 / g2), np.where(y2 >= -FEASIBILITY_TOL, 1.0, -np.inf))
        return t_lo, t_hi, t_lo <= t_hi + 1e-9


# Continuation in the shift sigma: maximise sum c log(u - d + sigma) for falling sigma, so
# the iterate stays where the objective is finite and ends at the Nash text when one exists.
_SIGMAS = (1.0, 0.1, 0.01, 1e-3, 1e-5, 0.0)


def nash_coordinate_ascent(prefs, d, c, lo, hi, sweeps: int = 4, final_sweeps: int = 60,
                            iters: int = 44, tol: float = 1e-11):
    """Nash text for any number of principals and concave utilities.

    Cyclic coordinate ascent with an exact one-dimensional solve per issue (bisection on the
    sign of the derivative, which is monotone because the objective is concave in each issue).
    Because the utilities are separable and the outer log is smooth, the directional
    derivative splits across issues, so a point no single issue can improve is optimal: the
    ascent cannot stall at a kink. ``sweeps`` passes per continuation stage, then up to
    ``final_sweeps`` at sigma = 0 until no issue moves by more than ``tol``.
    """
    x = utilitarian_text(prefs, c, lo, hi)
    g = issue_values(x, prefs)
    u = np.einsum("pkn,pkn->pn", prefs.salience, g)
    for sigma in _SIGMAS:
        for _ in range(sweeps if sigma > 0 else final_sweeps):
            start = x.copy()
            for k in range(x.shape[0]):
                rest = u - prefs.salience[:, k] * g[:, k] - d + sigma  # (P, N)
                x[k] = _line_solve(prefs, k, rest, c, lo[k], hi[k], iters)
                gk = issue_values(x, prefs)[:, k]
                u = rest + prefs.salience[:, k] * gk + d - sigma
                g[:, k] = gk
            # Coordinate steps crawl along ridges where issues trade at nearly equal rates;
            # a line search along the whole sweep's displacement jumps along the ridge.
            x = _extrapolate(prefs, x, x - start, d - sigma, c, lo, hi, iters)
            g = issue_values(x, prefs)
            u = np.einsum("pkn,pkn->pn", prefs.salience, g)
            if sigma == 0 and float(np.max(np.abs(x - start), initial=0.0)) < tol:
                break
    feasible = (u - d >= -FEASIBILITY_TOL).all(axis=0)
    return x, feasible


def _extrapolate(prefs, x, v, d, c, lo, hi, iters):
    """Maximise the Nash objective along ``x + tau v`` for tau in [0, tau_max] (box-limited)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(v > 0, (hi - x) / v, np.where(v < 0, (lo - x) / v, np.inf))
    tau_max = np.minimum(np.min(room, axis=0), 1e6)
    a, b = np.zeros_like(tau_max), tau_max
    for _ in range(iters):
        mid = 0.5 * (a + b)
        xm = np.clip(x + mid * v, lo, hi)
        y = np.maximum(utilities(xm, prefs) - d, _TINY)
        slope = np.einsum("pkn,pkn->pn", prefs.salience, issue_slopes(xm, prefs) * v[None])
        up = (c * slope / y).sum(axis=0) > 0
        a = np.where(up, mid, a)
        b = np.where(up, b, mid)
    # Keep the step only where it does not lower the objective (bisection on a flat ridge).
    cand = np.clip(x + a * v, lo, hi)
    better = _objective(cand, prefs, d, c) >= _objective(x, prefs, d, c)
    return np.where(better[None], cand, x)


def _objective(x, prefs, d, c):
    return (c * np.log(np.maximum(utilities(x, prefs) - d, _TINY))).sum(axis=0)


def _line_solve(prefs, k, rest, c, lo, hi, iters):
    """argmax over x_k in [lo, hi] of ``sum_i c_i log(rest_i + s_ik g_ik(x_k))``."""
    s = prefs.salience[:, k]
    a, b = lo.copy(), hi.copy()
    if prefs.linear:
        # g = 1 - |x - p| with slope -1 or +1: the numbers issue_values and issue_slopes give
        # (c s times a slope of +-1 is exactly +-c s), in a third of the numpy calls.
        p, cs = prefs.position[:, k], c * s
        for _ in range(iters):
            mid = 0.5 * (a + b)
            diff = np.subtract(mid[None], p, order="C")
            denom = np.maximum(rest + s * (1.0 - np.abs(diff)), _TINY)
            up = (np.where(diff >= 0.0, -cs, cs) / denom).sum(axis=0) > 0
            a = np.where(up, mid, a)
            b = np.where(up, b, mid)
        return 0.5 * (a + b)
    sub = Preferences(
        prefs.position[:, k : k + 1], prefs.salience[:, k : k + 1], prefs.power, prefs.quadratic
    )
    for _ in range(iters):
        mid = 0.5 * (a + b)
        m = mid[None]
        gk = issue_values(m, sub)[:, 0]
        slope = issue_slopes(m, sub)[:, 0]
        denom = np.maximum(rest + s * gk, _TINY)
        up = (c * s * slope / denom).sum(axis=0) > 0
        a = np.where(up, mid, a)
        b = np.where(up, b, mid)
    return 0.5 * (a + b)
