"""negsim run: simulate a scenario's ensemble of worlds and print its summary tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

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
    check_out_option,
    check_size_options,
    console,
    executor_kind,
    fail,
    file_of_kind,
    progress_bar,
    stderr,
    styled,
    user_errors,
)
from negotiation_sim.config.defaults import DEFAULT_CHUNK
from negotiation_sim.results.schema import (
    MANIFEST_FILE,
    OPTIONAL_RUN_FIGURES,
    RUN_FIGURES,
    RUNS_FILE,
    SCENARIO_FILE,
    SUMMARY_FILE,
    figure_file,
)


def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help=f"Number of simulated worlds ({RUNS_HELP}).")] = 10_000,
    seed: SeedOpt = 0,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help=f"Directory for {RUNS_FILE}, {SUMMARY_FILE}, {MANIFEST_FILE}, "
        f"{SCENARIO_FILE} and the figures ({', '.join(RUN_FIGURES)} .png, and "
        f"{', '.join(OPTIONAL_RUN_FIGURES)} .png when signed texts are followed): a new or empty "
        "directory, written whole when the run is complete.")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace a run's results already in --out, whole.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout (nothing else).")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="With --out, skip the figures.")] = False,
    no_solutions: Annotated[bool, typer.Option(
        "--no-solutions", help="Skip the reference solutions (Nash, Kalai-Smorodinsky, "
        "weighted mean and median texts of every world): with three or more principals they "
        "solve P + 2 convex programmes per world, most of the run's time.")] = False,
    chunk_size: ChunkOpt = DEFAULT_CHUNK,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    decompose: Annotated[bool, typer.Option(
        "--variance", help="Also split each headline share's variance over worlds into the "
        "drawn inputs' part and the events' and choices' part (a second pass over the same "
        "worlds; docs/model.md, variance decomposition).")] = False,
    no_warn: Annotated[bool, typer.Option(
        "--no-warn", help="Do not print the scenario's sanity warnings (negsim validate's).")] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run a scenario's ensemble of worlds and summarise the outcomes.

    Prints outcome shares with 95% Wilson intervals, the meetings (the share of worlds with
    talks, a leaders' meeting and a settlement, and by when half of them had), the summit formats held, the terms of
    agreements per issue (mean and 5th/50th/95th percentiles), the reference solutions and
    mean utilities. An --out that holds results is refused unless --overwrite (a sweep's
    never); a run that fails or is interrupted leaves --out as it was. --executor splits the
    run's chunks over workers: the same seed gives the same results on every executor.
    """
    kind = executor_kind(executor, scheduler)
    check_size_options(runs, chunk_size, workers=workers)
    check_out_option(out, "run")
    with user_errors(debug):
        from negotiation_sim import api

        # Without --out nothing is kept per world: any number of worlds in constant memory.
        with file_of_kind(scenario, "scenario", "negsim run"), \
                progress_bar("worlds", quiet=quiet) as progress:
            res = api.run(scenario, runs=runs, seed=seed, chunk_size=chunk_size, out=out,
                          keep_runs=False, plots=not no_plots, solutions=not no_solutions,
                          overwrite=overwrite, executor=kind, workers=workers,
                          scheduler=scheduler, progress=progress)
        if not (no_warn or quiet):
            print_warnings(scenario)
        conditioned = _conditioned(res, runs, seed, chunk_size, kind, workers, scheduler,
                                   out if not no_plots else None, quiet)
        split = None
        if decompose:
            with progress_bar("worlds (variance decomposition)", quiet=quiet) as progress:
                split = api.variance(res.scenario, runs=runs, seed=seed, chunk_size=chunk_size,
                                     executor=kind, workers=workers, scheduler=scheduler,
                                     progress=progress)
    if out is not None:
        _keep_beside(out, conditioned, split)
    if as_json:
        summary = dict(res.summary)
        if conditioned is not None:
            summary["conditioning"] = conditioned
        if split is not None:
            summary["variance"] = split
        typer.echo(json.dumps(summary, allow_nan=False))
        return
    print_summary(res.scenario, res.summary)
    wide = console()
    if not wide.is_terminal:  # a file or pipe: wide enough for one row per input
        wide = console(width=max(wide.width, 150))
    if split is not None:
        wide.print(variance_table(split, res.scenario))
    if conditioned is not None:
        from negotiation_sim.cli.backtest import posterior_rich

        wide.print(posterior_rich(
            conditioned["posterior"], f"What the record known on {conditioned['day']} taught "
            f"the drawn inputs: {conditioned['observations']} observations, "
            f"{conditioned['ess']:,.0f} effective worlds of {conditioned['worlds']:,}"))
    if out is not None and not quiet:
        names = [RUNS_FILE, SUMMARY_FILE, MANIFEST_FILE, SCENARIO_FILE]
        if not no_plots:
            names += [figure_file(kind) for kind in (*RUN_FIGURES, *OPTIONAL_RUN_FIGURES)
                      if (out / figure_file(kind)).exists()]
        stderr().print(f"wrote {out}/{', '.join(names)}", soft_wrap=True)


def print_warnings(scenario: Path) -> None:
    """The scenario's sanity warnings (``core.checks``), one yellow line each on stderr."""
    from negotiation_sim.core.checks import file_warnings

    con = stderr()
    for w in file_warnings(scenario):
        con.print(styled(("warning: ", "yellow"), w), soft_wrap=True)


def print_summary(sc, summary: dict[str, Any]) -> None:
    """The run summary as tables on stdout."""
    from rich.table import Table

    from negotiation_sim.config.words import words_of
    from negotiation_sim.report.tables import utility_caption

    words = words_of(sc)
    labels = words.labels()
    con = console()
    con.print(styled((summary["scenario"], "bold"), f": {summary['runs']:,} worlds, seed "
                     f"{summary['seed']}, protocol {sc.protocol.kind}"))
    t = Table(title="Outcomes", title_justify="left")
    t.add_column("outcome")
    t.add_column("share", justify="right")
    t.add_column("95% interval", justify="right")
    for name, o in summary["outcomes"].items():
        lo, hi = o["ci95"]
        t.add_row(labels[name], f"{o['share']:.1%}", f"{lo:.1%} – {hi:.1%}")
    con.print(t)
    _print_meetings(con, summary)
    _print_formats(con, summary, words)
    _print_terms(con, sc, summary)
    _print_solutions(con, summary)
    _print_reasons(con, summary)
    _print_durability(con, summary)
    t = Table(title="Mean utility at the outcome", title_justify="left",
              caption=utility_caption(words), caption_justify="left")
    t.add_column("actor")
    t.add_column("role")
    t.add_column("mean utility", justify="right")
    for a, u in summary["utilities"].items():
        t.add_row(sc.actors[a].display(a), sc.actors[a].role,
                  "–" if u["mean"] is None else f"{u['mean']:.3f}")
    con.print(t)


def _print_formats(con, summary: dict[str, Any], words) -> None:
    """Each format: the share of worlds that held it at least once and its sessions per world
    (of any members: the channels that leave a principal out too), and the share whose last
    session of every principal it was (``summary["formats"]``). A summary without the
    per-format sessions (written before they were summarised) shows the last column alone."""
    from rich.table import Table

    met = ((summary.get("meetings") or {}).get("sessions") or {}).get("by_format")
    t = Table(title=f"{words.Meeting} formats held", title_justify="left",
              caption=(("held: worlds with at least one session of the format, of any members; "
                        "sessions: a world's sessions of it on average; ") if met else "")
              + "last of every principal: worlds whose last session of every principal it was "
                "(a format that leaves one out never is)", caption_justify="left")
    t.add_column("format")
    if met:
        t.add_column("held", justify="right")
        t.add_column("sessions", justify="right")
    t.add_column("last of every principal", justify="right")
    for f, share in summary["formats"].items():
        cells = [f"{met[f]['share']:.1%}", f"{met[f]['mean']:.2f}"] if met else []
        t.add_row(f, *cells, f"{share:.1%}")
    con.print(t)


def _print_meetings(con, summary: dict[str, Any]) -> None:
    """Who met, and by when: the share of worlds with talks, a leaders' meeting and a
    settlement in the horizon (95% intervals), when half of them had, and the mean sessions."""
    from rich.table import Table

    from negotiation_sim.plots.style import half_met, meeting_labels

    m = summary.get("meetings")
    if not m:  # a summary written before meetings were summarised
        return
    t = Table(title="Meetings over the calendar", title_justify="left",
              caption=f"{m['sessions']['mean']:.2f} sessions per world on average (any format); "
                      "half met by: the round by which half of the worlds that met had met "
                      "(day: the end of that round); took effect: in some round, whether or not "
                      "it held (the outcomes count what is in force at the horizon)",
              caption_justify="left")
    for col in ("meeting", "share of worlds", "95% interval", "half met by"):
        t.add_column(col, justify="left" if col in ("meeting", "half met by") else "right")
    for name, words in meeting_labels(summary).items():
        e = m[name]
        lo, hi = e["ci95"]
        t.add_row(words, f"{e['share']:.1%}", f"{lo:.1%} – {hi:.1%}", half_met(e))
    con.print(t)


def rich_table(t):
    """A ``report.tables.TextTable`` as a rich Table: the first column left, the others right."""
    from rich.table import Table

    out = Table(title=t.title, title_justify="left", caption=t.caption or None,
                caption_justify="left")
    for i, col in enumerate(t.columns):
        out.add_column(col, justify="left" if i == 0 else "right")
    for row in t.rows:
        out.add_row(*row)
    return out


def _print_reasons(con, summary: dict[str, Any]) -> None:
    from negotiation_sim.report import tables

    t = tables.end_reasons(summary)
    if t is not None:
        con.print(rich_table(t))


def _print_durability(con, summary: dict[str, Any]) -> None:
    from negotiation_sim.report import tables

    t = tables.durability(summary)
    if t is not None:
        con.print(rich_table(t))  # its caption says how many worlds end with a text in force
    elif (line := tables.in_force(summary)) is not None:
        con.print(line)


def _print_terms(con, sc, summary: dict[str, Any]) -> None:
    from rich.table import Table

    rounds = summary["rounds"]
    if rounds is None:
        con.print("No world reached agreement: no terms to show.", style="italic")
        return
    days = rounds.get("mean_days")
    when = f", day {days:.0f}" if days is not None else ""
    t = Table(title=f"Terms of agreements (0 = low end, 1 = high end); agreed in round "
              f"{rounds['mean']:.1f} on average{when} (median round {rounds['p50']:.0f})",
              title_justify="left")
    for col in ("issue", "mean", "sd", "p05", "p50", "p95"):
        t.add_column(col, justify="left" if col == "issue" else "right")
    for k, stats in summary["terms"].items():
        t.add_row(k, *(f"{stats[c]:.3f}" for c in ("mean", "sd", "p05", "p50", "p95")))
    con.print(t)
    for k, issue in sc.issues.items():
        con.print(styled("  ", (k, "bold"), f": 0 = {issue.label('low')}; 1 = "
                         f"{issue.label('high')}"))


def _print_solutions(con, summary: dict[str, Any]) -> None:
    from dataclasses import replace

    from negotiation_sim.report import tables

    t = tables.solutions(summary)
    if t is None:
        return
    con.print(rich_table(replace(t, caption="")))
    if t.caption:
        con.print(t.caption)


def _conditioned(res, runs: int, seed: int, chunk: int, kind, workers, scheduler,
                 out: Path | None, quiet: bool) -> dict[str, Any] | None:
    """For a scenario with a history: the same worlds conditioned on the whole record
    (``api.condition``: a second pass, same seed), and posterior.png in ``out``; else None.
    Too few agreeing worlds is one error line."""
    if getattr(res.scenario, "history", None) is None:
        return None
    from negotiation_sim import api
    from negotiation_sim.run.condition import TooFewWorlds

    try:
        with progress_bar("worlds (conditioning on the record)", quiet=quiet) as progress:
            got = api.condition(res.scenario, runs=runs, seed=seed, chunk_size=chunk,
                                executor=kind, workers=workers, scheduler=scheduler,
                                progress=progress)
    except TooFewWorlds as err:
        raise fail(str(err)) from None
    if out is not None:
        from negotiation_sim.plots.backtest import posterior_figure
        from negotiation_sim.plots.style import save

        save(posterior_figure(got["posterior"], f"What the record known on {got['day']} "
                              f"taught the drawn inputs\n{runs:,} worlds, seed {seed}"),
             out / "posterior.png")
    return got


def variance_table(split: dict[str, Any], words: Any = None):
    """Each headline share's variance over worlds, split between the drawn inputs and the
    process (``api.variance``); the outcomes named in ``words`` (a scenario's:
    ``config.words.words_of``)."""
    from rich.table import Table

    from negotiation_sim.config.words import words_of

    w = words_of(words)
    t = Table(title=f"Where the variance over worlds comes from ({split['runs']:,} worlds, "
                    f"{len(split['inputs'])} drawn inputs)", title_justify="left",
              caption="Law of total variance: Var(Y) = Var(E[Y | inputs]) + E[Var(Y | "
                      "inputs)], the second by nearest neighbours in the inputs (Devroye et al. "
                      "2018); with many inputs the inputs' part is a lower bound.",
              caption_justify="left")
    for col in ("share of worlds", "mean", "variance", "from the drawn inputs",
                "from events and choices"):
        t.add_column(col, justify="left" if col == "share of worlds" else "right")
    for name, r in split["shares"].items():
        if r is None:
            t.add_row(w.shown(name), "", "0", "–", "–")
            continue
        t.add_row(w.shown(name), f"{r['mean']:.3f}", f"{r['variance']:.3f}", f"{r['inputs']:.0%}",
                  f"{r['process']:.0%}")
    return t


def _keep_beside(out: Path, conditioned: dict[str, Any] | None,
                 split: dict[str, Any] | None) -> None:
    """conditioning.json and variance.json beside the run's summary (the report shows them)."""
    from negotiation_sim.report.evidence import CONDITIONING_FILE, VARIANCE_FILE
    from negotiation_sim.results.files import write_json_atomic

    for name, data in ((CONDITIONING_FILE, conditioned), (VARIANCE_FILE, split)):
        if data is not None:
            write_json_atomic(out / name, data)
