"""Reading results back: the one reader of run, sweep and trace results that every consumer uses.

``load_results`` recognises what a path holds (``results_kind``) and returns ``RunResults``
(one row per world, the summary, the manifest, the scenario if known) or ``SweepResults`` (one
row per point, the manifest, saved sensitivity indices); ``load_trace`` reads a traced world.
Figures, reports, comparisons and sensitivity analyses read results only through here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from negotiation_sim.config.paths import param_label
from negotiation_sim.core.outcomes import OUTCOMES

if TYPE_CHECKING:
    import pandas as pd

    from negotiation_sim.config.scenario import Scenario


@dataclass
class RunResults:
    """A run's tables: one row per world, the summary, the manifest, and the scenario if known.

    Attributes:
        runs: ``runs.parquet`` as a DataFrame (outcome and format as strings).
        summary: ``summary.json`` (the ``negsim run --json`` shape).
        manifest: ``manifest.json`` (provenance).
        scenario: the validated scenario, when its file is found (marks ideal points, red lines).
        path: the results directory.
    """

    runs: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario | None = None
    path: Path | None = None

    @classmethod
    def load(cls, path: str | Path, scenario: Scenario | str | Path | None = None) -> RunResults:
        """Read ``runs.parquet``, ``summary.json`` and ``manifest.json`` from a run directory.

        The scenario is ``scenario`` if given, else the manifest's ``scenario_file`` when that
        file still exists and has the recorded hash (a changed file would mark the wrong lines).
        """
        path = Path(path)
        runs = read_runs_sample(path / "runs.parquet")
        for col in ("outcome", "format"):
            if col in runs:
                runs[col] = runs[col].astype("string")
        summary = json.loads((path / "summary.json").read_text())
        manifest = read_json(path / "manifest.json")
        return cls(runs, summary, manifest, resolve_scenario(scenario, manifest, path), path)

    @property
    def caption(self) -> str:
        """``scenario: N worlds, seed S`` for titles."""
        return caption(self.summary["scenario"], self.summary["runs"], self.summary["seed"])

    @property
    def principals(self) -> list[str]:
        """Principal ids (from the scenario, else the first two utility columns)."""
        if self.scenario is not None:
            return self.scenario.principals
        return self.actors[:2]

    @property
    def actors(self) -> list[str]:
        """Actors with a utility column, in table order (principals first)."""
        return [c.split(".", 1)[1] for c in self.runs.columns if c.startswith("utility.")]

    @property
    def issues(self) -> list[str]:
        return [c.split(".", 1)[1] for c in self.runs.columns if c.startswith("terms.")]

    def name_of(self, actor: str) -> str:
        if self.scenario is not None and actor in self.scenario.actors:
            return self.scenario.actors[actor].display(actor)
        return actor


# Figures of distributions need no more worlds than this; a larger run is read as a systematic
# sample (every k-th world), so drawing a run of millions stays within bounded memory.
MAX_FIGURE_ROWS = 200_000


_FIGURE_COLUMNS = ("world", "outcome", "format", "round", "walked_out")


def read_runs_sample(path: Path, max_rows: int = MAX_FIGURE_ROWS) -> pd.DataFrame:
    """The columns figures use from ``runs.parquet``, every k-th world when there are more
    than ``max_rows`` (outcome shares in titles and tables come from the exact summary)."""
    import math

    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    columns = [c for c in names if c in _FIGURE_COLUMNS or c.startswith(("terms.", "utility."))
               or (c.startswith("input.actors.") and c.endswith(".reservation"))]
    step = max(1, math.ceil(pf.metadata.num_rows / max_rows))
    if step == 1:
        return pf.read(columns=columns).to_pandas()
    parts, offset = [], 0
    for batch in pf.iter_batches(batch_size=65_536, columns=columns):
        first = (-offset) % step  # keep rows whose run-wide index is a multiple of step
        parts.append(batch.take(pa.array(range(first, batch.num_rows, step))))
        offset += batch.num_rows
    return pa.Table.from_batches(parts).to_pandas()


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def resolve_scenario(scenario, manifest: dict[str, Any], base: Path | None = None):
    """The scenario a result came from: the one given, else the manifest's file.

    A file whose hash differs from the recorded one is still used (the hash also moves when the
    schema gains a field), but with a warning: its red lines and ideal points may not be the
    ones that were run.
    """
    import warnings

    from negotiation_sim.config.scenario import Scenario, load_scenario

    if isinstance(scenario, Scenario):
        return scenario
    if scenario is not None:
        return load_scenario(scenario)
    source = manifest.get("scenario_file")
    if not source:
        return None
    candidates = [Path(source)]
    if base is not None and not Path(source).is_absolute():
        candidates.append(base / source)
    for cand in candidates:
        if cand.is_file():
            try:
                sc = load_scenario(cand)
            except Exception:  # noqa: BLE001 - an unreadable file just means no marks
                return None
            recorded = manifest.get("scenario_hash")
            if recorded not in (None, sc.digest()):
                warnings.warn(f"{cand} differs from the scenario that was run (hash "
                              f"{recorded[:12]}...); figures mark its current positions and "
                              "red lines", ScenarioChangedWarning, stacklevel=2)
            return sc
    return None


class ScenarioChangedWarning(UserWarning):
    """The scenario file named in a manifest no longer has the recorded hash."""


def caption(scenario: str, runs: int, seed: int | str) -> str:
    """The second title line every figure carries."""
    return f"{scenario}: {int(runs):,} worlds, seed {seed}"


def load_trace(path: str | Path) -> dict[str, Any]:
    """Read a trace JSON file (see the shape above)."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "rounds" not in data:
        raise ValueError(f"{path}: not a trace (no 'rounds')")
    return data


_NOT_PARAMS = {"point", "label", "runs", "rounds", "scenario_hash", *OUTCOMES}


_PREFIXES = ("format.", "terms.", "utility.")


_SUFFIXES = (".lo", ".hi")


SENSITIVITY_FILES = ("sensitivity.parquet", "sensitivity.json")


@dataclass
class SweepResults:
    """A sweep's per-point summary, manifest, swept parameters and sensitivity indices.

    Attributes:
        summary: ``summary.parquet`` as a DataFrame, one row per point.
        manifest: ``manifest.json``.
        params: swept parameter paths (the manifest's design, else the summary's columns).
        scenario: the base scenario when its file is found (for readable axis labels).
        sensitivity: indices per parameter, when the sweep directory holds them.
        path: the results directory.
    """

    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    params: list[str] = field(default_factory=list)
    scenario: Scenario | None = None
    sensitivity: pd.DataFrame | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        if not self.params:
            design = self.manifest.get("design", {})
            self.params = [p for p in design.get("parameters", []) if p in self.summary] or [
                c for c in self.summary.columns
                if c not in _NOT_PARAMS and not c.startswith(_PREFIXES)
                and not c.endswith(_SUFFIXES)]

    @classmethod
    def load(cls, path: str | Path, scenario=None) -> SweepResults:
        """Read a sweep's results directory (``summary.parquet``, ``manifest.json``)."""
        import pandas as pd

        path = Path(path)
        summary_file = path / "summary.parquet"
        if not summary_file.exists():
            raise FileNotFoundError(f"{path}: no summary.parquet (the sweep has not finished "
                                    "any point yet)")
        summary = pd.read_parquet(summary_file)
        manifest = read_json(path / "manifest.json")
        return cls(summary, manifest, [], resolve_scenario(scenario, manifest, path),
                   load_sensitivity(path), path)

    @property
    def name(self) -> str:
        return str(self.manifest.get("experiment") or self.manifest.get("scenario") or "sweep")

    @property
    def caption(self) -> str:
        runs = int(self.summary["runs"].iloc[0]) if "runs" in self.summary else 0
        text = caption(self.name, runs, self.manifest.get("seed", "?"))
        return text.replace(" worlds,", " worlds per point,") + f", {len(self.summary)} points"

    @property
    def method(self) -> str:
        return str(self.manifest.get("design", {}).get("method", "grid"))

    def numeric(self, param: str) -> bool:
        return self.summary[param].dtype.kind in "fiu"

    def label(self, param: str, *, units: bool = True) -> str:
        return param_label(param, self.scenario, units=units)

    def point_labels(self) -> list[str]:
        """A short name per point: its ``label``, else its parameter values."""
        if "label" in self.summary and self.summary["label"].notna().all():
            return list(self.summary["label"].astype(str))
        out = []
        for _, row in self.summary.iterrows():
            out.append(", ".join(format_value(row[p]) for p in self.params) or str(row["point"]))
        return out

    def summaries(self) -> list[dict[str, Any]]:
        """Each point in the ``negsim run --json`` shape (outcomes only), for ``outcome_shares``."""
        seed = self.manifest.get("seed", 0)
        out = []
        for _, row in self.summary.iterrows():
            out.append({"scenario": self.name, "runs": int(row["runs"]), "seed": seed,
                        "outcomes": {o: {"share": float(row[o]),
                                         "ci95": [float(row[f"{o}.lo"]), float(row[f"{o}.hi"])]}
                                     for o in OUTCOMES}})
        return out


def load_sensitivity(path: Path) -> pd.DataFrame | None:
    """Sensitivity indices saved beside a sweep (``sensitivity.parquet`` or ``.json``: ``negsim
    sweep`` saves them for sobol and morris designs), or None when there are none."""
    import pandas as pd

    for name in SENSITIVITY_FILES:
        f = path / name
        if f.exists():
            if f.suffix == ".parquet":
                return pd.read_parquet(f)
            return sensitivity_table(json.loads(f.read_text()))
    return None


def sensitivity_table(data: Any) -> pd.DataFrame:
    """Indices as a DataFrame from SALib's dict (``names`` + arrays), a list of rows, or a
    ``{"indices": ...}`` / ``{"parameters": {name: {S1: ...}}}`` JSON object."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict) and "indices" in data:
        data = data["indices"]
    if isinstance(data, dict) and "parameters" in data and isinstance(data["parameters"], dict):
        return pd.DataFrame([{"parameter": k, **v} for k, v in data["parameters"].items()])
    if isinstance(data, dict) and "names" in data:
        cols = {k: v for k, v in data.items() if k != "names" and np.ndim(v) == 1}
        return pd.DataFrame({"parameter": data["names"], **cols})
    if isinstance(data, list):
        return pd.DataFrame(data)
    raise ValueError("unrecognised sensitivity indices: expected SALib's dict or rows")


def format_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def results_kind(path: Path) -> str:
    """What a results path holds: ``run``, ``sweep`` or ``trace``.

    Raises:
        FileNotFoundError: when the path is none of these.
    """
    if path.is_file():
        if path.suffix == ".json":
            return "trace"
        raise FileNotFoundError(f"{path}: expected a results directory or a trace .json file")
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if (path / "summary.parquet").exists() or (path / "points.parquet").exists():
        return "sweep"
    if (path / "runs.parquet").exists() and (path / "summary.json").exists():
        return "run"
    if (path / "trace.json").exists():
        return "trace"
    raise FileNotFoundError(
        f"{path}: not a results directory (expected runs.parquet + summary.json from negsim run, "
        "summary.parquet from negsim sweep, or trace.json from negsim trace)")
