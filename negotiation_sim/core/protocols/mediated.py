"""The mediated single-text protocol (the default): bargaining while fighting.

Each round the mediator drafts one text inside every red line, cap and precondition: the
generalised Nash text on the principals' thresholds under complete information, the text most
likely to be accepted under its beliefs under private information (``core.solvers.drafting``). Each
principal answers: sincere responders accept any text worth at least their value of war now
(plus what is left of a public posture, ``claim``). Everyone updates the public beliefs on the
answers; a principal that rejected gives up ``concession`` of its posture and may walk out. War
pays each side its value of war in every round without a deal and a deal pays the text's utility
from its round on, both discounted alike, so delay alone never makes a deal worse than war
(Powell 2004; Slantchev 2003): with complete information, values of war that do not move and no
posture, a deal comes in round 1 whenever one exists. Under private information the mediator's
texts screen (Fudenberg & Tirole 1983), and delay comes from learning.

Strategic responders (``protocol.responders: strategic``, private information, one principal's
value of war private and the others known): the informed principal plays the perfect Bayesian
equilibrium against the drafter, rejecting a text it prefers to war when waiting for the next
one pays, and the drafter plans its texts over the remaining rounds by backward induction on the
cutoff type (``core.solvers.screening``; Fudenberg & Tirole 1983). The configurations where
this is not computed are refused at validation (``config.protocols.Mediated``;
docs/protocols.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation_sim.core.agents import chair, stacked, worth
from negotiation_sim.core.preferences import Preferences, accepts, utilities
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.solvers.screening import (
    ScreeningProblem,
    drafter_frontier,
    drafter_text,
    solve_drafter_plan,
)
from negotiation_sim.core.state import TalksState


@dataclass
class MediatedState(TalksState):
    """``TalksState`` plus ``excess``: ``(P, n)`` what is left of each principal's public
    posture above its value of war (its threshold is the value plus this).

    Strategic responders only (None otherwise): ``screen_offer`` ``(T, n)`` the planned text's
    worth to the informed principal in each round (NaN: no offer), ``screen_cut`` ``(T, n)``
    the highest first-round value of war that accepts it, ``screen_value`` ``(n,)`` the
    drafter's value of its plan, and ``planned`` ``(2, P, n)`` the pressure and walk-out
    chances the plan was made with (a change makes the drafter plan again).
    """

    excess: np.ndarray | None = None
    screen_offer: np.ndarray | None = None
    screen_cut: np.ndarray | None = None
    screen_value: np.ndarray | None = None
    planned: np.ndarray | None = None


_CUT_STEPS = 60  # bisection steps for the cutoff type an answer reveals (to 2^-60 of the belief)


class MediatedProtocol(Protocol):
    """The mediated single negotiating text."""

    State = MediatedState

    def __init__(self, model) -> None:
        super().__init__(model)
        spec = model.spec
        informed = [i for i, p in enumerate(model.priors) if p is not None]
        # validation admits strategic responders only with exactly one informed principal
        self.strategic = (spec.protocol.responders == "strategic"
                          and spec.protocol.information == "private" and len(informed) == 1)
        self.informed = informed[0] if self.strategic else -1

    def extra_state(self) -> dict[str, np.ndarray]:
        return {"excess": self.model.params.claim}

    def opening_text(self) -> np.ndarray:
        """The round's text (base rule); with strategic responders, the text the drafter's plan
        (made when the calendar opens, in round 1) tables this round."""
        if not self.strategic:
            return super().opening_text()
        if self.model.steps > 1:  # planned when the calendar opened: this round's planned text
            return self._planned_text(self.model.steps)[0]
        prm = self.model.params
        zeros = np.zeros_like(self.model.state.reservation)
        self._plan(1, zeros, np.clip(prm.walkout, 0.0, 1.0), np.ones(prm.n, dtype=bool))
        return self._planned_text(1)[0]

    def play_round(self, rnd: int) -> RoundResult:
        if self.strategic:
            return self._play_strategic(rnd)
        m, prm, state = self.model, self.model.params, self.model.state
        text, chance = self.draft()
        value = worth(m, text)
        demand = state.reservation + state.excess
        accept = stacked(m.principals, "responds", value, demand)
        agree = accept.all(axis=0) & prm.box_ok
        reject = ~accept & ~agree[None]
        state.beliefs.update(accept, value - state.excess, state.shift)
        walked, by = self.walks(reject)
        if m.trace_enabled:
            m.history.append({"stage": "round", "round": rnd, "world": m.live.copy(),
                              "text": text.copy(), "chance": chance.copy(),
                              "claim": demand.copy(), "value": value.copy(),
                              "reservation": state.reservation.copy(),
                              "accept": accept.copy(), "walked": walked.copy(),
                              "cause": rejection_causes(accept, value, state.reservation,
                                                        demand),
                              "belief": state.beliefs.bounds(m.priors, state.shift,
                                                             state.reservation)})
        state.excess = stacked(m.principals, "concede", state.excess, reject)
        failed = (walked | self.deadline(rnd)) & ~agree
        return RoundResult(agreed=agree, text=text, value=value, failed=failed, walked=walked,
                           war=state.reservation, walked_by=by, accept=accept)

    # -- strategic responders -------------------------------------------------------------
    def _drafter(self) -> tuple[Preferences, np.ndarray]:
        """The chair's preferences (one actor) and bias ``(n,)``; an unpositioned chair (or
        none) has bias 0, and the informed principal's preferences stand in for its own."""
        m, prm = self.model, self.model.params
        med = chair(m.mediators)
        P = prm.reservation.shape[0]
        if med is None or med.actor_id not in m.spec.positioned:
            return prm.prefs.subset([self.informed]), np.zeros(prm.n)
        row = m.spec.positioned.index(med.actor_id) - P
        return prm.others.subset([row]), np.asarray(prm.bias[med.index], dtype=float)

    def _plan(self, rnd: int, pressure: np.ndarray, walk: np.ndarray, mask: np.ndarray) -> None:
        """The drafter's plan from round ``rnd`` in the worlds of ``mask``: values of war are
        projected from their current values by ``pressure`` (``core.solvers.screening``)."""
        m, prm, state = self.model, self.model.params, self.model.state
        T, n, j = m.spec.protocol.rounds, prm.n, self.informed
        if state.screen_offer is None:
            state.screen_offer, state.screen_cut = np.full((T, n), np.nan), np.full((T, n), np.nan)
            state.screen_value = np.zeros(n)
            state.planned = np.zeros((2,) + state.reservation.shape)
        idx = np.flatnonzero(mask)
        steps = np.arange(T - rnd + 1)[:, None, None]
        floors = np.clip(state.reservation[:, idx][None] - steps * pressure[:, idx][None],
                         0.0, 1.0)  # (Tn, P, g): the known principals' values of war
        floors[:, j] = 0.0  # j's own is private: the plan never reads it
        drafter, bias = self._drafter()
        drafter, bias = drafter.take(idx), bias[idx]
        prefs, lo, hi = prm.prefs.take(idx), prm.lo[:, idx], prm.hi[:, idx]
        problem = ScreeningProblem(
            prefs, lo, hi, prm.box_ok[idx], np.zeros(floors.shape[::2]),
            state.shift[j, idx] - steps[:, :, 0] * pressure[j, idx], prm.patience[j, idx],
            prm.patience[j, idx], walk[j, idx], state.beliefs.lo[j, idx],
            state.beliefs.hi[j, idx], None)
        extra = np.concatenate([floors.reshape(-1, idx.size), bias[None],
                                drafter.position.reshape(-1, idx.size),
                                drafter.salience.reshape(-1, idx.size)]).T

        def frontiers(first: np.ndarray) -> list:
            return [drafter_frontier(prefs.take(first), drafter.take(first), bias[first], j,
                                     floors[t][:, first], lo[:, first], hi[:, first])
                    for t in range(floors.shape[0])]

        offer, cut, value = solve_drafter_plan(problem, m.priors[j], True, frontiers, extra)
        state.screen_offer[rnd - 1:, idx], state.screen_cut[rnd - 1:, idx] = offer, cut
        state.screen_value[idx] = value
        state.planned[:, :, idx] = np.stack([pressure[:, idx], walk[:, idx]])
        if m.trace_enabled:
            m.history.append({"stage": "screen", "round": rnd, "worlds": m.live[idx].copy(),
                              "offer": offer.copy(), "cutoff": cut.copy(),
                              "value": value.copy()})

    def _planned_text(self, rnd: int) -> tuple[np.ndarray, np.ndarray]:
        """``(text (K, n), made (n,))``: the drafter's text leaving the informed principal the
        planned worth (its own best text meeting the known values of war where the plan makes
        no offer), and whether the plan makes an offer that round."""
        prm, state = self.model.params, self.model.state
        v = state.screen_offer[rnd - 1]
        made = ~np.isnan(v)
        drafter, bias = self._drafter()
        text, ok = drafter_text(prm.prefs, drafter, bias, self.informed, state.reservation,
                                np.where(made, v, -np.inf), prm.lo, prm.hi)
        return text, made & ok

    def _play_strategic(self, rnd: int) -> RoundResult:
        """One round of the drafter's plan: the informed principal best-responds to the planned
        path of texts (``_waiting_value``), the others accept what is worth their war."""
        m, prm, state = self.model, self.model.params, self.model.state
        j, walk = self.informed, stacked(m.principals, "walk_chance")
        moved = (state.planned != np.stack([state.pressure, walk])).any(axis=(0, 1))
        if moved.any():  # the held format's pressure and backlash, or blame, moved them
            self._plan(rnd, state.pressure, walk, moved)
        text, made = self._planned_text(rnd)
        value = utilities(text, prm.prefs)
        w = state.reservation
        accept = stacked(m.principals, "responds", value, w)
        takes = made & accepts(value[j], self._waiting_value(rnd, prm.reservation[j], walk[j]))
        accept[j] &= takes
        agree = accept.all(axis=0) & prm.box_ok
        reject = ~accept & ~agree[None]
        cut = self._learn(rnd, value[j], made, takes, walk[j])
        walked, by = self.walks(reject)
        if m.trace_enabled:
            m.history.append({"stage": "round", "round": rnd, "world": m.live.copy(),
                              "text": text.copy(), "chance": cut[1], "claim": w.copy(),
                              "value": value.copy(), "reservation": w.copy(),
                              "accept": accept.copy(), "walked": walked.copy(),
                              "cutoff": np.where(made, cut[0], np.nan),
                              "cause": rejection_causes(accept, value, w, w),
                              "belief": state.beliefs.bounds(m.priors, state.shift, w)})
        failed = (walked | self.deadline(rnd)) & ~agree
        return RoundResult(agreed=agree, text=text, value=value, failed=failed, walked=walked,
                           war=w, walked_by=by)

    def _waiting_value(self, rnd: int, w1: np.ndarray, walk: np.ndarray) -> np.ndarray:
        """``(n,)`` what rejecting this round's text is worth to the informed principal if its
        first-round value of war were ``w1``: the war this round, then (discounted by its
        patience) the best of the texts planned on the path of rejections, taken in the round
        it chooses, or failing (the war at its last value; a walk-out with its chance)."""
        m, prm, state = self.model, self.model.params, self.model.state
        T, j = m.spec.protocol.rounds, self.informed
        d, q = prm.patience[j], walk

        def war(r):
            return np.clip(w1 + state.shift[j] - (r - rnd) * state.pressure[j], 0.0, 1.0)

        later = war(T)  # after the deadline
        for r in range(T, rnd - 1, -1):
            wr = war(r)
            wait = (1.0 - d) * wr + d * ((1.0 - q) * later + q * wr)
            if r == rnd:
                return wait
            v = state.screen_offer[r - 1]
            later = np.where(np.isnan(v), wait, np.maximum(np.nan_to_num(v, nan=-np.inf), wait))
        return war(rnd)

    def _learn(self, rnd: int, value: np.ndarray, made: np.ndarray, takes: np.ndarray,
               walk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Update the belief about the informed principal on its answer, and return ``(cut,
        chance)``: the highest first-round value of war that takes the text (types below it
        do; bisection, kept on the side of the true value) and the drafter's chance of it.
        Answers to no offer tell nothing."""
        m, state = self.model, self.model.state
        j, beliefs, prior = self.informed, state.beliefs, m.priors[self.informed]
        a = np.maximum(beliefs.lo[j], prior.low)  # every type above a ... and below b
        b = np.minimum(beliefs.hi[j], prior.high)
        a_takes = accepts(value, self._waiting_value(rnd, a, walk))
        a = np.where(a_takes, a, a - 1.0)  # no type takes it: the cut lies below the belief
        for _ in range(_CUT_STEPS):
            mid = 0.5 * (a + b)
            ok = accepts(value, self._waiting_value(rnd, mid, walk))
            a, b = np.where(ok, mid, a), np.where(ok, b, mid)
        all_take = accepts(value, self._waiting_value(rnd, b, walk))
        a, b = np.where(all_take, b, a), np.where(all_take, b, b)
        chance = np.where(made, beliefs.accept_probability(m.priors, j, a + state.shift[j],
                                                           state.shift[j], state.reservation[j]),
                          0.0)
        beliefs.lo = beliefs.lo.copy()
        beliefs.hi = beliefs.hi.copy()
        beliefs.lo[j] = np.where(made & ~takes, np.maximum(beliefs.lo[j], a), beliefs.lo[j])
        beliefs.hi[j] = np.where(made & takes, np.minimum(beliefs.hi[j], b), beliefs.hi[j])
        return a, chance


def rejection_causes(accept: np.ndarray, value: np.ndarray, war: np.ndarray,
                     demand: np.ndarray) -> np.ndarray:
    """``(P, n)`` index into ``CAUSES``: why each principal answered as it did."""
    below = ~accepts(value, war)
    posture = ~below & ~accepts(value, demand)
    return np.where(accept, 0, np.where(below, 1, np.where(posture, 2, 3))).astype(np.int8)
