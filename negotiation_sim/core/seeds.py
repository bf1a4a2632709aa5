"""Where every random number comes from: one seeded stream per block of worlds and input.

A chunk of worlds is a run of fixed-size *blocks* (``config.defaults.BLOCK``). Each block draws
each uncertain input from its own generator, seeded by
``SeedSequence(seed, spawn_key=(point, block, 0, crc32(path)))``, and its in-run draws from
``(point, block, stream)``, so a world's draws depend only on the seed, the sweep point, the
world's index and the input's path, never on how worlds were split into chunks or which worker
ran them.
"""

from __future__ import annotations

import zlib

import numpy as np


def block_generator(seed: int, point: int, block: int, stream: int = 0) -> np.random.Generator:
    """The generator of one block of worlds for in-run draws (``stream`` 1: walk-outs)."""
    ss = np.random.SeedSequence(seed, spawn_key=(point, block, stream))
    return np.random.Generator(np.random.PCG64(ss))


def input_generator(seed: int, point: int, block: int, path: str) -> np.random.Generator:
    """The generator of one uncertain input in one block of worlds.

    Each input (by its dotted path) has its own stream, so adding, removing or changing another
    distribution leaves this input's draws unchanged: scenario variants compared with the same
    seed share their random numbers (common random numbers), which makes differences sharper.
    """
    key = zlib.crc32(path.encode())
    ss = np.random.SeedSequence(seed, spawn_key=(point, block, 0, key))
    return np.random.Generator(np.random.PCG64(ss))
