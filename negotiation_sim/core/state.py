"""The working state of talks in progress, and ensembles: typed arrays over the live worlds.

Each protocol owns a state dataclass derived from ``TalksState`` (the state every protocol
shares: each principal's value of war now and the pressure of the format held). Every field is
an array with worlds on its last axis, or ``None``; ``take`` keeps the rows of the worlds still
open, so ``SummitModel.compact`` never needs to know what a protocol keeps.

An ``Ensemble`` is a set of worlds with their parameters and state: the talks in progress
(``SummitModel.talks``) and the signed texts being followed (``core.durability.FollowUp``) are
two. Events and the mediators' pressure act on the ensemble they are given, so one piece of
code moves the values of war of both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Self

import numpy as np

from negotiation_sim.core import columns
from negotiation_sim.core.beliefs import Beliefs

if TYPE_CHECKING:
    from negotiation_sim.core.worlds import WorldParams


@dataclass
class TalksState:
    """What every protocol tracks in each live world.

    Attributes:
        reservation: ``(P, n)`` each principal's value of the war going on now:
            ``clip(w(1) + shift, 0, 1)`` (``Ensemble.move_values``).
        shift: ``(P, n)`` the public change in each value of war since round 1 (pressure and
            events move it; everyone sees it).
        pressure: ``(P, n)`` the per-round fall in that value from the mediators of the
            held format (set at formation).
        backlash: ``(P, n)`` the walk-out chance that pressure adds.
        present: ``(M, n)`` which mediators sit in this round's session.
        beliefs: the public beliefs about each value of war (``core.beliefs``).
        blamed: ``(M, P, n)`` the pressure each mediator's blame has added on each principal
            (``Mediator.blame``; None where nothing is blamed: signed texts).
        cease: ``(n,)`` whether a ceasefire is in force.
        pending: ``(K, n)`` a text agreed at delegation level, waiting for the leaders to sign
            it (NaN: none).
        met: ``(n,)`` whether talks of every principal have been held.
        pressed: ``(P, n)`` how much the mediators' pressure (blame included) has taken off each
            value of war so far (what lifting it at a signing gives back,
            ``durability.leverage``).
    """

    reservation: np.ndarray
    shift: np.ndarray
    pressure: np.ndarray
    backlash: np.ndarray
    present: np.ndarray
    beliefs: Beliefs
    blamed: np.ndarray | None = None
    cease: np.ndarray | None = None
    pending: np.ndarray | None = None
    met: np.ndarray | None = None
    pressed: np.ndarray | None = None

    def take(self, idx: np.ndarray) -> Self:
        """The state of worlds ``idx`` only (contiguous copies)."""
        return replace(self, **{f.name: _take(getattr(self, f.name), idx) for f in fields(self)})


# The fields of the calendar (kept by the model, not by a protocol's round).
CALENDAR = ("reservation", "shift", "pressure", "backlash", "present", "blamed", "cease",
            "pending", "met", "pressed")


def snapshot(state: TalksState) -> dict[str, object]:
    """Copies of what a protocol's round may change: its own fields and the beliefs."""
    out: dict[str, object] = {}
    for f in fields(state):
        value = getattr(state, f.name)
        if f.name in CALENDAR or value is None:
            continue
        out[f.name] = (Beliefs(value.lo.copy(), value.hi.copy(), value.known.copy())
                       if isinstance(value, Beliefs) else np.array(value, copy=True))
    return out


def keep_where(state: TalksState, before: dict[str, object], rows: np.ndarray) -> None:
    """Undo a protocol round's changes outside ``rows`` ``(P, n)``: which principals sat at a
    session in each world. A principal's own rows (beliefs about it, its posture) keep the
    round's changes where it sat; a world's other state keeps them where every principal sat."""
    P, n = rows.shape
    worlds = rows.all(axis=0)
    for name, old in before.items():
        new = getattr(state, name)
        if isinstance(old, Beliefs):
            new.lo = np.where(rows, new.lo, old.lo)
            new.hi = np.where(rows, new.hi, old.hi)
            new.known = np.where(rows, new.known, old.known)
        elif new.shape == (P, n):
            setattr(state, name, np.where(rows, new, old))
        elif new.ndim and new.shape[-1] == n:
            setattr(state, name, np.where(worlds, new, old))


def _take(value, idx: np.ndarray):
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return columns.take(value, idx)
    return value.take(idx)


@dataclass
class Ensemble:
    """Worlds on the last axis: their drawn parameters and their working state.

    Attributes:
        params: the parameters (``params.world``: each world's index in its run).
        state: the working state; the values of war move here.
    """

    params: WorldParams
    state: TalksState

    @property
    def n(self) -> int:
        return self.params.n

    def move_values(self, delta: np.ndarray) -> None:
        """Change every value of war by ``delta`` ``(P, n)``, publicly (pressure, shocks); values
        of war stay on the utility scale, ``[0, 1]``."""
        state = self.state
        state.shift = state.shift + delta
        state.reservation = np.clip(self.params.reservation + state.shift, 0.0, 1.0)

    def set_values(self, i: int, mask: np.ndarray, value: np.ndarray) -> None:
        """Set principal ``i``'s value of war to ``value`` in the worlds of ``mask``, publicly:
        from then on everyone knows it."""
        state = self.state
        shift = state.shift.copy()
        shift[i] = np.where(mask, value - self.params.reservation[i], shift[i])
        state.shift = np.zeros_like(shift)
        self.move_values(shift)
        state.beliefs.known = state.beliefs.known.copy()
        state.beliefs.known[i] |= mask
