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

import numpy as np

from negotiation_sim.core.outcomes import AGREEMENT
from negotiation_sim.core.preferences import FEASIBILITY_TOL, utilities
from negotiation_sim.core.protocols.base import Protocol


class MediatedProtocol(Protocol):
    """Mediated single negotiating text with overstated, shrinking claims."""

    def play_round(self, rnd: int) -> None:
        m, prm = self.model, self.model.params
        beta = m.discount(rnd)
        claim = m.reservation + m.excess
        # Nash on discounted utilities beta*u equals Nash on u with disagreement d / beta.
        text, feasible = m.solver.solve(claim / beta)
        value = beta * utilities(text, prm.prefs)
        accept = value >= claim - FEASIBILITY_TOL
        agree = accept.all(axis=0) & prm.box_ok
        m.finish(agree, AGREEMENT, rnd, text=text, value=value)
        reject = ~accept & ~agree[None]
        m.state["excess"] = np.where(reject, m.excess * (1.0 - prm.concession), m.excess)
        walked = (reject & (m.walk_draws() < self.walk_chance())).any(axis=0)
        deadline = rnd >= m.spec.protocol.rounds
        if m.trace_enabled:
            m.history.append({"stage": "round", "round": rnd, "world": m.live.copy(),
                              "text": text.copy(), "claim": claim.copy(), "value": value.copy(),
                              "accept": accept.copy(), "feasible": feasible.copy(),
                              "walked": walked.copy()})
        self.end_talks(walked | deadline, rnd, walked)
        self.apply_pressure()
