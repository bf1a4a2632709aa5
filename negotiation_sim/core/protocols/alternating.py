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
  caps (``core.proposer.proposer_text``); it is made when the proposer gets at least what
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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv, ndtr, ndtri

from negotiation_sim.config.distributions import Beta, Choice, Normal, Triangular, Uniform
from negotiation_sim.core.beliefs import Prior
from negotiation_sim.core.nash import LinearFrontier
from negotiation_sim.core.preferences import FEASIBILITY_TOL, Preferences, utilities
from negotiation_sim.core.proposer import clipped_ideal, proposer_text
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.state import TalksState

# Cells of equal prior mass that discretise the belief about the responder's value of war: the
# states of the backward induction (docs/protocols.md gives the error).
CELLS = 128
SPACING = 3.0  # cell m ends where the remaining mass is (1 - m / CELLS) ** SPACING
TABLE_POINTS = 129  # points of the tabulated frontier (curved utilities)
MYOPIC_LEVELS = (32, 8)  # acceptance levels a myopic proposer tries (two, more principals)
_BATCH = 4096  # groups planned together
_CACHE_GROUPS = 64  # a chunk with at most this many distinct plans looks them up in the cache
_CACHE_SIZE = 256
_PLAN_CACHE: dict[bytes, tuple[np.ndarray, np.ndarray, float]] = {}

COMPLETE, SCREEN, MYOPIC = 0, 1, 2
REGIMES = ("complete", "screening", "myopic")


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
        """The first text principals foresee (before any pressure or backlash).

        Complete information: the subgame-perfect agreement (where play never agrees, the
        first proposer's demand: some principal then gains nothing from attending). Screening:
        the proposer's round-1 offer (its ideal if it makes none). Myopic: its round-1
        screening offer.
        """
        m = self.model
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
                takes = np.where(made, v, -np.inf) >= war - FEASIBILITY_TOL
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
        problem = ScreeningProblem.gather(m, i, j, idx, pressure, walk, rnd)
        offer, cut, value = solve_screening(problem, m.priors[j], self.strategic)
        state.screen_offer[rnd - 1:, idx] = offer
        state.screen_cut[rnd - 1:, idx] = cut
        state.screen_value[idx] = value
        if m.trace_enabled:
            m.history.append({"stage": "screen", "round": rnd, "worlds": m.live[idx].copy(),
                              "offer": offer.copy(), "cutoff": cut.copy(),
                              "value": value.copy(), "cells": CELLS})

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
        self._prepare(rnd, state.pressure, np.stack(m.principals.map("walk_chance")), redo)

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
        agree = accept.all(axis=0) & made & (value[i] >= w[i] - FEASIBILITY_TOL) & prm.box_ok
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
        """One-round screening: among texts leaving every unknown responder the value of war
        of one level (quantile) of its belief and every known one its value of war, the text
        maximising ``p u_i + (1 - p) w_i`` (``p``: the chance all accept under the beliefs)."""
        m, prm, state = self.model, self.model.params, self.model.state
        i, P = self.proposer(rnd), state.reservation.shape[0]
        idx = np.flatnonzero(mask)
        prefs, lo, hi = prm.prefs.take(idx), prm.lo[:, idx], prm.hi[:, idx]
        w, shift = state.reservation[:, idx], state.shift[:, idx]
        beliefs = state.beliefs.take(idx)
        best = np.full(idx.size, -np.inf)
        x_best = clipped_ideal(prefs, i, lo, hi)
        levels = MYOPIC_LEVELS[0] if P == 2 else MYOPIC_LEVELS[1]
        for level in np.arange(1, levels + 1) / levels:
            floor = self._level_floors(level, beliefs, w, shift, i)
            x, ok = proposer_text(prefs, i, floor, lo, hi)
            u = utilities(x, prefs)
            p = np.ones(idx.size)
            for r in range(P):
                if r != i:
                    p = p * beliefs.accept_probability(m.priors, r, u[r], shift[r], w[r])
            e = p * u[i] + (1.0 - p) * w[i]
            good = (ok & prm.box_ok[idx] & (u[i] >= w[i] - FEASIBILITY_TOL) & (p > 0)
                    & (e >= best))
            best, x_best = np.where(good, e, best), np.where(good[None], x, x_best)
        text = clipped_ideal(prm.prefs, i, prm.lo, prm.hi)
        text[:, idx] = x_best
        made = np.zeros(prm.n, dtype=bool)
        made[idx] = np.isfinite(best)
        return text, made

    def _level_floors(self, level: float, beliefs, w: np.ndarray, shift: np.ndarray,
                      i: int) -> np.ndarray:
        """``(P, n)`` each responder's floor at one level of its belief: the value of war of
        the ``level`` quantile where unknown, its value of war where known."""
        floor = w.copy()
        for r, prior in enumerate(self.model.priors):
            if r == i or prior is None:
                continue
            c = belief_quantile(prior, beliefs.lo[r], beliefs.hi[r], np.asarray(level))
            floor[r] = np.where(beliefs.known[r], w[r], np.clip(c + shift[r], 0.0, 1.0))
        return floor

    def _answers(self, rnd: int, value: np.ndarray, made: np.ndarray) -> np.ndarray:
        """``(P, n)`` who accepts: complete information as planned; a sincere responder any
        offer worth its value of war now; a strategic screened one iff its first-round value
        of war is at most the planned cutoff (and the offer is worth its value of war)."""
        prm, state = self.model.params, self.model.state
        w, regime = state.reservation, state.regime
        i = self.proposer(rnd)
        accept = (value >= w - FEASIBILITY_TOL) & made[None]
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
    below = value < war - FEASIBILITY_TOL
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


# -- screening: the responder's types, the proposer's frontier, backward induction --------------


def quantile(prior: Prior, z: np.ndarray) -> np.ndarray:
    """The prior's quantile function: the smallest first-round value of war ``y`` with
    ``P(w(1) <= y) >= z``, elementwise (exact for every distribution the scenario allows)."""
    d, z = prior.dist, np.clip(np.asarray(z, dtype=float), 0.0, 1.0)
    if prior.low == prior.high:
        return np.full(z.shape, prior.low)
    if isinstance(d, Uniform):
        return d.low + z * (d.high - d.low)
    if isinstance(d, Normal):
        a, b = ndtr((prior.low - d.mean) / d.sd), ndtr((prior.high - d.mean) / d.sd)
        return np.clip(d.mean + d.sd * ndtri(a + z * (b - a)), prior.low, prior.high)
    if isinstance(d, Beta):
        return betaincinv(d.a, d.b, z)
    if isinstance(d, Triangular):
        a, c, b = d.low, d.mode, d.high
        left = a + np.sqrt(z * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - z) * (b - a) * (b - c))
        return np.where(z <= (c - a) / (b - a), left, right)
    if isinstance(d, Choice):
        values = np.asarray(d.values, dtype=float)
        weights = (np.ones(values.size) if d.weights is None
                   else np.asarray(d.weights, dtype=float))
        order = np.argsort(values, kind="stable")
        cum = np.cumsum(weights[order]) / weights.sum()
        return values[order][np.minimum(np.searchsorted(cum, z - 1e-12), values.size - 1)]
    raise TypeError(f"no quantile for {type(d).__name__}")


def belief_quantile(prior: Prior, lo: np.ndarray, hi: np.ndarray, level: np.ndarray
                    ) -> np.ndarray:
    """The ``level`` quantile of the prior truncated to the belief ``(lo, hi]``."""
    F_lo, F_hi = prior.cdf(lo), prior.cdf(hi)
    c = quantile(prior, F_lo + level * (F_hi - F_lo))
    return np.clip(c, np.maximum(lo, prior.low), np.minimum(hi, prior.high))


def grid_level(s: np.ndarray | float, cells: int) -> np.ndarray:
    """The belief's CDF at the (fractional) state ``s``, in cells: the remaining mass is
    ``(1 - s / cells) ** SPACING``, so cells shrink toward the top, where a proposer who skims
    a share of what is left each round takes the talks."""
    return 1.0 - (1.0 - np.asarray(s, dtype=float) / cells) ** SPACING


def type_grid(prior: Prior, lo: np.ndarray, hi: np.ndarray, cells: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(c, F)``, each ``(cells + 1, g)``: the belief ``(lo, hi]`` about the responder's
    first-round value of war cut into cells (``grid_level``). ``c[m]`` is the top of cell m
    (``c[0]`` the bottom of the belief), ``F[m]`` the belief's CDF there (0 at ``c[0]``, 1 at
    the top). Masses are the prior's own, so a world whose value lies in cell m is there with
    exactly the probability the proposer counts."""
    level = grid_level(np.arange(cells + 1), cells)[:, None]
    c = belief_quantile(prior, lo[None], hi[None], level)
    c[0], c[-1] = np.maximum(lo, prior.low), np.minimum(hi, prior.high)
    F_lo, F_hi = prior.cdf(lo), prior.cdf(hi)
    mass = F_hi - F_lo
    F = (prior.cdf(c) - F_lo) / np.where(mass > 0, mass, 1.0)
    F = np.where(mass > 0, F, level)
    F[0], F[-1] = 0.0, 1.0
    return c, np.maximum.accumulate(np.clip(F, 0.0, 1.0), axis=0)


class Frontier:
    """What the proposer (actor 0 of ``pair``) can keep while leaving the responder (actor 1)
    at least ``v``: ``A(v)``, concave and falling on ``[v_min, v_max]``.

    Linear utilities: the Pareto frontier is a chain of segments (``core.nash.LinearFrontier``)
    and ``A`` the minimum of their lines, exactly. Otherwise ``A`` is tabulated at
    ``TABLE_POINTS`` values with ``proposer_text`` and interpolated linearly.
    """

    def __init__(self, pair: Preferences, lo: np.ndarray, hi: np.ndarray) -> None:
        own = utilities(clipped_ideal(pair, 0, lo, hi), pair)
        self.a_max, self.v_min = own[0], own[1]
        self.v_max = utilities(clipped_ideal(pair, 1, lo, hi), pair)[1]
        self.table = None
        if pair.linear:
            fr = LinearFrontier.build(pair, lo, hi)
            steep = fr.g2 > 0
            self.slope = np.where(steep, fr.g1 / np.where(steep, fr.g2, 1.0), 0.0)
            self.base = np.where(steep, fr.start1 + self.slope * fr.start2, np.inf)
        else:
            self.table = self._tabulate(pair, lo, hi)

    def _tabulate(self, pair: Preferences, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        g = lo.shape[1]
        v = self.v_min + (self.v_max - self.v_min) * np.linspace(0, 1, TABLE_POINTS)[:, None]
        cols = np.tile(np.arange(g), TABLE_POINTS)
        floor = np.stack([np.zeros(cols.size), v.ravel()])
        x, _ = proposer_text(pair.take(cols), 0, floor, lo[:, cols], hi[:, cols])
        return utilities(x, pair.take(cols))[0].reshape(TABLE_POINTS, g)

    def value(self, v: np.ndarray) -> np.ndarray:
        """``A(v)`` for offers ``v`` ``(M, g)`` (``a_max`` below ``v_min``)."""
        if self.table is None:
            lines = self.base[:, None] - self.slope[:, None] * v[None]
            return np.minimum(self.a_max, lines.min(axis=0))
        span = self.v_max - self.v_min
        t = np.clip((v - self.v_min) / np.where(span > 0, span, 1.0), 0.0, 1.0)
        t = t * (TABLE_POINTS - 1)
        k = np.minimum(np.floor(t).astype(np.int64), TABLE_POINTS - 2)
        lo = np.take_along_axis(self.table, k, axis=0)
        up = np.take_along_axis(self.table, k + 1, axis=0)
        return np.where(span > 0, lo + (t - k) * (up - lo), self.a_max)


@dataclass
class ScreeningProblem:
    """One-sided screening in some worlds: everything the plan reads, worlds last.

    Attributes:
        pair: the two principals' preferences, proposer first.
        lo, hi, box_ok: the box of feasible texts.
        war_a: ``(Tn, n)`` the proposer's value of war in each remaining round (projected).
        shift_b: ``(Tn, n)`` the public shift of the responder's value of war then.
        da, db: ``(n,)`` patience of proposer and responder; ``q`` the responder's walk-out
            chance after rejecting.
        lo_b, hi_b: ``(n,)`` the belief ``(lo_b, hi_b]`` about the responder's first-round
            value of war.
        cease: ``(2, n)`` the ceasefire package's worth to proposer and responder, or None.
    """

    pair: Preferences
    lo: np.ndarray
    hi: np.ndarray
    box_ok: np.ndarray
    war_a: np.ndarray
    shift_b: np.ndarray
    da: np.ndarray
    db: np.ndarray
    q: np.ndarray
    lo_b: np.ndarray
    hi_b: np.ndarray
    cease: np.ndarray | None

    @classmethod
    def gather(cls, m, i: int, j: int, idx: np.ndarray, pressure: np.ndarray,
               walk: np.ndarray, rnd: int) -> ScreeningProblem:
        """The problem of worlds ``idx`` of model ``m`` from round ``rnd``: values of war are
        projected from their current values by ``pressure``."""
        prm, state = m.params, m.state
        steps = np.arange(m.spec.protocol.rounds - rnd + 1)[:, None]
        pair = prm.prefs.subset([i, j]).take(idx)
        cease = None if prm.ceasefire is None else utilities(prm.ceasefire[:, idx], pair)
        return cls(pair, prm.lo[:, idx], prm.hi[:, idx], prm.box_ok[idx],
                   np.clip(state.reservation[i, idx] - steps * pressure[i, idx], 0.0, 1.0),
                   state.shift[j, idx] - steps * pressure[j, idx],
                   prm.patience[i, idx], prm.patience[j, idx], walk[j, idx],
                   state.beliefs.lo[j, idx], state.beliefs.hi[j, idx], cease)

    def take(self, idx: np.ndarray) -> ScreeningProblem:
        out = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            if isinstance(v, np.ndarray):
                v = v.take(idx, axis=-1)
            elif v is not None:
                v = v.take(idx)
            out[name] = v
        return ScreeningProblem(**out)

    def features(self) -> np.ndarray:
        """``(n, F)`` one row per world: worlds with equal rows have the same plan."""
        n = self.box_ok.shape[0]
        parts = [self.pair.position.reshape(-1, n), self.pair.salience.reshape(-1, n),
                 self.pair.power, self.lo, self.hi, self.box_ok[None].astype(float),
                 self.war_a, self.shift_b, self.da[None], self.db[None], self.q[None],
                 self.lo_b[None], self.hi_b[None]]
        if self.cease is not None:
            parts.append(self.cease)
        return np.ascontiguousarray(np.concatenate(parts).T)


def solve_screening(problem: ScreeningProblem, prior: Prior, strategic: bool
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The screening plan of every world of ``problem``: ``(offer (Tn, n), cut (Tn, n),
    value (n,))`` on the path of rejections (offer NaN: none that round; cut: the highest
    first-round value of war that accepts), and the proposer's expected value.

    Worlds with the same common-knowledge inputs share one computation (``np.unique`` on
    ``problem.features``). A chunk with few distinct plans (the scenario draws nothing the plan
    reads) looks them up in a cache keyed by those inputs, so a run computes each once; the
    cache only saves time, every plan is computed alike.
    """
    feat = problem.features()
    _, first, inverse = np.unique(feat, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    Tn, g = problem.war_a.shape[0], first.size
    offer, cut, value = np.empty((Tn, g)), np.empty((Tn, g)), np.empty(g)
    tag = repr((CELLS, strategic, prior.dist, problem.pair.quadratic.tolist())).encode()
    keys = [tag + feat[k].tobytes() for k in first] if g <= _CACHE_GROUPS else None
    todo = [k for k in range(g) if keys is None or keys[k] not in _PLAN_CACHE]
    for s in range(0, len(todo), _BATCH):
        sl = np.asarray(todo[s:s + _BATCH])
        offer[:, sl], cut[:, sl], value[sl] = _plan_groups(problem.take(first[sl]), prior,
                                                           strategic)
    if keys is not None:
        for k in range(g):
            if k in todo:
                if len(_PLAN_CACHE) >= _CACHE_SIZE:
                    _PLAN_CACHE.pop(next(iter(_PLAN_CACHE)))
                _PLAN_CACHE[keys[k]] = (offer[:, k].copy(), cut[:, k].copy(), float(value[k]))
            else:
                offer[:, k], cut[:, k], value[k] = _PLAN_CACHE[keys[k]]
    return offer[:, inverse], cut[:, inverse], value[inverse]


def _plan_groups(sub: ScreeningProblem, prior: Prior, strategic: bool):
    """Solve, then follow the path of rejections from the current belief (state 0)."""
    c, F = type_grid(prior, sub.lo_b, sub.hi_b, CELLS)
    fr = Frontier(sub.pair, sub.lo, sub.hi)
    rho, omega, S = backward_induction(sub, c, F, fr, strategic)
    Tn, _, g = rho.shape
    level = np.zeros(g)
    path_offer, path_cut = np.empty((Tn, g)), np.empty((Tn, g))
    for t in range(Tn):
        nxt, v = policy_at(rho[t], omega[t], F, level)
        path_offer[t] = v
        path_cut[t] = np.where(nxt >= 1.0, c[-1], belief_quantile(prior, sub.lo_b, sub.hi_b, nxt))
        level = nxt
    return path_offer, path_cut, S[0]


def policy_at(rho: np.ndarray, omega: np.ndarray, F: np.ndarray, s: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(next state, offer)`` at states ``s`` ``(g,)`` between the grid's (states are the
    belief's CDF at the cutoff): linear between the policies of the two nearest states where
    both make offers and their cutoffs lie within two cells (the policy is smooth there), else
    the nearest state's. No offer: the state stays."""
    G1, g = rho.shape
    cols = np.arange(g)
    j = np.clip((F <= s[None] + 1e-15).sum(axis=0) - 1, 0, G1 - 2)
    F0, F1 = F[j, cols], F[j + 1, cols]
    f = np.clip((s - F0) / np.where(F1 > F0, F1 - F0, 1.0), 0.0, 1.0)
    r0, r1 = rho[j, cols], rho[j + 1, cols]
    o0, o1 = omega[j, cols], omega[j + 1, cols]
    near = np.where(f < 0.5, j, j + 1)
    cells = np.abs(cell_of(r1) - cell_of(r0))
    smooth = ~np.isnan(o0) & ~np.isnan(o1) & (cells <= 2.0)
    r = np.where(smooth, (1.0 - f) * r0 + f * r1, rho[near, cols])
    o = np.where(smooth, (1.0 - f) * o0 + f * o1, omega[near, cols])
    made = ~np.isnan(o) & (r > s + 1e-12)
    return np.where(made, r, s), np.where(made, o, np.nan)


def cell_of(level: np.ndarray, cells: int = CELLS) -> np.ndarray:
    """The (fractional) cell at which the belief's CDF reaches ``level`` (``grid_level``'s
    inverse)."""
    return cells * (1.0 - np.clip(1.0 - level, 0.0, 1.0) ** (1.0 / SPACING))


def backward_induction(sub: ScreeningProblem, c: np.ndarray, F: np.ndarray, fr: Frontier,
                       strategic: bool):
    """Backward induction over the cutoff (the state: cells ``1..j`` have accepted).

    Per round t, from the deadline back (docs/protocols.md, "Screening"), for every state j:
    ``R(e)`` the worth of rejecting to the type at cutoff e when the state will be e;
    ``tau(e)`` the offer that type accepts (``w_b(t)`` sincere, ``max(R, w_b(t))`` strategic);
    the proposer's value ``S(j) = max(keep(j), max_{e > j} (F_e - F_j) A(tau_e) + keep(e))``
    with ``keep(e)`` the worth of the remaining types rejecting; ``U(j)`` the worth of the talks
    to the type at the cutoff j. The best cutoff is found among the cell tops
    (``hull_envelope``), then refined between cells (``_refine``). Returns ``(rho (Tn, G+1, g),
    omega (Tn, G+1, g), S (G+1, g))``: at each state the next state as the belief's CDF at the
    cutoff (``F_j`` itself: no offer), the offer's worth to the responder (NaN: none), and the
    proposer's value at the first round.
    """
    G1, g = c.shape
    Tn = sub.war_a.shape[0]
    cells = np.arange(G1)[:, None]
    mass = np.diff(F, axis=0)
    rho, omega = np.empty((Tn, G1, g)), np.empty((Tn, G1, g))
    fa, fb = _failure(c, sub.war_a[-1], sub.shift_b[-1], sub.cease)
    S, U = _tail(mass, fa), fb
    for t in range(Tn - 1, -1, -1):
        wa, db, da, q = sub.war_a[t], sub.db, sub.da, sub.q
        wb = np.clip(c + sub.shift_b[t], 0.0, 1.0)
        fa, fb = _failure(c, wa, sub.shift_b[t], sub.cease)
        R = (1.0 - db) * wb + db * ((1.0 - q) * U + q * fb)
        tau = np.maximum.accumulate(np.maximum(R, wb) if strategic else wb, axis=0)
        v, eff = _offers(tau, fr.v_min)
        A = np.minimum.accumulate(fr.value(v), axis=0)
        usable = (sub.box_ok & (v <= fr.v_max + FEASIBILITY_TOL)
                  & (A >= wa - FEASIBILITY_TOL) & (eff == cells))
        keep = (1.0 - da) * wa * (1.0 - F) + da * ((1.0 - q) * S + q * _tail(mass, fa))
        alpha = np.take_along_axis(F, eff, axis=0) * A + np.take_along_axis(keep, eff, axis=0)
        best, e = hull_envelope(alpha, A, usable, F)
        line = best >= keep
        e = np.where(line, e, cells)
        value, worth, level = _refine(alpha, A, usable, F, v, e, best)
        S = np.where(line, value, keep)
        U = np.where(line, worth, R)
        rho[t] = np.where(line, level, F)
        omega[t] = np.where(line, worth, np.nan)
    return rho, omega, S


def _refine(alpha, A, usable, F, v, e, best):
    """The proposer's optimum between cells: the vertex of the parabola (in the belief's CDF)
    through the values of the best cutoff and its two neighbours, the value there and the offer
    (linear in the CDF between theirs): ``(value, worth, level)`` with ``level`` the CDF at the
    refined cutoff.

    Without it the offers of the next round are a staircase in the state (one step per cell):
    the proposer of the round before then picks the cutoff where waiting looks cheapest, and
    the error grows like the square root of the cell size and compounds over rounds. The
    parabola is exact where the proposer's value is quadratic in the CDF (a uniform belief and
    a linear frontier).
    """
    G1 = alpha.shape[0]
    e = np.maximum(e, 0)
    lo, hi = np.maximum(e - 1, 0), np.minimum(e + 1, G1 - 1)

    def at(k):
        val = np.take_along_axis(alpha, k, axis=0) - F * np.take_along_axis(A, k, axis=0)
        ok = np.take_along_axis(usable, k, axis=0) & (k > np.arange(G1)[:, None])
        return np.where(ok, val, np.nan), np.take_along_axis(F, k, axis=0)

    (fm, xm), (fp, xp) = at(lo), at(hi)
    x0 = np.take_along_axis(F, e, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dm, dp = x0 - xm, xp - x0
        sm, sp = (best - fm) / dm, (fp - best) / dp  # slopes of the two chords
        curv = (sp - sm) / (dm + dp)  # half the second derivative
        ok = (e > 0) & (e < G1 - 1) & np.isfinite(curv) & (curv < 0) & (dm > 0) & (dp > 0)
        b = sm + curv * dm  # the parabola's slope at x0
        shift = np.where(ok, np.clip(-b / (2.0 * np.where(ok, curv, -1.0)), -dm, dp), 0.0)
    value = np.where(ok, best + b * shift + curv * shift * shift, best)
    v0 = np.take_along_axis(v, e, axis=0)
    vm, vp = np.take_along_axis(v, lo, axis=0), np.take_along_axis(v, hi, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        side = np.where(shift > 0, (vp - v0) / dp, (v0 - vm) / dm)
    worth = np.where(ok, v0 + shift * side, v0)
    return value, worth, x0 + shift


def _failure(c, wa, shift_b, cease):
    """``(F_a, F_b)``, each ``(G+1, g)``: what failing is worth per round to the proposer and
    to the type at each cutoff (the package if both take it, else the war)."""
    wb = np.clip(c + shift_b, 0.0, 1.0)
    fa = np.broadcast_to(wa, c.shape)
    if cease is None:
        return fa, wb
    both = (cease[0] >= wa - FEASIBILITY_TOL) & (cease[1] >= wb - FEASIBILITY_TOL)
    return np.where(both, cease[0], fa), np.where(both, cease[1], wb)


def _tail(mass, per_type):
    """``(G+1, g)``: at each state j, the sum over the cells above j of mass x value (of the
    cell's top type)."""
    rev = np.cumsum((mass * per_type[1:])[::-1], axis=0)[::-1]
    return np.concatenate([rev, np.zeros((1, mass.shape[1]))])


def _offers(tau, v_min):
    """``(v, eff)``: the offer that makes the type at each cutoff e accept (at least the
    responder's worth of the proposer's ideal, ``v_min``) and the cutoff it actually reaches
    (every type whose ``tau`` is at most the offer accepts: ties accept)."""
    G1 = tau.shape[0]
    cells = np.arange(G1)[:, None]
    v = np.maximum(tau, v_min)
    end = np.ones(tau.shape, dtype=bool)
    end[:-1] = tau[1:] != tau[:-1]
    plateau = np.minimum.accumulate(np.where(end, cells, G1 - 1)[::-1], axis=0)[::-1]
    lowest = (tau <= v_min).sum(axis=0) - 1
    return v, np.where(tau < v_min, lowest, plateau)


def hull_envelope(alpha, A, usable, F):
    """``(best, e)``, each ``(G+1, g)``: at each state j the largest ``alpha_e - F_j A_e`` over
    usable lines ``e > j`` (-inf and -1 where none), by the convex-hull trick.

    States are visited from the top down; the lines ``e > j`` are added as they become
    available (their slopes ``-A_e`` fall as e falls) and the queries ``F_j`` fall too, so a
    deque of the upper envelope answers each in amortised constant time: ``O(G)`` lock-step
    steps over all groups, against ``(G+1)^2`` for evaluating every pair.
    """
    G1, g = alpha.shape
    cols = np.arange(g)
    # the deque of each group: line indices and their intercepts and slopes, kept side by side
    # so that reading a line is one gather
    idx, sa, sA = (np.zeros(G1 * g, dtype=np.int64), np.zeros(G1 * g), np.zeros(G1 * g))
    bot, top = np.zeros(g, dtype=np.int64), np.full(g, -1, dtype=np.int64)
    best, arg = np.full((G1, g), -np.inf), np.full((G1, g), -1, dtype=np.int64)

    def at(pos):
        k = np.clip(pos, 0, G1 - 1) * g + cols
        return sa[k], sA[k]

    for j in range(G1 - 2, -1, -1):
        new = j + 1
        add = usable[new].copy()
        a3, A3 = alpha[new], A[new]
        while add.any():
            size = top - bot + 1
            a2, A2 = at(top)
            a1, A1 = at(top - 1)
            same = add & (size >= 1) & (A2 == A3)
            hidden = (add & ~same & (size >= 2)
                      & ((a3 - a2) * (A2 - A1) >= (a2 - a1) * (A3 - A2)))
            add &= ~(same & (a3 <= a2))
            pop = (same & (a3 > a2)) | hidden
            if not pop.any():
                break
            top = top - pop
        top = top + add
        k = (top * g + cols)[add]
        idx[k], sa[k], sA[k] = new, a3[add], A3[add]
        x = F[j]
        a0, A0 = at(bot)
        while True:
            a1, A1 = at(bot + 1)
            step = (top > bot) & (a1 - x * A1 > a0 - x * A0)
            if not step.any():
                break
            bot = bot + step
            a0, A0 = np.where(step, a1, a0), np.where(step, A1, A0)
        some = top >= bot
        best[j] = np.where(some, a0 - x * A0, -np.inf)
        arg[j] = np.where(some, idx[np.clip(bot, 0, G1 - 1) * g + cols], -1)
    return best, arg
