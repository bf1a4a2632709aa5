"""Utilities and the solution concepts of bargaining theory, vectorised over worlds.

Every function here is plain numpy on arrays with worlds on the last axis:
texts ``x`` are ``(K, N)`` (issues x worlds), actor parameters ``(P, K, N)`` or ``(P, N)``.
The mediator and the protocols call these; nothing here knows about Mesa or scenario files.

Contents (equations in docs/model.md):
- ``Preferences`` and ``utilities``: ``u_i(x) = sum_k s_ik g(|x_k - p_ik|)`` with g linear,
  quadratic or power.
- ``nash_text``: the generalised (asymmetric) Nash bargaining solution inside a box of feasible
  texts (red lines and guarantor caps are bounds per issue). Exact for two principals with
  linear utilities (the Pareto frontier is piecewise linear: walk its segments in closed form);
  a vectorised coordinate ascent with exact one-dimensional line solves otherwise.
- ``utilitarian_text``: the clout-weighted utilitarian text, the limit of the Nash text as
  disagreement points fall, used when claims leave no acceptable text.
- ``weighted_median`` and ``weighted_mean`` of positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TINY = 1e-300
FEASIBILITY_TOL = 1e-9  # a surplus this far below zero still counts as zero (ties accept)


@dataclass
class Preferences:
    """Positions, normalised saliences and utility shapes of P actors over K issues in N worlds.

    Attributes:
        position: ``(P, K, N)`` ideal points in [0, 1].
        salience: ``(P, K, N)`` weights, summing to 1 over issues.
        power: ``(P, N)`` exponent ``a`` of ``(1 - |d|)^a`` (1 for linear).
        quadratic: ``(P,)`` bool, quadratic loss ``1 - d^2`` instead.
    """

    position: np.ndarray
    salience: np.ndarray
    power: np.ndarray
    quadratic: np.ndarray

    @property
    def linear(self) -> bool:
        """Whether every actor has linear utility in every world (enables exact solvers)."""
        return not self.quadratic.any() and bool(np.all(self.power == 1.0))

    def take(self, idx: np.ndarray) -> Preferences:
        """The same preferences restricted to worlds ``idx``."""
        return Preferences(
            self.position.take(idx, axis=-1),
            self.salience.take(idx, axis=-1),
            self.power.take(idx, axis=-1),
            self.quadratic,
        )

    def subset(self, actors: list[int] | np.ndarray) -> Preferences:
        """The preferences of some actors only."""
        a = np.asarray(actors)
        return Preferences(self.position[a], self.salience[a], self.power[a], self.quadratic[a])


def issue_values(x: np.ndarray, prefs: Preferences) -> np.ndarray:
    """Per-issue value ``g(|x_k - p_ik|)`` in [0, 1], shape ``(P, K, N)``."""
    dist = np.abs(x[None] - prefs.position)
    if prefs.linear:
        return 1.0 - dist
    g = np.power(np.clip(1.0 - dist, 0.0, 1.0), prefs.power[:, None, :])
    if prefs.quadratic.any():
        q = prefs.quadratic[:, None, None]
        g = np.where(q, 1.0 - dist * dist, g)
    return g


def utilities(x: np.ndarray, prefs: Preferences) -> np.ndarray:
    """Utility of text ``x`` (K, N) for every actor: ``(P, N)``, 1 at the actor's ideal point."""
    return np.einsum("pkn,pkn->pn", prefs.salience, issue_values(x, prefs))


def _issue_slopes(x: np.ndarray, prefs: Preferences) -> np.ndarray:
    """d g(|x - p|) / dx per actor and issue (right-derivative at kinks): ``(P, K, N)``."""
    diff = x[None] - prefs.position
    sign = np.where(diff >= 0.0, 1.0, -1.0)
    dist = np.abs(diff)
    if prefs.linear:
        return -sign
    a = prefs.power[:, None, :]
    base = np.clip(1.0 - dist, 1e-12, 1.0)
    slope = -sign * a * np.power(base, a - 1.0)
    if prefs.quadratic.any():
        slope = np.where(prefs.quadratic[:, None, None], -2.0 * diff, slope)
    return slope


# -- weighted medians and means -------------------------------------------------------------


def weighted_median(values: np.ndarray, weights: np.ndarray, *, ties: str = "low") -> np.ndarray:
    """Weighted median along axis 0 (the point no weighted majority wants to move from).

    Args:
        values: ``(A, ...)`` positions of A actors.
        weights: ``(A, ...)`` non-negative weights (clout x salience).
        ties: when the cumulative weight reaches exactly half at some value, "low" returns
            that value (the lower median), "mid" the midpoint to the next value.

    Returns:
        ``(...)`` the smallest value whose cumulative weight reaches half the total (or the
        midpoint, see ``ties``). With all weights zero, the unweighted mean.
    """
    if values.shape[0] == 2:
        return _weighted_median_two(values, weights, ties)
    order = np.argsort(values, axis=0, kind="stable")
    v = np.take_along_axis(values, order, axis=0)
    w = np.take_along_axis(weights, order, axis=0)
    cum = np.cumsum(w, axis=0)
    total = cum[-1]
    idx = np.argmax(cum >= 0.5 * total - 1e-12 * total, axis=0)
    med = np.take_along_axis(v, idx[None], axis=0)[0]
    if ties == "mid" and v.shape[0] > 1:
        at = np.take_along_axis(cum, idx[None], axis=0)[0]
        nxt = np.take_along_axis(v, np.minimum(idx + 1, v.shape[0] - 1)[None], axis=0)[0]
        exact = np.abs(at - 0.5 * total) <= 1e-12 * total
        med = np.where(exact, 0.5 * (med + nxt), med)
    return np.where(total > 0, med, values.mean(axis=0))


def _weighted_median_two(values: np.ndarray, weights: np.ndarray, ties: str) -> np.ndarray:
    """``weighted_median`` of two actors in closed form: the heavier one's value, with the
    same relative tolerance for ties as the general rule."""
    (v0, v1), (w0, w1) = values, weights
    first_low = v0 <= v1
    lower, upper = np.where(first_low, v0, v1), np.where(first_low, v1, v0)
    w_low, w_up = np.where(first_low, w0, w1), np.where(first_low, w1, w0)
    total = w0 + w1
    tie = np.abs(w_low - w_up) <= 2e-12 * total
    at_tie = lower if ties == "low" else 0.5 * (lower + upper)
    med = np.where(tie, at_tie, np.where(w_low > w_up, lower, upper))
    return np.where(total > 0, med, 0.5 * (v0 + v1))


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean along axis 0 (unweighted where all weights are zero)."""
    total = weights.sum(axis=0)
    mean = (values * weights).sum(axis=0) / np.where(total > 0, total, 1.0)
    return np.where(total > 0, mean, values.mean(axis=0))


# -- texts ------------------------------------------------------------------------------------


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
        x = _bisect_issues(prefs, w, lo, hi)
    return np.clip(x, lo, hi)


def _bisect_issues(prefs: Preferences, w: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   iters: int = 48) -> np.ndarray:
    """Per issue, the root of ``sum_i w_ik g'_ik(x)`` on [lo, hi] by bisection (concave g)."""
    a, b = lo.copy(), hi.copy()
    for _ in range(iters):
        mid = 0.5 * (a + b)
        up = (w * _issue_slopes(mid, prefs)).sum(axis=0) > 0
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


@dataclass
class LinearFrontier:
    """The Pareto frontier of two principals with linear utilities inside a box.

    The weighted-sum maximisers ``theta u_1 + (1 - theta) u_2`` trace the Pareto frontier; with
    linear utilities each issue jumps from principal 2's (clipped) ideal to principal 1's at
    ``theta_k = s_2k / (s_1k + s_2k)``, so the frontier is a chain of K segments, sorted by that
    ratio, along which both utilities are linear. It depends only on positions, saliences and
    the box, so it is built once and re-used as disagreement points change round by round.

    Attributes (all ``(K, N)``): ``a1``/``a2`` the principals' ideals clipped to the box;
    ``rank`` each issue's place in the segment order; ``g1``/``g2`` principal 1's gain and
    principal 2's loss along each segment (in segment order); ``start1``/``start2`` the
    utilities at the start of each segment.
    """

    a1: np.ndarray
    a2: np.ndarray
    rank: np.ndarray
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
        g1 = np.take_along_axis(gain1, order, axis=0)
        g2 = np.take_along_axis(loss2, order, axis=0)
        u1_0 = (sal[0] * (1.0 - np.abs(a2 - pos[0]))).sum(axis=0)
        u2_0 = (sal[1] * (1.0 - np.abs(a2 - pos[1]))).sum(axis=0)
        start1 = u1_0 + np.cumsum(g1, axis=0) - g1
        start2 = u2_0 - (np.cumsum(g2, axis=0) - g2)
        rank = np.argsort(order, axis=0, kind="stable")
        return cls(a1, a2, rank, g1, g2, start1, start2)

    def nash(self, d: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The Nash text for disagreement points ``d`` and clouts ``c`` (both ``(2, N)``).

        On each segment the Nash product has a closed-form maximiser; the best feasible
        segment wins. Returns ``(x, feasible)``.
        """
        t, value, ok = _segment_nash(self.start1 - d[0], self.start2 - d[1], self.g1, self.g2,
                                     c[0], c[1])
        best = np.argmax(np.where(ok, value, -np.inf), axis=0)  # (N,)
        t_best = np.take_along_axis(t, best[None], axis=0)[0]
        return self.text(best, t_best), ok.any(axis=0)

    def text(self, segment: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The text at fraction ``t`` of segment ``segment`` (both ``(N,)``): ``(K, N)``.

        Issues ordered before the segment sit at principal 1's clipped ideal, after it at 2's.
        """
        frac = np.where(self.rank < segment, 1.0, np.where(self.rank == segment, t, 0.0))
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
        return LinearFrontier(*(getattr(self, f).take(idx, axis=-1)
                                for f in self.__dataclass_fields__))


class NashSolver:
    """Nash texts for fixed preferences, clouts and box, re-solved as disagreement points move.

    Everything that does not depend on the disagreement points (the two-principal frontier,
    the utilitarian fallback) is computed once; ``take`` keeps it aligned when worlds are
    compacted away.
    """

    def __init__(self, prefs: Preferences, clout: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 *, _frontier: LinearFrontier | None = None, _fallback: np.ndarray | None = None):
        self.prefs, self.clout, self.lo, self.hi = prefs, clout, lo, hi
        exact = prefs.position.shape[0] == 2 and prefs.linear
        self.frontier = _frontier if _frontier is not None or not exact else \
            LinearFrontier.build(prefs, lo, hi)
        self._fallback = _fallback

    def fallback(self) -> np.ndarray:
        """The clout-weighted utilitarian text (computed on first use)."""
        if self._fallback is None:
            self._fallback = utilitarian_text(self.prefs, self.clout, self.lo, self.hi)
        return self._fallback

    def solve(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(x, feasible)`` exactly as ``nash_text(prefs, d, clout, lo, hi)``."""
        if self.frontier is not None:
            x, feasible = self.frontier.nash(d, self.clout)
        else:
            x, feasible = _nash_coordinate_ascent(self.prefs, d, self.clout, self.lo, self.hi)
        if not feasible.all():
            x = np.where(feasible[None], x, self.fallback())
        return x, feasible

    def take(self, idx: np.ndarray) -> NashSolver:
        """The solver of worlds ``idx`` only."""
        return NashSolver(
            self.prefs.take(idx), self.clout.take(idx, axis=-1), self.lo.take(idx, axis=-1),
            self.hi.take(idx, axis=-1),
            _frontier=None if self.frontier is None else self.frontier.take(idx),
            _fallback=None if self._fallback is None else self._fallback.take(idx, axis=-1))


def _segment_nash(y1, y2, g1, g2, c1, c2):
    """Maximise ``c1 log(y1 + t g1) + c2 log(y2 - t g2)`` over t in [0, 1] with both terms >= 0.

    Returns ``(t, value, feasible)`` per segment, arrays of the shape of ``y1``.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t_lo = np.where(g1 > 0, np.maximum(0.0, -y1 / g1), np.where(y1 >= -FEASIBILITY_TOL, 0.0, np.inf))
        t_hi = np.where(g2 > 0, np.minimum(1.0, y2 / g2), np.where(y2 >= -FEASIBILITY_TOL, 1.0, -np.inf))
        ok = t_lo <= t_hi + 1e-9
        interior = (c1 * g1 * y2 - c2 * g2 * y1) / ((c1 + c2) * g1 * g2)
        t_star = np.where((g1 > 0) & (g2 > 0), interior, np.where(g1 > 0, np.inf, -np.inf))
        t = np.clip(t_star, t_lo, np.maximum(t_lo, t_hi))
        t = np.where(ok, np.clip(t, 0.0, 1.0), 0.0)
        value = c1 * np.log(np.maximum(y1 + t * g1, _TINY)) + c2 * np.log(
            np.maximum(y2 - t * g2, _TINY)
        )
    return t, value, ok


# Continuation in the shift sigma: maximise sum c log(u - d + sigma) for falling sigma, so
# the iterate stays where the objective is finite and ends at the Nash text when one exists.
_SIGMAS = (1.0, 0.1, 0.01, 1e-3, 1e-5, 0.0)


def _nash_coordinate_ascent(prefs, d, c, lo, hi, sweeps: int = 4, final_sweeps: int = 60,
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
        slope = np.einsum("pkn,pkn->pn", prefs.salience, _issue_slopes(xm, prefs) * v[None])
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
    sub = Preferences(
        prefs.position[:, k : k + 1], prefs.salience[:, k : k + 1], prefs.power, prefs.quadratic
    )
    s = prefs.salience[:, k]
    a, b = lo.copy(), hi.copy()
    for _ in range(iters):
        mid = 0.5 * (a + b)
        m = mid[None]
        gk = issue_values(m, sub)[:, 0]
        slope = _issue_slopes(m, sub)[:, 0]
        denom = np.maximum(rest + s * gk, _TINY)
        up = (c * s * slope / denom).sum(axis=0) > 0
        a = np.where(up, mid, a)
        b = np.where(up, b, mid)
    return 0.5 * (a + b)


# -- the proposer's problem (alternating offers) and Kalai-Smorodinsky ----------------------
#
# ``proposer_text`` solves  max u_i(x)  s.t.  u_j(x) >= floor_j for every j != i,  x in [lo, hi].
# Methods, chosen per call (all vectorised over worlds; docs/protocols.md states the precision):
# - one issue, any P, any utility shape: exact. Each responder's acceptable set is an interval
#   around its position (utilities are unimodal on a line); the proposer takes its ideal point
#   clipped to the intersection.
# - two principals, linear utilities, any K: exact. Moving issue k from the responder's
#   (clipped) ideal to the proposer's trades utility linearly, so the problem is a fractional
#   knapsack: move issues in order of the proposer's gain per unit of the responder's loss
#   until the responder's floor binds (the greedy is optimal for the linear programme).
# - two principals, concave utilities: bisection on the weight theta of the weighted-utility
#   frontier x(theta) = argmax (1 - theta) u_i + theta u_j (separable per issue), then an exact
#   crossing on the segment between the bracketing texts; utilities to ~1e-9.
# - more principals and issues: a feasible text from the barrier problem (the Nash solver
#   with weight 1 on the proposer and BARRIER_WEIGHT on responders), pushed as far toward the
#   proposer's ideal as every floor allows; feasible, within ~1e-3 of the optimum.

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
    j = 1 - i
    pos, sal = prefs.position, prefs.salience
    ai, aj = np.clip(pos[i], lo, hi), np.clip(pos[j], lo, hi)
    gain = sal[i] * (np.abs(aj - pos[i]) - np.abs(ai - pos[i]))  # >= 0
    loss = sal[j] * (np.abs(ai - pos[j]) - np.abs(aj - pos[j]))  # >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        key = np.where(gain > 0, loss / (gain + loss), np.inf)  # ascending = most efficient first
    order = np.argsort(key, axis=0, kind="stable")
    g = np.take_along_axis(gain, order, axis=0)
    ls = np.take_along_axis(loss, order, axis=0)
    slack = (sal[j] * (1.0 - np.abs(aj - pos[j]))).sum(axis=0) - floor_j  # what j can give up
    before = np.cumsum(ls, axis=0) - ls
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(ls > 0, np.clip((slack - before) / ls, 0.0, 1.0), 1.0)
    frac = np.where(g > 0, frac, 0.0)
    rank = np.argsort(order, axis=0, kind="stable")
    frac = np.take_along_axis(frac, rank, axis=0)
    return aj + frac * (ai - aj), slack >= -FEASIBILITY_TOL


def _frontier_point(prefs, i, j, theta, a, b, iters=30):
    """argmax of ``(1 - theta) u_i + theta u_j`` per issue, searched in the bracket [a, b]."""
    P = prefs.position.shape[0]
    w = np.zeros((P,) + theta.shape)
    w[i], w[j] = 1.0 - theta, theta
    return _bisect_issues(prefs, w[:, None, :] * prefs.salience, a, b, iters)


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


def _proposer_barrier(prefs, i, floor, lo, hi):
    P = prefs.position.shape[0]
    d = np.where(np.arange(P)[:, None] == i, -1.0, floor)
    c = np.where(np.arange(P)[:, None] == i, 1.0, BARRIER_WEIGHT) * np.ones_like(floor)
    x0, feasible = _nash_coordinate_ascent(prefs, d, c, lo, hi)
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


def rubinstein_share(delta_first: np.ndarray | float, delta_second: np.ndarray | float):
    """Rubinstein (1982): the first proposer's share of a unit pie, infinite horizon.

    ``(1 - d2) / (1 - d1 d2)``; 1/2 in the limit of equal patience 1.
    """
    d1, d2 = np.asarray(delta_first, float), np.asarray(delta_second, float)
    denom = 1.0 - d1 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(denom > 0, (1.0 - d2) / np.where(denom > 0, denom, 1.0), 0.5)
    return share


def stahl_share(delta_first: float, delta_second: float, rounds: int) -> float:
    """Stahl (1972): the first proposer's share of a unit pie when round ``rounds`` is the last.

    The last proposer takes the whole pie; one round earlier the proposer offers the other
    what it would take as proposer next round, discounted by its patience.
    """
    deltas = (delta_first, delta_second)
    share = 1.0
    for t in range(rounds - 1, 0, -1):
        responder = t % 2  # round t's proposer is (t - 1) % 2; its responder proposes next
        share = 1.0 - deltas[responder] * share
    return share


def reference_texts(prefs: Preferences, reservation: np.ndarray, clout: np.ndarray,
                    lo: np.ndarray, hi: np.ndarray, positions: np.ndarray,
                    weights: np.ndarray, solver: NashSolver | None = None) -> dict[str, np.ndarray]:
    """The solution concepts of one ensemble of worlds, each ``(K, N)``, for the run summary.

    Nash and Kalai-Smorodinsky among the principals, with their reservations as disagreement
    points, inside the red lines and caps (NaN in worlds where no text gives every principal its
    reservation); the weighted mean and median of all positioned actors' ideal points, weights
    ``(A, K, N)`` (capability x salience). ``solver``, a ``NashSolver`` of the same worlds,
    saves building the frontier again.
    """
    if solver is None:
        solver = NashSolver(prefs, clout, lo, hi)
    nash, ok = solver.solve(reservation)
    if solver.frontier is not None:
        ks, _ = solver.frontier.kalai_smorodinsky(reservation)
    else:
        ks, _ = kalai_smorodinsky_text(prefs, reservation, lo, hi)
    return {
        "nash": np.where(ok[None], nash, np.nan),
        "kalai_smorodinsky": ks,
        "weighted_mean": weighted_mean(positions, weights),
        "weighted_median": weighted_median(positions, weights, ties="mid"),
    }
