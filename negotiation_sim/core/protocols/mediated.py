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

Strategic responders (``protocol.responders: strategic``) answer as sincere ones here: the
mediator's next text is not a commitment it can be held to, and the protocol computes no
equilibrium of waiting for it (docs/protocols.md); alternating offers computes one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation_sim.core.agents import stacked
from negotiation_sim.core.preferences import accepts, utilities
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.state import TalksState


@dataclass
class MediatedState(TalksState):
    """``TalksState`` plus ``excess``: ``(P, n)`` what is left of each principal's public
    posture above its value of war (its threshold is the value plus this)."""

    excess: np.ndarray | None = None


class MediatedProtocol(Protocol):
    """The mediated single negotiating text."""

    State = MediatedState

    def extra_state(self) -> dict[str, np.ndarray]:
        return {"excess": self.model.params.claim}

    def play_round(self, rnd: int) -> RoundResult:
        m, prm, state = self.model, self.model.params, self.model.state
        text, chance = self.draft()
        value = utilities(text, prm.prefs)
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


def rejection_causes(accept: np.ndarray, value: np.ndarray, war: np.ndarray,
                     demand: np.ndarray) -> np.ndarray:
    """``(P, n)`` index into ``CAUSES``: why each principal answered as it did."""
    below = ~accepts(value, war)
    posture = ~below & ~accepts(value, demand)
    return np.where(accept, 0, np.where(below, 1, np.where(posture, 2, 3))).astype(np.int8)
