"""How much of a headline share's variance comes from the drawn inputs, and how much from the
events and choices in play: a variance decomposition over the simulated worlds.

A world's outcome Y (1 if it ends in agreement, say) depends on its drawn inputs X (the
scenario's distributions, sampled once per world) and on what happens in play (shocks, scheduled
events that fire or not, walk-outs, the mediator's learning). The law of total variance splits

    Var(Y) = Var(E[Y | X]) + E[Var(Y | X)]

into the part the inputs explain (what the priors say) and the part left to the process (what
the events and choices in play say). E[Var(Y | X)], the residual variance, is estimated without
fitting a model of E[Y | X], by the nearest-neighbour estimator of Devroye, Gyorfi, Lugosi & Walk
(2018, "A nearest neighbor estimate of the residual variance", Electron. J. Statist. 12:
1752-1778): ``(1 / 2n) sum_i (Y_i - Y_N(i))^2``, N(i) the world whose inputs are nearest to
world i's. Two worlds with the same inputs differ only by the process, so half their squared
difference is the process's variance there. The inputs are put on the scale of their ranks
(each uniform on [0, 1]), so that no input's unit decides the distance.

With many inputs the nearest neighbour is not very near, the difference then also carries some
of the inputs' effect, and the inputs' share is **underestimated** (a lower bound, in effect);
more worlds bring neighbours nearer. The estimate is clipped to [0, 1].
"""

from __future__ import annotations

import numpy as np

MIN_WORLDS = 50
"""Fewer worlds than this give no estimate."""


def rank_scale(x: np.ndarray) -> np.ndarray:
    """``(n, d)`` each column replaced by its ranks divided by n (ties share the lowest rank)."""
    n = x.shape[0]
    out = np.empty_like(x, dtype=float)
    for j in range(x.shape[1]):
        order = np.argsort(x[:, j], kind="stable")
        sorted_x = x[order, j]
        # ties take the rank of the first of them, so equal inputs stay equal
        first = np.r_[0, np.flatnonzero(np.diff(sorted_x)) + 1]
        ranks = np.empty(n)
        ranks[order] = np.repeat(first, np.diff(np.r_[first, n]))
        out[:, j] = ranks / n
    return out


def nearest_neighbours(x: np.ndarray) -> np.ndarray:
    """``(n,)`` the index of each row's nearest other row (Euclidean; scipy's k-d tree)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(x)
    _, idx = tree.query(x, k=2)
    me = np.arange(x.shape[0])
    # with duplicate rows the query may return a row itself second: take the other one
    return np.where(idx[:, 0] != me, idx[:, 0], idx[:, 1])


def decompose(x: np.ndarray, ys: dict[str, np.ndarray]) -> dict[str, dict[str, float] | None]:
    """Split each outcome's variance over worlds into the inputs' and the process's shares.

    Args:
        x: ``(n, d)`` the drawn inputs of each world (d may be 0: then the process explains all).
        ys: outcome name -> ``(n,)`` its value in each world (0/1 for a share).

    Returns:
        Per outcome ``{"mean", "variance", "inputs", "process"}`` (the shares of the variance,
        summing to 1), or None where the outcome does not vary or there are too few worlds.
    """
    n = x.shape[0]
    nn = nearest_neighbours(rank_scale(x)) if x.shape[1] and n >= MIN_WORLDS else None
    out: dict[str, dict[str, float] | None] = {}
    for name, y in ys.items():
        y = np.asarray(y, dtype=float)
        var = float(y.var())
        if n < MIN_WORLDS or var == 0.0:
            out[name] = None
            continue
        if nn is None:
            inputs = 0.0
        else:
            residual = 0.5 * float(np.mean((y - y[nn]) ** 2))
            inputs = float(np.clip(1.0 - residual / var, 0.0, 1.0))
        out[name] = {"mean": float(y.mean()), "variance": var, "inputs": inputs,
                     "process": 1.0 - inputs}
    return out


HEADLINES = ("agreement", "ceasefire", "breakdown", "no_summit", "talks", "leaders_meeting",
             "settled")
"""The headline shares decomposed: the four outcomes, then talks of every principal, a leaders'
meeting of every principal, and a settlement or ceasefire in force (the meetings table)."""


def headline_indicators(chunk) -> dict[str, np.ndarray]:
    """Each headline share's 0/1 per world of a chunk (``HEADLINES``)."""
    from negotiation_sim.core.outcomes import OUTCOMES

    out = {name: chunk.outcome == code for code, name in enumerate(OUTCOMES)}
    out["talks"] = chunk.talks_round >= 1
    out["leaders_meeting"] = chunk.leaders_round >= 1
    out["settled"] = chunk.settled_round >= 1
    return {k: out[k] for k in HEADLINES}
