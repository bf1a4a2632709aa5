"""negsim plot, compare and report: figures and reports of results.

``plot`` draws the figures of a results directory (a run, a sweep) or a trace file; without
``--kind`` it draws the sensible set for what it finds. ``compare`` runs scenarios with one seed
and number of worlds (or reads runs back) and tests whether their outcome distributions differ.
``report`` writes one self-contained HTML file. Results are read through the Python API
(``api.load_results``), scenarios run by ``api.compare``.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from negotiation_sim.cli.common import (
    ChunkOpt,
    DebugOpt,
    ExecutorOpt,
    QuietOpt,
    RUNS_HELP,
    SchedulerOpt,
    SeedOpt,
    WorkersOpt,
    check_out_file,
    check_out_option,
    check_size_options,
    console,
    executor_kind,
    fail,
    file_of_kind,
    progress_bar,
    reading,
    unreadable_errors,
    stderr,
    styled,
    user_errors,
    warn,
    warnings_as_lines,
    writing,
)
from negotiation_sim.config.defaults import DEFAULT_CHUNK
from negotiation_sim.results.schema import (
    COMPARISON_FIGURE,
    COMPARISON_FILE,
    MANIFEST_FILE,
    OPTIONAL_RUN_FIGURES,
    REPORT_FILE,
    RUN_FIGURES,
    SCENARIO_FILE,
    SWEEP_FIGURES,
    TRACE_FIGURES,
    figure_file,
)


class FigureFormat(str, Enum):
    png = "png"
    svg = "svg"
    pdf = "pdf"


def figure_makers(path: Path, scenario: Path | None = None,
                  param: str | None = None) -> tuple[str, dict]:
    """(kind of results, {figure kind: function making it}) for a results path; ``param``: the
    swept parameter a sweep's line is drawn against."""
    from negotiation_sim import api, plots

    results = api.load_results(path, scenario)
    if isinstance(results, api.Run):
        if param is not None:
            from negotiation_sim.plots.figures import FigureChoiceError

            raise FigureChoiceError("--param is for a sweep's results (the sweep line's x-axis)")
        return "run", plots.run_figures(results)
    if isinstance(results, api.Sweep):
        if (note := results.status_note) is not None:  # figures of part of a sweep say so
            import warnings

            warnings.warn(f"{path}: {note}", UserWarning, stacklevel=2)
        return "sweep", plots.sweep_figures(results, param)
    sc = None
    if scenario is not None:
        from negotiation_sim.config.scenario import load_scenario

        sc = load_scenario(scenario)
    return "trace", plots.trace_figures(results, sc)


def plot(
    results: Annotated[Path, typer.Argument(
        help="A run or sweep results directory, or a trace .json file.", show_default=False)],
    kind: Annotated[Optional[list[str]], typer.Option(
        "--kind", "-k", help="Figure to draw (repeatable); default: every figure that fits the "
        f"results. Run: {', '.join(RUN_FIGURES)}, and {', '.join(OPTIONAL_RUN_FIGURES)} when "
        f"signed texts were followed. Sweep: {', '.join(SWEEP_FIGURES)}. "
        f"Trace: {', '.join(TRACE_FIGURES)}.")] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Directory for the figures (default: beside the results).")] = None,
    fmt: Annotated[FigureFormat, typer.Option("--format", "-f", help="File format.")] = FigureFormat.png,
    scenario: Annotated[Optional[Path], typer.Option(
        "--scenario", help="Scenario file of the results, for ideal points and red lines "
        f"(default: the one stored in {SCENARIO_FILE}; for older results, the file named in "
        f"{MANIFEST_FILE}).")] = None,
    param: Annotated[Optional[str], typer.Option(
        "--param", help="A sweep's parameter (dotted path) to draw the sweep line against "
        "(default: the first numeric swept parameter).", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace figures already beside a trace .json file (a results "
        "directory's own figures are always redrawn).")] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Draw the figures of a run, a sweep or a traced world (files named KIND.FORMAT).

    A results directory's figures belong to it and are redrawn in place (or in --out). A trace
    is a file among others: its figures go beside it (or in --out), and a file already there is
    kept unless --overwrite."""
    from negotiation_sim import plots

    check_out_option(out)
    target = out or (results if results.is_dir() else results.parent)
    with user_errors(debug), reading(results, debug, scenario), warnings_as_lines(quiet), \
            writing(results, target):
        from negotiation_sim.plots.figures import FigureChoiceError

        try:
            what, makers = figure_makers(results, scenario, param)
        except FigureChoiceError as err:
            raise fail(str(err), 2) from None
        except (ValueError, KeyError) as err:  # a file that is not what it claims to be
            if debug:
                raise
            raise fail(f"{results}: cannot read these results ({err})") from None
        unknown = [k for k in kind or [] if k not in makers]
        if unknown:
            raise fail(f"no figure '{unknown[0]}' for {what} results (available: "
                       f"{', '.join(makers)})", 2)
        if what == "trace" and not overwrite:
            taken = [target / figure_file(k, fmt.value) for k in kind or makers
                     if (target / figure_file(k, fmt.value)).exists()]
            if taken:
                raise fail(f"{taken[0]} exists: pass --overwrite to replace it, or --out DIR")
        written = plots.write_figures(makers, target, kinds=kind, fmt=fmt.value)
        from negotiation_sim.results.manifest import record_figures

        record_figures(target, written)  # they belong to the results they were drawn from
    for path in written:
        typer.echo(str(path))
    if not quiet:
        stderr().print(f"{len(written)} figure(s) of {what} results written to {target}")


def compare(
    sources: Annotated[list[Path], typer.Argument(
        help="Scenario files (run here) or run results directories; the first is the baseline.",
        show_default=False)],
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help=f"Worlds per scenario ({RUNS_HELP}).")] = 10_000,
    seed: SeedOpt = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON on stdout (nothing else).")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help=f"Directory for {COMPARISON_FILE} and the figure "
        f"{figure_file(COMPARISON_FIGURE, 'FORMAT')}.")] = None,
    fmt: Annotated[FigureFormat, typer.Option("--format", "-f", help="Figure file format.")] = FigureFormat.png,
    chunk_size: ChunkOpt = DEFAULT_CHUNK,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compare the outcome distributions of scenarios run with the same seed and worlds.

    Shows each scenario's outcome shares, each one's difference from the first (baseline) with
    a 95% interval, and a test of whether the distributions differ. Arms with the same seed and
    worlds draw the same worlds, so they are compared world by world (paired intervals,
    McNemar's test per outcome, the Stuart-Maxwell test over all outcomes); otherwise, or when
    a stored run kept no per-world rows, as independent samples (chi-square). A stored run
    whose scenario file has changed since is noted.
    """
    if len(sources) < 2:
        raise fail("compare needs at least two scenarios or results directories", 2)
    kind = executor_kind(executor, scheduler)
    check_size_options(runs, chunk_size, workers=workers)
    check_out_option(out)
    with user_errors(debug), reading("the results compared", debug):
        from negotiation_sim import api, plots
        from negotiation_sim.results.files import all_or_none, write_json_atomic

        for source in sources:  # an experiment or backtest file in a scenario's place: one line
            if source.is_file():
                with file_of_kind(source, "scenario", "negsim compare"):
                    api.load_scenario(source)

        try:
            with progress_bar("worlds", quiet=quiet) as progress:
                result = api.compare(sources, runs=runs, seed=seed, chunk_size=chunk_size,
                                     executor=kind, workers=workers, scheduler=scheduler,
                                     progress=progress)
        except ValueError as err:  # a directory that holds no run
            if debug:
                raise
            if isinstance(err, unreadable_errors()):
                raise  # a damaged file of a results directory: ``reading`` says so
            raise fail(str(err)) from None
        _warn_mismatch(result.arms, quiet)
        for note in result.notes:
            if not quiet:
                warn(note)
        figure = figure_file(COMPARISON_FIGURE, fmt.value)
        if out is not None:
            with writing(out), all_or_none() as written:
                write_json_atomic(out / COMPARISON_FILE, result.as_dict())
                written.append(out / COMPARISON_FILE)
                plots.save(plots.comparison_figure(result), out / figure)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
    else:
        print_comparison(result)
        if out is not None and not quiet:
            stderr().print(f"wrote {out}/{COMPARISON_FILE}, {figure}")


def _warn_mismatch(arms, quiet: bool) -> None:
    runs = {a.runs for a in arms}
    seeds = {a.summary["seed"] for a in arms}
    if (len(runs) > 1 or len(seeds) > 1) and not quiet:
        warn(f"the compared results differ in worlds ({sorted(runs)}) or seed "
             f"({sorted(seeds)}); differences then mix scenario effects with sampling noise")


def print_comparison(result) -> None:
    """The comparison as tables on stdout."""
    from rich.table import Table

    from negotiation_sim.analysis.compare import format_p
    from negotiation_sim.core.outcomes import OUTCOMES
    from negotiation_sim.plots.style import outcome_labels

    con = console()
    base = result.baseline
    names = outcome_labels(base.summary)  # the baseline's words name the columns
    t = Table(title="Outcome shares (below: 95% interval, %)", title_justify="left")
    t.add_column("scenario", no_wrap=True)
    for o in OUTCOMES:
        t.add_column(names[o], justify="right")
    for arm in result.arms:
        cells = []
        for o in OUTCOMES:
            s = arm.summary["outcomes"][o]
            cells.append(f"{s['share']:.1%}\n{s['ci95'][0] * 100:.1f}–{s['ci95'][1] * 100:.1f}")
        t.add_row(arm.label, *cells)
    con.print(t)
    how = ("paired world by world: Newcombe's interval for paired shares" if result.paired
           else "independent samples: Newcombe's hybrid score interval")
    t = Table(title=f"Difference from {base.label} in percentage points (below: 95% interval; "
                    f"{how})", title_justify="left")
    t.add_column("scenario", no_wrap=True)
    for o in OUTCOMES:
        t.add_column(names[o], justify="right")
    for arm in result.arms[1:]:
        cells = []
        for o in OUTCOMES:
            d, lo, hi = result.difference(arm, o)
            cells.append(f"{d * 100:+.1f}\n{lo * 100:+.1f}, {hi * 100:+.1f}")
        t.add_row(arm.label, *cells)
    con.print(t)
    worlds = "/".join(f"{r:,}" for r in sorted({a.runs for a in result.arms}))
    seeds = "/".join(str(s) for s in sorted({a.summary["seed"] for a in result.arms}))
    con.print(f"{worlds} worlds per scenario, seed {seeds}")
    if result.paired:
        _print_paired(con, result)
        return
    tests = [("all scenarios", result.chi_square)]
    tests += [(f"{a.label} vs {base.label}", c) for a, c in zip(result.arms[1:], result.pairwise)]
    for name, c in tests:
        verdict = ("differ", "bold") if c.significant else "no significant difference"
        con.print(styled(f"chi-square ({name}): {c.statistic:.2f}, dof {c.dof}, p "
                         f"{format_p(c.p_value)}: ", verdict, " at the 5% level"))


def _print_paired(con, result) -> None:
    """The world-by-world tests of each arm against the baseline."""
    from negotiation_sim.analysis.compare import format_p
    from negotiation_sim.config.words import words_of

    base = result.baseline
    said = words_of(base.summary)
    con.print("The arms share their worlds (same seed and worlds): each is compared with "
              f"{base.label} world by world.")
    for arm, pair in zip(result.arms[1:], result.paired):
        c = pair.stuart_maxwell
        verdict = ("differ", "bold") if c.significant else "no significant difference"
        con.print(styled(f"{arm.label} vs {base.label}: {pair.changed:,} of {arm.runs:,} worlds "
                         f"end differently; Stuart-Maxwell {c.statistic:.2f}, dof {c.dof}, p "
                         f"{format_p(c.p_value)}: ", verdict, " at the 5% level"))
        moved = [f"{said.in_sentence(o)} -{f:,}/+{g:,} (McNemar p {format_p(p)})"
                 for o, (f, g, p) in pair.mcnemar.items() if f or g]
        if moved:
            con.print("  worlds that left/entered each outcome: " + "; ".join(moved))


def report(
    results: Annotated[Path, typer.Argument(
        help="A run or sweep results directory.", show_default=False)],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help=f"The HTML file to write (default: RESULTS/{REPORT_FILE}).")] = None,
    scenario: Annotated[Optional[Path], typer.Option(
        "--scenario", help=f"Scenario file of the results (default: the one stored in "
        f"{SCENARIO_FILE}; for older results, the file named in {MANIFEST_FILE}).")] = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write one self-contained HTML report (figures embedded; opens offline): the scenario in
    words, the outcome table, every figure and the provenance from the manifest."""
    from negotiation_sim.report.html import write_report
    from negotiation_sim.results.reader import results_kind

    check_out_file(out)
    with user_errors(debug), reading(results, debug, scenario), warnings_as_lines(quiet), \
            writing(results, None if out is None else out.parent):
        kind = results_kind(results)
        if kind == "trace":
            raise fail("report takes a run or sweep results directory; for a trace use "
                       "negsim plot", 2)
        target = write_report(results, out, scenario)
    typer.echo(str(target))
    if not quiet:
        stderr().print(f"report of {kind} results written to {target} "
                        f"({target.stat().st_size / 1e6:.1f} MB)")
