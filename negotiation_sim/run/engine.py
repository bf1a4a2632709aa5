"""The engine: N worlds of one scenario simulated into a summary, through any executor.

Every command that simulates a scenario's ensemble (``negsim run``, ``compare``, ``target``,
``backtest``, the explorer, the benchmarks; a sweep, whose tasks are the same chunks, through
``run.sweep``) calls ``simulate``. A run of R worlds is cut into chunks
(``run.chunks.chunk_bounds``); each chunk is simulated by ``run.chunks.simulate_chunk`` wherever the
executor puts it (this process, local worker processes, a dask cluster) and seeded by its own
blocks of worlds (``core.seeds``), so a chunk's result does not depend on where it ran. The
results come back in any order and are handed on in chunk order: to the accumulator that makes
the summary and to the caller's consumers (the Parquet writer of ``runs.parquet``, a backtest's
counts). The summary, and every file, are therefore the same bits whatever the executor and the
number of workers.

At most ``window`` chunks are in flight or waiting for an earlier one (four per worker), so
memory stays that of a few chunks however many worlds are run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from negotiation_sim.config.defaults import DEFAULT_CHUNK
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import ChunkResult
from negotiation_sim.results.summary import Accumulator
from negotiation_sim.run import chunks
from negotiation_sim.run.chunks import chunk_bounds
from negotiation_sim.run.executors.base import Executor
from negotiation_sim.run.signals import stop_if_dropped

Consumer = Callable[[ChunkResult], None]
PRELOAD = ("negotiation_sim.run.engine",)  # what local workers import before their first chunk


def _chunk(scenario: Scenario, seed: int, point: int, first_world: int, n: int,
           solutions: bool) -> ChunkResult:
    """One chunk, in a worker (positional arguments: every executor's ``submit`` takes those)."""
    return chunks.simulate_chunk(scenario, n, seed=seed, point=point, first_world=first_world,
                          solutions=solutions)


def simulate(scenario: Scenario, runs: int, *, seed: int = 0, point: int = 0,
             chunk_size: int = DEFAULT_CHUNK, solutions: bool = True,
             executor: Executor | None = None, consumers: Sequence[Consumer] = (),
             on_chunk: Callable[[int], None] | None = None) -> Accumulator:
    """Simulate ``runs`` worlds of ``scenario`` and fold them into an accumulator.

    Args:
        scenario: a validated scenario.
        runs: worlds to simulate.
        seed: the seed of every random number (with ``point`` and each world's index).
        point: the index in the seed's spawn key (0 for a single run).
        chunk_size: worlds simulated together (results do not depend on it).
        solutions: also compute every world's reference solution texts.
        executor: where chunks run (``run.executors.make_executor``); None: in this process.
            It is left open.
        consumers: each called with every chunk's results, in chunk order (after the
            accumulator has folded them in).
        on_chunk: called with the number of worlds of each chunk handed on (progress).

    Returns:
        The accumulator of every world (``.summary(name, seed)`` is ``negsim run --json``).
    """
    acc = Accumulator.for_scenario(scenario)
    bounds = chunk_bounds(runs, chunk_size)
    for chunk in ordered_chunks(scenario, bounds, seed=seed, point=point, solutions=solutions,
                                executor=executor):
        acc.add(chunk)
        for consume in consumers:
            consume(chunk)
        if on_chunk is not None:
            on_chunk(chunk.n)
        stop_if_dropped()  # a signal whose interrupt something swallowed stops here
    return acc


def summarise(scenario: Scenario, runs: int, *, seed: int = 0, solutions: bool = True,
              chunk_size: int = DEFAULT_CHUNK,
              executor: Executor | None = None) -> dict[str, Any]:
    """The ``negsim run --json`` summary of ``runs`` worlds (``simulate``'s arguments);
    ``summary["solutions"]`` is None without ``solutions``."""
    summary = simulate(scenario, runs, seed=seed, solutions=solutions, chunk_size=chunk_size,
                       executor=executor).summary(scenario.name, seed)
    if not solutions:
        summary["solutions"] = None
    return summary


def ordered_chunks(scenario: Scenario, bounds: list[tuple[int, int]], *, seed: int, point: int,
                   solutions: bool, executor: Executor | None):
    """Yield the results of the chunks ``bounds`` (first world, worlds) in that order.

    Without an executor each chunk is simulated here when asked for. With one, up to
    ``window`` chunks are submitted ahead; a chunk that finishes before an earlier one waits
    (and counts against the window), so the results waiting are bounded.
    """
    if executor is None:
        for first, n in bounds:
            yield _chunk(scenario, seed, point, first, n, solutions)
        return
    window = max(2, 4 * executor.workers)
    pending: dict[Any, int] = {}  # future -> chunk index
    ready: dict[int, ChunkResult] = {}
    submitted = emitted = 0
    try:
        while emitted < len(bounds):
            while submitted < len(bounds) and len(pending) + len(ready) < window:
                first, n = bounds[submitted]
                future = executor.submit(_chunk, scenario, seed, point, first, n, solutions)
                pending[future] = submitted
                submitted += 1
            if emitted not in ready:
                for future in executor.wait_first(set(pending)):
                    ready[pending.pop(future)] = future.result()  # a chunk's error: raised
                continue
            yield ready.pop(emitted)
            emitted += 1
    finally:
        for future in pending:  # an error or an interrupt: what has not started never will
            cancel = getattr(future, "cancel", None)
            if cancel is not None:
                cancel()
