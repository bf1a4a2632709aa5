"""The proposer's problem of alternating offers, and the Kalai-Smorodinsky text.

``proposer_text`` solves ``max u_i(x)`` s.t. ``u_j(x) >= floor_j`` for every responder j, inside
the box of feasible texts; ``kalai_smorodinsky_text`` uses it for the utopia point. Methods and
their precision: docs/protocols.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation_sim.core import columns
from negotiation_sim.core.preferences import FEASIBILITY_TOL, Preferences, utilities
from negotiation_sim.core.solvers.linear_nash import ray_text
from negotiation_sim.core.solvers.nash import (
    LinearFrontier,
    bisect_issues,
    nash_coordinate_ascent,
    run_totals,
    tied_runs,
)

BARRIER_WEIGHT = 1e-4


_THETA_EPS = 1e-9  # weights at the ends of the frontier break indifference toward the other side


def clipped_ideal(prefs: Preferences, a: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Actor ``a``'s ideal text inside the box, ``(K, N)``."""
    return np.clip(prefs.position[a], lo, hi)


def proposer_text(prefs: Preferences, proposer: int, floor: np.ndarray, lo: np.ndarray,
                  hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The text best for ``proposer`` among those giving every other actor at least its floor.

    Args:
        prefs: P actors' preferences.
        proposer: index of the proposing actor.
        floor: ``(P, N)`` undiscounted utility each responder must get (the proposer's row is
            ignored).
        lo, hi: ``(K, N)`` bounds of feasible texts.

    Returns:
        ``(x, feasible)``: the text ``(K, N)`` and whether any text meets every floor (within
        ``FEASIBILITY_TOL``). Where infeasible, ``x`` is the proposer's clipped ideal.
    """
    P, K = prefs.position.shape[:2]
    floor = np.where(np.arange(P)[:, None] == proposer, -np.inf, floor)
    if P == 1:
        x, feasible = clipped_ideal(prefs, 0, lo, hi), np.ones(lo.shape[1], dtype=bool)
    elif K == 1:
        x, feasible = _proposer_one_issue(prefs, proposer, floor, lo, hi)
    elif P == 2 and prefs.linear:
        x, feasible = _proposer_two_linear(prefs, proposer, floor[1 - proposer], lo, hi)
    elif P == 2:
        x, feasible = _proposer_two_frontier(prefs, proposer, floor[1 - proposer], lo, hi)
    elif prefs.linear:
        x, feasible = _proposer_linear(prefs, proposer, floor, lo, hi)
    else:
        x, feasible = _proposer_barrier(prefs, proposer, floor, lo, hi)
    ideal = clipped_ideal(prefs, proposer, lo, hi)
    return np.where(feasible[None], x, ideal), feasible


def _acceptable_radius(prefs: Preferences, floor: np.ndarray) -> np.ndarray:
    """One issue: the largest distance from its position at which each actor gets ``floor``."""
    s = prefs.salience[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.where(s > 0, floor / s, np.where(floor <= FEASIBILITY_TOL, -np.inf, np.inf))
    need = np.clip(1.0 - level, 0.0, None)  # required 1 - g: as g = 1 - d (linear)
    radius = need
    if not prefs.linear:
        a = prefs.power
        with np.errstate(invalid="ignore", divide="ignore"):
            powr = 1.0 - np.power(np.clip(level, 0.0, 1.0), 1.0 / a)
        powr = np.where(level <= 0, np.inf, powr)
        quad = np.sqrt(need)
        radius = np.where(prefs.quadratic[:, None], quad, powr)
    # level > 1 (beyond the ideal point's value, bar rounding) leaves no text
    return np.where(level > 1.0 + FEASIBILITY_TOL, -np.inf, np.maximum(radius, 0.0))


def _proposer_one_issue(prefs, i, floor, lo, hi):
    r = _acceptable_radius(prefs, floor)  # (P, N)
    p = prefs.position[:, 0]
    bound = floor > -np.inf  # the proposer's own row carries no floor
    left = np.max(np.where(bound, p - r, -np.inf), axis=0)
    right = np.min(np.where(bound, p + r, np.inf), axis=0)
    left, right = np.maximum(left, lo[0]), np.minimum(right, hi[0])
    feasible = left <= right + FEASIBILITY_TOL
    x = np.clip(prefs.position[i, 0], left, np.maximum(left, right))
    return x[None], feasible


def _proposer_two_linear(prefs, i, floor_j, lo, hi):
    """Fractional knapsack: move issues from j's clipped ideal to i's, most efficient first,
    until j's floor binds; issues that trade at the same rate move together (by the same
    fraction), so the text does not depend on the order of issues."""
    return TwoLinearPlan.build(prefs, i, lo, hi).solve(floor_j)


@dataclass
class TwoLinearPlan:
    """Two principals with linear utilities: everything ``_proposer_two_linear`` works out
    before it reads the responder's floor (it depends only on the preferences and the box),
    so a caller that solves for many floors in the same worlds builds it once
    (``NashSolver.plan``) and ``take``s the worlds it needs.

    Attributes (``(K, N)`` unless said): ``ai``/``aj`` the proposer's and the responder's
    clipped ideals, ``step`` ``ai - aj``; ``g``/``ls`` the proposer's gain and the responder's
    loss of each run in the order issues move (at the run's first position, 0 elsewhere),
    ``moves``/``costs`` where they are positive, ``before`` the loss of the runs before;
    ``lead`` each position's run's first position, ``rank`` each issue's position; ``base``
    ``(N,)`` the responder's utility at its clipped ideal.
    """

    ai: np.ndarray
    aj: np.ndarray
    step: np.ndarray
    g: np.ndarray
    ls: np.ndarray
    moves: np.ndarray
    costs: np.ndarray
    before: np.ndarray
    lead: np.ndarray
    rank: np.ndarray
    base: np.ndarray

    @classmethod
    def build(cls, prefs: Preferences, i: int, lo: np.ndarray, hi: np.ndarray
              ) -> TwoLinearPlan:
        j = 1 - i
        pos, sal = prefs.position, prefs.salience
        ai, aj = np.clip(pos[i], lo, hi), np.clip(pos[j], lo, hi)
        gain = sal[i] * (np.abs(aj - pos[i]) - np.abs(ai - pos[i]))  # >= 0
        loss = sal[j] * (np.abs(ai - pos[j]) - np.abs(aj - pos[j]))  # >= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            key = np.where(gain > 0, loss / (gain + loss), np.inf)  # ascending: most efficient
        order = np.argsort(key, axis=0, kind="stable")
        first, _ = tied_runs(np.take_along_axis(np.where(np.isfinite(key), key, 2.0), order,
                                                axis=0))
        g = run_totals(np.take_along_axis(gain, order, axis=0), first)
        ls = run_totals(np.take_along_axis(loss, order, axis=0), first)
        base = (sal[j] * (1.0 - np.abs(aj - pos[j]))).sum(axis=0)
        lead = np.maximum.accumulate(np.where(first, np.arange(first.shape[0])[:, None], 0),
                                     axis=0)
        rank = np.argsort(order, axis=0, kind="stable")
        return cls(ai, aj, ai - aj, g, ls, g > 0, ls > 0, np.cumsum(ls, axis=0) - ls, lead,
                   rank, base)

    def solve(self, floor_j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(x, feasible)``: the proposer's best text giving the responder ``floor_j``
        ``(N,)`` (``_proposer_two_linear``)."""
        slack = self.base - floor_j  # what j can give up
        # ls can be tiny (subnormal) where it is > 0: the ratio may overflow, and is clipped.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            frac = np.where(self.costs, np.clip((slack - self.before) / self.ls, 0.0, 1.0), 1.0)
        frac = np.where(self.moves, frac, 0.0)
        # every position of a run takes the fraction of the run's first position
        frac = np.take_along_axis(frac, self.lead, axis=0)
        frac = np.take_along_axis(frac, self.rank, axis=0)
        return self.aj + frac * self.step, slack >= -FEASIBILITY_TOL

    def take(self, idx: np.ndarray) -> TwoLinearPlan:
        """The plan of worlds ``idx`` only."""
        return TwoLinearPlan(*(columns.take(getattr(self, f), idx)
                               for f in self.__dataclass_fields__))


def _frontier_point(prefs, i, j, theta, a, b, iters=30):
    """argmax of ``(1 - theta) u_i + theta u_j`` per issue, searched in the bracket [a, b]."""
    P = prefs.position.shape[0]
    w = np.zeros((P,) + theta.shape)
    w[i], w[j] = 1.0 - theta, theta
    return bisect_issues(prefs, w[:, None, :] * prefs.salience, a, b, iters)


def _frontier_bisect(prefs, i, j, crit, lo, hi, iters=50):
    """Texts on the (i, j) frontier bracketing the root of ``crit``, nondecreasing in theta.

    Returns ``(x, ok)``: the point of the frontier where ``crit`` crosses zero (on the segment
    between the bracketing texts), and whether it does (``crit`` >= 0 at the responder's end).
    """
    N = lo.shape[1]
    t_lo, t_hi = np.full(N, _THETA_EPS), np.full(N, 1.0 - _THETA_EPS)
    x_lo = _frontier_point(prefs, i, j, t_lo, lo, hi, 60)
    x_hi = _frontier_point(prefs, i, j, t_hi, lo, hi, 60)
    c_lo, ok = crit(x_lo), crit(x_hi) >= -FEASIBILITY_TOL
    done = c_lo >= 0
    for _ in range(iters):
        mid = 0.5 * (t_lo + t_hi)
        x = _frontier_point(prefs, i, j, mid, np.minimum(x_lo, x_hi), np.maximum(x_lo, x_hi))
        up = crit(x) < 0
        t_lo, t_hi = np.where(up, mid, t_lo), np.where(up, t_hi, mid)
        x_lo, x_hi = np.where(up, x, x_lo), np.where(up, x_hi, x)
    # exact crossing on the segment (covers the jumps of issues both value linearly)
    a, b = np.zeros(N), np.ones(N)
    for _ in range(50):
        mid = 0.5 * (a + b)
        up = crit(x_lo + mid * (x_hi - x_lo)) < 0
        a, b = np.where(up, mid, a), np.where(up, b, mid)
    x = x_lo + b * (x_hi - x_lo)
    return np.where(done, x_lo, x), ok


def _proposer_two_frontier(prefs, i, floor_j, lo, hi):
    j = 1 - i
    sub = prefs.subset([j])
    return _frontier_bisect(prefs, i, j, lambda x: utilities(x, sub)[0] - floor_j, lo, hi)


def _proposer_linear(prefs, i, floor, lo, hi):
    """Three or more principals, linear utilities: the linear programme ``max u_i`` s.t.
    ``u_j >= floor_j``, exactly (``core.solvers.linear_nash.ray_text`` along principal i's axis)."""
    P = prefs.position.shape[0]
    mine = np.arange(P)[:, None] == i
    d = np.where(mine, 0.0, floor)
    x, _ = ray_text(prefs, d, np.where(mine, 1.0, 0.0) * np.ones_like(floor), lo, hi)
    u = utilities(x, prefs)
    feasible = ((u - d >= -FEASIBILITY_TOL) | mine).all(axis=0)
    return x, feasible


def _proposer_barrier(prefs, i, floor, lo, hi):
    P = prefs.position.shape[0]
    d = np.where(np.arange(P)[:, None] == i, -1.0, floor)
    c = np.where(np.arange(P)[:, None] == i, 1.0, BARRIER_WEIGHT) * np.ones_like(floor)
    x0, feasible = nash_coordinate_ascent(prefs, d, c, lo, hi)
    x = _push_toward(prefs, x0, clipped_ideal(prefs, i, lo, hi), floor, i)
    return x, feasible


def _push_toward(prefs, x0, target, floor, skip):
    """The point of segment [x0, target] furthest toward ``target`` meeting every floor.

    Each responder's utility is concave along the segment and meets its floor at ``x0``, so
    the feasible part of the segment is an interval starting at ``x0``.
    """
    P = prefs.position.shape[0]
    others = np.arange(P) != skip

    def ok(t):
        u = utilities(x0 + t * (target - x0), prefs)
        return ((u - floor >= -FEASIBILITY_TOL) | ~others[:, None]).all(axis=0)

    t_ok, t_bad = np.zeros(x0.shape[1]), np.ones(x0.shape[1])
    full = ok(t_bad)
    for _ in range(50):
        mid = 0.5 * (t_ok + t_bad)
        good = ok(mid)
        t_ok, t_bad = np.where(good, mid, t_ok), np.where(good, t_bad, mid)
    t = np.where(full, 1.0, t_ok)
    return x0 + t * (target - x0)


def kalai_smorodinsky_text(prefs: Preferences, disagreement: np.ndarray, lo: np.ndarray,
                           hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kalai-Smorodinsky text: the furthest point along d + t (U - d) that some text reaches.

    ``U_i`` is actor i's best utility among texts giving everyone at least its disagreement
    value (the utopia point of the bargaining set). Returns ``(x, defined)``; ``defined`` is
    False where no text gives everyone its disagreement value (x is NaN there).
    """
    P, N = disagreement.shape
    d = disagreement
    if P == 2 and prefs.linear:
        return LinearFrontier.build(prefs, lo, hi).kalai_smorodinsky(d)
    utopia = np.empty((P, N))
    ok = np.ones(N, dtype=bool)
    for a in range(P):
        xa, fa = proposer_text(prefs, a, d, lo, hi)
        utopia[a] = utilities(xa, prefs.subset([a]))[0]
        ok &= fa & (utopia[a] >= d[a] - FEASIBILITY_TOL)
    span = np.maximum(utopia - d, 0.0)
    if P == 2 and not prefs.linear and lo.shape[0] > 1:
        def crit(x):
            u = utilities(x, prefs)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = (u - d) / np.where(span > 0, span, 1.0)
            return r[1] - r[0]
        x, _ = _frontier_bisect(prefs, 0, 1, crit, lo, hi)
    elif prefs.linear:
        # the furthest point along d + t (U - d): a linear programme, solved exactly
        r = np.where((span > 0).any(axis=0)[None], span, 1.0)
        x, _ = ray_text(prefs, d, r, lo, hi)
    else:
        t_ok, t_bad = np.zeros(N), np.ones(N)
        for _ in range(50):
            mid = 0.5 * (t_ok + t_bad)
            fl = d + mid * span
            xm, fm = proposer_text(prefs, 0, fl, lo, hi)
            good = fm & (utilities(xm, prefs.subset([0]))[0] >= fl[0] - FEASIBILITY_TOL)
            t_ok, t_bad = np.where(good, mid, t_ok), np.where(good, t_bad, mid)
        x, _ = proposer_text(prefs, 0, d + t_ok * span, lo, hi)
    return np.where(ok[None], x, np.nan), ok
