"""The local back-end: a pool of worker processes that start warm and die with their parent.

Workers never outlive the process that started them: a forked worker asks the kernel to kill
it when its parent dies (``PR_SET_PDEATHSIG`` on Linux; elsewhere a thread watches
``os.getppid()``), a forkserver's worker watches the process that made the pool (a pidfd on
Linux), so a sweep killed even with ``kill -9`` leaves no worker (and no forkserver) behind. They ignore SIGINT: Ctrl-C reaches
the whole foreground process group, and the parent, which handles it, stops them (``abort``)
instead of every worker printing its own traceback.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import ctypes.util
import importlib
import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from negotiation_sim.run.executors.base import Closing
from negotiation_sim.run.signals import deferred

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 0.5  # how often a worker without PR_SET_PDEATHSIG checks for its parent
WAIT_SECONDS = 0.2  # the longest a signal waits for the pool's wait to return
ABORT_JOIN_SECONDS = 5.0  # the longest an abort waits for the pool's manager thread to end


def die_with_parent(parent: int) -> None:
    """Make this (worker) process exit when ``parent`` does, whatever ends it.

    ``parent`` is the pid of the process that made the pool. A worker it forked asks the kernel
    for a signal when its parent dies. A forkserver's worker has the forkserver as its parent,
    and the forkserver waits for its workers before it exits (each holds the pipe whose end
    tells it that its clients are gone): such a worker watches ``parent`` itself instead.
    """
    if os.getppid() != parent:  # started by a forkserver (or the parent is already gone)
        threading.Thread(target=_watch_pid, args=(parent,), name="negsim-parent-watch",
                         daemon=True).start()
        return
    if sys.platform.startswith("linux") and _pdeathsig(signal.SIGKILL):
        if os.getppid() != parent:  # it died before the request took effect
            os._exit(1)
        return
    threading.Thread(target=_watch, args=(parent,), name="negsim-parent-watch",
                     daemon=True).start()


def _watch_pid(pid: int) -> None:
    """Exit when the process ``pid`` (not this one's parent) ends: at once where the OS gives a
    descriptor for a process (Linux), else within ``WATCH_SECONDS``."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (or already gone: then kill fails below)
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # readable once the process has exited
        os._exit(1)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # alive, under another user (a reused pid)
            pass
        time.sleep(WATCH_SECONDS)


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


def os_threads() -> int:
    """The threads this process runs, as the OS counts them (what Python checks before it warns
    that ``fork`` in a multi-threaded process may deadlock the child).

    ``threading.active_count()`` sees only Python's threads; a numerical library's own thread
    pool (OpenBLAS starts one when numpy is imported) is invisible to it, yet a fork copies
    the locks those threads may hold. Where the OS does not say, Python's count is the answer.
    """
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


THREAD_POOL_VARIABLES = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                         "MKL_NUM_THREADS": "1",
                         "JE_ARROW_MALLOC_CONF": "background_thread:false"}
"""What libraries read when they load for the threads they start (BLAS's pool, the
background thread of pyarrow's jemalloc, which pandas loads), and the values that start none."""


@contextlib.contextmanager
def single_threaded_libraries():
    """Within: processes started get no thread pools from the libraries they load (the
    variables of ``THREAD_POOL_VARIABLES`` set; as they were after).

    A forkserver imports numpy and pandas (whose BLAS and allocator start threads) and then
    forks every worker: with those threads it would fork a multi-threaded process. The workers lose nothing: each runs
    one task at a time, side by side with the others, and the model's array code does not
    call BLAS (so the numbers are those of any other executor).
    """
    saved = {k: os.environ.get(k) for k in THREAD_POOL_VARIABLES}
    os.environ.update(THREAD_POOL_VARIABLES)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class ProcessExecutor(Closing):
    """A pool of local worker processes.

    Where the OS can ``fork`` and this process runs no other thread yet (as the OS counts
    threads, ``os_threads``: a BLAS library's pool counts), every worker is forked at once,
    here, from this process, which has already imported the simulation code: workers start warm
    in milliseconds (importing Mesa, pandas and scipy costs a second or more per process, as
    much as a whole small sweep). Forking only while no thread exists is what makes ``fork``
    safe (Python 3.12+ warns otherwise). Otherwise workers start by ``forkserver`` (one server,
    itself started single-threaded, imports the code once and forks warm workers) or, where
    neither exists, spawn. Every start method runs the same task functions on the same seeds,
    so the results do not depend on it.

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
        if "fork" in methods:
            for module in self.preload:  # warm before forking (imports may start threads)
                importlib.import_module(module)
        if "fork" in methods and os_threads() == 1:
            ctx = multiprocessing.get_context("fork")
        elif "forkserver" in methods:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(self.preload)
            with single_threaded_libraries():  # the server forks: it must run no thread
                multiprocessing.forkserver.ensure_running()
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
        """Submit a task. The pool may start a worker here, which waits for the forkserver
        (a second or more while it imports the preloaded modules): a signal in that wait is
        held until the worker is started and recorded (``run.signals.deferred``). Raised
        there, it left a worker the pool never recorded, which ``abort`` could not stop, and
        which printed a traceback once this process had exited and unlinked the pool's
        semaphores."""
        with deferred():
            return self._pool.submit(fn, *args)

    def wait_first(self, futures: set) -> set:
        """The futures of ``futures`` that have finished, once one has.

        ``cf.wait`` takes each future's lock in turn before it waits; an interrupt raised
        between two of them left the first held, and the pool's manager thread, which takes
        that lock to settle the future, waited for it for ever: the command printed its one
        line and then hung at exit, where Python joins that thread. A signal is therefore held
        while ``cf.wait`` runs (``run.signals.deferred``) and raised as it returns, which it
        does at least every ``WAIT_SECONDS``.
        """
        while True:
            with deferred():
                done, _ = cf.wait(futures, timeout=WAIT_SECONDS,
                                  return_when=cf.FIRST_COMPLETED)
            if done:
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
        sweep).

        Last, it waits (at most ``ABORT_JOIN_SECONDS``) for the pool's manager thread to
        finish closing the pool: at exit Python wakes every pool's manager thread through a
        pipe that thread closes as it ends, without a lock between the two (Python 3.13), so
        a thread still ending then made the exit print a traceback ("Bad file descriptor")
        after the command's one line."""
        terminate = getattr(self._pool, "terminate_workers", None)  # Python 3.14
        processes = list(getattr(self._pool, "_processes", {}).values())
        results = getattr(self._pool, "_result_queue", None)  # shutdown() drops it
        manager = getattr(self._pool, "_executor_manager_thread", None)  # and it
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
        _close_writer(results)
        if manager is not None and manager is not threading.current_thread():
            manager.join(ABORT_JOIN_SECONDS)


def _close_writer(results: Any) -> None:
    """Close this process's end for writing of the pool's result pipe, once its workers are
    gone. A worker killed while it wrote a result leaves part of a message in the pipe, and the
    pool's manager thread waits in ``recv`` for the rest, for ever: this process holds a writing
    end too, so the read never meets the end of the pipe. The interpreter joins that thread at
    exit, so the command printed its one line and then hung. With no writer left the read ends
    (an error the thread takes for a broken pool), and the thread exits."""
    writer = getattr(results, "_writer", None)
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()
