"""The mediator's screening plan against strategic responders (the mediated protocol).

One principal j holds its value of war privately; the others' values are common knowledge. The
drafter (the chair, bias b) values a settlement on text x at ``(1 - b) + b u_M(x)`` and no
settlement (or a failure) at 0, and discounts the rounds at j's patience (the clock of the
talks). It tables one text a round; the known principals accept any text worth their value of
war then (they have nothing to learn or to wait for: the drafter knows them, and a text below
their value is never tabled), and j plays the perfect Bayesian equilibrium: it accepts in round t
iff the text is worth at least ``(1 - d_j) w_j(t) + d_j`` (its value of the talks going on), so
types below a cutoff accept, and a rejection tells the drafter that j's first-round value lies
above it (skimming: Fudenberg & Tirole 1983; Sobel & Takahashi 1983).

This is the screening problem of ``core.solvers.screening`` with the drafter as the proposer:
given the worth ``v`` of the text to j, the drafter's best text is its own best text leaving j
``v`` and every known principal its value of war in that round (``proposer_text`` with the
drafter as one more actor), worth ``A_t(v) = (1 - b) + b u_M`` to it. ``A_t`` is tabulated at
``TABLE_POINTS`` values of ``v`` per round and interpolated linearly (exact where it is linear:
a drafter at one side's ideal on a pie); the backward induction over the cutoff, its grid and
refinement are the screening module's. A drafter of bias 0 values every settlement alike
(``A = 1``) and tables j's best text each round: waiting never pays, and strategic answers are
sincere ones (docs/protocols.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from negotiation_sim.core.beliefs import Prior
from negotiation_sim.core.preferences import Preferences, utilities
from negotiation_sim.core.solvers.drafting import extended
from negotiation_sim.core.solvers.proposer import proposer_text
from negotiation_sim.core.solvers.screening import (
    TABLE_POINTS,
    Frontier,
    ScreeningProblem,
    plan_groups,
)


def drafter_text(prefs: Preferences, drafter: Preferences, bias: np.ndarray, j: int,
                 floor: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The drafter's text leaving j at least ``v`` (``(n,)``, -inf: nothing) and every other
    principal its ``floor`` (``(P, n)``): ``(text (K, n), feasible (n,))``.

    Bias > 0: the drafter's best such text. Bias 0: j's best text meeting the floors (the
    unbiased drafter's text with one side unknown, ``core.solvers.drafting`` case 3).
    """
    P, n = floor.shape
    fl = floor.copy()
    fl[j] = -np.inf
    own, ok = proposer_text(prefs, j, fl, lo, hi)
    if not (bias > 0).any():
        return own, ok
    fl[j] = v
    ext = extended(prefs, drafter)
    x, ok_b = proposer_text(ext, P, np.concatenate([fl, np.full((1, n), -np.inf)]), lo, hi)
    biased = bias > 0
    return np.where(biased[None], x, own), np.where(biased, ok_b, ok)


def drafter_frontier(prefs: Preferences, drafter: Preferences, bias: np.ndarray, j: int,
                     floor: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Frontier:
    """What the drafter keeps, ``A(v)``, on one round's floors (``Frontier``'s interface):
    from ``v_min`` (j's worth of the drafter's best text) to ``v_max`` (j's best text).
    Where no text meets the known floors, ``v_max = -1``: no offer can be made."""
    P, g = floor.shape
    none = np.full(g, -np.inf)
    top, ok = drafter_text(prefs, drafter, np.zeros(g), j, floor, none, lo, hi)
    own, _ = drafter_text(prefs, drafter, bias, j, floor, none, lo, hi)
    v_max = np.where(ok, utilities(top, prefs)[j], -1.0)
    # bias 0: every text is worth 1 to the drafter, and it offers j's best (v_min = v_max)
    v_min = np.where(bias > 0, np.minimum(utilities(own, prefs)[j], v_max), v_max)
    v = v_min + (v_max - v_min) * np.linspace(0.0, 1.0, TABLE_POINTS)[:, None]
    cols = np.tile(np.arange(g), TABLE_POINTS)
    x, _ = drafter_text(prefs.take(cols), drafter.take(cols), bias[cols], j, floor[:, cols],
                        v.ravel(), lo[:, cols], hi[:, cols])
    worth = (1.0 - bias[cols]) + bias[cols] * utilities(x, drafter.take(cols))[0]
    return Frontier.tabulated(worth.reshape(TABLE_POINTS, g), v_min, v_max,
                              (1.0 - bias) + bias * utilities(own, drafter)[0])


def solve_drafter_plan(problem: ScreeningProblem, prior: Prior, strategic: bool,
                       frontiers: Callable[[np.ndarray], list[Frontier]], extra: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The drafter's plan in every world of ``problem``: ``(offer (Tn, n), cut (Tn, n),
    value (n,))`` as ``screening.solve_screening``. Worlds with the same inputs (the problem's
    and ``extra`` ``(n, E)``: the known floors, the bias, the drafter's preferences) share one
    computation; ``frontiers(idx)`` builds the per-round frontiers of worlds ``idx``."""
    feat = np.ascontiguousarray(np.concatenate([problem.features(), extra], axis=1))
    _, first, inverse = np.unique(feat, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    offer, cut, value = plan_groups(problem.take(first), prior, strategic, frontiers(first))
    return offer[:, inverse], cut[:, inverse], value[inverse]
