"""Tasks of a sweep: (point, chunk of worlds) units of work that any executor can run.

A sweep of P points with R worlds each is cut into tasks: point ``p``, chunk ``c`` of
``chunks.chunk_bounds(R, chunk_size)``. Every random number of a task comes from
``SeedSequence(seed, spawn_key=(p, block, ...))`` (see ``core.seeds``), so a task's result
depends only on the experiment, never on the executor, the number of workers or the order in
which tasks finish.
"""

from __future__ import annotations

from dataclasses import dataclass

from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import ChunkResult
from negotiation_sim.run import chunks as runner
from negotiation_sim.run.chunks import chunk_bounds


@dataclass(frozen=True)
class Task:
    """One unit of work: ``n`` worlds of point ``point`` starting at world ``first_world``."""

    point: int
    chunk: int
    first_world: int
    n: int

    @property
    def part(self) -> str:
        return f"part-{self.point:06d}-{self.chunk:05d}.parquet"


def plan_tasks(n_points: int, runs: int, chunk_size: int) -> list[Task]:
    """Every task of a sweep, point-major."""
    bounds = chunk_bounds(runs, chunk_size)
    return [Task(p, c, first, n) for p in range(n_points) for c, (first, n) in enumerate(bounds)]


def run_task(scenario: Scenario, seed: int, key: int, first_world: int, n: int) -> ChunkResult:
    """Simulate one task (runs in a worker); ``key`` is the point's index in the seed's spawn
    key (0 for every point with common random numbers)."""
    return runner.simulate_chunk(scenario, n, seed=seed, point=key, first_world=first_world,
                                 solutions=False)
