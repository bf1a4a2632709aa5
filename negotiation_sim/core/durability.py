"""After the signing: following signed texts while the war's values keep moving.

A text signed in round t (an agreement, or the ceasefire package) is followed for
``durability.rounds`` rounds. In each follow-up round the scenario's events and pressure keep
moving the values of war, exactly as during the talks, and principal i breaks the text in the
first follow-up round s where

    w_i(s) > u_i(x) + breach_cost_i + sum_k deterrence_ik x_k

(the commitment problem: a side keeps a deal only while the war is worth less than the deal
plus the cost of breaking it; Fearon 1995, Powell 2006; guarantees and peacekeepers raise that
cost, Walter 2002, Fortna 2004). The signed worlds live in their own small ensemble
(``FollowUp``, a ``core.state.Ensemble``), compacted as they break or reach the end of the
follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from negotiation_sim.config.events import TARGETS
from negotiation_sim.core import columns
from negotiation_sim.core.agents import stacked
from negotiation_sim.core.preferences import Preferences
from negotiation_sim.core.state import Ensemble, TalksState
from negotiation_sim.core.worlds import WorldParams

# What following a signed text reads of its world's parameters whatever the events: the world's
# index, the value of war before any change (values of war move from it), the mediators'
# pressure and backlash (they keep pressing) and the events' per-world values; and the arrays
# of every event target the follow-up carries (``EventTarget.followed``). Nothing else is kept.
FOLLOWED = tuple(dict.fromkeys(("world", "reservation", "pressure", "backlash", "events",
                                *(t.array for t in TARGETS if t.followed))))


def followed(params: WorldParams, state: TalksState, where: np.ndarray
             ) -> tuple[WorldParams, TalksState]:
    """The parameters (``FOLLOWED``; the others None) and the talks' state (its
    ``TalksState`` part) of worlds ``where``, for following their signed texts."""
    slim = replace(params, **{f.name: None for f in fields(params) if f.name not in FOLLOWED})
    talks = TalksState(**{f.name: getattr(state, f.name) for f in fields(TalksState)})
    # What is signed is fixed: the calendar's ceasefire and waiting text do not follow it.
    talks = replace(talks, cease=None, pending=None, met=None)
    return slim.take(where), talks.take(where)


@dataclass
class FollowUp(Ensemble):
    """The signed texts being followed: an ensemble whose worlds are in no particular order.

    Events and the mediators' pressure act on it as on the talks (``SummitModel.step`` hands
    it to them); texts are fixed, so it has no solver and no bounds on texts.

    Attributes:
        params: the drawn parameters of these worlds that the follow-up uses (``FOLLOWED``;
            ``params.world``: their run indices).
        state: their working state (values of war, shifts, pressure, presence, beliefs).
        threshold: ``(P, n)`` what each principal's value of war must exceed for it to break
            the text: the text's worth to it plus the cost of breaking.
        signed: ``(n,)`` the round each text was signed in.
    """

    threshold: np.ndarray
    signed: np.ndarray

    def take(self, idx: np.ndarray) -> FollowUp:
        return FollowUp(self.params.take(idx), self.state.take(idx),
                        columns.take(self.threshold, idx), self.signed.take(idx))

    def join(self, other: FollowUp | None) -> FollowUp:
        """These worlds and ``other``'s (each world is followed on its own: order is no
        matter)."""
        if other is None or other.n == 0:
            return self
        if self.n == 0:
            return other
        return _concat(self, other)

    def breaks(self, principals) -> tuple[np.ndarray, np.ndarray]:
        """``(broken (n,), by (n,))``: worlds where some principal breaks its text
        (``PrincipalAgent.breaks``, asked of every agent in ``principals``), and the first such
        principal in file order (-1: none)."""
        over = stacked(principals, "breaks", self)
        broken = over.any(axis=0)
        return broken, np.where(broken, np.argmax(over, axis=0), -1)


def threshold(params: WorldParams, where: np.ndarray, value: np.ndarray,
              text: np.ndarray) -> np.ndarray:
    """``(P, n)`` the value of war above which each principal breaks a signed text, for the
    worlds ``where`` of ``params`` (``value`` and ``text`` are theirs already)."""
    deter = np.ascontiguousarray(columns.take(params.deterrence, where))
    deterrence = np.einsum("pkn,kn->pn", deter, text)
    return value + columns.take(params.breach, where) + deterrence


def _concat(a: FollowUp, b: FollowUp) -> FollowUp:
    def cat(x, y):
        if x is None:
            return None
        if isinstance(x, Preferences):  # ``quadratic`` is per actor, not per world
            return Preferences(cat(x.position, y.position), cat(x.salience, y.salience),
                               cat(x.power, y.power), x.quadratic)
        if isinstance(x, np.ndarray):
            return columns.concat(x, y)
        if isinstance(x, dict):
            return {k: columns.concat(x[k], y[k]) for k in x}
        if isinstance(x, tuple):  # the events' values: one entry per event
            return tuple(cat(u, v) for u, v in zip(x, y))
        if hasattr(x, "__dataclass_fields__"):
            return replace(x, **{f: cat(getattr(x, f), getattr(y, f))
                                 for f in x.__dataclass_fields__})
        return x
    return FollowUp(cat(a.params, b.params), cat(a.state, b.state),
                    np.concatenate([a.threshold, b.threshold], axis=-1),
                    np.concatenate([a.signed, b.signed]))
