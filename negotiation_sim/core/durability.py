"""After the signing: the commitment problem, on the calendar.

A text that takes effect in round t (a settlement signed by the leaders, or the ceasefire
package in force at the horizon) is followed until the later of the horizon and round
t + ``durability.rounds``. While it holds, the fighting has stopped: the battlefield's shocks no
longer fire. What moves a side's value of resuming the war is what the commitment problem names,
shifts in power (Fearon 1995, section on commitment problems; Powell 2006 on large, rapid
shifts): a drift a round (rearmament, aid, mobilisation) and jumps (a partner stepping back),
each a scenario field (``durability.shifts``), plus the scenario's scheduled events. Principal i
breaks the text in the first followed round s where

    w_i(s) > u_i(x) + breach_cost_i + sum_k deterrence_ik x_k

(a side keeps a deal only while resuming the war is worth less than the deal plus the cost of
breaking it; guarantees and peacekeepers written into the text raise that cost for the side they
deter, Walter 2002, Fortna 2004). The mediators' pressure either follows the text (sanctions
kept in force keep biting) or ends at the signing (``durability.leverage: ends``: relief is a
term of the text, so what the pressure had taken off a side's value of war comes back; Beardsley
2008 on leverage-induced deals that fail once the leverage fades).

A break inside the horizon resumes the war: the world goes back to the talks with its values of
war, shocks and pressure as before the signing, and the mediator may convene again
(``SummitModel.check_signed``). The signed worlds live in their own ensemble (``FollowUp``, a
``core.state.Ensemble``) that keeps every parameter and the whole talks' state, so a world can
rejoin the talks exactly as it left them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from negotiation_sim.core import columns
from negotiation_sim.core.agents import stacked
from negotiation_sim.core.preferences import Preferences
from negotiation_sim.core.state import Ensemble, TalksState
from negotiation_sim.core.worlds import WorldParams

# spawn_key[2] of the jumps' streams (0: inputs, 1: walk-outs, 3: events).
JUMP_STREAM = 4


def followed(params: WorldParams, state: TalksState, where: np.ndarray
             ) -> tuple[WorldParams, TalksState]:
    """The parameters and the talks' state of worlds ``where``, for following their signed
    texts: everything is kept (a broken text sends its world back to the talks); the calendar's
    ceasefire and waiting text do not follow what is signed."""
    params, state = params.take(where), state.take(where)
    n = where.size
    state = replace(state, cease=np.zeros(n, dtype=bool),
                    pending=np.full((params.status_quo.shape[0], n), np.nan))
    return params, state


@dataclass
class FollowUp(Ensemble):
    """The signed texts being followed: an ensemble whose worlds are in no particular order.

    Events and (with ``leverage: follows``) the mediators' pressure act on it as on the talks
    (``SummitModel.step`` hands it to them); texts are fixed, so it has no solver.

    Attributes:
        params: the drawn parameters of these worlds (``params.world``: their run indices).
        state: their working state (values of war, shifts, pressure, presence, beliefs).
        threshold: ``(P, n)`` what each principal's value of war must exceed for it to break
            the text: the text's worth to it plus the cost of breaking.
        signed: ``(n,)`` the round each text took effect in.
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
        return FollowUp(concat(self.params, other.params), concat(self.state, other.state),
                        np.concatenate([self.threshold, other.threshold], axis=-1),
                        np.concatenate([self.signed, other.signed]))

    def breaks(self, principals) -> tuple[np.ndarray, np.ndarray]:
        """``(broken (n,), by (n,))``: worlds where some principal breaks its text
        (``PrincipalAgent.breaks``, asked of every agent in ``principals``), and the first such
        principal in file order (-1: none)."""
        over = stacked(principals, "breaks", self, self.threshold)
        broken = over.any(axis=0)
        return broken, np.where(broken, np.argmax(over, axis=0), -1)


def threshold(params: WorldParams, where: np.ndarray, value: np.ndarray,
              text: np.ndarray) -> np.ndarray:
    """``(P, n)`` the value of war above which each principal breaks a signed text, for the
    worlds ``where`` of ``params`` (``value`` and ``text`` are theirs already)."""
    deter = np.ascontiguousarray(columns.take(params.deterrence, where))
    deterrence = np.einsum("pkn,kn->pn", deter, text)
    return value + columns.take(params.breach, where) + deterrence


def shift_values(ensemble: Ensemble, holds: np.ndarray | None, jumps: np.ndarray) -> None:
    """Move each principal's value of resuming the war by its drift, plus its jump where this
    round's uniform (``jumps``: ``(P, n)``, the ensemble's worlds) falls below its jump rate, in
    the worlds where a text holds (``holds``: ``(n,)``; None: every world). Public, like every
    change to a value of war (``Ensemble.move_values``)."""
    prm = ensemble.params
    delta = prm.drift + np.where(jumps < prm.jump_rate, prm.jump, 0.0)
    if holds is not None:
        delta = np.where(holds, delta, 0.0)
    if np.any(delta):
        ensemble.move_values(delta)


def lift_pressure(ensemble: Ensemble) -> None:
    """Give back what the mediators' pressure took off each value of war (sanctions relief at
    the signing, ``durability.leverage: ends``; the follow-up is not pressed then)."""
    state = ensemble.state
    if state.pressed is not None and np.any(state.pressed):
        ensemble.move_values(-state.pressed)
        state.pressed = np.zeros_like(state.pressed)


def concat(a, b):
    """Two ensembles' parameters or states (or any field of them) side by side, worlds on the
    last axis (constants that agree stay constants, ``core.columns``)."""
    if a is None:
        return None
    if isinstance(a, Preferences):  # ``quadratic`` is per actor, not per world
        return Preferences(concat(a.position, b.position), concat(a.salience, b.salience),
                           concat(a.power, b.power), a.quadratic)
    if isinstance(a, np.ndarray):
        return columns.concat(a, b)
    if isinstance(a, dict):
        return {k: columns.concat(a[k], b[k]) for k in a}
    if isinstance(a, tuple):  # the events' values: one entry per event
        return tuple(concat(u, v) for u, v in zip(a, b))
    if hasattr(a, "__dataclass_fields__"):
        return replace(a, **{f: concat(getattr(a, f), getattr(b, f))
                             for f in a.__dataclass_fields__})
    return a
