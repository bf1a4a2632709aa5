"""Alternating offers (Rubinstein 1982; Stahl 1972): subgame-perfect play over a finite horizon.

Principals take turns proposing (``protocol.order`` rotated to start at ``first_proposer``); a
text is agreed when every other principal accepts it (unanimity). Information is complete, so
play is computed once, by backward induction from the deadline, in every world at once:

- ``F(t)``: what failing in round t is worth (the ceasefire package, discounted, when every
  principal prefers it to its reservation at t, else each reservation at t, which pressure
  lowers by ``pressure`` per round) -- exactly what ``Protocol.end_talks`` records.
- ``V(T + 1) = F(T)``. In round t with proposer i, responder j rejects unless offered
  ``R_j(t) = (1 - w_j) V_j(t + 1) + w_j F_j(t)`` (``w_j``: its walk-out chance after rejecting).
- the proposer's offer solves ``max u_i(x)`` s.t. ``delta_j^(t-1) u_j(x) >= R_j(t)`` inside the
  red lines and caps (``solutions.proposer_text``); it is made when the proposer gets at least
  what waiting gives it (ties agree). Otherwise the proposer states its own ideal text, those who
  would lose by accepting reject, and ``V(t)`` is the expectation over their walk-outs.

An agreement in round t is worth ``delta^(t-1) u(x)``; claims and concessions (the mediated
protocol's private information) play no part. Equations and limits: docs/protocols.md.
"""

from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from negotiation_sim.core.preferences import FEASIBILITY_TOL, utilities
from negotiation_sim.core.proposer import clipped_ideal, proposer_text
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.state import TalksState

_DISCOUNT_FLOOR = 1e-300  # below this an agreement is worth nothing: no floor can be met


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
        self._plan(np.zeros_like(m.state.reservation), np.clip(m.params.walkout, 0.0, 1.0))
        return m.state.plan_text.copy()

    # -- the plan ---------------------------------------------------------------------------
    def failure_value(self, rnd: int, reservation: np.ndarray) -> np.ndarray:
        """``(P, n)`` what failing in round ``rnd`` is worth, as ``end_talks`` records it."""
        if self.model.params.ceasefire is None:
            return reservation
        value, ok = self.ceasefire_value(rnd, reservation)
        return np.where(ok[None], value, reservation)

    def _plan(self, pressure: np.ndarray, walk: np.ndarray) -> None:
        """Backward induction over the horizon; stores the path in ``model.state``."""
        m, prm = self.model, self.model.params
        T = m.spec.protocol.rounds
        P, n = m.state.reservation.shape
        res1 = m.state.reservation  # true reservations in round 1 (plans are made before it is played)
        start = 1
        rounds = range(T, start - 1, -1)
        V = self.failure_value(T, res1 - (T - start) * pressure)
        plan_round = np.zeros(n)
        plan_text = clipped_ideal(prm.prefs, self.proposer(start), prm.lo, prm.hi)
        rejects = np.zeros((T, P, n), dtype=bool)
        trace = [] if m.trace_enabled else None
        for t in rounds:
            i = self.proposer(t)
            F = self.failure_value(t, res1 - (t - start) * pressure)
            R = (1.0 - walk) * V + walk * F  # (P, n) what rejecting is worth to each
            disc = m.discount(t)
            with np.errstate(divide="ignore", invalid="ignore"):
                floor = np.where(disc > _DISCOUNT_FLOOR, R / np.maximum(disc, _DISCOUNT_FLOOR),
                                 np.where(R > 0, np.inf, -np.inf))
            x, feasible = proposer_text(prm.prefs, i, floor, prm.lo, prm.hi)
            feasible &= prm.box_ok
            offer_value = disc * utilities(x, prm.prefs)
            demand = clipped_ideal(prm.prefs, i, prm.lo, prm.hi)
            rej = disc * utilities(demand, prm.prefs) < R - FEASIBILITY_TOL
            rej[i] = False
            responders = np.arange(P) != i
            # A proposer who would rather wait than have its own ideal accepted makes no offer.
            rej = np.where(rej.any(axis=0), rej, responders[:, None])
            stay = np.prod(np.where(rej, 1.0 - walk, 1.0), axis=0)
            wait_value = stay * V + (1.0 - stay) * F
            agree = feasible & (offer_value[i] >= wait_value[i] - FEASIBILITY_TOL)
            V = np.where(agree[None], offer_value, wait_value)
            plan_round = np.where(agree, t, plan_round)
            plan_text = np.where(agree[None], x, plan_text)
            rejects[t - 1] = rej
            if trace is not None:
                trace.append({"round": t, "proposer": i, "offer": x.copy(),
                              "threshold": R.copy(), "feasible": feasible.copy(),
                              "agree": agree.copy(), "value": V.copy()})
        m.state.plan_round = plan_round
        m.state.plan_text = plan_text
        m.state.plan_reject = rejects
        if trace is not None:
            m.history.append({"stage": "plan", "world": m.live.copy(), "rounds": trace[::-1],
                              "cycle": list(self.cycle)})

    # -- stage 2 ----------------------------------------------------------------------------
    def play_round(self, rnd: int) -> RoundResult:
        m, prm, state = self.model, self.model.params, self.model.state
        if rnd == 1 and (np.any(state.pressure != 0) or np.any(state.backlash != 0)):
            # the held format's pressure and backlash change the values of waiting
            self._plan(state.pressure, np.stack(m.principals.map("walk_chance")))
        i = self.proposer(rnd)
        beta = m.discount(rnd)
        agree = state.plan_round == rnd
        demand = clipped_ideal(prm.prefs, i, prm.lo, prm.hi)
        text = np.where(agree[None], state.plan_text, demand)
        value = beta * utilities(text, prm.prefs)
        accept = agree[None] | ~state.plan_reject[rnd - 1]
        reject = ~accept & ~agree[None]
        walked = self.walks(reject)
        if m.trace_enabled:
            m.history.append({"stage": "round", "round": rnd, "world": m.live.copy(),
                              "proposer": i, "text": text.copy(), "value": value.copy(),
                              "accept": accept.copy(), "walked": walked.copy(),
                              "reservation": state.reservation.copy()})
        failed = (walked | self.deadline(rnd)) & ~agree
        return RoundResult(agreed=agree, text=text, value=value, failed=failed, walked=walked,
                           war=state.reservation)


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
