"""Chunks of a run: the worlds one ``SummitModel`` simulates at once, in bounded memory.

A run of R worlds is cut into chunks of at most ``chunk_size`` worlds, a whole number of blocks
(``config.defaults.BLOCK``); each chunk is one ``SummitModel`` (``simulate_chunk``). Every world
draws its random numbers from its block's seeds (``core.seeds``), so a world's outcome does not
depend on the chunk it was simulated in. ``run.engine`` sends the chunks to an executor and folds
their results in chunk order; ``iter_chunks`` is the plain loop in this process (tests, traces).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from negotiation_sim.config.defaults import BLOCK, DEFAULT_CHUNK
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import ChunkResult
from negotiation_sim.core.outputs import RECORD_NAMES


def chunk_bounds(runs: int, chunk_size: int = DEFAULT_CHUNK) -> list[tuple[int, int]]:
    """The chunks of a run.

    Args:
        runs: worlds in the run (0 or more).
        chunk_size: the largest chunk wanted; rounded down to whole blocks, at least one.

    Returns:
        ``(first world, number of worlds)`` of each chunk, in order.
    """
    if runs < 0:
        raise ValueError("runs must be >= 0")
    size = max(BLOCK, (chunk_size // BLOCK) * BLOCK)
    return [(start, min(size, runs - start)) for start in range(0, runs, size)]


def simulate_chunk(scenario: Scenario, n: int, *, seed: int = 0, point: int = 0,
                   first_world: int = 0, solutions: bool = True) -> ChunkResult:
    """Simulate ``n`` worlds starting at world ``first_world`` and collect their outputs.

    Args:
        scenario: a validated scenario.
        n: worlds in the chunk.
        seed: the run's seed.
        point: the index in the seed's spawn key (the sweep point; 0 for a single run).
        first_world: the run's index of the chunk's first world (a multiple of ``BLOCK``).
        solutions: also compute every world's reference texts (Nash, Kalai-Smorodinsky,
            weighted mean and median); sweeps, which do not report them, pass False.

    Returns:
        The chunk's per-world outputs (``core.outputs``).
    """
    model = SummitModel(scenario, n, seed=seed, point=point, first_world=first_world,
                        solutions=solutions)
    result = model.run().result()
    for name in RECORD_NAMES:  # the per-round records travel beside the declared outputs
        setattr(result, name, getattr(model, name))
        setattr(model, name, None)
    model.release()  # the result owns the outputs now; see SummitModel.release
    return result


def iter_chunks(scenario: Scenario, runs: int, *, seed: int = 0, point: int = 0,
                chunk_size: int = DEFAULT_CHUNK,
                on_chunk: Callable[[int], None] | None = None,
                solutions: bool = True) -> Iterator[ChunkResult]:
    """Simulate a run chunk by chunk in this process, yielding each chunk's results.

    Args:
        scenario, seed, point, solutions: as ``simulate_chunk``.
        runs: worlds in the run.
        chunk_size: worlds per chunk (``chunk_bounds``).
        on_chunk: called with the number of worlds of each chunk done.

    Yields:
        Each chunk's ``ChunkResult``, in order.
    """
    for first, n in chunk_bounds(runs, chunk_size):
        result = simulate_chunk(scenario, n, seed=seed, point=point, first_world=first,
                                solutions=solutions)
        if on_chunk is not None:
            on_chunk(n)
        yield result
