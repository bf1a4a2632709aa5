"""Outcome codes of a world: agreement, ceasefire, breakdown, no summit.

The codes are small integers (stored as int8 per world) named by ``Outcome``; ``OUTCOMES`` gives
their names in code order, the order of every table and figure. ``ChunkResult`` holds what a chunk
of worlds hands back: the outputs ``core.outputs`` declares. Only numpy is imported, so results, figures and reports can name outcomes
without loading the model (or Mesa).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from negotiation_sim.core.outputs import NAMES, RECORD_NAMES


class Outcome(IntEnum):
    """How a world ended."""

    AGREEMENT = 0  # a text the leaders of every principal signed
    CEASEFIRE = 1  # no settlement, but a ceasefire every principal accepted is in force
    BREAKDOWN = 2  # talks of every principal were held, nothing signed, the war goes on
    NO_SUMMIT = 3  # no session of every principal in any round

    @property
    def label(self) -> str:
        """The outcome's name in tables and files (``no_summit``)."""
        return self.name.lower()


OUTCOMES: tuple[str, ...] = tuple(o.label for o in Outcome)
AGREEMENT, CEASEFIRE, BREAKDOWN, NO_SUMMIT = Outcome


class EndReason(IntEnum):
    """Why a world ended as it did (``runs.parquet`` column ``end_reason``)."""

    AGREED = 0  # the leaders of every principal signed a text
    DEADLINE = 1  # the horizon passed without a settlement (a ceasefire in force, or a
    #               breakdown where the scenario has no package)
    WALK_OUT = 2  # a principal left after rejecting (a ceasefire if one is in force, else
    #               breakdown)
    CEASEFIRE_REFUSED = 3  # talks were held, nothing signed, and no ceasefire in force
    NO_FORMAT = 4  # no summit: no session of every principal in any round
    PRECONDITIONS = 5  # no summit: no text inside the red lines and caps meets every
    #                    principal's preconditions

    @property
    def label(self) -> str:
        return self.name.lower()


END_REASONS: tuple[str, ...] = tuple(r.label for r in EndReason)


class ChunkResult:
    """The per-world outputs of one chunk of worlds (worlds on the last axis).

    Args:
        first_world: the run's index of the chunk's first world.
        inputs: each uncertain input's drawn values, ``(n,)`` by dotted path.
        solutions: the reference texts of every world (``core.solutions.reference_texts``).
        by_round: ``(rounds + 1, 4)`` the model's per-round counts (``rounds_table``).
        **outputs: the declared outputs (``core.outputs.OUTPUTS``) by name; one not given is
            None (a part file written before it existed); also the per-round records
            (``core.outputs.RECORDS``), None when not kept (a chunk read back from a file).
    """

    def __init__(self, first_world: int, *, inputs: dict[str, np.ndarray] | None = None,
                 solutions: dict[str, np.ndarray] | None = None,
                 by_round: np.ndarray | None = None, **outputs: np.ndarray | None) -> None:
        unknown = sorted(set(outputs) - set(NAMES) - set(RECORD_NAMES))
        if unknown:
            raise TypeError(f"ChunkResult: no output {', '.join(unknown)} (core.outputs)")
        self.first_world = first_world
        for name in (*NAMES, *RECORD_NAMES):
            setattr(self, name, outputs.get(name))
        self.inputs = {} if inputs is None else inputs
        self.solutions = {} if solutions is None else solutions
        self.by_round = by_round

    def outputs(self) -> dict[str, np.ndarray | None]:
        """Every declared output's array, by name."""
        return {name: getattr(self, name) for name in NAMES}

    @property
    def n(self) -> int:
        return self.outcome.shape[0]
