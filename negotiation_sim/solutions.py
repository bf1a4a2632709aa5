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
    order = np.argsort(values, axis=0, kind="stable")
    v = np.take_along_axis(values, order, axis=0)
    w = np.take_along_axis(weights, order, axis=0)
    cum = np.cumsum(w, axis=0)
    total = cum[-1]
    idx = np.argmax(cum >= 0.5 * total - 1e-12 * np.maximum(total, 1.0), axis=0)
    med = np.take_along_axis(v, idx[None], axis=0)[0]
    if ties == "mid" and v.shape[0] > 1:
        at = np.take_along_axis(cum, idx[None], axis=0)[0]
        nxt = np.take_along_axis(v, np.minimum(idx + 1, v.shape[0] - 1)[None], axis=0)[0]
        exact = np.abs(at - 0.5 * total) <= 1e-12 * np.maximum(total, 1.0)
        med = np.where(exact, 0.5 * (med + nxt), med)
    return np.where(total > 0, med, values.mean(axis=0))


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
    if prefs.position.shape[0] == 2 and prefs.linear:
        x, feasible = _nash_two_linear(prefs, disagreement, clout, lo, hi)
    else:
        x, feasible = _nash_coordinate_ascent(prefs, disagreement, clout, lo, hi)
    if not feasible.all():
        fallback = utilitarian_text(prefs, clout, lo, hi)
        x = np.where(feasible[None], x, fallback)
    return x, feasible


def _nash_two_linear(prefs, d, c, lo, hi):
    """Exact Nash text for two principals with linear utilities.

    The weighted-sum maximisers ``theta u_1 + (1 - theta) u_2`` trace the Pareto frontier; with
    linear utilities each issue jumps from principal 2's (clipped) ideal to principal 1's at
    ``theta_k = s_2k / (s_1k + s_2k)``, so the frontier is a chain of K segments, sorted by that
    ratio, along which both utilities are linear. On each segment the Nash product has a
    closed-form maximiser; the best feasible segment wins.
    """
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
    start1 = u1_0 + np.cumsum(g1, axis=0) - g1  # utility at the start of each segment
    start2 = u2_0 - (np.cumsum(g2, axis=0) - g2)
    t, value, ok = _segment_nash(start1 - d[0], start2 - d[1], g1, g2, c[0], c[1])
    best = np.argmax(np.where(ok, value, -np.inf), axis=0)  # (N,)
    feasible = ok.any(axis=0)
    t_best = np.take_along_axis(t, best[None], axis=0)[0]
    # Issues sorted before the best segment sit at principal 1's clipped ideal, after it at 2's.
    rank = np.argsort(order, axis=0, kind="stable")
    frac = np.where(rank < best, 1.0, np.where(rank == best, t_best, 0.0))
    return a2 + frac * (a1 - a2), feasible


def _segment_nash(y1, y2, g1, g2, c1, c2):
    """Maximise ``c1 log(y1 + t g1) + c2 log(y2 - t g2)`` over t in [0, 1] with both terms >= 0.

    Returns ``(t, value, feasible)`` per segment, arrays of the shape of ``y1``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
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
