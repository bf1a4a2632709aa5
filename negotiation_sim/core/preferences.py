"""Preferences over issues and their utilities, vectorised over worlds.

Texts ``x`` are ``(K, N)`` (issues x worlds), actor parameters ``(P, K, N)`` or ``(P, N)``.
This module owns ``Preferences`` and ``utilities`` (``u_i(x) = sum_k s_ik g(|x_k - p_ik|)`` with
g linear, quadratic or power; docs/model.md section 2), their slopes, the acceptance rule (``accepts``),
and weighted medians and means of positions. Nothing here knows about Mesa or scenario files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation_sim.core import columns

_TINY = 1e-300


FEASIBILITY_TOL = 1e-9  # a surplus this far below zero still counts as zero (ties accept)


def accepts(value: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """The acceptance rule of every party and every protocol, elementwise: what is on offer
    (a text, a package, a plan's worth) is taken when it is worth at least ``threshold`` (the
    value of war now, of waiting, plus any posture). Ties accept, up to ``FEASIBILITY_TOL``.

    ``PrincipalAgent.responds`` applies it to a principal's row; the solvers apply it where
    they foresee answers.
    """
    return value >= threshold - FEASIBILITY_TOL


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
        """Whether every actor has linear utility in every world (enables exact solvers).

        Kept for the arrays it was computed on (solvers ask it in every step of their loops)."""
        key = (id(self.power), id(self.quadratic))
        cached = self.__dict__.get("_linear")
        if cached is None or cached[0] != key:
            cached = (key, not self.quadratic.any() and bool(np.all(self.power == 1.0)))
            self.__dict__["_linear"] = cached
        return cached[1]

    def take(self, idx: np.ndarray) -> Preferences:
        """The same preferences restricted to worlds ``idx``."""
        return Preferences(
            columns.take(self.position, idx),
            columns.take(self.salience, idx),
            columns.take(self.power, idx),
            self.quadratic,
        )

    def subset(self, actors: list[int] | np.ndarray) -> Preferences:
        """The preferences of some actors only."""
        a = np.asarray(actors)
        return Preferences(_rows(self.position, a), _rows(self.salience, a),
                           _rows(self.power, a), self.quadratic[a])


def _rows(v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``v[a]``; rows of a constant stay a constant (``core.columns``)."""
    if columns.is_constant(v):
        return columns.constant(v[a][..., :1], v.shape[-1])
    return v[a]


def issue_values(x: np.ndarray, prefs: Preferences) -> np.ndarray:
    """Per-issue value ``g(|x_k - p_ik|)`` in [0, 1], shape ``(P, K, N)``.

    C-ordered whatever the layout of ``x`` and ``prefs`` (constants, ``core.columns``, are
    stride-0 views): the sums over issues that follow add in one order."""
    dist = np.abs(np.subtract(x[None], prefs.position, order="C"))
    if prefs.linear:
        return 1.0 - dist
    g = np.power(np.clip(1.0 - dist, 0.0, 1.0), prefs.power[:, None, :])
    if prefs.quadratic.any():
        q = prefs.quadratic[:, None, None]
        g = np.where(q, 1.0 - dist * dist, g)
    return g


def utilities(x: np.ndarray, prefs: Preferences) -> np.ndarray:
    """Utility of text ``x`` (K, N) for every actor: ``(P, N)``, 1 at the actor's ideal point.

    Summed issue by issue in issue order, so a world's utility is the same bits however many
    worlds share the array (``einsum`` adds the issues in another order when N is 1, and a
    chunk's last worlds would then depend on how the run was chunked)."""
    values = issue_values(x, prefs)
    salience = prefs.salience
    if values.shape[1] == 0:
        return np.zeros(values.shape[::2])
    total = salience[:, 0] * values[:, 0]
    for k in range(1, values.shape[1]):
        total = total + salience[:, k] * values[:, k]
    return total


def utilities_where(x: np.ndarray, prefs: Preferences, mask: np.ndarray) -> np.ndarray:
    """``utilities(x, prefs)`` in the worlds of ``mask`` ``(N,)``, 0 in the others, for a
    text read in a few worlds only. A world's utility reads its own column alone, so it has
    the bits it has in the whole array."""
    if mask.all():
        return utilities(x, prefs)
    out = np.zeros((prefs.position.shape[0], mask.size))
    idx = np.flatnonzero(mask)
    if idx.size:
        out[:, idx] = utilities(np.ascontiguousarray(x[:, idx]), prefs.take(idx))
    return out


def issue_slopes(x: np.ndarray, prefs: Preferences) -> np.ndarray:
    """d g(|x - p|) / dx per actor and issue (right-derivative at kinks): ``(P, K, N)``."""
    diff = np.subtract(x[None], prefs.position, order="C")
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
