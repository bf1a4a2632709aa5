"""The actors as Mesa agents: one agent per state, acting over its rows of the ensemble.

The model keeps every parameter stacked over actors and worlds (``WorldParams``, worlds on the
last axis) and the talks' working state in the protocol's state (``core.state``); an agent reads
and writes its own rows. Each role's behaviour lives here, and the numerics it needs are plain
functions in ``core.solvers``; the protocols orchestrate the rounds and call the agents through
their ``AgentSet`` (``stacked(model.principals, "responds", value, demand)``):

- a ``PrincipalAgent`` ``attends`` a format or refuses, ``responds`` to a text (the one
  acceptance rule, ``preferences.accepts``), gives up part of an overstated claim after
  rejecting (``concede``), ``walks_out``, and ``breaks`` a signed text;
- a ``MediatorAgent`` ``convenes`` the first format every principal attends, ``drafts`` the
  single negotiating text (mediated protocol) and ``presses`` the principals it has leverage
  over (where it sits at the table, or everywhere when its ``pressure_applies`` is ``always``);
- a ``GuarantorAgent`` ``caps`` what any text may promise on the issues it backs.

Methods that take a ``(P, n)`` table (values, thresholds, draws) use the agent's own row, so
one call on the set answers for every principal. Results are placed by each agent's row
``index``, never by the order the set iterates in (``rows``, ``stacked``, ``in_rows``):
shuffling or sorting a set changes no number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from negotiation_sim.config.scenario import Guarantor, Mediator, Principal
from negotiation_sim.core.preferences import FEASIBILITY_TOL, accepts, utilities
from negotiation_sim.core.solvers.drafting import (
    biased_complete_text,
    biased_screening_text,
    complete_text,
    screening_text,
)
from negotiation_sim.core.worlds import constraint_box

BISECTION_STEPS = 24  # a principal's cut-back move is exact to 2^-24 of its length

if TYPE_CHECKING:
    from negotiation_sim.core.model import SummitModel
    from negotiation_sim.core.state import Ensemble


def in_rows(agents: Iterable[StateAgent]) -> list[StateAgent]:
    """The agents of one role in row order (``index``), whatever order their set is in."""
    return sorted(agents, key=lambda a: a.index)


def rows(agents: Iterable[StateAgent], verb: str, *args: Any) -> list[Any]:
    """``agent.verb(*args)`` for every agent, in row order: entry i is row i's answer. Calls
    run in row order too, so effects that add up (pressure) add in a fixed order."""
    return [getattr(a, verb)(*args) for a in in_rows(agents)]


def stacked(agents: Iterable[StateAgent], verb: str, *args: Any, axis: int = 0) -> np.ndarray:
    """``rows`` stacked into one array, the agents' rows along ``axis``."""
    return np.stack(rows(agents, verb, *args), axis=axis)


def chair(mediators: Iterable[MediatorAgent]) -> MediatorAgent | None:
    """The mediator that convenes and drafts: the scenario's first (None: there is none, and
    the table itself convenes and drafts by the same rules)."""
    first = in_rows(mediators)[:1]
    return first[0] if first else None


def kept(model: SummitModel, name: str, key: tuple, make: Callable[[], Any]) -> Any:
    """``make()``, kept as ``name`` while every object of ``key`` (the arrays it reads) is the
    same object: what several decisions of a round read alike is worked out once. Kept on the
    protocol, so a released model drops it with its other arrays."""
    holder = model.protocol
    cached = getattr(holder, name, None)
    if cached is not None and len(cached[0]) == len(key) and all(
            a is b for a, b in zip(cached[0], key)):
        return cached[1]
    value = make()
    setattr(holder, name, (key, value))
    return value


def session_answers(model: SummitModel, text: np.ndarray, excess: np.ndarray
                    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``[(u (P, n), each (P, n), allowed (n,)), ...]`` for the text ``(K, n)`` and the
    ceasefire package (where the scenario has one): every principal's worth of it, the chance
    under the public beliefs that each principal accepts it (its own answer where its value of
    war is common knowledge), and where it can be agreed at all (the text: inside the box; the
    package: none in force and inside every red line it names).

    What every principal reads alike (``PrincipalAgent.expects``): worked out once for all of
    them while the text, the claims and the state it reads are the same arrays."""
    state, prm = model.state, model.params
    key = (text, excess, state.reservation, state.shift, state.cease, state.beliefs.lo,
           state.beliefs.hi, state.beliefs.known, prm)
    return kept(model, "session_answers", key, lambda: _session_answers(model, text, excess))


def _session_answers(model: SummitModel, text: np.ndarray, excess: np.ndarray
                     ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    state, prm = model.state, model.params
    w = state.reservation
    u = worth(model, text)
    own = stacked(model.principals, "responds", u, w + excess) & prm.box_ok[None]
    out = [(u, _accept_chances(model, u - excess, own), prm.box_ok)]
    if prm.ceasefire is not None:
        uc = ceasefire_worth(model)
        takes = stacked(model.principals, "responds", uc, w + excess)
        open_ = model._ceasefire_allowed() & ~state.cease
        out.append((uc, _accept_chances(model, uc - excess, takes), open_))
    return out


def worth(model: SummitModel, text: np.ndarray) -> np.ndarray:
    """``(P, n)`` every principal's utility of ``text`` ``(K, n)``; the round's text is
    valued once for the decisions to attend and the session that tables it (kept while the
    text and the preferences are the same arrays)."""
    prefs = model.params.prefs
    return kept(model, "text_worth", (text, prefs), lambda: utilities(text, prefs))


def ceasefire_worth(model: SummitModel) -> np.ndarray:
    """``(P, n)`` every principal's utility of the ceasefire package (the scenario has one),
    read by the decisions to attend, the session, the ceasefire in force and the horizon each
    round: kept while the package and the preferences are the same arrays (new arrays come
    only when worlds are taken out or the caps move)."""
    prm = model.params
    return kept(model, "ceasefire_worth", (prm.ceasefire, prm.prefs),
                lambda: utilities(prm.ceasefire, prm.prefs))


def _accept_chances(model: SummitModel, margin: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """``(P, n)`` the chance under the public beliefs that each principal accepts a text worth
    ``margin`` ``(P, n)`` above its claim (``answers``: what each would answer, read where its
    value of war is common knowledge)."""
    state = model.state
    each = np.stack([state.beliefs.accept_probability(model.priors, j, margin[j],
                                                      state.shift[j], state.reservation[j])
                     for j in range(margin.shape[0])])
    return np.where(state.beliefs.known, answers, each)


def _others(each: np.ndarray, i: int) -> np.ndarray:
    """``(n,)`` the chance every principal but ``i`` accepts (``each``: ``(P, n)``)."""
    out = np.ones(each.shape[1:])
    for j in range(each.shape[0]):
        if j != i:
            out = out * each[j]
    return out


class StateAgent(mesa.Agent):
    """A state at the table: its id, role and display name; row ``index`` among its role."""

    model: SummitModel
    role: str = ""

    def __init__(self, model: SummitModel, actor_id: str, spec, index: int) -> None:
        super().__init__(model)
        self.actor_id = actor_id
        self.spec = spec
        self.index = index
        self.name = spec.display(actor_id)
        self.leader = spec.leader

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.actor_id!r})"


class PrincipalAgent(StateAgent):
    """A party that signs or refuses. Row ``index`` of the principals' arrays."""

    role = "principal"
    spec: Principal

    def __init__(self, model: SummitModel, actor_id: str, spec: Principal, index: int) -> None:
        super().__init__(model, actor_id, spec, index)
        self._pre = (constraint_box(spec.preconditions, model.issues)
                     if spec.preconditions else None)
        lo, hi = constraint_box(spec.red_lines, model.issues)
        self._red = lo.reshape(-1, 1), hi.reshape(-1, 1)

    # -- stage 1 ----------------------------------------------------------------------------
    def meets_preconditions(self, text: np.ndarray) -> np.ndarray:
        """``(n,)`` whether a text ``(K, n)`` meets every precondition it set for attending."""
        if self._pre is None:
            return np.ones(text.shape[1], dtype=bool)
        lo, hi = self._pre
        inside = (text >= lo[:, None] - FEASIBILITY_TOL) & (text <= hi[:, None] + FEASIBILITY_TOL)
        return inside.all(axis=0)

    def attends(self, gain: np.ndarray, preconditions: np.ndarray,
                threat: np.ndarray) -> np.ndarray:
        """``(F, n)`` whether it attends each format this round (docs/model.md section 8).

        Per-round accounting: what the session is expected to add a round to the war going on
        (row of ``gain``, ``(P, n)``; nothing in a format that leaves a principal out, which
        cannot settle), plus the rise in pressure a refusal would bring from the next round on
        (row of ``threat``: the mediators' announced blame), must cover its audience cost for
        the format, a round; and its preconditions must hold (row of ``preconditions``). Ties
        attend, as indifferent responders accept a text."""
        m, i = self.model, self.index
        cost = m.params.audience[i]  # (F, n)
        gain = np.where(m.format_full[:, None], gain[i][None], 0.0)
        return (gain + threat[i] - cost >= -FEASIBILITY_TOL) & preconditions[i]

    def signs(self, value: np.ndarray, threat: np.ndarray) -> np.ndarray:
        """``(F, n)`` whether it comes to a leaders' session of every principal to sign a text
        agreed at delegation level, worth ``value`` to it (row of ``(P, n)``): the text's
        worth above its value of war, plus the blame a refusal brings, covers its audience cost
        there (the same accounting as ``attends``); no other format signs."""
        m, i = self.model, self.index
        cost = m.params.audience[i]
        surplus = value[i] - m.state.reservation[i]
        ok = (surplus[None] + threat[i] - cost >= -FEASIBILITY_TOL) & accepts(
            value[i], m.state.reservation[i])[None]
        return ok & m.format_signs[:, None]

    def expects(self, text: np.ndarray, excess: np.ndarray) -> np.ndarray:
        """``(n,)`` what it expects a session of every principal to add, a round, to the war
        going on, when the text tabled is ``text`` ``(K, n)`` and the principals claim
        ``excess`` ``(P, n)`` above their values of war (docs/model.md section 8).

        A session can bring two deals: the text, if every principal accepts it, and the
        ceasefire package (where none is in force and the package lies inside every red line),
        if every principal accepts that. Each is worth its value above the value of war, if the
        principal itself would accept it, times the chance (under the public beliefs; a
        certainty where values are common knowledge) that the others accept it; the session is
        worth the better of the two, and never less than 0 (it can always refuse).
        """
        w = self.model.state.reservation[self.index]
        self._terms = self._session_terms(text, excess)
        gain = np.zeros_like(w)
        for u, chance, limit in self._terms:
            gain = np.maximum(gain, np.where(w <= limit + FEASIBILITY_TOL, chance * (u - w), 0.0))
        return gain

    def _session_terms(self, text: np.ndarray,
                       excess: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``[(u, chance, limit), ...]`` for the text and the ceasefire package: its worth to
        this principal, the chance the others accept it, and the highest value of war at which
        this principal accepts it itself (``-inf``: never)."""
        i = self.index
        out = []
        for u, each, allowed in session_answers(self.model, text, excess):
            out.append((u[i], _others(each, i), np.where(allowed, u[i] - excess[i], -np.inf)))
        return out

    def attend_cutoff(self, need: np.ndarray) -> np.ndarray:
        """``(n,)`` the highest value of war at which it attends a session of every principal
        when attending must be worth ``need`` ``(n,)`` a round (its audience cost less the
        blame it would bear): attending reveals its value of war is at most this, refusing
        that it is above (``expects`` falls as the value of war rises). ``+inf`` where every
        value attends (``need <= 0``)."""
        need = need - FEASIBILITY_TOL  # the tie rule of ``attends``, so the cut is exact
        cut = np.full(need.shape, -np.inf)
        for u, some, chance, top in self._cutoff_terms():
            reach = u - need / chance
            cut = np.maximum(cut, np.where(some, np.minimum(top, reach), -np.inf))
        return np.where(need <= 0, np.inf, cut)

    def _cutoff_terms(self) -> list[tuple[np.ndarray, ...]]:
        """``[(u, some, chance, top), ...]`` what ``attend_cutoff`` reads of each of the
        session's deals whatever the need: where the others may accept it (``some``), their
        chance of it (1 where none: that branch is never read) and the highest cut its own
        acceptance allows; worked out once for every format it decides on."""
        cached = getattr(self, "_cutoff_cache", None)
        if cached is not None and cached[0] is self._terms:
            return cached[1]
        out = [(u, chance > 0, np.where(chance > 0, chance, 1.0), limit + FEASIBILITY_TOL)
               for u, chance, limit in self._terms]
        self._cutoff_cache = (self._terms, out)
        return out

    def learn_from(self, attend: np.ndarray, asked: np.ndarray, threat: np.ndarray) -> None:
        """Update the public beliefs about its value of war on its decisions to attend
        (``attend``: ``(F, P, n)``) the formats of every principal it was asked to, where
        its preconditions held (``asked``: ``(F, P, n)``): Bayes' rule, as for answers
        (``Beliefs.update``). A format that leaves a principal out settles nothing, so deciding
        on it reveals nothing."""
        m, i = self.model, self.index
        if getattr(self, "_terms", None) is None:
            return  # the protocol's gain is not this rule's (alternating offers' plan values)
        state = m.state
        beliefs = state.beliefs
        learn = ~beliefs.known[i]
        if not learn.any():
            return  # its value of war is common knowledge in every world
        cost = m.params.audience[i]
        # Every decision bounds the value of war: the tightest bound from above (formats it
        # attended) and from below (formats it refused) say all the decisions say together.
        below = np.full(state.reservation.shape[1], np.inf)
        above = np.full(state.reservation.shape[1], -np.inf)
        for f in np.flatnonzero(m.format_full):
            need = cost[f] - threat[i]
            if (need - FEASIBILITY_TOL <= 0).all():
                continue  # it attends whatever its value of war (``attend_cutoff``: +inf)
            cut = self.attend_cutoff(need)
            said = asked[f, i] & (cut >= 0.0) & (cut < 1.0)  # as ``Beliefs.update`` reads it
            below = np.where(said & attend[f, i], np.minimum(below, cut), below)
            above = np.where(said & ~attend[f, i], np.maximum(above, cut), above)
        down, up = learn & np.isfinite(below), learn & np.isfinite(above)
        if not (down.any() or up.any()):
            return  # no decision said anything new
        hi, lo = beliefs.hi.copy(), beliefs.lo.copy()
        hi[i] = np.where(down, np.minimum(hi[i], below - state.shift[i]), hi[i])
        lo[i] = np.where(up, np.maximum(lo[i], above - state.shift[i]), lo[i])
        beliefs.hi, beliefs.lo = hi, lo

    # -- stage 2 ----------------------------------------------------------------------------
    def responds(self, value: np.ndarray, demand: np.ndarray) -> np.ndarray:
        """``(n,)`` whether it accepts a text worth ``value`` to it (row of ``(P, n)``) when it
        asks for at least ``demand`` (row of ``(P, n)``: its value of war, or of waiting, plus
        any posture). Ties accept (``preferences.accepts``, the rule every protocol uses)."""
        return accepts(value[self.index], demand[self.index])

    def concede(self, excess: np.ndarray, rejected: np.ndarray) -> np.ndarray:
        """``(n,)`` what is left of its overstatement (row of ``excess``) after the round: a
        principal that rejected gives up ``concession`` of it."""
        drop = self.model.params.concession[self.index]
        return np.where(rejected[self.index], excess[self.index] * (1.0 - drop),
                        excess[self.index])

    def walk_chance(self) -> np.ndarray:
        """``(n,)`` its chance of leaving after rejecting: ``walkout`` plus the backlash the
        pressure on it provokes."""
        state = self.model.state
        return np.clip(self.model.params.walkout[self.index] + state.backlash[self.index],
                       0.0, 1.0)

    def walks_out(self, rejected: np.ndarray, draws: np.ndarray) -> np.ndarray:
        """``(n,)`` whether it leaves the talks: it rejected (row of ``rejected``) and its
        uniform draw (row of ``draws``) falls below its walk-out chance."""
        return rejected[self.index] & (draws[self.index] < self.walk_chance())

    # -- expected-utility dynamics ----------------------------------------------------------
    def advocates(self, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        """``(K, n)`` the position it states after a round of position change: its row of
        ``new`` ``(P, K, n)`` kept inside its acceptance set (its row of ``old``: where it
        stood).

        A principal does not advocate what it would refuse: no move takes its position beyond
        its own red lines (or further beyond them), and none to a position worth less to it than
        its current value of war, the status quo it keeps by refusing (the acceptance rule of
        every protocol; Fearon 1995's bargaining range). Where a move would, it is cut back
        along the straight line to where it started (or, if even that is now worth less than
        the war, to its ideal point) just far enough: bisection, exact to 2^-24 of the move.
        """
        i, lo, hi = self.index, *self._red
        old = old[i]
        new = np.clip(new[i], np.minimum(lo, old), np.maximum(hi, old))
        prefs = self.model.params.prefs.subset([i])
        war = self.model.state.reservation[i]
        short = ~accepts(utilities(new, prefs)[0], war)
        if not short.any():
            return new
        w = np.flatnonzero(short)  # only the worlds where its move went too far
        prefs, war, old_w, new_w = prefs.take(w), war[w], old[:, w], new[:, w]
        keep = accepts(utilities(old_w, prefs)[0], war)[None]
        anchor = np.where(keep, old_w, prefs.position[0])
        lo = np.zeros_like(war)  # fraction of the way from ``new`` back to the anchor
        hi = np.ones_like(war)
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            ok = accepts(utilities(new_w + mid[None] * (anchor - new_w), prefs)[0], war)
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        new[:, w] = new_w + hi[None] * (anchor - new_w)
        return new

    # -- after signing ----------------------------------------------------------------------
    def breaks(self, ensemble: Ensemble, threshold: np.ndarray) -> np.ndarray:
        """``(n,)`` whether it breaks the text in force in each world of ``ensemble`` (a signed
        text followed, ``core.durability``, or a ceasefire in the talks): where its value of
        war now exceeds the text's worth plus the cost of breaking (``threshold``, ``(P, n)``)
        by more than the tolerance."""
        war = ensemble.state.reservation[self.index]
        return war > threshold[self.index] + FEASIBILITY_TOL


class MediatorAgent(StateAgent):
    """A party that invites, drafts the texts and presses. Row ``index`` of the mediators'."""

    role = "mediator"
    spec: Mediator

    def present(self, held: np.ndarray) -> np.ndarray:
        """``(n,)`` whether it sits in the format each world holds (``held``: format index,
        -1 for none)."""
        members = self.model.format_members[:, self.index]
        return np.where(held >= 0, members[np.maximum(held, 0)], False)

    def pressure_on(self, present: np.ndarray, ensemble: Ensemble) -> np.ndarray:
        """``(P, n)`` the per-round fall it brings to each principal's value of war: its
        pressure in the worlds of ``present`` (of ``ensemble``), plus what its blame has added
        (in every world: blame is sanctions, whether or not the blamed side sits with it)."""
        out = np.where(present, ensemble.params.pressure[self.index], 0.0)
        blamed = ensemble.state.blamed
        return out if blamed is None else out + blamed[self.index]

    def threat(self, ensemble: Ensemble) -> np.ndarray:
        """``(P, n)`` the rise in its pressure a refusal would bring each principal from the
        next round on: ``blame.refuse``, as far as the cap on blame leaves room."""
        prm, blamed = ensemble.params, ensemble.state.blamed[self.index]
        room = np.maximum(prm.blame_cap[self.index] - blamed, 0.0)
        return np.minimum(prm.blame_refuse[self.index], room)

    def blames(self, ensemble: Ensemble, refused: np.ndarray, rejected: np.ndarray) -> None:
        """Raise its pressure, from the next round on, on each principal by ``blame.refuse``
        for every format it refused this round (``refused``: ``(P, n)`` counts) and by
        ``blame.reject`` where it rejected a text every other principal accepted
        (``rejected``: ``(P, n)``), up to ``blame.cap`` in all (docs/model.md section 8)."""
        prm, state = ensemble.params, ensemble.state
        j = self.index
        add = prm.blame_refuse[j] * refused + prm.blame_reject[j] * rejected
        if not np.any(add):
            return
        blamed = state.blamed.copy()
        blamed[j] = np.minimum(blamed[j] + add, np.maximum(prm.blame_cap[j], blamed[j]))
        state.blamed = blamed

    def backlash_on(self, present: np.ndarray, ensemble: Ensemble) -> np.ndarray:
        """``(P, n)`` the walk-out chance its pressure adds to each principal where it bites."""
        prm = ensemble.params
        push = prm.backlash[self.index] * np.maximum(prm.pressure[self.index], 0.0)
        return np.where(present, push, 0.0)

    def reach(self, ensemble: Ensemble) -> np.ndarray:
        """``(n,)`` the worlds of ``ensemble`` its pressure bites in: those whose format it sits
        in, or every world when its ``pressure_applies`` is ``always`` (sanctions need no seat
        at the table)."""
        here = ensemble.state.present[self.index]
        return here | (self.spec.pressure_applies == "always")

    def presses(self, ensemble: Ensemble) -> None:
        """Lower (or raise) the pressured principals' value of war for the next round where its
        pressure bites, in ``ensemble`` (the talks, or the signed texts being followed; public:
        everyone sees sanctions)."""
        delta = -self.pressure_on(self.reach(ensemble), ensemble)
        ensemble.move_values(delta)
        state = ensemble.state
        if state.pressed is not None:
            state.pressed = state.pressed + delta

    def convenes(self, attend: np.ndarray) -> np.ndarray:
        """``(n,)`` the format it convenes in each world (``first_attended``)."""
        return first_attended(attend)

    def drafts(self) -> tuple[np.ndarray, np.ndarray]:
        """The round's single negotiating text and the chance it passes (``draft_text``)."""
        return draft_text(self.model)


def first_attended(attend: np.ndarray) -> np.ndarray:
    """``(n,)`` the first format, in the mediator's order, that every invited principal attends
    (``attend``: ``(F, P, n)``), -1 where none. The scenario's first mediator convenes; the
    table itself does the same when the scenario has none."""
    held = np.full(attend.shape[-1], -1, dtype=np.int64)
    for f in range(attend.shape[0]):
        held = np.where((held < 0) & attend[f].all(axis=0), f, held)
    return held


def draft_text(model: SummitModel) -> tuple[np.ndarray, np.ndarray]:
    """The mediated text of a round, ``(text (K, n), p (n,))`` with ``p`` the mediator's
    probability that every principal accepts it (``core.solvers.drafting``): the Nash text on the
    principals' thresholds where they are common knowledge, the text most likely to pass under
    the public beliefs where they are not. The scenario's first mediator drafts it, or the table
    itself when the scenario has none: the text is the same. A chair with a bias b > 0 weighs
    its own utility of the text as well (``biased_complete_text``, ``biased_screening_text``;
    docs/model.md section 9); worlds of bias 0 keep the unbiased text.
    """
    state = model.state
    excess = getattr(state, "excess", np.zeros_like(state.reservation))
    complete = state.beliefs.known.all()
    if complete:
        text, ok = complete_text(model.solver, state.reservation + excess)
        chance = ok.astype(float)
    else:
        text, chance = screening_text(model.solver, excess, state.beliefs, model.priors,
                                      state.shift, state.reservation)
    bias = model.params.bias[0] if model.params.bias.shape[0] else None
    if bias is None or not (bias > 0).any():
        return text, chance  # an unbiased drafter (every world of bias 0 keeps its text)
    # A biased chair drafts in the worlds of bias > 0 (core.solvers.drafting); it has a
    # position there (validation), the row of params.others after the principals'.
    P = state.reservation.shape[0]
    row = model.spec.positioned.index(in_rows(model.mediators)[0].actor_id) - P
    w = np.flatnonzero(bias > 0)
    text, chance = np.array(text), np.array(chance)  # writable (a constant is a view)
    drafter = model.params.others.subset([row]).take(w)
    solver, b = model.solver.take(w), bias[w]
    if complete:
        theta = (state.reservation + excess)[:, w]
        biased = biased_complete_text(solver, theta, drafter, b, text[:, w])
        text[:, w] = np.where(ok[w][None], biased, text[:, w])
        return text, chance
    biased, p = biased_screening_text(
        solver, excess[:, w], state.beliefs.take(w), model.priors, state.shift[:, w],
        state.reservation[:, w], drafter, b, text[:, w])
    text[:, w], chance[w] = biased, p
    return text, chance


class GuarantorAgent(StateAgent):
    """A party that backs guarantees up to its offer. Row ``index`` of the guarantors'."""

    role = "guarantor"
    spec: Guarantor

    def caps(self) -> np.ndarray:
        """``(K, n)`` the most it backs on each issue (1 where it offers nothing)."""
        return self.model.params.offers[self.index]

    def supports(self, ensemble: Ensemble) -> None:
        """Raise the value of war of the principals it supports (arms and money), for the next
        round, in the worlds of ``ensemble`` (the talks: what is signed is not fought over;
        public, like pressure)."""
        support = ensemble.params.support[self.index]
        if np.any(support):
            ensemble.move_values(support)


AGENT_CLASSES = {Principal: PrincipalAgent, Mediator: MediatorAgent, Guarantor: GuarantorAgent}


def make_agent(model: SummitModel, actor_id: str, spec, index: int) -> StateAgent:
    """The agent for one scenario actor, row ``index`` among the actors of its role."""
    return AGENT_CLASSES[type(spec)](model, actor_id, spec, index)
