"""Signals as exceptions, so that an interrupted run or sweep cleans up after itself.

By default SIGTERM (what ``kill``, a job scheduler or a container stop sends) and SIGHUP (a
closed terminal) end Python at once: no ``finally`` runs, so worker processes are orphaned,
temporary files stay and a sweep's manifest keeps saying ``running``. Inside ``interruptible()``
SIGINT, SIGTERM and SIGHUP raise ``Interrupted`` (a ``KeyboardInterrupt``) in the main thread
instead, so every clean-up path runs as for Ctrl-C, and the command exits with ``128 + signal``
as a shell expects. A second signal while cleaning up ends the process at once (press Ctrl-C
twice to force).

Handlers a caller installed itself are left alone, and outside the main thread (where Python
cannot set handlers) nothing changes.

Two moments need more than raising at once:

* A start-up that an exception would leave half-done, with processes and threads of its own (a
  dask ``LocalCluster``: interrupted, it leaves workers starting and a cluster that
  distributed's exit handler fails to close, each printing a traceback), runs inside
  ``deferred()``: a signal that arrives there is raised when the block ends, once what it
  started can be closed cleanly.
* Python runs the handler wherever the main thread is, which may be a finaliser (``__del__``,
  a weakref callback such as multiprocessing's ``Finalize``, a generator closed by the garbage
  collector): there the exception is
  printed as "Exception ignored" and dropped, and the command would go on and exit 0. Inside
  ``interruptible()`` such an interrupt is never printed.

Whatever became of the exception (raised in a finaliser, or caught by code that does not
re-raise it: a library's ``except BaseException``, a C extension that checks for signals and
clears the error), a signal received inside ``interruptible()`` is not forgotten: long work
polls for it between its steps (``stop_if_dropped``), a block opened inside the one that
received it (a command's own, inside the command line's) raises it as it opens, and a block
that ends without an exception raises it as it ends (the command line then exits with the
signal's code and one line). None of these can meet an interrupt that is being handled: that
one is propagating, and the command ends with it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
from collections.abc import Iterator

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A signal asked the process to stop; ``signum`` is which (exit code ``128 + signum``)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        super().__init__(signal.Signals(self.signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(err: BaseException) -> int:
    """The shell's exit code for an interrupt: 130 for Ctrl-C, 143 for SIGTERM."""
    return err.exit_code if isinstance(err, Interrupted) else 128 + signal.SIGINT


@contextlib.contextmanager
def interruptible() -> Iterator[list[int]]:
    """SIGINT, SIGTERM and SIGHUP raise ``Interrupted`` in the main thread while inside.

    Yields the list of signals received (empty until one is), for a caller that must say
    which signal stopped it after something else caught the interrupt.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    defaults = (signal.SIG_DFL, signal.default_int_handler)
    previous = {}

    def handler(signum, frame) -> None:
        if received:  # a second signal while cleaning up: stop now, as the default would
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        received.append(signum)
        _RECEIVED.append(signum)  # long work polls it (``stop_if_dropped``)
        if _DEFERRED.depth:
            _DEFERRED.pending = signum
            return
        if _in_finaliser(frame):  # Python would print it there and drop it
            return
        raise Interrupted(signum)

    def unraisable(info) -> None:
        if isinstance(info.exc_value, Interrupted) and received:
            # dropped by a callback Python cannot raise from (a weakref's, a WeakValueDictionary
            # clean-up) all the same: not printed, and polled as a finaliser's is
            return
        hook(info)

    if any(signal.getsignal(sig) in defaults for sig in SIGNALS):
        _RECEIVED.clear()  # an outermost block starts afresh
    elif _RECEIVED:  # a block inside one that received a signal and went on: stop here
        raise Interrupted(_RECEIVED[0])
    for sig in SIGNALS:
        current = signal.getsignal(sig)
        if current in defaults:
            previous[sig] = signal.signal(sig, handler)
    hook = sys.unraisablehook
    if previous:
        sys.unraisablehook = unraisable
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        unraised = _RECEIVED[:]  # read at the end of a block without an exception
        if previous:  # the block whose handlers took them: nothing polls after it
            sys.unraisablehook = hook
            _RECEIVED.clear()
    if unraised:  # the block ended without it (a nested one too): it ends in the signal's way
        raise Interrupted(unraised[0])


# The signals received inside the outermost ``interruptible()`` block, for long work to poll
# between its steps: an interrupt that a finaliser dropped (dask runs finalisers while it
# starts) or that some code caught and did not re-raise would otherwise let a whole sweep run
# on after SIGTERM.
_RECEIVED: list[int] = []


def stop_if_dropped() -> None:
    """Raise ``Interrupted`` now if a signal was received inside ``interruptible()``: the caller
    is between steps, where stopping is safe, and an interrupt still propagating would not have
    let it get here. Inside ``deferred()`` the signal waits for the block's end instead; outside
    the main thread (a worker thread's task) nothing is raised: the main thread stops the work."""
    if (_RECEIVED and not _DEFERRED.depth
            and threading.current_thread() is threading.main_thread()):
        raise Interrupted(_RECEIVED[0])


@functools.cache
def _finaliser_codes() -> frozenset:
    """The code of the callbacks that run finalisers from a weak reference (the garbage
    collector calls them, and drops what they raise): ``weakref.finalize`` and
    multiprocessing's ``Finalize``, which unlinks a pool's semaphores. An interrupt raised
    inside the latter between the unlink and telling the resource tracker leaves the tracker
    warning of a "leaked semaphore" at exit."""
    import multiprocessing.util
    import weakref

    return frozenset({weakref.finalize.__call__.__code__,
                      multiprocessing.util.Finalize.__call__.__code__})


def _in_finaliser(frame) -> bool:
    """Whether ``frame`` runs inside a ``__del__`` method or a finaliser callback, where an
    exception cannot propagate."""
    codes = _finaliser_codes()
    while frame is not None:
        if frame.f_code.co_name == "__del__" or frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


class _Deferred:
    depth = 0
    pending: int | None = None


_DEFERRED = _Deferred()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Signals that ``interruptible()`` turns into ``Interrupted`` are held while inside and
    raised when the block ends (a second one still ends the process at once)."""
    _DEFERRED.depth += 1
    try:
        yield
    finally:
        _DEFERRED.depth -= 1
        if _DEFERRED.depth == 0 and _DEFERRED.pending is not None:
            signum, _DEFERRED.pending = _DEFERRED.pending, None
            raise Interrupted(signum)
