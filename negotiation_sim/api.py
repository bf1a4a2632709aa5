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

import contextlib
import datetime
import shutil
import tempfile
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from negotiation_sim.config.defaults import DEFAULT_CHUNK, MAX_CHUNK, MAX_RUNS
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
from negotiation_sim.results.files import OutDirError
from negotiation_sim.run.sweep import SweepError, SweepInterrupted, SweepReport

if TYPE_CHECKING:
    from negotiation_sim.analysis.compare import Comparison
    from negotiation_sim.analysis.targets import Answer
    from negotiation_sim.config.backtest import LoadedBacktest
    from negotiation_sim.analysis.sensitivity import Sensitivity
    from negotiation_sim.run.executors.base import Executor

__all__ = [
    "InputError", "OutDirError", "Run", "RunsNotKept", "SensitivityWarning", "Sweep",
    "SweepError", "SweepFailed", "SweepInterrupted", "backtest", "compare", "load_experiment",
    "load_results", "load_scenario", "run", "sensitivity", "sweep", "target", "trace",
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
    """Read and validate a scenario file, as ``negsim validate`` does.

    Args:
        path: the scenario's YAML file.

    Returns:
        The validated scenario.

    Raises:
        InputError: the file is invalid (one located line per problem in ``err.problems``).
    """
    return _load_scenario(path)


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Read and check an experiment file, its scenario and every point.

    Args:
        path: the experiment's YAML file.

    Returns:
        The experiment with its base scenario and design (``sweep`` takes it).

    Raises:
        InputError: the experiment, its scenario or a point is invalid.
    """
    return _load_experiment(path)


class _TemporaryHome:
    """Results whose files live in a temporary directory removed with the object."""

    def _own(self, directory: Path) -> None:
        self._home = weakref.finalize(self, shutil.rmtree, str(directory), True)


class Run(reader.RunResults, _TemporaryHome):
    """A run's results with its figures and saving: what ``run`` returns and ``load_results``
    reads back (see ``results.reader.RunResults`` for the tables)."""

    def plot(self, kind: str = "outcomes"):
        """One figure of the run.

        Args:
            kind: ``outcomes``, ``terms``, ``utilities``, ``formats`` (or ``durability`` when
                the run followed signed texts).

        Returns:
            The matplotlib Figure (``plots.save(fig, path)`` saves and closes it).
        """
        from negotiation_sim.plots.figures import run_figures

        return _make(run_figures(self), kind, "a run")

    def save(self, path: str | Path, *, plots: bool = True, fmt: str = "png",
             overwrite: bool = False) -> Path:
        """Write the files ``negsim run --out PATH`` writes.

        The directory is built beside ``PATH`` and renamed into place when complete, so a
        failed save leaves what was there. Saving into the run's own directory redraws its
        figures there.

        Args:
            path: the results directory.
            plots: also draw the figures.
            fmt: the figures' file format (``png``, ``svg``, ``pdf``).
            overwrite: replace a run's results already at ``path``, whole.

        Returns:
            ``path``.

        Raises:
            RunsNotKept: the run kept only its summary (``keep_runs=False``).
            OutDirError: ``PATH`` holds other results (``overwrite=True`` replaces a run's
                results whole) or files negsim did not write.
        """
        from negotiation_sim.results.files import RUN, check_out, staged
        from negotiation_sim.results.lock import results_lock

        path = Path(path)
        with results_lock(path):
            if self.path is not None and path.is_dir() and path.samefile(self.path):
                self._write_beside_rows(path, plots=plots, fmt=fmt)
                return path
            if not self.kept:
                self.runs  # noqa: B018 - raises RunsNotKept
            check_out(path, RUN, overwrite=overwrite)
            with staged(path, RUN) as stage:
                self._write_rows(stage / RUNS_FILE)
                self._write_beside_rows(stage, plots=plots, fmt=fmt)
        return path

    def _write_rows(self, target: Path) -> None:
        if self.rows is not None:  # kept in memory: the table the file would have held
            from negotiation_sim.results.files import write_parquet_atomic

            write_parquet_atomic(self.rows, target)
            return
        if self.runs_file is not None:
            from negotiation_sim.results.files import copy_atomic

            copy_atomic(self.runs_file, target)
            return
        import pyarrow as pa

        from negotiation_sim.results.files import write_parquet_atomic

        write_parquet_atomic(pa.Table.from_pandas(self.runs, preserve_index=False), target)

    def _write_beside_rows(self, path: Path, *, plots: bool, fmt: str = "png") -> list[Path]:
        """Everything of a run's directory but its rows: summary, scenario, figures, and last
        the manifest, which lists the figures drawn from these results (and, redrawn in the
        run's own directory, those drawn before)."""
        from negotiation_sim.results.files import write_json_atomic
        from negotiation_sim.results.marks import scenario_record

        write_json_atomic(path / SUMMARY_FILE, self.summary)
        if self.scenario is not None:
            write_json_atomic(path / SCENARIO_FILE, scenario_record(
                self.scenario, self.marks, seed=self.summary["seed"]))
        written: list[Path] = []
        if plots:
            from negotiation_sim.plots.figures import run_figures, write_figures

            written = write_figures(run_figures(self), path, fmt=fmt)
        listed = [f for f in self.manifest.get("figures", []) if (path / f).is_file()]
        self.manifest = {**self.manifest,
                         "figures": sorted({*listed, *(p.name for p in written)})}
        write_json_atomic(path / MANIFEST_FILE, self.manifest)
        return written


@dataclass(repr=False)
class Sweep(reader.SweepResults, _TemporaryHome):
    """A sweep's results with figures and saving: what ``sweep`` returns and ``load_results``
    reads back (see ``results.reader.SweepResults`` for the tables).

    Attributes:
        report: what the session that made these results did (None when read back).
    """

    report: SweepReport | None = field(default=None, compare=False)

    def plot(self, kind: str = "outcomes"):
        """One figure of the sweep.

        Args:
            kind: ``outcomes``, ``sweep-line``, ``heatmap`` or ``sensitivity`` (those that fit
                its design).

        Returns:
            The matplotlib Figure.
        """
        from negotiation_sim.plots.figures import sweep_figures

        return _make(sweep_figures(self), kind, f"this {self.method} sweep")

    def save(self, path: str | Path, *, plots: bool = True, fmt: str = "png",
             overwrite: bool = False) -> Path:
        """Copy the results directory to ``path`` (with the figures unless ``plots=False``).

        The copy is built beside ``path`` and renamed into place when complete.

        Args:
            path: the results directory.
            plots: also draw the figures.
            fmt: the figures' file format (``png``, ``svg``, ``pdf``).
            overwrite: replace a sweep's results already at ``path``, whole.

        Returns:
            ``path``.

        Raises:
            OutDirError: ``path`` holds other results (``overwrite=True`` replaces a sweep's
                results whole) or files negsim did not write.
        """
        from negotiation_sim.results.files import SWEEP, check_out, staged
        from negotiation_sim.results.lock import results_lock
        from negotiation_sim.results.manifest import record_figures

        path = Path(path)
        if self.path is None:
            raise ValueError("these sweep results have no directory to save from")
        with results_lock(path):
            if path.is_dir() and path.samefile(self.path):
                if plots:
                    record_figures(path, _sweep_figures(path, fmt))
                return path
            check_out(path, SWEEP, overwrite=overwrite)
            with staged(path, SWEEP) as stage:
                shutil.copytree(self.path, stage, dirs_exist_ok=True)
                if plots:
                    record_figures(stage, _sweep_figures(stage, fmt))
        return path


def _sweep_figures(path: Path, fmt: str = "png") -> list[Path]:
    from negotiation_sim.plots.figures import sweep_figures, write_figures

    return write_figures(sweep_figures(Sweep.load(path)), path, fmt=fmt)


def _make(makers: dict[str, Any], kind: str, what: str):
    if kind not in makers:
        raise ValueError(f"no figure {kind!r} for {what} (available: {', '.join(makers)})")
    return makers[kind]()


def _scenario(scenario: Scenario | str | Path) -> tuple[Scenario, str | None]:
    if isinstance(scenario, Scenario):
        return scenario, None
    return load_scenario(scenario), str(scenario)


def run(scenario: Scenario | str | Path, *, runs: int = 10_000, seed: int = 0,
        chunk_size: int = DEFAULT_CHUNK, out: str | Path | None = None,
        keep_runs: bool | str = True,
        plots: bool = True, solutions: bool = True, overwrite: bool = False,
        executor: str | Executor | Callable[[], Executor] | None = None,
        workers: int | None = None, scheduler: str | None = None,
        progress: Progress | None = None) -> Run:
    """Simulate ``runs`` worlds of a scenario and summarise them (``negsim run``).

    Args:
        scenario: a validated Scenario or a scenario file.
        runs: worlds to simulate (at most ``MAX_RUNS``, docs/limits.md).
        seed: the seed of every random number (same seed, same worlds, whatever ``chunk_size``).
        chunk_size: worlds simulated together (memory per chunk; at most ``MAX_CHUNK``).
        out: a directory to write the run's files to (as ``negsim run --out``). They are
            written to a staging directory beside it, rows streamed there as they are
            simulated, and renamed into place when complete: a run that fails or is
            interrupted leaves ``out`` as it was.
        keep_runs: without ``out``, keep the per-world rows (in a temporary Parquet file) for
            ``res.runs`` and the figures; ``"memory"`` keeps them in memory instead (no file:
            for small runs read at once, as the explorer's reruns); False keeps only the
            summary.
        plots: with ``out``, also write the figures.
        solutions: also compute every world's reference solutions (Nash, Kalai-Smorodinsky,
            weighted mean and median texts) for ``summary["solutions"]``; False skips them
            (``summary["solutions"]`` is None): with three or more principals they solve
            P + 2 convex programmes per world, most of the run's time. Nothing else changes.
        overwrite: with ``out``, replace a run's results already there, whole.
        executor: where the chunks run, as for ``sweep``: ``serial`` (default: this process),
            ``processes``, ``dask``, an executor (left open) or a function making one.
            Results are the same bits whatever the executor and number of workers.
        workers: worker processes of ``processes`` or a dask LocalCluster (default: one per CPU).
        scheduler: a running dask scheduler's address or scheduler file.
        progress: called with ``(worlds done, runs)``.

    Returns:
        The run's results: ``summary`` (the ``negsim run --json`` dict), ``runs`` (the
        per-world rows, unless ``keep_runs=False`` without ``out``), figures and ``save``.

    Raises:
        InputError: the scenario file is invalid (one located line per problem).
        OutDirError: ``out`` is a file or a symbolic link, holds a sweep, files negsim did not
            write, or a run's results without ``overwrite``; or another process is writing it
            (``ResultsBusy``, naming that process).
        ValueError: ``runs`` or ``chunk_size`` outside 1 ... their limit, a scheduler
            without the dask executor, or ``keep_runs`` none of True, False, ``"memory"``.
    """
    from negotiation_sim.results.lock import results_lock

    check_sizes(runs, chunk_size)
    if keep_runs not in (True, False, "memory"):
        raise ValueError(f"keep_runs must be True, False or 'memory' (got {keep_runs!r})")
    sc, source = _scenario(scenario)
    target = Path(out) if out is not None else None
    with results_lock(target) if target is not None else contextlib.nullcontext():
        return _run_into(sc, source, target, runs=runs, seed=seed, chunk_size=chunk_size,
                         keep_runs=keep_runs, plots=plots, solutions=solutions,
                         overwrite=overwrite, progress=progress, executor=executor,
                         workers=workers, scheduler=scheduler)


def _run_into(sc: Scenario, source: str | None, target: Path | None, *, runs: int, seed: int,
              chunk_size: int, keep_runs: bool | str, plots: bool, solutions: bool,
              overwrite: bool,
              progress: Progress | None, executor=None, workers: int | None = None,
              scheduler: str | None = None) -> Run:
    """``run``'s work, with ``target``'s lock held."""
    from negotiation_sim.results.files import (
        RUN,
        RowsInMemory,
        check_out,
        publish,
        staging_dir,
    )
    from negotiation_sim.run.signals import interruptible, stop_if_dropped

    memory = RowsInMemory(sc) if target is None and keep_runs == "memory" else None
    if target is not None:
        check_out(target, RUN, overwrite=overwrite)
        home = staging_dir(target)
    elif keep_runs and memory is None:
        home = Path(tempfile.mkdtemp(prefix="negsim-run-"))
    else:
        home = None
    try:
        with interruptible():  # SIGTERM too removes the staging directory
            with _running(executor, workers, scheduler) as ex:
                summary, runs_file, seconds = _simulate(sc, runs, seed, chunk_size, home,
                                                        progress, solutions, ex,
                                                        memory=memory)
            res = _run_results(sc, source, summary, runs_file, home, target, seed=seed,
                               runs=runs, chunk_size=chunk_size, seconds=seconds,
                               rows=None if memory is None else memory.table())
            if target is not None:
                res._write_beside_rows(home, plots=plots)
                stop_if_dropped()  # a signal swallowed on the way: nothing is published
                publish(home, target, RUN)
                res.path, res.runs_file = target, target / RUNS_FILE
    except BaseException:
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)
        raise
    if target is None and home is not None:
        res._own(home)
    return res


@contextlib.contextmanager
def _running(executor, workers: int | None, scheduler: str | None,
             preload: Sequence[str] = ("negotiation_sim.run.engine",)):
    """The executor a command's chunks run on (None: this process, one chunk at a time),
    closed at the end if made here; an error or interrupt stops its workers at once."""
    if executor in (None, "serial") and scheduler is None:
        if workers is not None:
            from negotiation_sim.run.executors import make_executor

            make_executor("serial", workers=workers)  # the same check of workers as the others
        yield None
        return
    ex, owned = _executor(executor, workers, scheduler, preload)
    try:
        yield ex
    except BaseException:
        if owned:
            getattr(ex, "abort", ex.close)()
            owned = False
        raise
    finally:
        if owned:
            ex.close()


def check_sizes(runs: int, chunk_size: int) -> None:
    """Check a run's sizes against the limits (docs/limits.md).

    Args:
        runs: worlds to simulate (1 ... ``MAX_RUNS``).
        chunk_size: worlds per chunk (1 ... ``MAX_CHUNK``).

    Raises:
        ValueError: either outside its range (the message names the limit).
    """
    from negotiation_sim.config.limits import limit_text

    for what, value, limit in (("runs", runs, MAX_RUNS), ("chunk_size", chunk_size, MAX_CHUNK)):
        if value < 1:
            raise ValueError(f"{what} must be at least 1 (got {value:,})")
        if value > limit:
            raise ValueError(limit_text(what, limit, value))


def check_world(world: int) -> None:
    """Check a world index against the worlds a run can hold.

    Args:
        world: the index (0 ... ``MAX_RUNS - 1``).

    Raises:
        ValueError: outside that range.
    """
    from negotiation_sim.config.limits import limit_text

    if world < 0:
        raise ValueError(f"world must be at least 0 (got {world:,})")
    if world > MAX_RUNS - 1:
        raise ValueError(limit_text("world", MAX_RUNS - 1, world))


def _run_results(sc: Scenario, source: str | None, summary: dict[str, Any],
                 runs_file: Path | None, home: Path | None, target: Path | None, *, seed: int,
                 runs: int, chunk_size: int, seconds: float, rows: Any = None) -> Run:
    from negotiation_sim.results.manifest import manifest
    from negotiation_sim.results.marks import scenario_marks

    return Run(summary, scenario=sc, runs_file=runs_file,
               path=home if target is not None else None,
               manifest=manifest(sc, source, seed=seed, runs=runs, chunk_size=chunk_size,
                                 seconds=round(seconds, 3)),
               marks=None if home is None and rows is None else scenario_marks(sc, seed=seed),
               rows=rows)


def _simulate(sc: Scenario, runs: int, seed: int, chunk_size: int, home: Path | None,
              progress: Progress | None, solutions: bool = True, executor: Executor | None = None,
              memory=None) -> tuple[dict[str, Any], Path | None, float]:
    """Run the chunks into a summary and, with ``home``, its ``runs.parquet`` (run.engine);
    with ``memory`` (``results.files.RowsInMemory``), the rows kept there instead."""
    from negotiation_sim.results.files import RunWriter
    from negotiation_sim.run.engine import simulate

    writer = RunWriter(home, sc) if home is not None else None
    consumers = [c.add for c in (writer, memory) if c is not None]
    advance = _advancer(progress, runs)
    start = time.perf_counter()
    try:
        acc = simulate(sc, runs, seed=seed, chunk_size=chunk_size, solutions=solutions,
                       executor=executor, consumers=consumers, on_chunk=advance)
        runs_file = writer.close() if writer is not None else None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    summary = acc.summary(sc.name, seed)
    if not solutions:
        summary["solutions"] = None
    return summary, runs_file, time.perf_counter() - start


def sweep(experiment: LoadedExperiment | str | Path, *, out: str | Path | None = None,
          executor: str | Executor | Callable[[], Executor] | None = None,
          workers: int | None = None, scheduler: str | None = None, resume: bool = False,
          overwrite: bool = False, plots: bool = True,
          progress: Progress | None = None) -> Sweep:
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
        overwrite: replace the sweep's results in ``out``, whole, and start again.
        plots: with ``out``, also write the sweep's figures.
        progress: called with ``(worlds done, worlds to do in this session)``.

    Also saves the agreement share's sensitivity indices (``sensitivity.json``) beside a
    finished sobol or morris sweep, warning (``SensitivityWarning``) when it cannot.

    A signal (Ctrl-C, SIGTERM, SIGHUP) stops the sweep cleanly: the workers of an executor it
    made are stopped, no temporary file stays, and the manifest says ``interrupted`` with the
    command that finishes the sweep.

    Returns:
        The sweep's results (``points``, ``summary``, per-world ``runs``, figures, ``save``);
        ``report`` says what this session did.

    Raises:
        InputError: the experiment or its scenario is invalid.
        SweepError: ``out`` holds a run, files negsim did not write, another sweep (without
            ``resume`` or ``overwrite``), or one to resume with a changed experiment.
        SweepFailed: some tasks raised (the others are written; it carries the results).
        SweepInterrupted: a signal stopped it (a ``KeyboardInterrupt``; its message says how
            to finish).
        ResultsBusy: another process is writing ``out`` (``results.lock``: one writer a
            directory; the message names it).
    """
    from negotiation_sim.results.lock import results_lock

    loaded = experiment if isinstance(experiment, LoadedExperiment) else load_experiment(experiment)
    temporary = None
    if out is None:
        out = temporary = Path(tempfile.mkdtemp(prefix="negsim-sweep-"))
    out = Path(out)
    try:
        with results_lock(out):  # before anything is checked, and before any cluster starts
            report = _sweep_into(loaded, out, executor, workers, scheduler, resume=resume,
                                 overwrite=overwrite, progress=progress)
            if report.summary is None:  # no point finished
                raise SweepFailed(report, None)
            results = _after_sweep(loaded, out, report, plots=plots and temporary is None)
    except BaseException:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    if temporary is not None:
        results._own(temporary)
    if not report.ok:
        raise SweepFailed(report, results)
    return results


def _sweep_into(loaded: LoadedExperiment, out: Path, executor, workers: int | None,
                scheduler: str | None, *, resume: bool, overwrite: bool,
                progress: Progress | None) -> SweepReport:
    """Check ``out``, start the executor and run the sweep's tasks (``out``'s lock held)."""
    from negotiation_sim.results.files import clean_temporary
    from negotiation_sim.run.signals import interruptible, stop_if_dropped
    from negotiation_sim.run.sweep import mark_interrupted, prepare, run_sweep

    with interruptible():
        prepared = prepare(loaded, out, resume=resume, overwrite=overwrite)
        todo = sum(t.n for t in prepared[2] if not (out / RUNS_DIR / t.part).exists())
        ex, owned = _executor(executor, workers, scheduler)
        try:
            report = run_sweep(loaded, out, ex, resume=resume, prepared=prepared,
                               progress=_task_progress(progress, todo),
                               # a remote cluster may not see this disk: rows come back
                               workers_write=getattr(ex, "scheduler", None) is None)
        except BaseException:
            if owned:  # stop the workers now rather than let them finish their tasks
                getattr(ex, "abort", ex.close)()
            clean_temporary(out)  # parts the stopped workers were writing
            raise
        try:
            if owned:
                ex.close()
            stop_if_dropped()  # one swallowed while they stopped: not raised as the block ends
        except KeyboardInterrupt as err:  # while the workers were stopping, all tasks done
            getattr(ex, "abort", ex.close)()
            raise mark_interrupted(loaded, out, err, report) from None
        return report


def _after_sweep(loaded: LoadedExperiment, out: Path, report: SweepReport, *,
                 plots: bool) -> Sweep:
    """What follows the last task: sensitivity indices, the results read back, the figures.
    An interrupt here leaves the manifest ``interrupted`` (``--resume`` redraws them)."""
    from negotiation_sim.run.sweep import mark_interrupted
    from negotiation_sim.run.signals import interruptible

    try:  # outside the block: it raises a signal received before it as it opens
        with interruptible():
            if report.ok and loaded.design.method in ("sobol", "morris"):
                _save_sensitivity(out)
            results = Sweep.load(out)
            results.report = report
            if plots:
                from negotiation_sim.plots.figures import sweep_figures, write_figures
                from negotiation_sim.results.manifest import record_figures

                report.figures = write_figures(sweep_figures(results), out)
                record_figures(out, report.figures)
    except KeyboardInterrupt as err:
        raise mark_interrupted(loaded, out, err, report) from None
    return results


def _executor(executor, workers: int | None, scheduler: str | None,
              preload: Sequence[str] = ("negotiation_sim.run.sweep",)) -> tuple[Any, bool]:
    """(the executor, whether the caller closes it)."""
    if executor is None or isinstance(executor, str):
        kind = executor or ("dask" if scheduler else "serial")
        if scheduler is not None and kind != "dask":
            raise ValueError("a scheduler needs the dask executor")
        from negotiation_sim.run.executors import make_executor

        return make_executor(kind, workers=workers, scheduler=scheduler,
                             preload=list(preload)), True
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
            executor: str | Executor | Callable[[], Executor] | None = None,
            workers: int | None = None, scheduler: str | None = None,
            progress: Progress | None = None) -> Comparison:
    """Outcome distributions of scenarios side by side (``negsim compare``).

    Args:
        sources: scenario files (each run here with ``runs`` worlds and ``seed``), run results
            directories or run results (read as they are); the first is the baseline.
        runs: worlds per scenario file.
        seed: the seed of every scenario file's run (common random numbers across them).
        chunk_size: worlds simulated together (results do not depend on it).
        executor: where the chunks run, as for ``run`` (one executor for every scenario).
        workers: worker processes of ``processes`` or a dask LocalCluster.
        scheduler: a running dask scheduler's address or scheduler file.
        progress: called with ``(worlds done, worlds of every scenario file)``.

    Returns:
        The comparison: each arm's shares, differences from the baseline with 95% intervals
        (paired world by world when the arms share seed and worlds, else independent), the
        tests, and notes on stored runs whose scenario file has changed (``.as_dict()`` is
        ``negsim compare --json``).

    Raises:
        InputError: a scenario file is invalid.
        ValueError: a results directory holds a sweep.
    """
    from negotiation_sim.analysis.compare import Arm, compare_summaries, unique_labels

    files = [s for s in sources if not isinstance(s, reader.RunResults) and Path(s).is_file()]
    total, done = runs * len(files), 0
    if progress is not None and files:
        progress(0, total)
    arms, notes = [], []
    with _running(executor if files else None, workers, scheduler) as ex:
        for source in sources:
            if isinstance(source, reader.RunResults):
                arms.append(Arm(source.summary["scenario"], source.summary,
                                str(source.path or ""), _outcome_codes(source)))
                continue
            path = Path(source)
            if path.is_dir():
                res = reader.load_results(path)
                if not isinstance(res, reader.RunResults):
                    raise ValueError(f"{path}: compare takes runs' results, not a sweep's")
                arms.append(Arm(res.summary["scenario"], res.summary, str(path),
                                _outcome_codes(res)))
                notes += _stale_scenario(path, res.manifest, sources)
                continue
            before = done

            def advance(n: int, _total: int) -> None:
                if progress is not None and n:
                    progress(before + n, total)

            # the rows are kept (streamed to a temporary file) for the per-world outcomes that
            # pair the arms world by world
            res = run(path, runs=runs, seed=seed, chunk_size=chunk_size, keep_runs=True,
                      plots=False, executor=ex, progress=advance)
            done += runs
            # Labelled by the scenario's name, as runs are; variants that share a name get
            # their file's name added (unique_labels).
            arms.append(Arm(res.summary["scenario"], res.summary, str(path),
                            _outcome_codes(res)))
    unique_labels(arms)
    result = compare_summaries(arms)
    result.notes = notes
    return result


def _outcome_codes(res: reader.RunResults):
    """``(runs,)`` int8 outcome code of every world in world order, or None when the run kept
    no per-world rows."""
    import numpy as np
    import pyarrow.parquet as pq

    from negotiation_sim.core.outcomes import OUTCOMES

    if res.runs_file is None or not Path(res.runs_file).is_file():
        return None
    table = pq.read_table(res.runs_file, columns=["world", "outcome"]).to_pandas()
    order = np.argsort(table["world"].to_numpy(), kind="stable")
    names = table["outcome"].astype(str).to_numpy()[order]
    codes = np.full(names.shape, -1, dtype=np.int8)
    for i, o in enumerate(OUTCOMES):
        codes[names == o] = i
    return codes if (codes >= 0).all() else None


def _stale_scenario(path: Path, manifest: dict[str, Any], sources) -> list[str]:
    """A note when a stored run's scenario file has changed since the run (its hash differs
    from the file's now), naming the file when it is itself among the compared sources."""
    from negotiation_sim.config.yamlio import InputError

    name, recorded = manifest.get("scenario_file"), manifest.get("scenario_hash")
    if not name or not recorded:
        return []
    file = Path(name)
    if not file.is_absolute():
        file = path / name if (path / name).is_file() else file
    if not file.is_file():
        return []
    try:
        now = _load_scenario(file).digest()
    except (InputError, OSError):  # an invalid file now: it differs from what ran
        return [f"{path}: its scenario file {name} no longer validates; the stored run came "
                "from another version of it"]
    if now == recorded:
        return []
    compared = any(not isinstance(s, reader.RunResults) and Path(s).is_file()
                   and Path(s).resolve() == file.resolve() for s in sources)
    return [f"{path}: the stored run came from another version of {name} (scenario hash "
            f"{recorded[:12]} then, {now[:12]} now)"
            + ("; the file itself is compared as it is now" if compared else "")]


def target(scenario: Scenario | str | Path, outcome: str, share: float, vary: Sequence[str], *,
           runs: int = 2000, seed: int = 0,
           executor: str | Executor | Callable[[], Executor] | None = None,
           workers: int | None = None, scheduler: str | None = None) -> Answer:
    """The smallest change of some levers that brings an outcome to a share (``negsim target``).

    Args:
        scenario: a validated Scenario or a scenario file.
        outcome: ``agreement``, ``ceasefire``, ``breakdown``, ``no_summit``, a meeting
            (``talks``, ``leaders``: ``summary["meetings"]``), or ``holds.agreement`` /
            ``holds.ceasefire``.
        share: the share to reach (at least).
        vary: the levers to search, each ``PATH=LO:HI`` or ``PATH`` (its field's range).
        runs: worlds per evaluation (the same worlds, ``seed``, every time).
        seed: the seed of every evaluation.
        executor: where each evaluation's chunks run, as for ``run``.
        workers: worker processes of ``processes`` or a dask LocalCluster.
        scheduler: a running dask scheduler's address or scheduler file.

    Returns:
        The answer (``analysis.targets.Answer``; ``.to_json()`` is ``negsim target --json``).

    Raises:
        InputError: the scenario file is invalid.
        TargetError: an unknown outcome, path or range.
    """
    from negotiation_sim.analysis.targets import Vary, reach
    from negotiation_sim.run.engine import summarise

    check_sizes(runs, DEFAULT_CHUNK)
    sc, _ = _scenario(scenario)
    varies = [Vary.parse(v) for v in vary]
    with _running(executor, workers, scheduler) as ex:
        return reach(sc, outcome, share, varies, runs=runs,
                     summarise=lambda changed: summarise(changed, runs, seed=seed,
                                                         solutions=False, executor=ex))


def backtest(path: str | Path | LoadedBacktest, *, runs: int = 10_000, seed: int = 0,
             chunk_size: int = DEFAULT_CHUNK,
             executor: str | Executor | Callable[[], Executor] | None = None,
             workers: int | None = None, scheduler: str | None = None,
             progress: Progress | None = None, min_ess: float | None = None) -> dict[str, Any]:
    """Answer every dated question of a backtest file with its scenario, and score the answers
    (``negsim backtest``). Questions answered from the file's scenario are conditioned on its
    record as known on the day asked (``run.condition``).

    Args:
        path: the backtest file (or one loaded with ``config.backtest.load_backtest``).
        runs: worlds simulated per scenario (each scenario runs once for all its questions).
        seed: seed of every scenario's run (and of the bootstrap intervals).
        chunk_size: worlds simulated together (results do not depend on it).
        executor: where the chunks run, as for ``run``.
        workers: worker processes of ``processes`` or a dask LocalCluster.
        scheduler: a running dask scheduler's address or scheduler file.
        progress: called with ``(worlds done, worlds of every scenario)``.
        min_ess: the least effective sample a conditioned day may rest on (default: the file's
            ``min_ess``, else the scenario's ``history.min_ess``).

    Returns:
        The ``negsim backtest --json`` shape (``analysis.backtest.backtest_result``).

    Raises:
        InputError: a bad backtest or scenario file.
        TooFewWorlds: too few worlds agree with the record known on a day asked.
    """
    from negotiation_sim.analysis.backtest import backtest_result
    from negotiation_sim.config.backtest import LoadedBacktest, load_backtest
    from negotiation_sim.run.backtest import conditioned_probabilities, model_probabilities

    loaded = path if isinstance(path, LoadedBacktest) else load_backtest(path)
    advance = _advancer(progress, runs * len(set(loaded.paths)))
    conditioning = None
    with _running(executor, workers, scheduler) as ex:
        model = model_probabilities(loaded, runs, seed=seed, chunk_size=chunk_size,
                                    on_chunk=advance, executor=ex)
        if loaded.conditioned is not None:
            answered, conditioning = conditioned_probabilities(
                loaded, runs, seed=seed, chunk_size=chunk_size, on_chunk=advance, executor=ex,
                min_ess=min_ess)
            for i, row in answered.items():
                model[i] = row
    return backtest_result(loaded, model, runs=runs, seed=seed, conditioning=conditioning)


def condition(scenario: Scenario | str | Path, *, runs: int = 10_000, seed: int = 0,
              day: datetime.date | None = None, chunk_size: int = DEFAULT_CHUNK,
              executor: str | Executor | Callable[[], Executor] | None = None,
              workers: int | None = None, scheduler: str | None = None,
              progress: Progress | None = None, min_ess: float | None = None) -> dict[str, Any]:
    """Condition a scenario's worlds on its ``history:`` (``run.condition``): what the record
    known on ``day`` taught each drawn input.

    The same seed simulates the same worlds as ``run``, so the posterior is over the worlds of
    the run's summary.

    Args:
        scenario: a scenario with a ``history:`` section (or its path).
        runs, seed, chunk_size, executor, workers, scheduler, progress: as for ``run``.
        day: the day the record is known to (a ``datetime.date``; default: the last observed).
        min_ess: the least effective sample to accept (default: ``history.min_ess``).

    Returns:
        ``{"day", "observations", "worlds", "ess", "mismatch", "min_ess", "posterior"}``,
        ``posterior`` as ``run.condition.posterior_table`` (per input prior and posterior mean,
        sd and 5th/50th/95th percentiles).

    Raises:
        InputError: a bad scenario file. ValueError: a scenario without a history.
        TooFewWorlds: fewer effective worlds than ``min_ess`` agree with the record.
    """
    from negotiation_sim.run.condition import condition as _condition
    from negotiation_sim.run.condition import posterior_table, require_ess

    sc, _ = _scenario(scenario)
    if sc.history is None:
        raise ValueError("the scenario has no history: section to condition on")
    h = sc.history
    day = day or max((o.day for o in h.observed), default=h.start)
    advance = _advancer(progress, runs)
    with _running(executor, workers, scheduler) as ex:
        got = _condition(sc, h, [day], [[]], runs, seed=seed, chunk_size=chunk_size,
                         on_chunk=advance, executor=ex)
    tally = got.tallies[0]
    need = min_ess or h.min_ess
    require_ess(tally, need, day)
    return {"day": day.isoformat(), "observations": len(h.known_on(day)), "worlds": tally.worlds,
            "ess": tally.ess, "mismatch": h.mismatch, "min_ess": need,
            "posterior": posterior_table(got.inputs, got.weights[0])}


def variance(scenario: Scenario | str | Path, *, runs: int = 10_000, seed: int = 0,
             chunk_size: int = DEFAULT_CHUNK,
             executor: str | Executor | Callable[[], Executor] | None = None,
             workers: int | None = None, scheduler: str | None = None,
             progress: Progress | None = None) -> dict[str, Any]:
    """How much of each headline share's variance over worlds comes from the drawn inputs and
    how much from the events and choices in play (``analysis.variance``: the law of total
    variance, the residual part by nearest neighbours in the inputs).

    Args:
        scenario, runs, seed, chunk_size, executor, workers, scheduler, progress: as ``run``
            (the same seed simulates the same worlds).

    Returns:
        ``{"runs", "seed", "inputs": [drawn inputs], "shares": {headline: {"mean", "variance",
        "inputs", "process"} or None}}``.
    """
    import numpy as np

    from negotiation_sim.analysis.variance import decompose, headline_indicators
    from negotiation_sim.run.engine import simulate

    sc, _ = _scenario(scenario)
    xs: dict[str, list] = {}
    ys: dict[str, list] = {}

    def keep(chunk) -> None:
        for path, values in chunk.inputs.items():
            xs.setdefault(path, []).append(np.asarray(values, dtype=float))
        for name, values in headline_indicators(chunk).items():
            ys.setdefault(name, []).append(values)

    advance = _advancer(progress, runs)
    with _running(executor, workers, scheduler) as ex:
        simulate(sc, runs, seed=seed, chunk_size=chunk_size, executor=ex, consumers=[keep],
                 on_chunk=advance, solutions=False)
    cols = {k: np.concatenate(v) for k, v in xs.items()}
    cols = {k: v for k, v in cols.items() if v.size and not np.all(v == v[0])}
    x = np.column_stack(list(cols.values())) if cols else np.zeros((runs, 0))
    shares = decompose(x, {k: np.concatenate(v) for k, v in ys.items()})
    return {"runs": runs, "seed": seed, "inputs": list(cols), "shares": shares}


def trace(scenario: Scenario | str | Path, *, seed: int = 0, world: int = 0) -> dict[str, Any]:
    """One world's negotiation round by round, as ``negsim trace --json`` prints it.

    Args:
        scenario: a validated Scenario or a scenario file.
        seed: the run's seed (world K draws what it draws in ``run`` with the same seed).
        world: the world's index in that run.

    Returns:
        The traced world: formation, each round's texts and answers, events and the outcome.

    Raises:
        InputError: the scenario file is invalid.
        ValueError: ``world`` outside 0 ... ``MAX_RUNS - 1`` (the worlds a run can hold).
    """
    from negotiation_sim.run.trace import trace_world

    check_world(world)
    sc, _ = _scenario(scenario)
    return trace_world(sc, seed=seed, world=world)


def sensitivity(results: reader.SweepResults | str | Path, metric: str = "agreement", *,
                resamples: int = 200) -> Sensitivity:
    """Sobol or Morris indices of a finished sobol or morris sweep (``negsim sensitivity``).

    Args:
        results: the sweep's results or their directory.
        metric: an outcome share (``agreement``, ...), a meeting's share (``talks``,
            ``leaders``) or another summary column.
        resamples: bootstrap resamples behind the indices' intervals.

    Returns:
        The indices with their 95% intervals (``.to_json()`` is ``sensitivity.json``).

    Raises:
        SensitivityError: not a sobol or morris sweep, or an unknown metric.
        ImportError: SALib is not installed (the ``sensitivity`` extra).
    """
    from negotiation_sim.analysis.sensitivity import analyze_results

    return analyze_results(results, metric, num_resamples=resamples)


def load_results(path: str | Path, scenario: Scenario | str | Path | None = None):
    """Read back what a command wrote.

    Args:
        path: a run's or a sweep's results directory, or a traced world's JSON file.
        scenario: a scenario (or its file) to use instead of the one stored with the results.

    Returns:
        A ``Run`` or a ``Sweep`` by what ``path`` holds, or the traced world's dict.
    """
    return reader.load_results(path, scenario, run_type=Run, sweep_type=Sweep)


def _advancer(progress: Progress | None, total: int) -> Callable[[int], None]:
    """A chunk callback that reports to ``progress`` (if any) the worlds done out of
    ``total``, starting from 0 now."""
    done = 0
    if progress is not None:
        progress(0, total)

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    return advance
