"""The Python API: load, run, sweep, compare, trace and read back — the engine ``negsim`` calls.

::

    import negotiation_sim as ns
    sc = ns.load_scenario("scenarios/summit_baseline.yaml")   # validated; InputError if not
    res = ns.run(sc, runs=20_000, seed=0)                      # also takes a path
    res.summary                  # the dict `negsim run --json` prints
    res.runs                     # pandas DataFrame: every column of runs.parquet
    res.plot("terms")            # a matplotlib Figure (kinds as `negsim plot --kind`)
    res.save("results/base")     # the files `negsim run --out results/base` writes
    sw = ns.sweep("experiments/guarantees_vs_pressure.yaml", executor="processes")
    sw.points, sw.summary        # one row per point
    ns.load_results("results/base")

Every ``negsim`` command is a thin layer over these functions, so a notebook and the command line
run the same code and write the same files. A mistake in a user's file raises ``InputError``,
whose ``str`` is the one line the command line prints (``FILE:LINE: field: message``).

Per-world rows: ``run`` streams each chunk's rows to a Parquet file as it goes (``out``'s
``runs.parquet``, or without ``out`` one in a temporary directory that lives as long as the
result), so memory stays that of one chunk whatever the number of worlds; ``res.runs`` reads the
file when first asked for. ``keep_runs=False`` keeps nothing per world (what ``negsim run``
without ``--out`` does); ``res.summary`` and the outcomes figure are still there. A sweep without
``out`` likewise lives in a temporary directory until its result is dropped (``sw.save(DIR)``
keeps it).

``progress`` callbacks are called with ``(worlds done, worlds to do)``: once before the first
world, then after every chunk (run, compare) or task (sweep).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from negotiation_sim.config.defaults import DEFAULT_CHUNK
from negotiation_sim.config.experiment import LoadedExperiment
from negotiation_sim.config.experiment import load_experiment as _load_experiment
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.config.scenario import load_scenario as _load_scenario
from negotiation_sim.config.yamlio import InputError
from negotiation_sim.results import reader
from negotiation_sim.results.reader import RunsNotKept
from negotiation_sim.results.schema import (
    MANIFEST_FILE,
    RUNS_DIR,
    RUNS_FILE,
    SCENARIO_FILE,
    SENSITIVITY_FILE,
    SUMMARY_FILE,
)
from negotiation_sim.results.sweep import SweepError, SweepReport

if TYPE_CHECKING:
    from negotiation_sim.analysis.compare import Comparison
    from negotiation_sim.analysis.sensitivity import Sensitivity
    from negotiation_sim.run.executors.base import Executor

__all__ = [
    "InputError", "Run", "RunsNotKept", "SensitivityWarning", "Sweep", "SweepError",
    "SweepFailed", "compare", "load_experiment", "load_results", "load_scenario", "run",
    "sensitivity", "sweep", "trace",
]

Progress = Callable[[int, int], None]


class SensitivityWarning(UserWarning):
    """A sobol or morris sweep finished, but its sensitivity indices could not be saved."""


class SweepFailed(SweepError):
    """Some tasks of a sweep raised; the others are written and ``resume=True`` runs the rest.

    Attributes:
        report: what the session did (``report.failed``: each failed task and its error).
        results: the sweep's results so far (the points whose every task finished), or None.
    """

    def __init__(self, report: SweepReport, results: Sweep | None) -> None:
        self.report, self.results = report, results
        first = report.failed[0]
        super().__init__(
            f"{len(report.failed)} of {report.tasks} tasks failed; the others are in "
            f"{report.out}: fix the cause and resume (resume=True, or --resume) to run only the "
            f"failed ones (first: point {first['point']} chunk {first['chunk']}: "
            f"{first['error']})")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (raises ``InputError``, as ``negsim validate`` reports)."""
    return _load_scenario(path)


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Read and check an experiment file, its scenario and every point (raises ``InputError``)."""
    return _load_experiment(path)


class _TemporaryHome:
    """Results whose files live in a temporary directory removed with the object."""

    def _own(self, directory: Path) -> None:
        self._home = weakref.finalize(self, shutil.rmtree, str(directory), True)


class Run(reader.RunResults, _TemporaryHome):
    """A run's results with its figures and saving: what ``run`` returns and ``load_results``
    reads back (see ``results.reader.RunResults`` for the tables)."""

    def plot(self, kind: str = "outcomes"):
        """One figure of the run (``outcomes``, ``terms``, ``utilities``, ``formats``).

        Returns:
            The matplotlib Figure (``plots.save(fig, path)`` saves and closes it).
        """
        from negotiation_sim.plots.figures import run_figures

        return _make(run_figures(self), kind, "a run")

    def save(self, path: str | Path, *, plots: bool = True, fmt: str = "png") -> Path:
        """Write the files ``negsim run --out PATH`` writes; returns ``PATH``.

        Raises:
            RunsNotKept: the run kept only its summary (``keep_runs=False``).
        """
        path = Path(path)
        target = path / RUNS_FILE
        if self.runs_file is not None:
            if not (target.exists() and target.samefile(self.runs_file)):
                from negotiation_sim.results.files import copy_atomic

                copy_atomic(self.runs_file, target)
        else:
            import pyarrow as pa

            from negotiation_sim.results.files import write_parquet_atomic

            rows = self.runs  # raises RunsNotKept when there are none
            write_parquet_atomic(pa.Table.from_pandas(rows, preserve_index=False), target)
        self._write_beside_rows(path, plots=plots, fmt=fmt)
        return path

    def _write_beside_rows(self, path: Path, *, plots: bool, fmt: str = "png") -> list[Path]:
        """Everything of a run's directory but its rows: summary, manifest, scenario, figures."""
        from negotiation_sim.results.files import write_json_atomic
        from negotiation_sim.results.marks import scenario_record

        write_json_atomic(path / SUMMARY_FILE, self.summary)
        write_json_atomic(path / MANIFEST_FILE, self.manifest)
        if self.scenario is not None:
            write_json_atomic(path / SCENARIO_FILE, scenario_record(
                self.scenario, self.marks, seed=self.summary["seed"]))
        if not plots:
            return []
        from negotiation_sim.plots.figures import run_figures, write_figures

        return write_figures(run_figures(self), path, fmt=fmt)


@dataclass(repr=False)
class Sweep(reader.SweepResults, _TemporaryHome):
    """A sweep's results with figures and saving: what ``sweep`` returns and ``load_results``
    reads back (see ``results.reader.SweepResults`` for the tables).

    Attributes:
        report: what the session that made these results did (None when read back).
    """

    report: SweepReport | None = field(default=None, compare=False)

    def plot(self, kind: str = "outcomes"):
        """One figure of the sweep (``outcomes``, ``sweep-line``, ``heatmap``, ``sensitivity``:
        those that fit its design).

        Returns:
            The matplotlib Figure.
        """
        from negotiation_sim.plots.figures import sweep_figures

        return _make(sweep_figures(self), kind, f"this {self.method} sweep")

    def save(self, path: str | Path, *, plots: bool = True, fmt: str = "png") -> Path:
        """Copy the results directory to ``path`` (with the figures unless ``plots=False``)."""
        path = Path(path)
        if self.path is None:
            raise ValueError("these sweep results have no directory to save from")
        if not (path.exists() and path.samefile(self.path)):
            shutil.copytree(self.path, path, dirs_exist_ok=True)
        if plots:
            from negotiation_sim.plots.figures import sweep_figures, write_figures

            write_figures(sweep_figures(Sweep.load(path)), path, fmt=fmt)
        return path


def _make(makers: dict[str, Any], kind: str, what: str):
    if kind not in makers:
        raise ValueError(f"no figure {kind!r} for {what} (available: {', '.join(makers)})")
    return makers[kind]()


def _scenario(scenario: Scenario | str | Path) -> tuple[Scenario, str | None]:
    if isinstance(scenario, Scenario):
        return scenario, None
    return load_scenario(scenario), str(scenario)


def run(scenario: Scenario | str | Path, *, runs: int = 10_000, seed: int = 0,
        chunk_size: int = DEFAULT_CHUNK, out: str | Path | None = None, keep_runs: bool = True,
        plots: bool = True, progress: Progress | None = None) -> Run:
    """Simulate ``runs`` worlds of a scenario and summarise them (``negsim run``).

    Args:
        scenario: a validated Scenario or a scenario file.
        runs: worlds to simulate.
        seed: the seed of every random number (same seed, same worlds, whatever ``chunk_size``).
        chunk_size: worlds simulated together (memory per chunk).
        out: a directory to write the run's files to (as ``negsim run --out``), rows streamed
            there as they are simulated.
        keep_runs: without ``out``, keep the per-world rows (in a temporary Parquet file) for
            ``res.runs`` and the figures; False keeps only the summary.
        plots: with ``out``, also write the figures.
        progress: called with ``(worlds done, runs)``.

    Raises:
        InputError: the scenario file is invalid (one located line per problem).
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    sc, source = _scenario(scenario)
    home = Path(out) if out is not None else None
    temporary = None
    if home is None and keep_runs:
        home = temporary = Path(tempfile.mkdtemp(prefix="negsim-run-"))
    try:
        summary, runs_file, seconds = _simulate(sc, runs, seed, chunk_size, home, progress)
    except BaseException:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    from negotiation_sim.results.manifest import manifest
    from negotiation_sim.results.marks import scenario_marks

    res = Run(summary, scenario=sc, runs_file=runs_file, path=out,
              manifest=manifest(sc, source, seed=seed, runs=runs, chunk_size=chunk_size,
                                seconds=round(seconds, 3)),
              marks=None if home is None else scenario_marks(sc, seed=seed))
    if temporary is not None:
        res._own(temporary)
    if out is not None:
        res._write_beside_rows(Path(out), plots=plots)
    return res


def _simulate(sc: Scenario, runs: int, seed: int, chunk_size: int, home: Path | None,
              progress: Progress | None) -> tuple[dict[str, Any], Path | None, float]:
    """Run the chunks into a summary and, with ``home``, its ``runs.parquet``."""
    from negotiation_sim.results.files import RunWriter
    from negotiation_sim.results.summary import Accumulator
    from negotiation_sim.run.chunks import iter_chunks

    acc = Accumulator.for_scenario(sc)
    writer = RunWriter(home, sc) if home is not None else None
    done = 0
    if progress is not None:
        progress(0, runs)

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, runs)

    start = time.perf_counter()
    for chunk in iter_chunks(sc, runs, seed=seed, chunk_size=chunk_size, on_chunk=advance):
        acc.add(chunk)
        if writer is not None:
            writer.add(chunk)
    runs_file = writer.close() if writer is not None else None
    return acc.summary(sc.name, seed), runs_file, time.perf_counter() - start


def sweep(experiment: LoadedExperiment | str | Path, *, out: str | Path | None = None,
          executor: str | Executor | Callable[[], Executor] | None = None,
          workers: int | None = None, scheduler: str | None = None, resume: bool = False,
          plots: bool = True, progress: Progress | None = None) -> Sweep:
    """Run every point of an experiment (``negsim sweep``); results do not depend on where.

    Args:
        experiment: an experiment file, or one already loaded (``load_experiment``).
        out: the results directory; without it, a temporary one that lives as long as the
            result (``sw.save(DIR)`` keeps it).
        executor: ``serial`` (default, or ``dask`` with ``scheduler``), ``processes``, ``dask``;
            or an executor (``run.executors.make_executor``), which is left open; or a function
            making one, called once the results directory is checked and closed at the end.
        workers: worker processes of ``processes`` or a dask LocalCluster (default: one per CPU).
        scheduler: a running dask scheduler's address or scheduler file.
        resume: finish the interrupted sweep in ``out`` (only its missing tasks run).
        plots: with ``out``, also write the sweep's figures.
        progress: called with ``(worlds done, worlds to do in this session)``.

    Also saves the agreement share's sensitivity indices (``sensitivity.json``) beside a
    finished sobol or morris sweep, warning (``SensitivityWarning``) when it cannot.

    Raises:
        InputError: the experiment or its scenario is invalid.
        SweepError: ``out`` holds another sweep, or one to resume with a changed experiment.
        SweepFailed: some tasks raised (the others are written; it carries the results).
    """
    from negotiation_sim.results.sweep import prepare, run_sweep

    loaded = experiment if isinstance(experiment, LoadedExperiment) else load_experiment(experiment)
    temporary = None
    if out is None:
        out = temporary = Path(tempfile.mkdtemp(prefix="negsim-sweep-"))
    out = Path(out)
    try:
        prepared = prepare(loaded, out, resume=resume)
        todo = sum(t.n for t in prepared[2] if not (out / RUNS_DIR / t.part).exists())
        ex, owned = _executor(executor, workers, scheduler)
        try:
            report = run_sweep(loaded, out, ex, resume=resume, prepared=prepared,
                               progress=_task_progress(progress, todo),
                               # a remote cluster may not see this disk: rows come back here
                               workers_write=getattr(ex, "scheduler", None) is None)
        finally:
            if owned:
                ex.close()
    except BaseException:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    if report.summary is None:  # no point finished
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise SweepFailed(report, None)
    if report.ok and loaded.design.method in ("sobol", "morris"):
        _save_sensitivity(out)
    results = Sweep.load(out)
    results.report = report
    if temporary is not None:
        results._own(temporary)
    elif plots:
        from negotiation_sim.plots.figures import sweep_figures, write_figures

        report.figures = write_figures(sweep_figures(results), out)
    if not report.ok:
        raise SweepFailed(report, results)
    return results


def _executor(executor, workers: int | None, scheduler: str | None) -> tuple[Any, bool]:
    """(the executor, whether this sweep closes it)."""
    if executor is None or isinstance(executor, str):
        kind = executor or ("dask" if scheduler else "serial")
        if scheduler is not None and kind != "dask":
            raise ValueError("a scheduler needs the dask executor")
        from negotiation_sim.run.executors import make_executor

        return make_executor(kind, workers=workers, scheduler=scheduler,
                             preload=["negotiation_sim.results.sweep"]), True
    if hasattr(executor, "submit"):
        return executor, False
    return executor(), True


def _task_progress(progress: Progress | None, todo: int):
    if progress is None:
        return None
    done = 0
    progress(0, todo)

    def on_task(task, ok: bool) -> None:
        nonlocal done
        done += task.n
        progress(done, todo)

    return on_task


def _save_sensitivity(out: Path) -> None:
    """The agreement share's indices beside a finished sobol or morris sweep (its figure and
    report read them); a missing SALib or an undefined metric is a warning."""
    from negotiation_sim.analysis.sensitivity import SensitivityError, analyze_results
    from negotiation_sim.results.files import write_json_atomic

    try:
        res = analyze_results(out, "agreement")
    except (ImportError, SensitivityError) as err:
        warnings.warn(f"no sensitivity indices saved: {err}", SensitivityWarning, stacklevel=3)
        return
    write_json_atomic(out / SENSITIVITY_FILE, res.to_json())


def compare(sources: Sequence[str | Path | reader.RunResults], *, runs: int = 10_000,
            seed: int = 0, chunk_size: int = DEFAULT_CHUNK,
            progress: Progress | None = None) -> Comparison:
    """Outcome distributions of scenarios side by side (``negsim compare``).

    Args:
        sources: scenario files (each run here with ``runs`` worlds and ``seed``), run results
            directories or run results (read as they are); the first is the baseline.
        progress: called with ``(worlds done, worlds of every scenario file)``.

    Returns:
        The comparison: each arm's shares, differences from the baseline with 95% Newcombe
        intervals, and chi-square tests (``.as_dict()`` is ``negsim compare --json``).
    """
    from negotiation_sim.analysis.compare import Arm, compare_summaries, unique_labels

    files = [s for s in sources if not isinstance(s, reader.RunResults) and Path(s).is_file()]
    total, done = runs * len(files), 0
    if progress is not None and files:
        progress(0, total)
    arms = []
    for source in sources:
        if isinstance(source, reader.RunResults):
            arms.append(Arm(source.summary["scenario"], source.summary, str(source.path or "")))
            continue
        path = Path(source)
        if path.is_dir():
            res = reader.load_results(path)
            if not isinstance(res, reader.RunResults):
                raise ValueError(f"{path}: compare takes runs' results, not a sweep's")
            arms.append(Arm(res.summary["scenario"], res.summary, str(path)))
            continue
        before = done

        def advance(n: int, _total: int) -> None:
            if progress is not None and n:
                progress(before + n, total)

        res = run(path, runs=runs, seed=seed, chunk_size=chunk_size, keep_runs=False,
                  progress=advance)
        done += runs
        # Labelled by the scenario's name, as runs are; variants that share a name get their
        # file's name added (unique_labels).
        arms.append(Arm(res.summary["scenario"], res.summary, str(path)))
    unique_labels(arms)
    return compare_summaries(arms)


def trace(scenario: Scenario | str | Path, *, seed: int = 0, world: int = 0) -> dict[str, Any]:
    """One world's negotiation round by round, as ``negsim trace --json`` prints it (world K
    draws what it draws in ``run`` with the same seed)."""
    from negotiation_sim.run.trace import trace_world

    sc, _ = _scenario(scenario)
    return trace_world(sc, seed=seed, world=world)


def sensitivity(results: reader.SweepResults | str | Path, metric: str = "agreement", *,
                resamples: int = 200) -> Sensitivity:
    """Sobol or Morris indices of a finished sobol or morris sweep's ``metric``
    (``negsim sensitivity``)."""
    from negotiation_sim.analysis.sensitivity import analyze_results

    return analyze_results(results, metric, num_resamples=resamples)


def load_results(path: str | Path, scenario: Scenario | str | Path | None = None):
    """A run's (``Run``) or a sweep's (``Sweep``) results read back, or a traced world's dict,
    by what ``path`` holds; ``scenario`` replaces the one stored with the results."""
    return reader.load_results(path, scenario, run_type=Run, sweep_type=Sweep)
