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
"""

from __future__ import annotations

import contextlib
import os
import signal
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
        raise Interrupted(signum)

    for sig in SIGNALS:
        current = signal.getsignal(sig)
        if current in defaults:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
