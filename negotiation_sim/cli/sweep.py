"""negsim sweep and negsim sensitivity: experiments over many scenario variants."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from negotiation_sim.cli.common import (
    DebugOpt,
    ExecutorOpt,
    QuietOpt,
    SchedulerOpt,
    WorkersOpt,
    check_out_option,
    check_size_options,
    console,
    executor_kind,
    fail,
    file_of_kind,
    progress_bar,
    reading,
    stderr,
    styled,
    user_errors,
    warnings_as_lines,
)
from negotiation_sim.results.schema import (
    MANIFEST_FILE,
    POINTS_FILE,
    RUNS_DIR,
    SWEEP_SUMMARY_FILE,
)

MAX_ROWS = 40  # points printed after a sweep; the rest are in summary.parquet
DEFAULT_OUT = "results"  # --out defaults to results/<experiment name>


def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML file (see experiments/).",
                                               show_default=False)],
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help=f"Results directory: a new or empty one, or this sweep's with "
        f"--resume or --overwrite. Default: {DEFAULT_OUT}/<experiment name, made one safe "
        "directory name>.",
        show_default=False)] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Finish an interrupted sweep in --out: run only the missing tasks.")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the sweep's results in --out, whole, and start again.")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the sweep figures.")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the sweep's summary as JSON on stdout (nothing else): the "
                       "results directory, tasks and one object per point.")] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run every point of an experiment and write points, per-world runs and a summary.

    Results do not depend on the executor or the number of workers. Writes
    points.parquet, runs/ (one Parquet part per task), summary.parquet, manifest.json,
    scenario.json, sensitivity.json (sobol and morris designs) and the sweep figures (PNG;
    --no-plots to skip).
    Exits 1 if any task failed (the others are kept: --resume retries the failed ones). An
    interrupt (Ctrl-C, SIGTERM) stops the workers, marks the manifest interrupted and prints the
    command that finishes the sweep.
    """
    kind = executor_kind(executor, scheduler)
    if resume and overwrite:
        raise fail("--resume finishes the sweep in --out and --overwrite replaces it: choose "
                   "one", 2)
    check_out_option(out, "sweep")
    check_size_options(workers=workers)
    with user_errors(debug), _sweep_errors(debug), warnings_as_lines(quiet):
        from negotiation_sim import api
        from negotiation_sim.config.names import path_component

        with file_of_kind(experiment, "experiment", "negsim sweep"):
            loaded = api.load_experiment(experiment)
        if not quiet:
            print_sweep_warnings(loaded)
        # a name is a label: it never chooses where files go (config.names)
        out_dir = out if out is not None else \
            Path(DEFAULT_OUT) / path_component(loaded.experiment.name)
        check_out_option(out_dir, "sweep")

        def start_executor():  # once the results directory is checked
            from negotiation_sim.run.executors import make_executor

            ex = make_executor(kind, workers=workers, scheduler=scheduler,
                               preload=["negotiation_sim.run.sweep"])
            if not quiet and getattr(ex, "dashboard", None):
                stderr().print(f"dask dashboard: {ex.dashboard}")
            return ex

        failed = None
        with progress_bar("worlds", quiet=quiet) as progress:
            try:
                report = api.sweep(loaded, out=out_dir, executor=start_executor, resume=resume,
                                   overwrite=overwrite, plots=not no_plots,
                                   progress=progress).report
            except api.SweepFailed as err:
                failed, report = err, err.report
    if as_json:
        typer.echo(json.dumps(sweep_json(report, loaded, out_dir), allow_nan=False))
    elif report.summary is not None:
        print_points(report.summary, loaded)
    if not quiet:
        if report.figures:
            stderr().print(f"figures: {', '.join(f.name for f in report.figures)}",
                           soft_wrap=True)
        stderr().print(
            f"wrote {out_dir}/: {POINTS_FILE}, {RUNS_DIR}/ ({report.tasks - len(report.failed)} "
            f"parts), {SWEEP_SUMMARY_FILE}, {MANIFEST_FILE} — {report.ran} tasks run in "
            f"{report.seconds:.1f} s on {kind}"
            + (f", {report.resumed} already done" if report.resumed else ""), soft_wrap=True)
    if failed is not None:
        con = stderr()
        con.print(styled(("error:", "red"), f" {len(report.failed)} of {report.tasks} tasks "
                         f"failed; the others are in {out_dir}. Fix the cause and rerun with "
                         "--resume to run only the failed ones."), soft_wrap=True)
        for f in report.failed[:10]:
            con.print(f"  point {f['point']} chunk {f['chunk']}: {f['error']}", soft_wrap=True)
        if len(report.failed) > 10:
            con.print(f"  ... and {len(report.failed) - 10} more (see {MANIFEST_FILE})")
        raise typer.Exit(1)


@contextlib.contextmanager
def _sweep_errors(debug: bool):
    """Sweep-level problems as one-line errors (``user_errors`` takes a missing optional
    dependency)."""
    from negotiation_sim.analysis.sensitivity import SensitivityError
    from negotiation_sim.run.sweep import SweepError
    from negotiation_sim.run.executors.dask import SchedulerError

    try:
        yield
    except (SweepError, SensitivityError, SchedulerError) as err:
        if debug:
            raise
        raise fail(str(err)) from None


def sweep_json(report, loaded, out_dir: Path) -> dict[str, Any]:
    """``negsim sweep --json``: ``{"experiment", "results", "runs_per_point", "seed", "tasks",
    "ran", "resumed", "failed", "points": [one object per row of summary.parquet]}`` (a share
    or mean that is undefined at a point is null)."""
    rows = [] if report.summary is None else report.summary.to_pylist()
    points = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
               for k, v in row.items()} for row in rows]
    exp = loaded.experiment
    return {"experiment": exp.name, "results": str(out_dir), "runs_per_point": exp.runs,
            "seed": exp.seed, "tasks": report.tasks, "ran": report.ran,
            "resumed": report.resumed, "failed": list(report.failed), "points": points}


def print_points(summary, loaded) -> None:
    """The sweep's summary, one row per point, on stdout (at most ``MAX_ROWS`` rows)."""
    from rich.table import Table

    from negotiation_sim.core.outcomes import OUTCOMES
    from negotiation_sim.plots.style import outcome_labels

    has_label = "label" in summary.column_names
    params = [] if has_label else list(loaded.design.names)  # a label says what a point sets
    rows = summary.to_pylist()
    con = console()
    exp = loaded.experiment
    t = Table(title=f"{exp.name}: {exp.runs:,} worlds per point, seed {exp.seed}; outcome "
                    "shares in % [95% interval]", title_justify="left")
    t.add_column("point", justify="right")
    if has_label:
        t.add_column("label")
    for p in params:
        t.add_column(_short(p), justify="right")
    names = outcome_labels(loaded.base)  # the scenario's words
    for o in OUTCOMES:
        t.add_column(names[o], justify="right")
    for r in rows[:MAX_ROWS]:
        cells = [str(r["point"])]
        if has_label:
            cells.append(r.get("label") or "")
        cells += [_fmt(r.get(p)) for p in params]
        cells += [f"{100 * r[o]:.1f} [{100 * r[o + '.lo']:.1f}, {100 * r[o + '.hi']:.1f}]"
                  for o in OUTCOMES]
        t.add_row(*cells)
    con.print(t)
    if len(rows) > MAX_ROWS:
        con.print(f"... {len(rows) - MAX_ROWS} more points in {SWEEP_SUMMARY_FILE}")


def _short(path: str) -> str:
    """A column title for a dotted path: its last two parts."""
    return ".".join(path.split(".")[-2:])


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def sensitivity(
    results: Annotated[Path, typer.Argument(help="Results directory of a sobol or morris sweep.",
                                            show_default=False)],
    metric: Annotated[str, typer.Option(
        "--metric", "-m", help="Summary column to analyse: an outcome share (agreement, "
                               "ceasefire, breakdown, no_summit), a meeting's share (talks, "
                               "leaders), sessions, format.<name>, terms.<issue>, "
                               "utility.<actor> or rounds.")] = "agreement",
    as_json: Annotated[bool, typer.Option("--json", help="Print the indices as JSON on stdout "
                                                         "(nothing else).")] = False,
    resamples: Annotated[int, typer.Option(
        "--resamples", min=10, help="Bootstrap resamples for the confidence intervals.")] = 200,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Sobol indices (first-order S1, total ST) or Morris mu*/sigma of a sweep's metric, with
    95% confidence intervals, computed with SALib from the sweep's own samples."""
    with user_errors(debug), _sweep_errors(debug), reading(results, debug), \
            warnings_as_lines(quiet):
        from negotiation_sim import api

        res = api.sensitivity(results, metric, resamples=resamples)
    if as_json:
        typer.echo(json.dumps(res.to_json()))
        return
    print_sensitivity(res)


def print_sensitivity(res) -> None:
    """Indices as a table on stdout, most influential parameter first."""
    from rich.table import Table

    key = "ST" if res.method == "sobol" else "mu_star"
    names = sorted(res.names, key=lambda n: -_finite(res.indices[n][key]))
    runs = res.meta.get("runs_per_point")
    title = (f"{res.method.capitalize()} sensitivity of '{res.metric}' over {res.points:,} "
             f"points" + (f" of {runs:,} worlds" if runs else "") + " (± 95% half-width)")
    t = Table(title=title, title_justify="left")
    t.add_column("parameter")
    if res.method == "sobol":
        heads = [("first-order S1", "S1", "S1_conf"), ("total ST", "ST", "ST_conf")]
    else:
        heads = [("mu*", "mu_star", "mu_star_conf")]
    for head, _, _ in heads:
        t.add_column(head, justify="right")
    if res.method == "morris":
        t.add_column("mu", justify="right")
        t.add_column("sigma", justify="right")
    for n in names:
        row = res.indices[n]
        cells = [_index(row[v], row[c]) for _, v, c in heads]
        if res.method == "morris":
            cells += [_index(row["mu"]), _index(row["sigma"])]
        t.add_row(n, *cells)
    con = console()
    con.print(t)
    if res.note:
        con.print(f"undefined: {res.note}")


def _index(value: float, conf: float | None = None) -> str:
    """An index with its half-width; "undefined" where SALib's arithmetic has no answer."""
    if value is None or not math.isfinite(value):
        return "undefined"
    if conf is None:
        return f"{value:.3f}"
    return f"{value:.3f} ± {conf:.3f}" if math.isfinite(conf) else f"{value:.3f} ± undefined"


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -math.inf


def print_sweep_warnings(loaded) -> None:
    """The scenario's sanity warnings and those the points' values raise (``negsim validate``'s),
    one yellow line each on stderr."""
    from negotiation_sim.core.checks import scenario_warnings

    con = stderr()
    for w in scenario_warnings(loaded.base, loaded.scenario_doc) + loaded.point_warnings():
        con.print(styled(("warning: ", "yellow"), w), soft_wrap=True)
