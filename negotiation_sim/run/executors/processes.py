"""The local back-end: a pool of worker processes that start warm."""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from negotiation_sim.run.executors.base import Closing


class ProcessExecutor(Closing):
    """A pool of local worker processes.

    Where the OS can ``fork`` and this process runs no other thread yet, every worker is
    forked at once, here, from this process, which has already imported the simulation code:
    workers start warm in milliseconds (importing Mesa, pandas and scipy costs a second or more
    per process, as much as a whole small sweep). Forking before any thread exists (the progress
    bar starts later) is what makes ``fork`` safe. Otherwise workers start by ``forkserver``
    (one server imports the code once and forks warm workers) or, where neither exists, spawn.

    Args:
        workers: worker processes (default: one per CPU).
        preload: modules the workers import before their first task: those of the task
            functions the caller will submit (default: ``PRELOAD``, the simulation).
    """

    kind = "processes"
    PRELOAD = ("negotiation_sim.run.tasks",)

    def __init__(self, workers: int | None = None, *,
                 preload: Sequence[str] = PRELOAD) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.preload = list(preload)
        methods = multiprocessing.get_all_start_methods()
        if "fork" in methods and threading.active_count() == 1:
            for module in self.preload:  # warm before forking
                importlib.import_module(module)
            ctx = multiprocessing.get_context("fork")
        elif "forkserver" in methods:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(self.preload)
        else:
            ctx = multiprocessing.get_context("spawn")
        self.start_method = ctx.get_start_method()
        self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        if self.start_method == "fork":
            # With fork the pool launches every worker on the first submit, before its own
            # manager thread starts: do it now, while this process is single-threaded.
            self._pool.submit(int).result()

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        return self._pool.submit(fn, *args)

    def wait_first(self, futures: set) -> set:
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return done

    def describe(self) -> dict[str, Any]:
        return {"executor": self.kind, "workers": self.workers,
                "start_method": self.start_method}

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
