"""The actors as Mesa agents: one agent per state, its parameters as arrays over worlds.

An agent does not own a private copy of its numbers: the model keeps every parameter stacked
over actors and worlds (``WorldParams``, worlds on the last axis) so protocols can work on all
principals at once, and each agent reads its own row. When the model compacts finished worlds
out of the working arrays, agents see the compacted rows automatically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from negotiation_sim.config.scenario import Guarantor, Mediator, Principal
from negotiation_sim.core.preferences import utilities

if TYPE_CHECKING:
    from negotiation_sim.core.model import SummitModel


class StateAgent(mesa.Agent):
    """A state at the table: its id, role and display name."""

    model: SummitModel
    role: str = ""

    def __init__(self, model: SummitModel, actor_id: str, spec) -> None:
        super().__init__(model)
        self.actor_id = actor_id
        self.spec = spec
        self.name = spec.display(actor_id)
        self.leader = spec.leader

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.actor_id!r})"


class PrincipalAgent(StateAgent):
    """A party that signs or refuses. Row ``index`` of the principals' arrays."""

    role = "principal"
    spec: Principal

    def __init__(self, model: SummitModel, actor_id: str, spec: Principal, index: int) -> None:
        super().__init__(model, actor_id, spec)
        self.index = index

    @property
    def reservation(self) -> np.ndarray:
        """True value of no deal now, per live world (pressure lowers it round by round)."""
        return self.model.reservation[self.index]

    @property
    def claim(self) -> np.ndarray:
        """The reservation it claims now: the true one plus what is left of its overstatement."""
        return self.model.reservation[self.index] + self.model.excess[self.index]

    def utility(self, text: np.ndarray) -> np.ndarray:
        """Undiscounted utility of a text ``(K, n)`` in each live world."""
        prefs = self.model.params.prefs.subset([self.index])
        return utilities(text, prefs)[0]


class MediatorAgent(StateAgent):
    """A party that invites, drafts the texts and applies pressure."""

    role = "mediator"
    spec: Mediator


class GuarantorAgent(StateAgent):
    """A party that backs guarantees up to its offer (a cap on what texts may promise)."""

    role = "guarantor"
    spec: Guarantor


def make_agent(model: SummitModel, actor_id: str, spec, principal_index: int | None) -> StateAgent:
    """The agent for one scenario actor."""
    if isinstance(spec, Principal):
        return PrincipalAgent(model, actor_id, spec, principal_index)
    if isinstance(spec, Mediator):
        return MediatorAgent(model, actor_id, spec)
    return GuarantorAgent(model, actor_id, spec)
