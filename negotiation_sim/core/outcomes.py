"""Outcome codes of a world: agreement, ceasefire, breakdown, no summit.

The codes are small integers (stored as int8 per world) named by ``Outcome``; ``OUTCOMES`` gives
their names in code order, the order of every table and figure. ``ChunkResult`` holds what a chunk
of worlds hands back. Only numpy is imported, so results, figures and reports can name outcomes
without loading the model (or Mesa).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class Outcome(IntEnum):
    """How a world ended."""

    AGREEMENT = 0  # a text every principal accepted
    CEASEFIRE = 1  # talks failed, but every principal preferred the fallback package to war
    BREAKDOWN = 2  # talks failed and the war goes on
    NO_SUMMIT = 3  # no format that every principal attends

    @property
    def label(self) -> str:
        """The outcome's name in tables and files (``no_summit``)."""
        return self.name.lower()


OUTCOMES: tuple[str, ...] = tuple(o.label for o in Outcome)
AGREEMENT, CEASEFIRE, BREAKDOWN, NO_SUMMIT = Outcome


class EndReason(IntEnum):
    """Why a world ended as it did (``runs.parquet`` column ``end_reason``)."""

    AGREED = 0  # every principal accepted a text
    DEADLINE = 1  # the last round passed without agreement (then a ceasefire if every
    #               principal took the package, or a breakdown where there is none)
    WALK_OUT = 2  # a principal left after rejecting (then ceasefire or breakdown, as above)
    CEASEFIRE_REFUSED = 3  # talks failed and some principal preferred the war to the package
    NO_FORMAT = 4  # no summit: no format that every principal attends
    PRECONDITIONS = 5  # no summit: no text inside the red lines and caps meets every
    #                    principal's preconditions

    @property
    def label(self) -> str:
        return self.name.lower()


END_REASONS: tuple[str, ...] = tuple(r.label for r in EndReason)


@dataclass
class ChunkResult:
    """The per-world outcome of one chunk of worlds (worlds on the last axis)."""

    first_world: int
    outcome: np.ndarray  # (n,) int8, an ``Outcome``
    held_format: np.ndarray  # (n,) int8, index into scenario.formats(); -1 none
    end_round: np.ndarray  # (n,) int16
    walked_out: np.ndarray  # (n,) bool
    terms: np.ndarray  # (K, n)
    utility: np.ndarray  # (A, n), actors in ``Scenario.positioned`` order
    war: np.ndarray | None = None  # (P, n) each principal's value of war when it ended
    end_reason: np.ndarray | None = None  # (n,) int8 ``EndReason``
    walked_out_by: np.ndarray | None = None  # (n,) int8 principal index, -1 for none
    broken_round: np.ndarray | None = None  # (n,) int16 round a signed text broke, -1: held
    broken_by: np.ndarray | None = None  # (n,) int8 principal that broke it, -1: none
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # uncertain inputs, (n,)
    solutions: dict[str, np.ndarray] = field(default_factory=dict)  # core.solvers.solutions.reference_texts
    by_round: np.ndarray | None = None  # (rounds + 1, 4) SummitModel.rounds_table()

    @property
    def n(self) -> int:
        return self.outcome.shape[0]
