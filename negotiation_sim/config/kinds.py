"""Which kind of file a user wrote: a scenario, an experiment or a backtest.

The three formats share no top-level field that both require, so the top-level keys tell them
apart: a backtest lists ``questions``, an experiment names a ``scenario`` file and has no
``actors``, anything else is read as a scenario. The command line uses this to check any file
with ``negsim validate``, to name the right command when a file is given to the wrong one, and
to export each kind's JSON Schema (``negsim schema KIND``).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

Kind = Literal["scenario", "experiment", "backtest"]
KINDS: tuple[Kind, ...] = get_args(Kind)
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


def json_schema(kind: Kind) -> dict[str, Any]:
    """The JSON Schema of files of ``kind``, for editors that complete YAML.

    Raises:
        KeyError: ``kind`` is not one of ``KINDS``.
    """
    if kind == "scenario":
        from negotiation_sim.config.scenario import json_schema as schema
    elif kind == "experiment":
        from negotiation_sim.config.experiment import experiment_schema as schema
    elif kind == "backtest":
        from negotiation_sim.config.backtest import backtest_schema as schema
    else:
        raise KeyError(kind)
    return dict(schema())
