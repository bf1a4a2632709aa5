"""Running a scenario's ensemble: chunks of worlds through ``SummitModel``, in bounded memory.

A run of R worlds is cut into chunks of at most ``chunk_size`` worlds (a multiple of
``worlds.BLOCK``); each chunk is one ``SummitModel``. Because every world's random draws come
from its block's seed, the results do not depend on the chunk size. Chunk results are handed to
consumers (an ``Accumulator`` for the summary, a Parquet writer for per-world rows) and dropped,
so memory stays flat however many worlds are run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from negotiation_sim.config.defaults import BLOCK, DEFAULT_CHUNK
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import ChunkResult


def chunk_bounds(runs: int, chunk_size: int = DEFAULT_CHUNK) -> list[tuple[int, int]]:
    """(first world, number of worlds) of each chunk of a run."""
    if runs < 0:
        raise ValueError("runs must be >= 0")
    size = max(BLOCK, (chunk_size // BLOCK) * BLOCK)
    return [(start, min(size, runs - start)) for start in range(0, runs, size)]


def simulate_chunk(scenario: Scenario, n: int, *, seed: int = 0, point: int = 0,
                   first_world: int = 0, solutions: bool = True) -> ChunkResult:
    """Simulate ``n`` worlds starting at world ``first_world`` and collect their outcomes.

    ``solutions=False`` skips the reference texts (Nash, Kalai-Smorodinsky, weighted mean and
    median of every world); sweeps, which do not report them, pass it.
    """
    model = SummitModel(scenario, n, seed=seed, point=point, first_world=first_world,
                        solutions=solutions)
    result = model.run().result()
    model.release()  # the result owns the outputs now; see SummitModel.release
    return result


def iter_chunks(scenario: Scenario, runs: int, *, seed: int = 0, point: int = 0,
                chunk_size: int = DEFAULT_CHUNK,
                on_chunk: Callable[[int], None] | None = None,
                solutions: bool = True) -> Iterator[ChunkResult]:
    """Simulate a run chunk by chunk, yielding each chunk's results (``solutions``: as
    ``simulate_chunk``)."""
    for first, n in chunk_bounds(runs, chunk_size):
        result = simulate_chunk(scenario, n, seed=seed, point=point, first_world=first,
                                solutions=solutions)
        if on_chunk is not None:
            on_chunk(n)
        yield result
