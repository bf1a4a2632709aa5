"""What the others believe about each principal's value of war: a common prior, updated by Bayes.

Under ``protocol.information: private`` each principal knows its own value of war; the mediator
and the other principals hold the scenario's distribution of that principal's ``reservation`` as
their common prior. Every answer is public, so everyone updates alike: the belief about
principal i is its prior truncated to the interval of first-round values its answers allow,
``w_i(1) in (lo_i, hi_i]``. Later values move by public changes only (pressure, events), so
``w_i(t) = clip(w_i(1) + shift_i(t), 0, 1)`` with the shift known to all (docs/model.md).

A principal whose ``reservation`` is a fixed number, every principal under complete information,
and a principal whose value of war an event sets publicly, is *known*: its belief is a point.

Answers reveal a threshold: a principal that accepts a text worth ``u`` to it while claiming
``e`` above its value of war has ``w(t) <= u - e``; one that rejects it has ``w(t) > u - e``. Both
translate into bounds on ``w(1)`` because the shift is public, and the true value always stays
inside (the invariant the tests check).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation_sim.config.distributions import (
    Uniform,
    is_random,
)
from negotiation_sim.core import columns

_MEAN_NODES = 64  # quadrature cells for the mean of a non-uniform belief


class Prior:
    """One principal's prior over its first-round value of war: a CDF on the real line."""

    def __init__(self, dist) -> None:
        self.dist = dist
        self.uniform = isinstance(dist, Uniform)
        low, high = dist.support()
        self.low, self.high = float(low), float(high)

    def cdf(self, y: np.ndarray) -> np.ndarray:
        """``P(w(1) <= y)``, elementwise (right-continuous): the distribution's own CDF."""
        return self.dist.cdf(y)

    def ppf(self, z: np.ndarray) -> np.ndarray:
        """The smallest first-round value of war ``y`` with ``P(w(1) <= y) >= z``,
        elementwise: the distribution's own quantile function."""
        return self.dist.ppf(z)


@dataclass
class Beliefs:
    """Public beliefs about every principal's value of war in every live world.

    Attributes:
        lo: ``(P, n)`` the belief about ``w(1)`` excludes values at or below this.
        hi: ``(P, n)`` ... and values above this.
        known: ``(P, n)`` whether the value is common knowledge (then lo and hi are unused).
    """

    lo: np.ndarray
    hi: np.ndarray
    known: np.ndarray

    @classmethod
    def prior(cls, priors: list[Prior | None], n: int) -> Beliefs:
        """The common prior: unknown where a principal has a prior (``None``: known)."""
        P = len(priors)
        known = np.array([[p is None] for p in priors], dtype=bool).reshape(P, 1)
        return cls(columns.constant(np.full((P, 1), -np.inf), n),
                   columns.constant(np.full((P, 1), np.inf), n), columns.constant(known, n))

    def head(self, m: int) -> Beliefs:
        """The beliefs in the first ``m`` worlds (contiguous copies)."""
        return Beliefs(*(np.ascontiguousarray(a[:, :m]) for a in (self.lo, self.hi, self.known)))

    @property
    def public_constant(self) -> bool:
        """Whether the beliefs are the same in every world and no value of war is known (so
        nothing drawn in a world enters what is drafted from them)."""
        return (columns.all_constant(self.lo, self.hi, self.known)
                and not self.known[:, :1].any())

    def take(self, idx: np.ndarray) -> Beliefs:
        return Beliefs(columns.take(self.lo, idx), columns.take(self.hi, idx),
                       columns.take(self.known, idx))

    def update(self, accept: np.ndarray, threshold: np.ndarray, shift: np.ndarray) -> None:
        """Learn from one round's answers: principal i accepted (or rejected) a text it
        values at ``threshold`` above its claim, i.e. ``w_i(t) <= threshold`` (or ``>``).

        With ``w(t) = clip(w(1) + shift, 0, 1)`` an answer says something about ``w(1)`` only
        where the threshold lies inside ``[0, 1)``: above 1 every principal accepts, below 0
        every principal rejects.
        """
        bound = threshold - shift
        informative = (threshold >= 0.0) & (threshold < 1.0) & ~self.known
        self.hi = np.where(informative & accept, np.minimum(self.hi, bound), self.hi)
        self.lo = np.where(informative & ~accept, np.maximum(self.lo, bound), self.lo)

    def accept_probability(self, priors: list[Prior | None], i: int, margin: np.ndarray,
                           shift: np.ndarray, value: np.ndarray) -> np.ndarray:
        """``(n,)`` the probability, under the beliefs, that principal i accepts: that its value
        of war now is at most ``margin`` (its value of the text minus its claim above the
        value of war). ``value``: its true value of war now, used where it is known."""
        known = self.known[i]
        out = (value <= margin + 1e-9).astype(float)
        prior = priors[i]
        if prior is None or known.all():
            return out
        y = np.minimum(margin - shift, self.hi[i])
        F_lo, F_hi = prior.cdf(self.lo[i]), prior.cdf(self.hi[i])
        mass = F_hi - F_lo
        p = np.where(mass > 0, np.clip((prior.cdf(y) - F_lo) / np.where(mass > 0, mass, 1.0),
                                       0.0, 1.0), (margin - shift >= self.hi[i]).astype(float))
        p = np.where(margin >= 1.0, 1.0, np.where(margin < 0.0, 0.0, p))
        return np.where(known, out, p)

    def bounds(self, priors: list[Prior | None], shift: np.ndarray,
               value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``, each ``(P, n)``: the range of values of war now that the beliefs
        allow (a point where known), on the utility scale."""
        low, high = value.copy(), value.copy()
        for i, prior in enumerate(priors):
            if prior is None:
                continue
            unk = ~self.known[i]
            lo_w = np.maximum(self.lo[i], prior.low)
            hi_w = np.minimum(self.hi[i], prior.high)
            low[i] = np.where(unk, np.clip(lo_w + shift[i], 0.0, 1.0), low[i])
            high[i] = np.where(unk, np.clip(hi_w + shift[i], 0.0, 1.0), high[i])
        return low, high

    def means(self, priors: list[Prior | None], shift: np.ndarray,
              value: np.ndarray) -> np.ndarray:
        """``(P, n)`` the mean value of war now under the beliefs (the true one where known)."""
        low, high = self.bounds(priors, shift, value)
        out = value.copy()
        for i, prior in enumerate(priors):
            if prior is None:
                continue
            unk = ~self.known[i]
            if prior.uniform:
                mean = 0.5 * (low[i] + high[i])
            else:
                edges = low[i] + (high[i] - low[i]) * np.linspace(0, 1, _MEAN_NODES + 1)[:, None]
                F = self.accept_probability(priors, i, edges, shift[i], value[i])
                mids = 0.5 * (edges[1:] + edges[:-1])
                mass = np.diff(F, axis=0)
                total = mass.sum(axis=0)
                mean = np.where(total > 0, (mids * mass).sum(axis=0) / np.where(total > 0, total, 1),
                                0.5 * (low[i] + high[i]))
            out[i] = np.where(unk, mean, out[i])
        return out

    def true_value_inside(self, w1: np.ndarray) -> np.ndarray:
        """``(P, n)`` whether each principal's true first-round value lies inside its belief
        (always, by construction; the tests check it)."""
        return self.known | ((w1 > self.lo - 1e-9) & (w1 <= self.hi + 1e-9))


def priors_of(scenario, information: str) -> list[Prior | None]:
    """Each principal's prior over its value of war (None: common knowledge): its ``belief``
    if the scenario sets one, else the distribution of its ``reservation``."""
    out: list[Prior | None] = []
    for p in scenario.principals:
        actor = scenario.actors[p]
        value = actor.belief if actor.belief is not None else actor.reservation
        out.append(Prior(value) if information == "private" and is_random(value) else None)
    return out
