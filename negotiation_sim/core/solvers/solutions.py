"""Solution concepts in closed form and the reference texts a run reports.

``rubinstein_share`` and ``stahl_share`` are the published answers the protocols are tested
against; ``reference_texts`` gives each world's Nash, Kalai-Smorodinsky, weighted mean and
weighted median texts for the run summary.
"""

from __future__ import annotations

import numpy as np

from negotiation_sim.core import columns
from negotiation_sim.core.columns import on_column
from negotiation_sim.core.preferences import Preferences, weighted_mean, weighted_median
from negotiation_sim.core.solvers.nash import NashSolver
from negotiation_sim.core.solvers.proposer import kalai_smorodinsky_text


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
                    lo: np.ndarray, hi: np.ndarray,
                    positions: tuple[np.ndarray, np.ndarray | None],
                    weights: tuple[np.ndarray, np.ndarray], solver: NashSolver | None = None) -> dict[str, np.ndarray]:
    """The solution concepts of one ensemble of worlds, each ``(K, N)``, for the run summary.

    Nash and Kalai-Smorodinsky among the principals, with their reservations as disagreement
    points, inside the red lines and caps (NaN in worlds where no text gives every principal its
    reservation); the weighted mean and median of all positioned actors' ideal points
    (``positions``: the principals' ``(P, K, N)`` and the others' ``(A - P, K, N)`` or None),
    weighted by capability ``(A, N)`` x salience ``(A, K, N)`` (``weights``). Where those are
    the same in every world (``core.columns``) the mean and median are computed once.
    ``solver``, a ``NashSolver`` of the same worlds, saves building the frontier again.
    """
    n = reservation.shape[-1]
    positions = on_column(lambda a, b: a if b is None else np.concatenate([a, b]), n, *positions)
    weights = on_column(lambda c, s: c[:, None, :] * s, n, *weights)
    if solver is None:
        solver = NashSolver(prefs, clout, lo, hi)
    nash, ok = solver.solve(reservation)
    if solver.frontier is not None:
        ks, _ = solver.frontier.kalai_smorodinsky(reservation)
    else:
        # Both need a text giving every principal its reservation: solve KS (P + 1 problems)
        # only in the worlds where the Nash text found one.
        ks = np.full(nash.shape, np.nan)
        idx = np.flatnonzero(ok)
        if idx.size:
            ks[:, idx], _ = kalai_smorodinsky_text(prefs.take(idx), reservation[:, idx],
                                                   columns.take(lo, idx), columns.take(hi, idx))
    return {
        "nash": np.where(ok[None], nash, np.nan),
        "kalai_smorodinsky": ks,
        "weighted_mean": on_column(weighted_mean, n, positions, weights),
        "weighted_median": on_column(lambda p, w: weighted_median(p, w, ties="mid"), n,
                                     positions, weights),
    }
