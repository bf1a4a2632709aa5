"""negsim robust: which policy (combination of levers) holds up over the uncertainties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from negotiation_sim.cli.common import (
    DebugOpt,
    QuietOpt,
    check_out_option,
    console,
    fail,
    reading,
    stderr,
    styled,
    user_errors,
)

FIGURE = "robustness.png"
FILE = "robustness.json"


def robust(
    results: Annotated[Path, typer.Argument(
        help="The results directory of a sweep with method: robust (negsim sweep).",
        show_default=False)],
    outcome: Annotated[str, typer.Option(
        "--outcome", help="agreement, ceasefire, breakdown or no_summit, or a meeting: talks "
        "(a session of every principal) or leaders (a leaders' session of every principal).")] = "agreement",
    minimize: Annotated[bool, typer.Option(
        "--minimize", help="Less of the outcome is better (e.g. --outcome no_summit).")] = False,
    threshold: Annotated[Optional[float], typer.Option(
        "--threshold", min=0.0, max=1.0,
        help="The share satisficing asks for (at least it; at most it with --minimize). "
             "Default: the mean over every policy and state.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the scores as JSON (nothing else).")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help=f"Directory for {FILE} and the figure {FIGURE} (default: "
                            "RESULTS).")] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the figure.")] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Score each policy of a robust sweep over the same states of the world.

    A sweep with method: robust evaluates every combination of its levers (what a party
    chooses) in the same Latin-hypercube states of its uncertainties (what nobody controls).
    For one outcome share this prints, per policy: the mean over states, the worst state, the
    10th percentile from the bad end, the share of states meeting --threshold (satisficing),
    and the maximum and 90th-percentile regret (the shortfall from the best policy in the same
    state), with the most robust policy under each metric (McPhail et al. 2018: the metrics can
    disagree, so all are shown). Draws each policy's outcome and regret over the states.
    """
    check_out_option(out)
    with user_errors(debug), reading(results, debug):
        from negotiation_sim import api
        from negotiation_sim.analysis.robust import RobustnessError, robustness
        from negotiation_sim.results.reader import SweepResults

        loaded = api.load_results(results)
        if not isinstance(loaded, SweepResults):
            raise fail(f"{results}: robust takes a sweep's results (method: robust), not a "
                       "run's")
        try:
            found = robustness(loaded, outcome, maximize=not minimize, threshold=threshold)
        except RobustnessError as err:
            if debug:
                raise
            raise fail(f"{results}: {err}") from None
        target = out or results
        from negotiation_sim.results.files import all_or_none, write_json_atomic

        with all_or_none() as written:  # a failure leaves neither, not one
            if out is not None or not no_plots:
                target.mkdir(parents=True, exist_ok=True)
                write_json_atomic(target / FILE, found.to_json())
                written.append(target / FILE)
            if not no_plots:
                from negotiation_sim.plots.robust import robustness as figure
                from negotiation_sim.plots.style import save

                save(figure(found, words=loaded), target / FIGURE)
                written.append(target / FIGURE)
    if as_json:
        typer.echo(json.dumps(found.to_json()))
        return
    print_robustness(found, words=loaded)
    if written and not quiet:
        stderr().print(f"wrote {', '.join(str(w) for w in written)}", highlight=False,
                       soft_wrap=True)


def print_robustness(found, *, words=None) -> None:
    """The policies' scores as a table, the best under each metric below it (``words``: the
    results, whose scenario names the outcome: ``config.words.words_of``)."""
    from rich.table import Table

    from negotiation_sim.analysis.robust import METRICS
    from negotiation_sim.config.words import words_of

    con = console()
    word = words_of(words).share_word(found.outcome)
    better = "higher" if found.maximize else "lower"
    con.print(styled(("Which policy is robust?", "bold"),
                     f" {len(found.policies)} policies x {found.values.shape[1]} states of the "
                     f"world, {found.runs:,} worlds each; share of {word}, {better} is better."))
    con.print("levers: " + "; ".join(f"{p} ({found.labels.get(p, p)})" for p in found.levers))
    con.print("uncertainties: " + "; ".join(f"{p} ({found.labels.get(p, p)})"
                                            for p in found.uncertainties))
    heads = {"expected": "mean", "worst": "worst state", "p10": "p10 (bad end)",
             "satisficing": f"meets {found.threshold:.1%}", "max_regret": "max regret",
             "p90_regret": "p90 regret"}
    t = Table(title="Policies by maximum regret (shares and regrets in %; * marks the best "
                    "policy under each metric)", title_justify="left")
    t.add_column("policy")
    for m in METRICS:
        t.add_column(heads[m], justify="right")
    order = found.scores["max_regret"].to_numpy().argsort(kind="stable")
    for i in order:
        cells = []
        for m in METRICS:
            star = "*" if found.best[m] == i else ""
            cells.append(f"{found.scores.loc[i, m] * 100:.1f}{star}")
        t.add_row(found.policy_label(i), *cells)
    con.print(t)
    picks = {found.best[m] for m in METRICS}
    if len(picks) == 1:
        con.print(f"Every metric picks {found.policy_label(picks.pop())}.")
    else:
        con.print("The metrics disagree: " + "; ".join(
            f"{heads[m]}: {found.policy_label(found.best[m])}" for m in METRICS) + ".")
