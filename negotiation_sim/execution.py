"""Where a sweep's tasks run: in this process, in local worker processes, or on a dask cluster.

All three back-ends share one small ``concurrent.futures``-style interface: ``submit(fn, *args)``
returns a future with ``result()`` / ``exception()``, and ``wait_first(futures)`` returns the
futures that have finished. ``imap_unordered`` builds on those two to keep a bounded number of
tasks in flight, so memory stays flat however many tasks a sweep has. Results never depend on
the back-end: every task carries its own seed (see ``sweep``).

dask is optional and imported only when the dask back-end is chosen. With a scheduler address
the executor joins an existing cluster (your own machines, or dask-jobqueue on SLURM); without
one it starts a ``LocalCluster`` and closes it at the end.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, Protocol

ExecutorKind = Literal["serial", "processes", "dask"]
KINDS: tuple[str, ...] = ("serial", "processes", "dask")


class FutureLike(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...
    def exception(self, timeout: float | None = None) -> BaseException | None: ...


class Executor(Protocol):
    """What a sweep needs from a back-end."""

    kind: str
    workers: int

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> FutureLike: ...
    def wait_first(self, futures: set) -> set: ...
    def describe(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


class _Closing:
    """``with executor: ...`` closes it (and its workers or cluster) at the end."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(_Closing):
    """Runs each task in this process when it is submitted (no parallelism, easy debugging)."""

    kind = "serial"
    workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args))
        except Exception as err:  # recorded on the future, like any other back-end
            future.set_exception(err)
        return future

    def wait_first(self, futures: set) -> set:
        return set(futures)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.kind, "workers": 1}


class ProcessExecutor(_Closing):
    """A pool of local worker processes.

    Where the OS can ``fork`` and this process runs no other thread yet, every worker is
    forked at once, here, from this process, which has already imported the simulation code:
    workers start warm in milliseconds (importing Mesa, pandas and scipy costs a second or more
    per process, as much as a whole small sweep). Forking before any thread exists (the progress
    bar starts later) is what makes ``fork`` safe. Otherwise workers start by ``forkserver``
    (one server imports the code once and forks warm workers) or, where neither exists, spawn.
    """

    kind = "processes"
    PRELOAD = ["negotiation_sim.sweep"]

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        methods = multiprocessing.get_all_start_methods()
        if "fork" in methods and threading.active_count() == 1:
            import negotiation_sim.sweep  # noqa: F401  (warm before forking)

            ctx = multiprocessing.get_context("fork")
        elif "forkserver" in methods:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(self.PRELOAD)
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


@contextlib.contextmanager
def _warm_dask_workers():
    """Start LocalCluster workers from a forkserver that has imported the simulation code.

    dask spawns its workers by default, and each then imports Mesa, pandas and scipy (a second
    or more apiece). Where the OS has forkserver, one server imports everything once and forks
    warm workers, as for ``ProcessExecutor``.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    import dask
    from distributed.utils import get_mp_context

    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        ctx = get_mp_context()  # sets dask's own preload list once
        preload = ["distributed", "numpy", "pandas", *ProcessExecutor.PRELOAD]
        ctx.set_forkserver_preload(preload)
        yield


class DaskExecutor(_Closing):
    """Tasks on a ``dask.distributed`` cluster: an existing one, or a ``LocalCluster``.

    Args:
        workers: workers of the LocalCluster (ignored with ``scheduler``: the cluster has its own).
        scheduler: address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``, or the path
            of the JSON file a scheduler started with ``--scheduler-file`` writes (the usual
            way on SLURM, where the scheduler's node is known only once the job runs).
        processes: LocalCluster workers as processes (default) or threads in this process.
    """

    kind = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, *,
                 processes: bool = True) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:
            raise ImportError("the dask executor needs dask.distributed: "
                              "pip install 'negotiation_sim[dask]'") from err
        self.scheduler = scheduler
        self._cluster = None
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            # ":0": a free port, so a second sweep (or a notebook's cluster) never clashes
            with _warm_dask_workers():
                self._cluster = LocalCluster(n_workers=n, threads_per_worker=1,
                                             processes=processes, dashboard_address=":0")
            self._client = Client(self._cluster)
        elif os.path.isfile(scheduler):  # a scheduler file (dask scheduler --scheduler-file)
            self._client = Client(scheduler_file=scheduler)
        else:
            self._client = Client(scheduler)
        self.workers = len(self._client.scheduler_info().get("workers", {})) or (workers or 1)

    def submit(self, fn: Callable[..., Any], /, *args: Any):
        return self._client.submit(fn, *args, pure=False)

    def wait_first(self, futures: set) -> set:
        from distributed import wait

        done, _ = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done)

    def describe(self) -> dict[str, Any]:
        info = self._client.scheduler_info()
        hosts = sorted({w.get("host", "") for w in info.get("workers", {}).values()})
        return {"executor": self.kind, "workers": self.workers,
                "scheduler": self.scheduler or "LocalCluster", "hosts": hosts}

    @property
    def dashboard(self) -> str | None:
        """Link to the cluster's dashboard (watch tasks and workers live), if it has one."""
        return getattr(self._client, "dashboard_link", None)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str = "serial", *, workers: int | None = None,
                  scheduler: str | None = None, processes: bool = True) -> Executor:
    """The executor of that kind (``scheduler`` only with dask)."""
    if scheduler is not None and kind != "dask":
        raise ValueError("--scheduler needs --executor dask")
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        return DaskExecutor(workers, scheduler, processes=processes)
    raise ValueError(f"unknown executor {kind!r} (choose from {', '.join(KINDS)})")


def imap_unordered(executor: Executor, fn: Callable[..., Any], items: Iterable[Any],
                   args: Callable[[Any], tuple], *, window: int | None = None,
                   ) -> Iterator[tuple[Any, FutureLike]]:
    """Run ``fn(*args(item))`` for every item; yield ``(item, finished future)`` as they finish.

    At most ``window`` tasks are in flight (default: four per worker), so results waiting to be
    consumed never pile up.
    """
    window = window or max(2, 4 * executor.workers)
    pending: dict[Any, Any] = {}
    it = iter(items)
    exhausted = False
    while True:
        while not exhausted and len(pending) < window:
            try:
                item = next(it)
            except StopIteration:
                exhausted = True
                break
            pending[executor.submit(fn, *args(item))] = item
        if not pending:
            return
        done = executor.wait_first(set(pending))
        for future in _ordered(done, pending):
            yield pending.pop(future), future


def _ordered(done: set, pending: dict) -> list:
    """Finished futures in submission order (deterministic within one wait)."""
    return [f for f in pending if f in done]
