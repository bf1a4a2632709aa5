"""negsim target: what would it take for an outcome to reach a share?
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from negotiation_sim.cli.common import (
    RUNS_HELP,
    DebugOpt,
    ExecutorOpt,
    QuietOpt,
    SchedulerOpt,
    SeedOpt,
    WorkersOpt,
    check_size_options,
    console,
    executor_kind,
    fail,
    file_of_kind,
    stderr,
    styled,
    user_errors,
)


def target(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    vary: Annotated[list[str], typer.Option(
        "--vary", "-v", help="A lever to search, as PATH=LO:HI or PATH (its field's range); "
        "repeatable. Paths as in experiment files (see the example above).",
        show_default=False)],
    outcome: Annotated[str, typer.Option(
        "--outcome", help="agreement, ceasefire, breakdown, no_summit, talks (a session of "
        "every principal), leaders (a leaders' session of every principal), or "
        "holds.agreement / holds.ceasefire (signed texts still holding).")] = "agreement",
    share: Annotated[float, typer.Option("--share", min=0.0, max=1.0,
                                         help="The share to reach (at least).")] = 0.5,
    runs: Annotated[int, typer.Option("--runs", "-n", min=100,
                                      help="Worlds per evaluation (same seed each; "
                                      f"{RUNS_HELP}).")] = 2000,
    seed: SeedOpt = 0,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the answer as JSON on stdout (nothing else).")] = False,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Find the smallest change of the named levers (from the scenario's values, measured in
    each lever's range) at which the outcome's share reaches the target: every evaluation runs
    the same worlds (common random numbers); one lever by bisection, several by COBYLA
    (scipy.optimize) then bisection along its ray. Says so when the ranges cannot reach it.
    A distribution is moved by its mean (shifted, or scaled for pressures and audience costs).

    Example: negsim target scenarios/summit_baseline.yaml
    --vary actors.us.pressure.russia --share 0.3
    """
    kind = executor_kind(executor, scheduler)
    check_size_options(runs, workers=workers)
    with user_errors(debug):
        from negotiation_sim import api
        from negotiation_sim.analysis.targets import TargetError

        with file_of_kind(scenario, "scenario", "negsim target"):
            sc = api.load_scenario(scenario)
        try:
            answer = api.target(sc, outcome, share, vary, runs=runs, seed=seed, executor=kind,
                                workers=workers, scheduler=scheduler)
        except TargetError as err:
            if debug:
                raise
            raise fail(f"{scenario}: {err}") from None
    if as_json:
        typer.echo(json.dumps(answer.to_json()))
        return
    print_answer(answer, quiet=quiet, words=sc)


def pct(x: float) -> str:
    """A share as a percentage with as few decimals as say it truly: 0.999 is 99.9%, never
    '100%' (nor a share above 0 shown as 0%)."""
    for digits in range(0, 6):
        text = f"{x:.{digits}%}"
        shown = float(text[:-1]) / 100
        if (shown == 1.0) == (x == 1.0) and (shown == 0.0) == (x == 0.0):
            return text
    return f"{x:.6%}"


def print_answer(a, *, quiet: bool = False, words=None) -> None:
    from rich.table import Table

    from negotiation_sim.config.words import words_of

    con = console()
    what = words_of(words).share_word(a.metric)  # the outcome in the scenario's words
    head = (styled((f"{what} reaches {a.share:.1%}", "bold"),
                   f" (95% {a.ci95[0]:.1%}–{a.ci95[1]:.1%}; target {pct(a.target)}, "
                   f"{a.start_share:.1%} in the scenario as written)")
            if a.reached else
            styled(("Not reachable within these ranges", "bold red"),
                   f": {what} at most {a.share:.1%} (95% {a.ci95[0]:.1%}–{a.ci95[1]:.1%}) with "
                   f"every lever at its better end; target {pct(a.target)}, "
                   f"{a.start_share:.1%} as written"))
    con.print(head)
    t = Table(title="Levers" if a.reached else "Levers at the best corner", title_justify="left")
    for col in ("lever", "as written", "needed" if a.reached else "best", "range"):
        t.add_column(col, justify="left" if col == "lever" else "right")
    for p, v in a.levers.items():
        lo, hi = a.ranges[p]
        t.add_row(styled(f"{a.labels.get(p, p)}\n", (p, "dim")), f"{a.start[p]:.4g}",
                  f"{v:.4g}", f"{lo:.4g} – {hi:.4g}")
    con.print(t)
    if not quiet:
        stderr().print(f"{a.evaluations} evaluations, {a.worlds:,} worlds; {a.method}",
                       highlight=False)
