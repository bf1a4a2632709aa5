"""Numbers every layer agrees on: the unit of reproducibility and the default chunk of worlds.

``BLOCK`` worlds draw their random numbers together (``core.seeds``): chunks of a run are whole
numbers of blocks, so results do not depend on the chunk size. ``DEFAULT_CHUNK`` is the number of
worlds simulated together by default, measured fastest (benchmarks/README.md), ~16 MB of state.
``MAX_CHUNK`` is the largest chunk any command or file may ask for (``limits``, docs/limits.md):
chunk size changes memory only, never results.
"""

from __future__ import annotations

from negotiation_sim.config.limits import MAX_CHUNK, MAX_RUNS

BLOCK = 1024  # worlds per random-number block
DEFAULT_CHUNK = 16 * BLOCK  # 16,384 worlds

__all__ = ["BLOCK", "DEFAULT_CHUNK", "MAX_CHUNK", "MAX_RUNS"]
