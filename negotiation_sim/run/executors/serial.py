"""The serial back-end: each task runs in this process when it is submitted (easy debugging).
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from typing import Any

from negotiation_sim.run.executors.base import Closing


class SerialExecutor(Closing):
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
