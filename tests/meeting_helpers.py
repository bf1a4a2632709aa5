"""Chosen calendar outputs for the tests of what reports them (summary, tables, figures,
report, explorer), so those tests do not depend on how the model fills them.

``choose_calendar(monkeypatch)`` makes every chunk the engine simulates carry, for world w:
talks in round 1 + w % 4 except where w % 4 == 3 (three worlds in four meet, a third of them in
each of rounds 1, 2 and 3), a leaders' meeting in round 2 where w % 4 == 1 (one in four),
a settlement in round 3 where w % 8 == 1 (one in eight) and w % 4 sessions.
"""

from __future__ import annotations

import numpy as np


def chosen(first_world: int, n: int) -> dict[str, np.ndarray]:
    """The calendar outputs of worlds ``first_world`` .. ``first_world + n - 1``."""
    w = np.arange(first_world, first_world + n)
    return {"talks_round": np.where(w % 4 == 3, -1, 1 + w % 4).astype(np.int16),
            "leaders_round": np.where(w % 4 == 1, 2, -1).astype(np.int16),
            "settled_round": np.where(w % 8 == 1, 3, -1).astype(np.int16),
            "sessions": (w % 4).astype(np.int16)}


def choose_calendar(monkeypatch) -> None:
    """Every chunk simulated in this process carries ``chosen`` calendar outputs."""
    from negotiation_sim.run import chunks

    real = chunks.simulate_chunk

    def simulate(*args, **kwargs):
        chunk = real(*args, **kwargs)
        for name, values in chosen(chunk.first_world, chunk.n).items():
            setattr(chunk, name, values)
        return chunk

    monkeypatch.setattr(chunks, "simulate_chunk", simulate)
