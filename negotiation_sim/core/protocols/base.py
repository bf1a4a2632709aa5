"""What every protocol shares: its state, the text principals expect, and what a round returns.

A protocol is one module with its own state class (a ``TalksState`` subclass) and a
``play_round`` that returns a ``RoundResult``: which worlds agreed (on which text, worth what to
each principal), which failed (a walk-out or the deadline) and each principal's value of war in
that round. The model does the rest in its own phases: mediators press, then the worlds that end
are recorded (``SummitModel.end_worlds``). Summit formation (``SummitModel._form``) asks the
protocol only for its ``opening_text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from negotiation_sim.core.preferences import FEASIBILITY_TOL, utilities
from negotiation_sim.core.state import TalksState

if TYPE_CHECKING:
    from negotiation_sim.core.model import SummitModel


@dataclass
class RoundResult:
    """What one round did in every live world.

    Attributes:
        agreed: ``(n,)`` worlds that agreed this round (None: none can).
        text: ``(K, n)`` the text agreed (read where ``agreed``).
        value: ``(P, n)`` each principal's (discounted) value of that text.
        failed: ``(n,)`` worlds whose talks failed this round (None: none).
        walked: ``(n,)`` failed by a walk-out (rather than the deadline).
        war: ``(P, n)`` each principal's value of war in this round: what failing is worth.
    """

    agreed: np.ndarray | None = None
    text: np.ndarray | None = None
    value: np.ndarray | None = None
    failed: np.ndarray | None = None
    walked: np.ndarray | None = None
    war: np.ndarray | None = None


class Protocol:
    """Base class: the state a protocol keeps and the texts principals expect from it."""

    State: ClassVar[type[TalksState]] = TalksState

    def __init__(self, model: SummitModel) -> None:
        self.model = model

    def initial_state(self) -> TalksState:
        """The state before formation: values of war as drawn, no pressure yet."""
        prm = self.model.params
        zeros = np.zeros_like(prm.reservation)
        return self.State(reservation=prm.reservation.copy(), pressure=zeros, backlash=zeros,
                          present=np.zeros((len(self.model.mediators), prm.n), dtype=bool),
                          **self.extra_state())

    def extra_state(self) -> dict[str, np.ndarray | None]:
        """Initial values of the protocol's own state fields (beyond ``TalksState``'s)."""
        return {}

    # -- stage 1 -------------------------------------------------------------------------
    def opening_text(self) -> np.ndarray:
        """The text principals expect from talks when deciding to attend.

        The Nash text on the true values of war: the settlement that complete information would
        bring (each side knows its own value of war; the mediator's draft converges there as
        overstatements are given up). Where no text is acceptable to all, the utilitarian
        fallback leaves some principal below its value of war, and it stays away.
        """
        m = self.model
        x, _ = m.solver.solve(m.state.reservation)
        return x

    # -- stage 2 -------------------------------------------------------------------------
    def play_round(self, rnd: int) -> RoundResult:
        """Play round ``rnd`` in every working world; say which agreed and which failed."""
        raise NotImplementedError

    def walks(self, rejected: np.ndarray) -> np.ndarray:
        """``(n,)`` worlds where some principal that rejected walks out (this round's draws)."""
        m = self.model
        draws = m.walk_draws()
        return np.stack(m.principals.map("walks_out", rejected, draws)).any(axis=0)

    def deadline(self, rnd: int) -> bool:
        """Whether round ``rnd`` is the last one."""
        return rnd >= self.model.spec.protocol.rounds

    # -- stage 3 -------------------------------------------------------------------------
    def ceasefire_value(self, rnd: int, reservation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(value (P, n), taken (n,))``: the ceasefire package's worth to each principal if
        talks fail in round ``rnd``, and whether every principal prefers it to ``reservation``.
        The scenario must have a ceasefire."""
        prm = self.model.params
        value = self.model.discount(rnd) * utilities(prm.ceasefire, prm.prefs)
        return value, (value >= reservation - FEASIBILITY_TOL).all(axis=0)
