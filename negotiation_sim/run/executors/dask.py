"""The dask.distributed back-end: an existing cluster, or a ``LocalCluster``.

dask is optional and imported only when this back-end is chosen. With a scheduler address the
executor joins an existing cluster (your own machines, or dask-jobqueue on SLURM); without one it
starts a ``LocalCluster`` and closes it at the end.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from negotiation_sim.config.extras import require
from negotiation_sim.run.executors.base import Closing
from negotiation_sim.run.executors.processes import ProcessExecutor
from negotiation_sim.run.signals import deferred


class SchedulerError(ValueError):
    """A scheduler file that does not say where the scheduler is (the message says why)."""


SCHEDULER_FILE_BYTES = 1 << 20  # a scheduler file is a few hundred bytes


def scheduler_address(scheduler: str) -> str:
    """The address to connect to: ``scheduler`` itself, or the one its scheduler file holds.

    Raises:
        SchedulerError: neither an address (``tcp://HOST:PORT``, ``HOST:PORT``) nor a
            scheduler file.
    """
    if os.path.exists(scheduler):
        if not os.path.isfile(scheduler):
            raise SchedulerError(f"{scheduler}: a scheduler file must be a regular file")
        return scheduler_file_address(scheduler)
    if not re.fullmatch(r"(\w+://)?[^\s/:]+:\d+/?|\w+://\S+", scheduler):
        raise SchedulerError(f"{scheduler}: neither a dask scheduler's address (such as "
                             "tcp://10.0.0.5:8786) nor a scheduler file that exists")
    return scheduler


def scheduler_file_address(path: str) -> str:
    """The scheduler's address from the JSON file ``dask scheduler --scheduler-file`` writes.

    Read here rather than by ``Client(scheduler_file=)``, which fails with a traceback (an
    assertion, a KeyError) on a file that is not a scheduler's.

    Raises:
        SchedulerError: the file is too large, not JSON, or has no ``address`` string.
    """
    import json

    what = (f"{path}: not a dask scheduler file (the JSON object `dask scheduler "
            "--scheduler-file` writes, with an \"address\" such as tcp://10.0.0.5:8786)")
    if os.path.getsize(path) > SCHEDULER_FILE_BYTES:
        raise SchedulerError(f"{what}: larger than {SCHEDULER_FILE_BYTES:,} bytes")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (UnicodeDecodeError, ValueError) as err:
        raise SchedulerError(f"{what}: {type(err).__name__}: {err}") from None
    if not isinstance(data, dict):
        raise SchedulerError(f"{what}: it holds a JSON {type(data).__name__}")
    address = data.get("address")
    if not isinstance(address, str) or "://" not in address or address.endswith("://"):
        got = "no \"address\"" if address is None else f"address {address!r}"[:100]
        raise SchedulerError(f"{what}: {got}")
    return address


@contextlib.contextmanager
def _warm_dask_workers(preload: list[str]):
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

    from negotiation_sim.run.executors.processes import single_threaded_libraries

    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}), \
            single_threaded_libraries():  # the forkserver forks: it must run no thread
        ctx = get_mp_context()  # sets dask's own preload list once
        ctx.set_forkserver_preload(["distributed", "numpy", "pandas", *preload])
        yield


class DaskExecutor(Closing):
    """Tasks on a ``dask.distributed`` cluster: an existing one, or a ``LocalCluster``.

    Args:
        workers: workers of the LocalCluster (ignored with ``scheduler``: the cluster has its own).
        scheduler: address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``, or the path
            of the JSON file a scheduler started with ``--scheduler-file`` writes (the usual
            way on SLURM, where the scheduler's node is known only once the job runs).
        processes: LocalCluster workers as processes (default) or threads in this process.
        preload: modules LocalCluster workers import before their first task.
    """

    kind = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, *,
                 processes: bool = True,
                 preload: Sequence[str] = ProcessExecutor.PRELOAD) -> None:
        self.scheduler = scheduler
        self._cluster = self._client = None
        if scheduler is None:
            try:
                # An interrupt in the middle of a LocalCluster's start-up leaves workers half
                # started and a cluster distributed's exit handler cannot close (tracebacks
                # from both): it is raised once the cluster is up, and the cluster closed.
                with deferred():
                    self._start_local(workers or os.cpu_count() or 1, processes, preload)
            except BaseException:
                with deferred():
                    self.close()
                raise
        else:
            Client = require("distributed", "the dask executor").Client
            address = scheduler_address(scheduler)
            try:
                self._client = Client(address)
            except ValueError as err:  # an address dask cannot parse
                raise SchedulerError(f"{scheduler}: {err}") from None
        self.workers = len(self._client.scheduler_info().get("workers", {})) or (workers or 1)

    def _start_local(self, n: int, processes: bool, preload: Sequence[str]) -> None:
        distributed = require("distributed", "the dask executor")
        # ":0": a free port, so a second sweep (or a notebook's cluster) never clashes
        with _warm_dask_workers(list(preload)):
            self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                                     processes=processes,
                                                     dashboard_address=":0")
        self._client = distributed.Client(self._cluster)

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
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
