"""Numbers every layer agrees on: the unit of reproducibility and the default chunk of worlds.

``BLOCK`` worlds draw their random numbers together (``core.seeds``): chunks of a run are whole
numbers of blocks, so results do not depend on the chunk size. ``DEFAULT_CHUNK`` is the number of
worlds simulated together by default, measured fastest (benchmarks/README.md), ~16 MB of state.
"""

from __future__ import annotations

BLOCK = 1024  # worlds per random-number block
DEFAULT_CHUNK = 16 * BLOCK  # 16,384 worlds
