"""Provenance of results: what was run, with which seed, by which versions and command.

A manifest also marks a directory as the engine's own (``results.files.read_manifest``): it says
what the directory holds (``kind``: ``run`` or ``sweep``), which engine wrote it
(``engine_version``: a sweep resumes only with the version that started it) and which figures
belong to those results (``figures``: written beside them from the same data).

A manifest read back is checked first (``results.manifest_schema``).
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from negotiation_sim.config.scenario import Scenario
from negotiation_sim.results.manifest_schema import ManifestError, load_manifest
from negotiation_sim.results.schema import FORMAT_VERSION, MANIFEST_FILE

__all__ = ["ManifestError", "engine_version", "load_manifest", "manifest", "record_figures",
           "versions"]

def engine_version() -> str:
    """``negotiation_sim.__version__``: the version of the engine that is running.

    Read from the loaded package rather than imported (the package's front door sits above
    every layer; it is always loaded before any of its modules) or taken from the installed
    metadata (which an editable install does not update).
    """
    return sys.modules[__name__.split(".")[0]].__version__


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
             chunk_size: int, kind: str = "run", **extra: Any) -> dict[str, Any]:
    """Provenance of a run (or, with ``kind="sweep"``, the base of a sweep's manifest): what
    was run, with which seed, by which versions and command."""
    return {
        "kind": kind,
        "format_version": FORMAT_VERSION,
        "engine_version": engine_version(),
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


def record_figures(directory: str | Path, figures: Iterable[str | Path]) -> None:
    """List ``figures``, drawn from the results in ``directory``, in its manifest (beside those
    listed before that are still there); a directory without the engine's manifest is left
    alone."""
    from negotiation_sim.results.files import read_manifest, write_json_atomic

    directory = Path(directory)
    data = read_manifest(directory)
    if data is None:
        return
    names = {Path(f).name for f in figures if Path(f).parent.resolve() == directory.resolve()}
    # listed names are plain file names (parse_manifest checked them): inside ``directory``
    listed = {f for f in data.get("figures", []) if (directory / f).is_file()}
    data["figures"] = sorted(listed | names)
    write_json_atomic(directory / MANIFEST_FILE, data)
