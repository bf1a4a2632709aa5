"""Where a sweep's tasks run: in this process, in local worker processes, or on a dask cluster.

One back-end per module (``serial``, ``processes``, ``dask``), all with the interface of
``base.Executor``; ``make_executor`` picks one by name and imports only that back-end.
"""

from __future__ import annotations

from collections.abc import Sequence

from negotiation_sim.config.limits import MAX_WORKERS, limit_text
from negotiation_sim.run.executors.base import KINDS, Executor, imap_unordered

__all__ = ["KINDS", "Executor", "imap_unordered", "make_executor"]


def make_executor(kind: str = "serial", *, workers: int | None = None,
                  scheduler: str | None = None, processes: bool = True,
                  preload: Sequence[str] | None = None) -> Executor:
    """The executor of that kind (``scheduler`` only with dask).

    ``preload`` names the modules of the task functions that local workers import before their
    first task (default: the simulation, ``run.tasks``).
    """
    if scheduler is not None and kind != "dask":
        raise ValueError("--scheduler needs --executor dask")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be at least 1 (got {workers:,})" if workers < 1 else
                         limit_text("workers", MAX_WORKERS, workers))
    if kind == "serial":
        from negotiation_sim.run.executors.serial import SerialExecutor

        return SerialExecutor()
    if kind == "processes":
        from negotiation_sim.run.executors.processes import ProcessExecutor

        return ProcessExecutor(workers, **({} if preload is None else {"preload": preload}))
    if kind == "dask":
        from negotiation_sim.run.executors.dask import DaskExecutor

        return DaskExecutor(workers, scheduler, processes=processes,
                            **({} if preload is None else {"preload": preload}))
    raise ValueError(f"unknown executor {kind!r} (choose from {', '.join(KINDS)})")
