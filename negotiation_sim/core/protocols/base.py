"""What every protocol shares: its state, the text principals expect, and what a round returns.

A protocol is one module with its own state class (a ``TalksState`` subclass) and a
``play_round`` that returns a ``RoundResult``: which worlds agreed (on which text, worth what to
each principal), which failed (a walk-out or the deadline) and each principal's value of war in
that round. The model does the rest in its own phases (``SummitModel.step``): what the round
did stands only where principals sat, leaders sign, mediators press, worlds end at the horizon.
The calendar (``SummitModel.convene``) asks the protocol only for the round's text
(``opening_text``) and what principals expect from it (``expected_gain``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from negotiation_sim.core.agents import ceasefire_worth, chair, draft_text, stacked
from negotiation_sim.core.beliefs import Beliefs
from negotiation_sim.core.columns import constant
from negotiation_sim.core.state import TalksState

if TYPE_CHECKING:
    from negotiation_sim.core.model import SummitModel


# Why a principal answered a text as it did (traces: ``history[...]["cause"]`` indexes this),
# with the scenario's word for the state without a deal (``words.no_deal``) in its place.
_CAUSES = ("accepted", "below value of {no_deal}", "posturing", "strategic wait", "red line",
           "no offer")


def cause_words(no_deal: str = "war") -> tuple[str, ...]:
    """The causes of answers, in ``CAUSES`` order, in a scenario's words."""
    return tuple(c.format(no_deal=no_deal) for c in _CAUSES)


CAUSES = cause_words()


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
        walked_by: ``(n,)`` the first principal to walk out (-1: none).
        accept: ``(P, n)`` each principal's answer to the round's text (None: the protocol
            does not put one text to every principal).
    """

    agreed: np.ndarray | None = None
    text: np.ndarray | None = None
    value: np.ndarray | None = None
    failed: np.ndarray | None = None
    walked: np.ndarray | None = None
    war: np.ndarray | None = None
    walked_by: np.ndarray | None = None
    accept: np.ndarray | None = None


class Protocol:
    """Base class: the state a protocol keeps and the texts principals expect from it."""

    State: ClassVar[type[TalksState]] = TalksState

    def __init__(self, model: SummitModel) -> None:
        self.model = model
        # The round's text once drafted (``draft``): the principals decide whether to attend
        # on it, and the session tables it; the model clears it when the round ends.
        self.tabled: tuple[np.ndarray, np.ndarray] | None = None

    def initial_state(self) -> TalksState:
        """The state before formation: values of war as drawn, no pressure yet."""
        m, prm = self.model, self.model.params
        P, K, M = prm.reservation.shape[0], prm.status_quo.shape[0], len(m.mediators)
        zeros = constant(np.zeros((P, 1)), prm.n)
        return self.State(reservation=np.clip(prm.reservation, 0.0, 1.0), shift=zeros,
                          pressure=zeros, backlash=zeros,
                          present=np.zeros((M, prm.n), dtype=bool),
                          beliefs=Beliefs.prior(m.priors, prm.n),
                          blamed=np.zeros((M, P, prm.n)), cease=np.zeros(prm.n, dtype=bool),
                          pending=np.full((K, prm.n), np.nan),
                          met=np.zeros(prm.n, dtype=bool), pressed=zeros,
                          **self.extra_state())

    def extra_state(self) -> dict[str, np.ndarray | None]:
        """Initial values of the protocol's own state fields (beyond ``TalksState``'s)."""
        return {}

    # -- stage 1 -------------------------------------------------------------------------
    def opening_text(self) -> np.ndarray:
        """The text the round's session would table (principals decide on it whether to
        attend, and test their preconditions against it): the mediated draft of the round."""
        text, _ = self.draft()
        return text

    def draft(self) -> tuple[np.ndarray, np.ndarray]:
        """The single negotiating text of the round and the chance it passes, drafted by the
        chair (``agents.chair``: the scenario's first mediator; the table drafts the same text
        when there is none). Drafted once a round: the session tables the text the principals
        decided to attend on."""
        if self.tabled is None:
            drafter = chair(self.model.mediators)
            self.tabled = drafter.drafts() if drafter is not None else draft_text(self.model)
        return self.tabled

    def excess(self) -> np.ndarray:
        """``(P, n)`` what each principal claims above its value of war (0 unless the
        protocol keeps a posture)."""
        return getattr(self.model.state, "excess", np.zeros_like(self.model.state.reservation))

    def expected_gain(self, text: np.ndarray) -> np.ndarray:
        """``(P, n)`` what each principal expects the talks to add to the war going on, when
        the first text tabled is ``text``: each answers for itself (``PrincipalAgent.expects``,
        docs/model.md section 8)."""
        return stacked(self.model.principals, "expects", text, self.excess())

    # -- stage 2 -------------------------------------------------------------------------
    def play_round(self, rnd: int) -> RoundResult:
        """Play round ``rnd`` in every working world; say which agreed and which failed."""
        raise NotImplementedError

    def walks(self, rejected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(walked (n,), by (n,))``: worlds where some principal that rejected walks out
        (this round's draws), and the first such principal in file order (-1: none)."""
        m = self.model
        draws = m.walk_draws()
        leaves = stacked(m.principals, "walks_out", rejected, draws)
        walked = leaves.any(axis=0)
        return walked, np.where(walked, np.argmax(leaves, axis=0), -1)

    def deadline(self, rnd: int) -> bool:
        """Whether round ``rnd`` is the last one."""
        return rnd >= self.model.spec.protocol.rounds

    # -- stage 3 -------------------------------------------------------------------------
    def ceasefire_value(self, rnd: int, war: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(value (P, n), taken (n,))``: the ceasefire package's worth to each principal per
        round if talks fail in round ``rnd``, and whether every principal takes it, answering it
        by the rule it answers texts with (its worth at least the value of war ``war`` plus any
        posture). The scenario must have a ceasefire."""
        m = self.model
        value = ceasefire_worth(m)
        taken = stacked(m.principals, "responds", value, war + self.excess()).all(axis=0)
        return value, taken
