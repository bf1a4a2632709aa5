"""Reading results back: the one reader of run, sweep and trace results that every consumer uses.

``load_results`` recognises what a path holds (``results_kind``) and returns ``RunResults``
(the summary, the manifest, the scenario and its figures' marks, and the per-world table) or
``SweepResults`` (one row per point and the points' values, the manifest, saved sensitivity
indices), or a traced world's dict. Figures, reports, comparisons, sensitivity analyses and the
Python API read results only through here; the files' names are ``results.schema``'s.

The scenario of a result comes from ``scenario.json`` (written with the results), else, for
results written before it existed, from the file the manifest names, if it is still there.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from negotiation_sim.config.paths import param_label
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.core.outputs import OUTPUTS
from negotiation_sim.results.manifest_schema import load_manifest
from negotiation_sim.results.marks import IssueMarks, read_scenario_record, scenario_marks
from negotiation_sim.results.schema import (
    POINTS_FILE,
    RUNS_DIR,
    RUNS_FILE,
    SCENARIO_FILE,
    SENSITIVITY_FILE,
    SENSITIVITY_TABLE_FILE,
    SUMMARY_FILE,
    SWEEP_SUMMARY_FILE,
    TRACE_FILE,
)
from negotiation_sim.results.summary import MEETING_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from negotiation_sim.config.scenario import Scenario


class RunsNotKept(LookupError):
    """The run kept no per-world rows (``keep_runs=False``): only its summary is there."""


class RunResults:
    """A run's results: its summary, provenance, scenario, figures' marks and per-world rows.

    Attributes:
        summary: the ``negsim run --json`` dict.
        manifest: provenance (``manifest.json``).
        scenario: the validated scenario, when known.
        marks: per issue, what the terms figure marks (``results.marks``), when known.
        path: the results directory, for results read from or written to one.
        runs_file: the Parquet file holding the per-world rows, if they were kept.
        rows: the per-world rows as the Arrow table ``runs.parquet`` would hold, for rows kept
            in memory instead of a file (``run(keep_runs="memory")``).

    ``runs`` (every column, every world) is read from ``runs_file`` (or ``rows``) when first
    asked for; figures read ``sample`` (their columns, at most ``MAX_FIGURE_ROWS`` worlds)
    instead.
    """

    def __init__(self, summary: dict[str, Any], *, manifest: dict[str, Any] | None = None,
                 scenario: Scenario | None = None, marks: dict[str, IssueMarks] | None = None,
                 runs: pd.DataFrame | None = None, runs_file: str | Path | None = None,
                 path: str | Path | None = None, rows: Any = None) -> None:
        self.summary = summary
        self.manifest = manifest or {}
        self.scenario = scenario
        self.marks = marks
        self.path = None if path is None else Path(path)
        self.runs_file = None if runs_file is None else Path(runs_file)
        self.rows = rows
        self._runs = runs
        self._sample: pd.DataFrame | None = None

    @classmethod
    def load(cls, path: str | Path, scenario: Scenario | str | Path | None = None):
        """Read a run's results directory (``runs.parquet`` is read when first needed).

        The scenario and marks are ``scenario.json``'s. Given ``scenario`` (a file or a
        Scenario) instead, or for a directory written before ``scenario.json`` existed (the
        manifest's scenario file, if it still exists), the marks are computed from it.
        """
        path = Path(path)
        summary_file = path / SUMMARY_FILE
        if not summary_file.is_file():
            raise FileNotFoundError(f"{path}: not a run's results directory (no {SUMMARY_FILE})")
        summary = json.loads(summary_file.read_text())
        manifest = load_manifest(path)
        marks = None
        if scenario is None and (path / SCENARIO_FILE).is_file():
            sc, marks = read_scenario_record(path / SCENARIO_FILE)
        else:
            sc = resolve_scenario(scenario, manifest, path)
        if marks is None and sc is not None:
            marks = scenario_marks(sc, seed=summary["seed"])
        runs_file = path / RUNS_FILE
        return cls(summary, manifest=manifest, scenario=sc, marks=marks,
                   runs_file=runs_file if runs_file.is_file() else None, path=path)

    def __repr__(self) -> str:
        where = f", {self.path}" if self.path is not None else ""
        return f"{type(self).__name__}({self.caption}{where})"

    @property
    def kept(self) -> bool:
        """Whether the per-world rows are there (``runs``, and the figures that need them)."""
        return self._runs is not None or self.runs_file is not None or self.rows is not None

    @property
    def runs(self) -> pd.DataFrame:
        """One row per world, every column of ``runs.parquet`` (outcome and format as strings).

        Raises:
            RunsNotKept: the run kept only its summary.
        """
        if self._runs is None and self.rows is not None:
            self._runs = _as_strings(self.rows.to_pandas())
        if self._runs is None:
            if self.runs_file is None:
                raise RunsNotKept("this run kept no per-world rows, only its summary: run it "
                                  "with keep_runs=True (the default) or out=DIR")
            import pandas as pd

            self._runs = _as_strings(pd.read_parquet(self.runs_file))
        return self._runs

    @property
    def sample(self) -> pd.DataFrame:
        """What figures of distributions draw: the columns they use, every k-th world when
        there are more than ``MAX_FIGURE_ROWS`` (outcome shares come from the exact summary)."""
        if self._sample is None:
            if self._runs is not None or self.rows is not None:
                self.runs  # noqa: B018 - the rows in memory, as a frame
                step = max(1, math.ceil(len(self._runs) / MAX_FIGURE_ROWS))
                self._sample = self._runs.iloc[::step]
            else:
                if self.runs_file is None:
                    self.runs  # noqa: B018 - raises RunsNotKept, saying what to do
                self._sample = _as_strings(read_runs_sample(self.runs_file))
        return self._sample

    @property
    def caption(self) -> str:
        """``scenario: N worlds, seed S`` for titles."""
        return caption(self.summary["scenario"], self.summary["runs"], self.summary["seed"])

    @property
    def principals(self) -> list[str]:
        """Principal ids (from the scenario, else the first two actors)."""
        if self.scenario is not None:
            return self.scenario.principals
        return self.actors[:2]

    @property
    def actors(self) -> list[str]:
        """Actors with a utility, in table order (principals first)."""
        return list(self.summary.get("utilities", {}))

    @property
    def issues(self) -> list[str]:
        return list(self.summary.get("terms", {}))

    def name_of(self, actor: str) -> str:
        if self.scenario is not None and actor in self.scenario.actors:
            return self.scenario.actors[actor].display(actor)
        return actor


def _as_strings(runs: pd.DataFrame) -> pd.DataFrame:
    for col in ("outcome", "format"):
        if col in runs:
            runs[col] = runs[col].astype("string")
    return runs


# Figures of distributions need no more worlds than this; a larger run is read as a systematic
# sample (every k-th world), so drawing a run of millions stays within bounded memory.
MAX_FIGURE_ROWS = 200_000


# figures read every per-world output (core.outputs) and the drawn values of war
_FIGURE_COLUMNS = ("world", *(o.column for o in OUTPUTS if o.axis is None))
_FIGURE_PREFIXES = tuple(f"{o.column}." for o in OUTPUTS if o.axis is not None)


def read_runs_sample(path: Path, max_rows: int = MAX_FIGURE_ROWS) -> pd.DataFrame:
    """The columns figures use from ``runs.parquet``, every k-th world when there are more
    than ``max_rows`` (outcome shares in titles and tables come from the exact summary)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # No pre-buffering and one thread: each row group's column chunks are read, decoded and
    # freed in turn (pre-buffered reads kept ~0.4 MB a row group alive, measured).
    pf = pq.ParquetFile(path, pre_buffer=False)
    names = pf.schema_arrow.names
    columns = [c for c in names if c in _FIGURE_COLUMNS
               or c.startswith(_FIGURE_PREFIXES)
               or (c.startswith("input.actors.") and c.endswith(".reservation"))]
    step = max(1, math.ceil(pf.metadata.num_rows / max_rows))
    if step == 1:
        return pf.read(columns=columns).to_pandas()
    # One row group at a time, each read and sampled before the next: iterating batches
    # instead read ahead through pyarrow's pool (measured: 930 MiB peak for 10M worlds).
    parts, offset = [], 0
    for g in range(pf.metadata.num_row_groups):
        group = pf.read_row_group(g, columns=columns, use_threads=False)
        first = (-offset) % step  # keep rows whose run-wide index is a multiple of step
        parts.append(group.take(pa.array(range(first, group.num_rows, step), pa.int64())))
        offset += group.num_rows
        del group
    return pa.concat_tables(parts).to_pandas()


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
    missing = (f"{base if base is not None else 'these results'}: no {SCENARIO_FILE} and the "
               f"scenario file {source}")
    lost = ("the figures leave out red lines, ideal points, caps and the issues' words (pass "
            "--scenario FILE to give them back)")
    for cand in candidates:
        if cand.is_file():
            try:
                sc = load_scenario(cand)
            except Exception as err:  # noqa: BLE001 - an unreadable file just means no marks
                first = str(err).splitlines()[0] if str(err) else type(err).__name__
                warnings.warn(f"{missing} does not load ({first}); {lost}",
                              ScenarioMissingWarning, stacklevel=2)
                return None
            recorded = manifest.get("scenario_hash")
            if recorded not in (None, sc.digest()):
                warnings.warn(f"{cand} differs from the scenario that was run (hash "
                              f"{recorded[:12]}...); figures mark its current positions and "
                              "red lines", ScenarioChangedWarning, stacklevel=2)
            return sc
    warnings.warn(f"{missing} is not found; {lost}", ScenarioMissingWarning, stacklevel=2)
    return None


class ScenarioChangedWarning(UserWarning):
    """The scenario file named in a manifest no longer has the recorded hash."""


class ScenarioMissingWarning(UserWarning):
    """Neither ``scenario.json`` nor the manifest's scenario file can be read: figures lose
    their marks and words."""


def caption(scenario: str, runs: int, seed: int | str) -> str:
    """The second title line every figure carries."""
    return f"{scenario}: {int(runs):,} worlds, seed {seed}"


def load_trace(path: str | Path) -> dict[str, Any]:
    """Read a trace JSON file (see the shape above)."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "rounds" not in data:
        raise ValueError(f"{path}: not a trace (no 'rounds')")
    return data


_NOT_PARAMS = {"point", "label", "runs", "rounds", "scenario_hash", "sessions", *OUTCOMES,
               *MEETING_COLUMNS}


_PREFIXES = ("format.", "terms.", "utility.")


_SUFFIXES = (".lo", ".hi")


SENSITIVITY_FILES = (SENSITIVITY_TABLE_FILE, SENSITIVITY_FILE)


@dataclass
class SweepResults:
    """A sweep's per-point summary and values, manifest, swept parameters and sensitivity indices.

    Attributes:
        summary: ``summary.parquet`` as a DataFrame, one row per point (the points finished).
        manifest: ``manifest.json``.
        params: swept parameter paths (the manifest's design, else the summary's columns).
        scenario: the base scenario, when known (for readable axis labels).
        sensitivity: indices per parameter, when the sweep directory holds them.
        path: the results directory.
        points: ``points.parquet`` as a DataFrame, one row per point of the design.
    """

    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    params: list[str] = field(default_factory=list)
    scenario: Scenario | None = None
    sensitivity: pd.DataFrame | None = None
    path: Path | None = None
    points: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not self.params:
            design = self.manifest.get("design", {})
            self.params = [p for p in design.get("parameters", []) if p in self.summary] or [
                c for c in self.summary.columns
                if c not in _NOT_PARAMS and not c.startswith(_PREFIXES)
                and not c.endswith(_SUFFIXES)]

    @classmethod
    def load(cls, path: str | Path, scenario: Scenario | str | Path | None = None):
        """Read a sweep's results directory (``summary.parquet``, ``points.parquet``,
        ``manifest.json``, ``scenario.json``, sensitivity indices if saved)."""
        import pandas as pd

        path = Path(path)
        summary_file = path / SWEEP_SUMMARY_FILE
        manifest = load_manifest(path)
        if not summary_file.exists():
            note = sweep_status_note(manifest)
            raise FileNotFoundError(f"{path}: no {SWEEP_SUMMARY_FILE}: no point of the sweep "
                                    f"is finished yet" + (f" ({note})" if note else ""))
        summary = pd.read_parquet(summary_file)
        if scenario is None and (path / SCENARIO_FILE).is_file():
            sc, _ = read_scenario_record(path / SCENARIO_FILE)
        else:
            sc = resolve_scenario(scenario, manifest, path)
        points_file = path / POINTS_FILE
        points = pd.read_parquet(points_file) if points_file.exists() else None
        return cls(summary, manifest, [], sc, load_sensitivity(path), path, points)

    def __repr__(self) -> str:
        where = f", {self.path}" if self.path is not None else ""
        return f"{type(self).__name__}({self.caption}{where})"

    @property
    def runs(self) -> pd.DataFrame:
        """Every world of every point, one row per world (``runs/``, read when first asked
        for: a large sweep's worlds may not fit in memory; read ``path / "runs"`` by parts)."""
        if self.__dict__.get("_runs") is None:
            import pandas as pd

            if self.path is None or not (self.path / RUNS_DIR).is_dir():
                raise RunsNotKept("these sweep results have no per-world parts (runs/)")
            self.__dict__["_runs"] = _as_strings(pd.read_parquet(self.path / RUNS_DIR))
        return self.__dict__["_runs"]

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

    @property
    def status_note(self) -> str | None:
        """What is missing from a sweep that is not complete (interrupted, running, tasks
        failed), with how to finish it; None when it is complete."""
        note = sweep_status_note(self.manifest)
        if note is None:
            return None
        total = len(self.points) if self.points is not None else None
        shown = f"{len(self.summary)} of {total}" if total else f"{len(self.summary)}"
        return f"{note}; these results hold only the {shown} points finished"

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


def sweep_status_note(manifest: dict[str, Any]) -> str | None:
    """One line on a sweep that is not complete, from its manifest (None when complete, or for
    manifests that do not say)."""
    status = manifest.get("status")
    if status in (None, "complete"):
        return None
    tasks = manifest.get("tasks") or {}
    done, total = tasks.get("done"), tasks.get("total")
    failed = tasks.get("failed") or []
    what = {"interrupted": "the sweep was interrupted",
            "running": "the sweep is running, or was killed",
            "incomplete": "the sweep is incomplete"}.get(status, f"the sweep is {status}")
    parts = [what]
    if done is not None and total is not None:
        parts.append(f"{done} of {total} tasks done")
    if failed:
        first = failed[0]
        parts.append(f"{len(failed)} failed (point {first.get('point')} chunk "
                     f"{first.get('chunk')}: {(str(first.get('error')) or '?').splitlines()[0]})")
    resume = manifest.get("resume") or "negsim sweep EXPERIMENT --out DIR --resume"
    return ", ".join(parts) + f"; finish it with: {resume}"


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


def results_kind(path: str | Path) -> str:
    """What a results path holds: ``run``, ``sweep`` or ``trace``.

    Raises:
        FileNotFoundError: when the path is none of these.
    """
    path = Path(path)
    if path.is_file():
        if path.suffix == ".json":
            return "trace"
        raise FileNotFoundError(f"{path}: expected a results directory or a trace .json file")
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if (path / SWEEP_SUMMARY_FILE).exists() or (path / POINTS_FILE).exists():
        return "sweep"
    if (path / RUNS_FILE).exists() and (path / SUMMARY_FILE).exists():
        return "run"
    if (path / TRACE_FILE).exists():
        return "trace"
    raise FileNotFoundError(
        f"{path}: not a results directory (expected {RUNS_FILE} + {SUMMARY_FILE} from negsim "
        f"run, {SWEEP_SUMMARY_FILE} from negsim sweep, or {TRACE_FILE} from negsim trace)")


def load_results(path: str | Path, scenario: Scenario | str | Path | None = None, *,
                 run_type: type[RunResults] = RunResults,
                 sweep_type: type[SweepResults] = SweepResults):
    """A run's or a sweep's results, or a traced world, by what ``path`` holds.

    Args:
        path: a run or sweep results directory, a trace ``.json`` file, or a directory holding
            ``trace.json``.
        scenario: the scenario of the results (a file or a Scenario), instead of the one stored
            with them (for a trace: ignored; ``plots.trajectory`` takes it).
        run_type, sweep_type: the classes to build (the Python API's add figures and saving).

    Returns:
        ``run_type`` for a run, ``sweep_type`` for a sweep, the trace's dict for a trace.

    Raises:
        FileNotFoundError: the path holds none of these.
    """
    path = Path(path)
    kind = results_kind(path)
    if kind == "run":
        return run_type.load(path, scenario)
    if kind == "sweep":
        return sweep_type.load(path, scenario)
    return load_trace(path / TRACE_FILE if path.is_dir() else path)
