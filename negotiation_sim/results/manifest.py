"""Provenance of results: what was run, with which seed, by which versions and command.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

from negotiation_sim.config.scenario import Scenario


def versions() -> dict[str, str]:
    """Versions of the interpreter and the libraries that shape results."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("negotiation_sim", "numpy", "scipy", "mesa", "pydantic", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def manifest(scenario: Scenario, source: str | None, *, seed: int, runs: int,
             chunk_size: int, **extra: Any) -> dict[str, Any]:
    """Provenance of a run: what was run, with which seed, by which versions and command."""
    return {
        "scenario": scenario.name,
        "scenario_file": source,
        "scenario_hash": scenario.digest(),
        "seed": seed,
        "runs": runs,
        "chunk_size": chunk_size,
        "protocol": scenario.protocol.kind,
        "versions": versions(),
        "command": sys.argv,
        "platform": platform.platform(),
        **extra,
    }
