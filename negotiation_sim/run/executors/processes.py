"""The local back-end: a pool of worker processes that start warm and die with their parent.

Workers never outlive the process that started them: each asks the kernel to kill it when its
parent dies (``PR_SET_PDEATHSIG`` on Linux; elsewhere a thread watches ``os.getppid()``), so a
sweep killed even with ``kill -9`` leaves no worker behind. They ignore SIGINT: Ctrl-C reaches
the whole foreground process group, and the parent, which handles it, stops them (``abort``)
instead of every worker printing its own traceback.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import ctypes.util
import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from negotiation_sim.run.executors.base import Closing

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 0.5  # how often a worker without PR_SET_PDEATHSIG checks for its parent


def die_with_parent(parent: int) -> None:
    """Make this (worker) process exit when ``parent`` does, whatever ends it.

    ``parent`` is the pid this process expects as its parent; a forkserver's workers have the
    forkserver as theirs, which itself exits with the process that started it.
    """
    if os.getppid() != parent:  # started by a forkserver (or the parent is already gone)
        parent = os.getppid()
    if sys.platform.startswith("linux") and _pdeathsig(signal.SIGKILL):
        if os.getppid() != parent:  # it died before the request took effect
            os._exit(1)
        return
    threading.Thread(target=_watch, args=(parent,), name="negsim-parent-watch",
                     daemon=True).start()


def _pdeathsig(signum: int) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _init_worker(parent: int) -> None:
    """Every worker, before its first task: leave SIGINT to the parent, die with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):  # the parent's handlers are not the worker's
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    die_with_parent(parent)


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
        self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                            initializer=_init_worker,
                                            initargs=(os.getpid(),))
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

    def pids(self) -> list[int]:
        """The worker processes' pids (for tests and diagnostics)."""
        return [p.pid for p in list(getattr(self._pool, "_processes", {}).values())]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Stop now (an interrupt): cancel what has not started and kill the workers, whose
        tasks are abandoned (a half-written part stays a temporary file, removed by the
        sweep)."""
        terminate = getattr(self._pool, "terminate_workers", None)  # Python 3.14
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        if terminate is not None:
            try:
                terminate()
            except Exception:  # noqa: BLE001 - already shut down: the loop below
                pass
        for p in processes:
            if p.is_alive():
                p.terminate()
        deadline = time.monotonic() + 5
        for p in processes:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1)
