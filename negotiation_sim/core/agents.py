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

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from negotiation_sim.config.scenario import Guarantor, Mediator, Principal
from negotiation_sim.core.preferences import FEASIBILITY_TOL, accepts
from negotiation_sim.core.solvers.drafting import complete_text, screening_text
from negotiation_sim.core.worlds import constraint_box

if TYPE_CHECKING:
    from negotiation_sim.core.durability import FollowUp
    from negotiation_sim.core.model import SummitModel


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

    # -- stage 1 ----------------------------------------------------------------------------
    def meets_preconditions(self, text: np.ndarray) -> np.ndarray:
        """``(n,)`` whether a text ``(K, n)`` meets every precondition it set for attending."""
        if self._pre is None:
            return np.ones(text.shape[1], dtype=bool)
        lo, hi = self._pre
        inside = (text >= lo[:, None] - FEASIBILITY_TOL) & (text <= hi[:, None] + FEASIBILITY_TOL)
        return inside.all(axis=0)

    def attends(self, gain: np.ndarray, preconditions: np.ndarray) -> np.ndarray:
        """``(F, n)`` whether it attends each format: its expected gain from the talks (row of
        ``gain``, ``(P, n)``) covers its audience cost there, and its preconditions hold (row of
        ``preconditions``). Ties attend, as indifferent responders accept a text."""
        cost = self.model.params.audience[self.index]  # (F, n)
        return (gain[self.index] - cost >= -FEASIBILITY_TOL) & preconditions[self.index]

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

    # -- after signing ----------------------------------------------------------------------
    def breaks(self, follow: FollowUp) -> np.ndarray:
        """``(n,)`` whether it breaks each signed text it is followed in (``follow``: the signed
        texts' ensemble, ``core.durability``): where its value of war now exceeds the text's
        worth plus the cost of breaking (``follow.threshold``) by more than the tolerance."""
        war = follow.state.reservation[self.index]
        return war > follow.threshold[self.index] + FEASIBILITY_TOL


class MediatorAgent(StateAgent):
    """A party that invites, drafts the texts and presses. Row ``index`` of the mediators'."""

    role = "mediator"
    spec: Mediator

    def present(self, held: np.ndarray) -> np.ndarray:
        """``(n,)`` whether it sits in the format each world holds (``held``: format index,
        -1 for none)."""
        members = self.model.format_members[:, self.index]
        return np.where(held >= 0, members[np.maximum(held, 0)], False)

    def pressure_on(self, present: np.ndarray) -> np.ndarray:
        """``(P, n)`` the per-round fall it brings to each principal's value of war in the
        worlds of ``present``."""
        return np.where(present, self.model.params.pressure[self.index], 0.0)

    def backlash_on(self, present: np.ndarray) -> np.ndarray:
        """``(P, n)`` the walk-out chance its pressure adds to each principal where it bites."""
        prm = self.model.params
        push = prm.backlash[self.index] * np.maximum(prm.pressure[self.index], 0.0)
        return np.where(present, push, 0.0)

    def reach(self) -> np.ndarray:
        """``(n,)`` the worlds its pressure bites in: those whose format it sits in, or every
        world when its ``pressure_applies`` is ``always`` (sanctions need no seat at the table)."""
        here = self.model.state.present[self.index]
        return here | (self.spec.pressure_applies == "always")

    def presses(self) -> None:
        """Lower (or raise) the pressured principals' value of war for the next round where its
        pressure bites (public: everyone sees sanctions)."""
        self.model.move_values(-self.pressure_on(self.reach()))

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
    itself when the scenario has none: the text is the same.
    """
    state = model.state
    excess = getattr(state, "excess", np.zeros_like(state.reservation))
    if state.beliefs.known.all():
        text, ok = complete_text(model.solver, state.reservation + excess)
        return text, ok.astype(float)
    return screening_text(model.solver, excess, state.beliefs, model.priors, state.shift,
                          state.reservation)


class GuarantorAgent(StateAgent):
    """A party that backs guarantees up to its offer. Row ``index`` of the guarantors'."""

    role = "guarantor"
    spec: Guarantor

    def caps(self) -> np.ndarray:
        """``(K, n)`` the most it backs on each issue (1 where it offers nothing)."""
        return self.model.params.offers[self.index]


AGENT_CLASSES = {Principal: PrincipalAgent, Mediator: MediatorAgent, Guarantor: GuarantorAgent}


def make_agent(model: SummitModel, actor_id: str, spec, index: int) -> StateAgent:
    """The agent for one scenario actor, row ``index`` among the actors of its role."""
    return AGENT_CLASSES[type(spec)](model, actor_id, spec, index)
