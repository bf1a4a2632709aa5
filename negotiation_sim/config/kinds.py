"""Which kind of file a user wrote: a scenario, an experiment or a backtest.

The three formats share no top-level field that both require, so the top-level keys tell them
apart: a backtest lists ``questions``, an experiment names a ``scenario`` file and has no
``actors``, anything else is read as a scenario. The command line uses this to check any file
with ``negsim validate`` and to name the right command when a file is given to the wrong one.
"""

from __future__ import annotations

from typing import Any, Literal

Kind = Literal["scenario", "experiment", "backtest"]
COMMAND = {"scenario": "negsim run", "experiment": "negsim sweep",
           "backtest": "negsim backtest"}


def file_kind(data: Any) -> Kind:
    """The kind of a loaded YAML document (``YamlDoc.data``)."""
    if isinstance(data, dict) and "actors" not in data:
        if "questions" in data:
            return "backtest"
        if "scenario" in data:
            return "experiment"
    return "scenario"
