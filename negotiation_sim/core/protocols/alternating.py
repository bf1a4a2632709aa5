"""Alternating offers (Rubinstein 1982; Stahl 1972): subgame-perfect play over a finite horizon.

Principals take turns proposing (``protocol.order`` rotated to start at ``first_proposer``); a
text is agreed when every other principal accepts it (unanimity). Under complete information
play is computed by backward induction from the deadline, in every world at once, with values
per round (docs/protocols.md):

- ``F_j(t)``: what failing after round t is worth to j per round from then on (the ceasefire
  package when every principal takes it, else the war at its value then) -- exactly what
  ``SummitModel.end_talks`` records.
- ``V(T + 1) = F(T)``. In round t with proposer i, responder j rejects unless offered
  ``R_j(t) = (1 - d_j) w_j(t) + d_j [(1 - q_j) V_j(t + 1) + q_j F_j(t)]`` (``d_j``: its
  patience, ``w_j(t)`` its value of war, ``q_j`` its walk-out chance after rejecting).
- the proposer's offer solves ``max u_i(x)`` s.t. ``u_j(x) >= R_j(t)`` inside the red lines and
  caps (``core.proposer.proposer_text``); it is made when the proposer gets at least what
  waiting gives it (ties agree). Otherwise the proposer states its own ideal text, those who
  would lose by accepting reject, and ``V(t)`` is the expectation over their walk-outs.

Claims and concessions (the mediated protocol's posture) play no part.
"""

from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from negotiation_sim.core.preferences import FEASIBILITY_TOL, utilities
from negotiation_sim.core.proposer import clipped_ideal, proposer_text
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.state import TalksState



@dataclass
class AlternatingState(TalksState):
    """``TalksState`` plus the subgame-perfect plan of play.

    Attributes:
        plan_round: ``(n,)`` the round agreement comes in (0: never).
        plan_text: ``(K, n)`` the text agreed then.
        plan_reject: ``(T, P, n)`` who rejects in each round of the plan.
    """

    plan_round: np.ndarray | None = None
    plan_text: np.ndarray | None = None
    plan_reject: np.ndarray | None = None


class AlternatingOffersProtocol(Protocol):
    """Complete-information alternating offers with rotating proposers and unanimity."""

    State = AlternatingState

    def __init__(self, model) -> None:
        super().__init__(model)
        self.cycle = proposer_cycle(model.spec)

    # -- who proposes -----------------------------------------------------------------------
    def proposer(self, rnd: int) -> int:
        """Index of the principal proposing in round ``rnd`` (1-based)."""
        return self.cycle[(rnd - 1) % len(self.cycle)]

    # -- stage 1 ----------------------------------------------------------------------------
    def opening_text(self) -> np.ndarray:
        """The subgame-perfect agreement principals foresee (before any pressure or backlash).

        Where play never agrees, the first proposer's demand: some principal then gains
        nothing from attending and stays away.
        """
        m = self.model
        self._plan(1, np.zeros_like(m.state.reservation), np.clip(m.params.walkout, 0.0, 1.0))
        return m.state.plan_text.copy()

    def expected_gain(self, text: np.ndarray) -> np.ndarray:
        """``(P, n)`` what the foreseen play adds to the war: the planned agreement's worth
        above the value of war where play agrees, else what failing brings (complete
        information: everyone foresees the plan)."""
        m, prm, state = self.model, self.model.params, self.model.state
        T = m.spec.protocol.rounds
        agreed = state.plan_round > 0
        u = utilities(text, prm.prefs)
        fail = self.failure_value(T, state.reservation)
        return np.maximum(np.where(agreed[None], u, fail) - state.reservation, 0.0)

    # -- the plan ---------------------------------------------------------------------------
    def failure_value(self, rnd: int, war: np.ndarray) -> np.ndarray:
        """``(P, n)`` what failing after round ``rnd`` is worth per round from then on: the
        ceasefire package where every principal takes it, else the war at ``war``."""
        if self.model.params.ceasefire is None:
            return war
        value, ok = self.ceasefire_value(rnd, war)
        return np.where(ok[None], value, war)

    def _plan(self, start: int, pressure: np.ndarray, walk: np.ndarray) -> None:
        """Backward induction over rounds ``start..T``; stores the path in ``model.state``.

        Values are per round, as every payoff of the model: accepting ``x`` in round t pays
        ``u(x)`` from t on; rejecting pays this round's value of war, then (discounted by the
        responder's patience) the value of the talks going on, or of failing if someone walks
        out. Values of war are projected from their current value by the held format's
        pressure (events are met by planning again once they happen).
        """
        m, prm, state = self.model, self.model.params, self.model.state
        T = m.spec.protocol.rounds
        P, n = state.reservation.shape
        delta = prm.patience

        def war(t):
            return np.clip(state.reservation - (t - start) * pressure, 0.0, 1.0)

        V = self.failure_value(T, war(T))
        plan_round = np.zeros(n)
        plan_text = clipped_ideal(prm.prefs, self.proposer(start), prm.lo, prm.hi)
        rejects = np.zeros((T, P, n), dtype=bool)
        if state.plan_reject is not None and start > 1:
            rejects[: start - 1] = state.plan_reject[: start - 1]
        trace = [] if m.trace_enabled else None
        for t in range(T, start - 1, -1):
            i = self.proposer(t)
            w = war(t)
            F = self.failure_value(t, w)
            R = (1.0 - delta) * w + delta * ((1.0 - walk) * V + walk * F)  # rejecting's worth
            x, feasible = proposer_text(prm.prefs, i, R, prm.lo, prm.hi)
            feasible &= prm.box_ok
            offer_value = utilities(x, prm.prefs)
            demand = clipped_ideal(prm.prefs, i, prm.lo, prm.hi)
            rej = utilities(demand, prm.prefs) < R - FEASIBILITY_TOL
            rej[i] = False
            responders = np.arange(P) != i
            # A proposer who would rather wait than have its own ideal accepted makes no offer.
            rej = np.where(rej.any(axis=0), rej, responders[:, None])
            stay = np.prod(np.where(rej, 1.0 - walk, 1.0), axis=0)
            wait_value = (1.0 - delta) * w + delta * (stay * V + (1.0 - stay) * F)
            agree = feasible & (offer_value[i] >= wait_value[i] - FEASIBILITY_TOL)
            V = np.where(agree[None], offer_value, wait_value)
            plan_round = np.where(agree, t, plan_round)
            plan_text = np.where(agree[None], x, plan_text)
            rejects[t - 1] = rej
            if trace is not None:
                trace.append({"round": t, "proposer": i, "offer": x.copy(),
                              "threshold": R.copy(), "feasible": feasible.copy(),
                              "agree": agree.copy(), "value": V.copy()})
        state.plan_round = plan_round
        state.plan_text = plan_text
        state.plan_reject = rejects
        if trace is not None:
            m.history.append({"stage": "plan", "world": m.live.copy(), "rounds": trace[::-1],
                              "cycle": list(self.cycle)})

    # -- stage 2 ----------------------------------------------------------------------------
    def play_round(self, rnd: int) -> RoundResult:
        m, prm, state = self.model, self.model.params, self.model.state
        moved = rnd == 1 and (np.any(state.pressure != 0) or np.any(state.backlash != 0))
        if moved or (rnd > 1 and m.spec.events):
            # the held format's pressure and backlash, or events, change the values of waiting
            self._plan(rnd, state.pressure, np.stack(m.principals.map("walk_chance")))
        i = self.proposer(rnd)
        agree = state.plan_round == rnd
        demand = clipped_ideal(prm.prefs, i, prm.lo, prm.hi)
        text = np.where(agree[None], state.plan_text, demand)
        value = utilities(text, prm.prefs)
        accept = agree[None] | ~state.plan_reject[rnd - 1]
        reject = ~accept & ~agree[None]
        walked, by = self.walks(reject)
        if m.trace_enabled:
            m.history.append({"stage": "round", "round": rnd, "world": m.live.copy(),
                              "proposer": i, "text": text.copy(), "value": value.copy(),
                              "accept": accept.copy(), "walked": walked.copy(),
                              "reservation": state.reservation.copy()})
        failed = (walked | self.deadline(rnd)) & ~agree
        return RoundResult(agreed=agree, text=text, value=value, failed=failed, walked=walked,
                           war=state.reservation, walked_by=by)


def proposer_cycle(spec) -> list[int]:
    """Principal indices in proposing order: ``order`` (default: file order) from ``first_proposer``."""
    principals = spec.principals
    names = list(spec.protocol.order or principals)
    first = spec.protocol.first_proposer
    if first is not None:
        if first in names:
            k = names.index(first)
            names = names[k:] + names[:k]
        else:
            names = [first, *names]
    return [principals.index(p) for p in names]
