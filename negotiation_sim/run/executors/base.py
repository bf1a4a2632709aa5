"""What a sweep needs from an execution back-end, and the bounded loop over tasks.

Every back-end shares one small ``concurrent.futures``-style interface: ``submit(fn, *args)``
returns a future with ``result()`` / ``exception()``, and ``wait_first(futures)`` returns the
futures that have finished. ``imap_unordered`` builds on those two to keep a bounded number of
tasks in flight, so memory stays flat however many tasks a sweep has. Results never depend on
the back-end: every task carries its own seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

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


class Closing:
    """``with executor: ...`` closes it (and its workers or cluster) at the end."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
