"""The mediated single-text protocol (the default).

Each round the mediator drafts the generalised Nash bargaining text among the principals
(exponents = clout, disagreement points = the reservations they claim, on discounted
utilities), inside every red line and under every guarantor cap. A principal accepts a text
worth at least its claim. A principal that rejects drops ``concession`` of its remaining
overstatement and may walk out; pressure from mediators present then lowers the pressured
sides' true reservations. With no overstatement a deal comes in round 1 whenever one exists.
When the claims leave no acceptable text the mediator drafts the clout-weighted utilitarian
text (the limit of the Nash text as disagreement points fall), which someone rejects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation_sim.core.agents import draft_text
from negotiation_sim.core.preferences import utilities
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.state import TalksState


@dataclass
class MediatedState(TalksState):
    """``TalksState`` plus ``excess``: ``(P, n)`` what is left of each principal's
    overstatement of its value of war (its claim is the value plus this)."""

    excess: np.ndarray


class MediatedProtocol(Protocol):
    """Mediated single negotiating text with overstated, shrinking claims."""

    State = MediatedState

    def extra_state(self) -> dict[str, np.ndarray]:
        return {"excess": self.model.params.claim.copy()}

    def draft(self, claim: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The round's text: drafted by the scenario's first mediator (the table drafts the
        same text when there is none)."""
        m = self.model
        if len(m.mediators):
            return m.mediators[0].draft(claim, beta)
        return draft_text(m, claim, beta)

    def play_round(self, rnd: int) -> RoundResult:
        m, prm, state = self.model, self.model.params, self.model.state
        beta = m.discount(rnd)
        claim = state.reservation + state.excess
        text, feasible = self.draft(claim, beta)
        value = beta * utilities(text, prm.prefs)
        accept = np.stack(m.principals.map("answer", value, claim))
        agree = accept.all(axis=0) & prm.box_ok
        reject = ~accept & ~agree[None]
        state.excess = np.stack(m.principals.map("concede", state.excess, reject))
        walked = self.walks(reject)
        if m.trace_enabled:
            m.history.append({"stage": "round", "round": rnd, "world": m.live.copy(),
                              "text": text.copy(), "claim": claim.copy(), "value": value.copy(),
                              "accept": accept.copy(), "feasible": feasible.copy(),
                              "walked": walked.copy()})
        failed = (walked | self.deadline(rnd)) & ~agree
        return RoundResult(agreed=agree, text=text, value=value, failed=failed, walked=walked,
                           war=state.reservation)
