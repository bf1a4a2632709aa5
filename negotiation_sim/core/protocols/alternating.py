"""Alternating offers (Rubinstein 1982; Stahl 1972), with screening under private information.

Principals take turns proposing (``protocol.order`` rotated to start at ``first_proposer``); a
text is agreed when every other principal accepts it (unanimity). Values are per round, as every
payoff of the model: a text agreed in round t pays ``u(x)`` from t on, the war pays its value in
every round before, both discounted by the principal's patience (docs/protocols.md).

Complete information (every value of war common knowledge in a world): subgame-perfect play by
backward induction from the deadline, in every world at once:

- ``F_j(t)``: what failing after round t is worth to j per round from then on (the ceasefire
  package when every principal takes it, else the war at its value then) -- exactly what
  ``SummitModel.end_talks`` records.
- ``V(T + 1) = F(T)``. In round t with proposer i, responder j rejects unless offered
  ``R_j(t) = (1 - d_j) w_j(t) + d_j [(1 - q_j) V_j(t + 1) + q_j F_j(t)]`` (``d_j``: its
  patience, ``w_j(t)`` its value of war, ``q_j`` its walk-out chance after rejecting).
- the proposer's offer solves ``max u_i(x)`` s.t. ``u_j(x) >= R_j(t)`` inside the red lines and
  caps (``core.solvers.proposer.proposer_text``); it is made when the proposer gets at least what
  waiting gives it (ties agree). Otherwise the proposer states its own ideal text, those who
  would lose by accepting reject, and ``V(t)`` is the expectation over their walk-outs.

Private information (``protocol.information: private``), per world:

- *screening* -- two principals, one proposer (``order: [X]``), the responder's value private:
  the proposer maximises its expected discounted value over the remaining rounds given its
  beliefs, by backward induction over the cutoff below which responder types have already
  accepted (skimming: Fudenberg & Tirole 1983; Sobel & Takahashi 1983). A sincere responder
  accepts any offer worth at least its value of war now; a strategic one plays the perfect
  Bayesian equilibrium, accepting in round t iff the offer is worth at least
  ``(1 - d_b) w_b(t) + d_b (its value of waiting)``. The states are ``CELLS`` cutoffs of the
  belief; each state's best cutoff is found among them exactly and refined between them, and
  play follows the refined cutoffs (docs/protocols.md states what is exact and the measured
  precision).
- *myopic* -- anything else with a private value (two proposers, more than two principals):
  each proposer makes the one-round screening offer that maximises its expected value against
  the current beliefs; responders answer sincerely.

Beliefs are updated by Bayes' rule on every answer; the true value is never excluded. Claims and
concessions (the mediated protocol's posture) play no part.

This module orchestrates the rounds: the plans are plain functions (``core.solvers.backward``,
``core.solvers.screening``), and responders answer through their agents
(``PrincipalAgent.responds``, the acceptance rule of every protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation_sim.core.agents import stacked
from negotiation_sim.core.preferences import accepts, utilities
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.solvers.backward import subgame_perfect
from negotiation_sim.core.solvers.proposer import clipped_ideal, proposer_text
from negotiation_sim.core.solvers.screening import (
    CELLS,
    ScreeningProblem,
    myopic_text,
    solve_screening,
)
from negotiation_sim.core.state import TalksState

COMPLETE, SCREEN, MYOPIC = 0, 1, 2  # how a world is played (``AlternatingState.regime``)


@dataclass
class AlternatingState(TalksState):
    """``TalksState`` plus the plan of play.

    Attributes:
        plan_round: ``(n,)`` complete information: the round agreement comes in (0: never).
        plan_text: ``(K, n)`` the text agreed then.
        plan_reject: ``(T, P, n)`` who rejects in each round of the plan.
        regime: ``(n,)`` how each world is played: ``COMPLETE``, ``SCREEN`` or ``MYOPIC``.
        screen_offer: ``(T, n)`` screening: what the round's offer is worth to the responder
            (NaN: no offer that round).
        screen_cut: ``(T, n)`` the highest first-round value of war that accepts it.
        screen_value: ``(n,)`` the proposer's expected value of the talks when planned.
    """

    plan_round: np.ndarray | None = None
    plan_text: np.ndarray | None = None
    plan_reject: np.ndarray | None = None
    regime: np.ndarray | None = None
    screen_offer: np.ndarray | None = None
    screen_cut: np.ndarray | None = None
    screen_value: np.ndarray | None = None


class AlternatingOffersProtocol(Protocol):
    """Alternating offers with rotating proposers and unanimity; screening when values are
    private."""

    State = AlternatingState

    def __init__(self, model) -> None:
        super().__init__(model)
        spec = model.spec
        self.cycle = proposer_cycle(spec)
        self.private = (spec.protocol.information == "private"
                        and any(p is not None for p in model.priors))
        self.strategic = spec.protocol.responders == "strategic"
        self.one_sided = len(spec.principals) == 2 and len(set(self.cycle)) == 1

    # -- who proposes -----------------------------------------------------------------------
    def proposer(self, rnd: int) -> int:
        """Index of the principal proposing in round ``rnd`` (1-based)."""
        return self.cycle[(rnd - 1) % len(self.cycle)]

    # -- stage 1 ----------------------------------------------------------------------------
    def opening_text(self) -> np.ndarray:
        """The text principals foresee (planned in round 1, before any pressure or backlash;
        the later rounds' decisions to attend are taken on the same plan).

        Complete information: the subgame-perfect agreement (where play never agrees, the
        first proposer's demand: some principal then gains nothing from attending). Screening:
        the proposer's round-1 offer (its ideal if it makes none). Myopic: its round-1
        screening offer.
        """
        m = self.model
        if m.steps > 1:  # planned when the calendar opened: the later rounds' sessions
            if not self.private:  # are decided on that plan (docs/protocols.md)
                return m.state.plan_text.copy()
            return self._texts(1)[0]
        walk = np.clip(m.params.walkout, 0.0, 1.0)
        zeros = np.zeros_like(m.state.reservation)
        if not self.private:
            self._plan(1, zeros, walk)
            return m.state.plan_text.copy()
        self._prepare(1, zeros, walk, np.ones(m.params.n, dtype=bool))
        text, _ = self._texts(1)
        return text

    def expected_gain(self, text: np.ndarray) -> np.ndarray:
        """``(P, n)`` what each principal expects the talks to add to the war going on (never
        below 0: a principal can always refuse).

        Complete information: the planned agreement's worth above the value of war where play
        agrees, else what failing brings. Screening: the proposer's expected value of its plan
        under its beliefs, and the responder's value of the planned path of offers for its own
        value of war (it knows it), each less the value of war. Myopic: the base rule (the
        opening text's worth, weighed by the chance the others accept it).
        """
        if not self.private:
            return self._complete_gain(text)
        regime = self.model.state.regime
        gain = np.zeros_like(self.model.state.reservation)
        for kind, rule in ((COMPLETE, self._complete_gain), (SCREEN, self._screen_gain),
                           (MYOPIC, lambda x: Protocol.expected_gain(self, x))):
            here = regime == kind
            if here.any():
                gain = np.where(here[None], rule(text), gain)
        return gain

    def _complete_gain(self, text: np.ndarray) -> np.ndarray:
        m, prm, state = self.model, self.model.params, self.model.state
        T = m.spec.protocol.rounds
        agreed = state.plan_round > 0
        u = utilities(text, prm.prefs)
        fail = self.failure_value(T, state.reservation)
        return np.maximum(np.where(agreed[None], u, fail) - state.reservation, 0.0)

    def _screen_gain(self, text: np.ndarray | None = None) -> np.ndarray:
        state = self.model.state
        i = self.cycle[0]
        gain = np.zeros_like(state.reservation)
        gain[i] = np.maximum(state.screen_value - state.reservation[i], 0.0)
        gain[1 - i] = np.maximum(self._responder_value() - state.reservation[1 - i], 0.0)
        return gain

    def _responder_value(self) -> np.ndarray:
        """``(n,)`` the screened responder's value of the planned path, for its own value of
        war (formation: values of war constant, walk-outs at the drawn ``walkout``)."""
        m, prm, state = self.model, self.model.params, self.model.state
        j = 1 - self.cycle[0]
        d, q = prm.patience[j], np.clip(prm.walkout[j], 0.0, 1.0)
        war = state.reservation[j]
        fail = self.failure_value(m.spec.protocol.rounds, state.reservation)[j]
        alive, value = np.ones_like(war), np.zeros_like(war)
        done = np.zeros(war.shape, dtype=bool)
        T = m.spec.protocol.rounds
        for t in range(1, T + 1):
            v = state.screen_offer[t - 1]
            made = ~np.isnan(v)
            if self.strategic:
                takes = prm.reservation[j] <= state.screen_cut[t - 1]
            else:
                takes = accepts(np.where(made, v, -np.inf), war)
            now = made & ~done & takes
            weight = alive * d ** (t - 1)
            value = value + np.where(now, weight * np.where(made, v, 0.0), 0.0)
            done = done | now
            leave = q if t < T else 1.0
            value = value + np.where(done, 0.0, weight * ((1.0 - d) * war + d * leave * fail))
            alive = np.where(done, alive, alive * (1.0 - q))
        return value

    # -- the plan under complete information ------------------------------------------------
    def failure_value(self, rnd: int, war: np.ndarray) -> np.ndarray:
        """``(P, n)`` what failing after round ``rnd`` is worth per round from then on: the
        ceasefire package where every principal takes it, else the war at ``war``."""
        if self.model.params.ceasefire is None:
            return war
        value, ok = self.ceasefire_value(rnd, war)
        return np.where(ok[None], value, war)

    def _plan(self, start: int, pressure: np.ndarray, walk: np.ndarray) -> None:
        """The subgame-perfect plan over rounds ``start..T`` (``solvers.backward``); stores
        the path in ``model.state``. Values of war are projected from their current value by
        the held format's pressure (events are met by planning again once they happen)."""
        m, prm, state = self.model, self.model.params, self.model.state

        def war(t):
            return np.clip(state.reservation - (t - start) * pressure, 0.0, 1.0)

        plan = subgame_perfect(prm.prefs, prm.lo, prm.hi, prm.box_ok, prm.patience, walk,
                               start, m.spec.protocol.rounds, self.proposer, war,
                               self.failure_value, state.plan_reject, m.trace_enabled)
        state.plan_round, state.plan_text, state.plan_reject = plan.round, plan.text, plan.reject
        if plan.steps is not None:
            m.history.append({"stage": "plan", "world": m.live.copy(), "rounds": plan.steps,
                              "cycle": list(self.cycle)})

    # -- the plan under private information -------------------------------------------------
    def _regimes(self) -> np.ndarray:
        """``(n,)`` how each world is played now (an event can make a value known)."""
        known = self.model.state.beliefs.known
        if self.one_sided:
            return np.where(known[1 - self.cycle[0]], COMPLETE, SCREEN).astype(np.int8)
        return np.where(known.all(axis=0), COMPLETE, MYOPIC).astype(np.int8)

    def _prepare(self, rnd: int, pressure: np.ndarray, walk: np.ndarray,
                 redo: np.ndarray) -> None:
        """Plan from round ``rnd``: the complete-information plan where values are known, the
        screening plan in the worlds of ``redo`` that screen (myopic play needs none)."""
        state = self.model.state
        state.regime = self._regimes()
        if (state.regime == COMPLETE).any():
            self._plan(rnd, pressure, walk)
        screen = redo & (state.regime == SCREEN)
        if screen.any():
            self._screen(rnd, pressure, walk, screen)

    def _screen(self, rnd: int, pressure: np.ndarray, walk: np.ndarray,
                mask: np.ndarray) -> None:
        """The screening plan from round ``rnd`` in the worlds of ``mask``: the offer and the
        accepting cutoff of every remaining round on the path of rejections."""
        m, state = self.model, self.model.state
        T, n = m.spec.protocol.rounds, m.params.n
        i, j = self.cycle[0], 1 - self.cycle[0]
        if state.screen_offer is None:
            state.screen_offer = np.full((T, n), np.nan)
            state.screen_cut = np.full((T, n), np.nan)
            state.screen_value = np.zeros(n)
        idx = np.flatnonzero(mask)
        problem = self._screening_problem(i, j, idx, pressure, walk, rnd)
        offer, cut, value = solve_screening(problem, m.priors[j], self.strategic)
        state.screen_offer[rnd - 1:, idx] = offer
        state.screen_cut[rnd - 1:, idx] = cut
        state.screen_value[idx] = value
        if m.trace_enabled:
            m.history.append({"stage": "screen", "round": rnd, "worlds": m.live[idx].copy(),
                              "offer": offer.copy(), "cutoff": cut.copy(),
                              "value": value.copy(), "cells": CELLS})

    def _screening_problem(self, i: int, j: int, idx: np.ndarray, pressure: np.ndarray,
                           walk: np.ndarray, rnd: int) -> ScreeningProblem:
        """What the screening plan of worlds ``idx`` from round ``rnd`` reads (proposer i,
        responder j): values of war are projected from their current values by ``pressure``."""
        m, prm, state = self.model, self.model.params, self.model.state
        steps = np.arange(m.spec.protocol.rounds - rnd + 1)[:, None]
        pair = prm.prefs.subset([i, j]).take(idx)
        cease = None if prm.ceasefire is None else utilities(prm.ceasefire[:, idx], pair)
        return ScreeningProblem(
            pair, prm.lo[:, idx], prm.hi[:, idx], prm.box_ok[idx],
            np.clip(state.reservation[i, idx] - steps * pressure[i, idx], 0.0, 1.0),
            state.shift[j, idx] - steps * pressure[j, idx],
            prm.patience[i, idx], prm.patience[j, idx], walk[j, idx],
            state.beliefs.lo[j, idx], state.beliefs.hi[j, idx], cease)

    def _replan(self, rnd: int) -> None:
        """Plan again where the held format's pressure or backlash (round 1) or events (later
        rounds) changed the values of waiting."""
        m, state = self.model, self.model.state
        moved = (state.pressure != 0).any(axis=0) | (state.backlash != 0).any(axis=0)
        if rnd == 1 and moved.any():
            redo = moved
        elif rnd > 1 and m.spec.events:
            redo = np.ones(m.params.n, dtype=bool)
        else:
            return
        self._prepare(rnd, state.pressure, stacked(m.principals, "walk_chance"), redo)

    # -- stage 2 ----------------------------------------------------------------------------
    def play_round(self, rnd: int) -> RoundResult:
        if not self.private:
            return self._play_complete(rnd)
        m, prm, state = self.model, self.model.params, self.model.state
        self._replan(rnd)
        i = self.proposer(rnd)
        text, made = self._texts(rnd)
        value = utilities(text, prm.prefs)
        accept = self._answers(rnd, value, made)
        w = state.reservation
        agree = accept.all(axis=0) & made & accepts(value[i], w[i]) & prm.box_ok
        if (state.regime == COMPLETE).any():
            agree = np.where(state.regime == COMPLETE, state.plan_round == rnd, agree)
        reject = ~accept & ~agree[None]
        walked, by = self.walks(reject)
        cut = self._learn(rnd, accept, value, made)
        if m.trace_enabled:
            m.history.append({"stage": "round", "round": rnd, "world": m.live.copy(),
                              "proposer": i, "text": text.copy(), "value": value.copy(),
                              "accept": accept.copy(), "walked": walked.copy(),
                              "reservation": w.copy(), "regime": state.regime.copy(),
                              "offer": made.copy(), "cutoff": cut,
                              "belief": state.beliefs.bounds(m.priors, state.shift, w),
                              "cause": answer_causes(accept, value, w, made, prm.box_ok, i)})
        failed = (walked | self.deadline(rnd)) & ~agree
        return RoundResult(agreed=agree, text=text, value=value, failed=failed, walked=walked,
                           war=w, walked_by=by)

    def _play_complete(self, rnd: int) -> RoundResult:
        """Round ``rnd`` of the subgame-perfect plan (every value of war known)."""
        m, prm, state = self.model, self.model.params, self.model.state
        moved = rnd == 1 and (np.any(state.pressure != 0) or np.any(state.backlash != 0))
        if moved or (rnd > 1 and m.spec.events):
            # the held format's pressure and backlash, or events, change the values of waiting
            self._plan(rnd, state.pressure, stacked(m.principals, "walk_chance"))
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

    def _texts(self, rnd: int) -> tuple[np.ndarray, np.ndarray]:
        """``(text (K, n), made (n,))``: the round's text in every world and whether it is an
        offer the proposer signs if accepted (else a demand every responder rejects)."""
        prm, state = self.model.params, self.model.state
        text = clipped_ideal(prm.prefs, self.proposer(rnd), prm.lo, prm.hi)
        made = np.zeros(prm.n, dtype=bool)
        regime = state.regime
        if (regime == COMPLETE).any():
            agree = (regime == COMPLETE) & (state.plan_round == rnd)
            text = np.where(agree[None], state.plan_text, text)
            made = made | (regime == COMPLETE)
        for kind, rule in ((SCREEN, self._screen_text), (MYOPIC, self._myopic)):
            here = regime == kind
            if here.any():
                x, ok = rule(rnd, here)
                text = np.where(here[None], x, text)
                made = np.where(here, ok, made)
        return text, made

    def _screen_text(self, rnd: int, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The proposer's best text leaving the responder the planned offer's worth."""
        prm, state = self.model.params, self.model.state
        i, j = self.cycle[0], 1 - self.cycle[0]
        v = np.where(mask, state.screen_offer[rnd - 1], np.nan)
        made = ~np.isnan(v)
        floor = np.zeros((2, prm.n))
        floor[j] = np.where(made, v, 0.0)
        x, ok = proposer_text(prm.prefs, i, floor, prm.lo, prm.hi)
        return x, made & ok

    def _myopic(self, rnd: int, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The proposer's one-round screening text in the worlds of ``mask``
        (``solvers.screening.myopic_text``)."""
        m, prm, state = self.model, self.model.params, self.model.state
        i = self.proposer(rnd)
        idx = np.flatnonzero(mask)
        x, made = myopic_text(prm.prefs.take(idx), prm.lo[:, idx], prm.hi[:, idx],
                              prm.box_ok[idx], state.reservation[:, idx], state.shift[:, idx],
                              state.beliefs.take(idx), m.priors, i)
        text = clipped_ideal(prm.prefs, i, prm.lo, prm.hi)
        text[:, idx] = x
        out = np.zeros(prm.n, dtype=bool)
        out[idx] = made
        return text, out

    def _answers(self, rnd: int, value: np.ndarray, made: np.ndarray) -> np.ndarray:
        """``(P, n)`` who accepts: complete information as planned; a sincere responder any
        offer worth its value of war now; a strategic screened one iff its first-round value
        of war is at most the planned cutoff (and the offer is worth its value of war)."""
        prm, state = self.model.params, self.model.state
        w, regime = state.reservation, state.regime
        i = self.proposer(rnd)
        accept = stacked(self.model.principals, "responds", value, w) & made[None]
        accept[i] = True
        if self.strategic and (regime == SCREEN).any():
            j = 1 - i
            cut = np.where(regime == SCREEN, state.screen_cut[rnd - 1], np.inf)
            accept[j] &= prm.reservation[j] <= cut
        if (regime == COMPLETE).any():
            planned = (state.plan_round == rnd)[None] | ~state.plan_reject[rnd - 1]
            accept = np.where((regime == COMPLETE)[None], planned, accept)
        return accept

    def _learn(self, rnd: int, accept: np.ndarray, value: np.ndarray,
               made: np.ndarray) -> np.ndarray:
        """Update the public beliefs on the round's answers to offers; returns ``(n,)`` the
        cutoff a strategic screened rejection reveals (NaN elsewhere), for traces.

        Sincere answers (and myopic play) reveal ``w(t) <= u`` or ``> u``; a strategic
        screened rejection reveals that the first-round value lies above the planned cutoff.
        """
        state = self.model.state
        i = self.proposer(rnd)
        screened = state.regime == SCREEN
        threshold = np.where(made[None] & (np.arange(value.shape[0]) != i)[:, None],
                             value, np.nan)
        cut = np.full(made.shape, np.nan)
        if self.strategic and screened.any():
            j = 1 - i
            cut = np.where(screened & made, state.screen_cut[rnd - 1], np.nan)
            threshold[j] = np.where(screened, np.nan, threshold[j])
            beliefs = state.beliefs
            rejected = screened & made & ~accept[j] & ~beliefs.known[j]
            beliefs.lo = beliefs.lo.copy()
            beliefs.lo[j] = np.where(rejected, np.maximum(beliefs.lo[j], cut), beliefs.lo[j])
        with np.errstate(invalid="ignore"):
            state.beliefs.update(accept, threshold, state.shift)
        return cut


def answer_causes(accept: np.ndarray, value: np.ndarray, war: np.ndarray, made: np.ndarray,
                  box_ok: np.ndarray, proposer: int) -> np.ndarray:
    """``(P, n)`` index into ``CAUSES``: why each principal answered as it did."""
    below = ~accepts(value, war)
    cause = np.where(below, 1, 3)
    cause = np.where(made[None], cause, 5)
    cause = np.where(box_ok[None], cause, 4)
    cause = np.where(accept, 0, cause)
    cause[proposer] = np.where(below[proposer], 1, 0)
    return cause.astype(np.int8)


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
