"""The working state of talks in progress: typed arrays over the live worlds.

Each protocol owns a state dataclass derived from ``TalksState`` (the state every protocol
shares: each principal's value of war now and the pressure of the format held). Every field is
an array with worlds on its last axis, or ``None``; ``take`` keeps the rows of the worlds still
open, so ``SummitModel.compact`` never needs to know what a protocol keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Self

import numpy as np

from negotiation_sim.core import columns
from negotiation_sim.core.beliefs import Beliefs


@dataclass
class TalksState:
    """What every protocol tracks in each live world.

    Attributes:
        reservation: ``(P, n)`` each principal's value of the war going on now:
            ``clip(w(1) + shift, 0, 1)`` (``SummitModel.move_values``).
        shift: ``(P, n)`` the public change in each value of war since round 1 (pressure and
            events move it; everyone sees it).
        pressure: ``(P, n)`` the per-round fall in that value from the mediators of the
            held format (set at formation).
        backlash: ``(P, n)`` the walk-out chance that pressure adds.
        present: ``(M, n)`` which mediators sit in the held format.
        beliefs: the public beliefs about each value of war (``core.beliefs``).
    """

    reservation: np.ndarray
    shift: np.ndarray
    pressure: np.ndarray
    backlash: np.ndarray
    present: np.ndarray
    beliefs: Beliefs

    def take(self, idx: np.ndarray) -> Self:
        """The state of worlds ``idx`` only (contiguous copies)."""
        return replace(self, **{f.name: _take(getattr(self, f.name), idx) for f in fields(self)})


def _take(value, idx: np.ndarray):
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return columns.take(value, idx)
    return value.take(idx)
