"""Subgame-perfect alternating offers under complete information, by backward induction.

Values are per round, as every payoff of the model: accepting ``x`` in round t pays ``u(x)``
from t on; rejecting pays this round's value of war, then (discounted by the responder's
patience) the value of the talks going on, or of failing if someone walks out (Rubinstein 1982;
Stahl 1972):

- ``F_j(t)``: what failing after round t is worth to j per round from then on (``failure``);
- ``V(T + 1) = F(T)``. In round t with proposer i, responder j rejects unless offered
  ``R_j(t) = (1 - d_j) w_j(t) + d_j [(1 - q_j) V_j(t + 1) + q_j F_j(t)]`` (``d_j``: its
  patience, ``w_j(t)`` its value of war, ``q_j`` its walk-out chance after rejecting);
- the proposer's offer solves ``max u_i(x)`` s.t. ``u_j(x) >= R_j(t)`` inside the red lines and
  caps (``proposer.proposer_text``); it is made when the proposer gets at least what waiting
  gives it (ties agree, ``preferences.accepts``). Otherwise the proposer states its own ideal
  text, those who would lose by accepting reject, and ``V(t)`` is the expectation over their
  walk-outs.

A plain function over every world at once; the alternating-offers protocol projects the values
of war and says who proposes and what failing is worth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from negotiation_sim.core.preferences import Preferences, accepts, utilities
from negotiation_sim.core.solvers.proposer import clipped_ideal, proposer_text


@dataclass
class Plan:
    """The path of subgame-perfect play.

    Attributes:
        round: ``(n,)`` the round agreement comes in (0: never).
        text: ``(K, n)`` the text agreed then (the first proposer's ideal where never).
        reject: ``(T, P, n)`` who rejects in each round.
        steps: per round from ``start``, what the trace shows (None unless asked for).
    """

    round: np.ndarray
    text: np.ndarray
    reject: np.ndarray
    steps: list[dict] | None = None


def subgame_perfect(prefs: Preferences, lo: np.ndarray, hi: np.ndarray, box_ok: np.ndarray,
                    patience: np.ndarray, walk: np.ndarray, start: int, rounds: int,
                    proposer: Callable[[int], int], war: Callable[[int], np.ndarray],
                    failure: Callable[[int, np.ndarray], np.ndarray],
                    earlier: np.ndarray | None = None, trace: bool = False) -> Plan:
    """Backward induction over rounds ``start..rounds`` in every world.

    Args:
        prefs: the principals' preferences; ``lo``, ``hi`` ``(K, n)`` the box of texts and
            ``box_ok`` ``(n,)`` whether it holds any text.
        patience: ``(P, n)`` each principal's patience; ``walk`` ``(P, n)`` its walk-out
            chance after rejecting.
        start, rounds: the first round planned and the last round of the talks.
        proposer: the index of the principal proposing in a round.
        war: each principal's value of war in a round, ``(P, n)``.
        failure: what failing after a round is worth per round from then on, given the
            values of war then, ``(P, n)``.
        earlier: ``(T, P, n)`` who rejected in the rounds before ``start`` (kept as played).
        trace: keep what each round of the plan computed.

    Returns:
        The plan (``Plan``).
    """
    T = rounds
    P, n = patience.shape
    delta = patience
    V = failure(T, war(T))
    plan_round = np.zeros(n)
    plan_text = clipped_ideal(prefs, proposer(start), lo, hi)
    rejects = np.zeros((T, P, n), dtype=bool)
    if earlier is not None and start > 1:
        rejects[: start - 1] = earlier[: start - 1]
    steps = [] if trace else None
    for t in range(T, start - 1, -1):
        i = proposer(t)
        w = war(t)
        F = failure(t, w)
        R = (1.0 - delta) * w + delta * ((1.0 - walk) * V + walk * F)  # rejecting's worth
        x, feasible = proposer_text(prefs, i, R, lo, hi)
        feasible &= box_ok
        offer_value = utilities(x, prefs)
        demand = clipped_ideal(prefs, i, lo, hi)
        rej = ~accepts(utilities(demand, prefs), R)
        rej[i] = False
        responders = np.arange(P) != i
        # A proposer who would rather wait than have its own ideal accepted makes no offer.
        rej = np.where(rej.any(axis=0), rej, responders[:, None])
        stay = np.prod(np.where(rej, 1.0 - walk, 1.0), axis=0)
        wait_value = (1.0 - delta) * w + delta * (stay * V + (1.0 - stay) * F)
        agree = feasible & accepts(offer_value[i], wait_value[i])
        V = np.where(agree[None], offer_value, wait_value)
        plan_round = np.where(agree, t, plan_round)
        plan_text = np.where(agree[None], x, plan_text)
        rejects[t - 1] = rej
        if steps is not None:
            steps.append({"round": t, "proposer": i, "offer": x.copy(),
                          "threshold": R.copy(), "feasible": feasible.copy(),
                          "agree": agree.copy(), "value": V.copy()})
    return Plan(plan_round, plan_text, rejects, None if steps is None else steps[::-1])
