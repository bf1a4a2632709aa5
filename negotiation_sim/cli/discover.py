"""negsim discover: scenario discovery (PRIM) on a sweep's points or a run's drawn inputs.
"""

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
    warn_if_partial,
)

FIGURE = "discovery.png"


def discover(
    results: Annotated[Path, typer.Argument(
        help="A sweep's results directory, or a run's (negsim run --out) whose scenario draws "
             "inputs.", show_default=False)],
    outcome: Annotated[str, typer.Option(
        "--outcome", help="agreement, ceasefire, breakdown or no_summit, or a meeting: talks "
        "(a session of every principal) or leaders (a leaders' session of every principal).")] = "agreement",
    min_share: Annotated[float, typer.Option(
        "--min-share", min=0.0, max=1.0,
        help="The outcome's share the chosen box must reach (its density).")] = 0.5,
    coverage_slack: Annotated[float, typer.Option(
        "--coverage-slack", min=0.0, max=1.0,
        help="Coverage the chosen box may give up for density: the densest box within this "
             "of the widest box dense enough.")] = 0.02,
    resample: Annotated[int, typer.Option(
        "--resample", min=0, max=1000,
        help="Rerun PRIM on this many half samples and report how often each restriction "
             "comes back (0: skip; each rerun costs about one PRIM run).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the resampling.")] = 0,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the trajectory and the chosen box as JSON (nothing else).")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help=f"Directory for the figure {FIGURE} (default: RESULTS).")] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the figure.")] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Find the input region where an outcome is likely, with PRIM (EMA Workbench's).

    On a sweep the inputs are the swept parameters (each point's worlds count), on a run every
    input the worlds drew. Prints the peeling trajectory (coverage: share of the outcome's
    worlds in the box; density: the outcome's share in the box; inputs restricted; whether
    PRIM peeled or pasted to reach it) and the chosen box in the scenario's words: the densest
    box whose density reaches --min-share and whose coverage is within --coverage-slack of the
    widest such box. Each restriction of the chosen box gets its quasi-p-values (a binomial
    test: could the box's density come from the box without that limit by chance?), what
    dropping it would do to the density, a flag where it barely binds, and with --resample how
    often PRIM finds it again on half samples. Draws the trade-off and the box.
    """
    check_out_option(out)
    with user_errors(debug), reading(results, debug):
        from negotiation_sim import api
        from negotiation_sim.analysis.discovery import DiscoveryError
        from negotiation_sim.analysis.discovery import discover as run_discovery

        try:
            stored = api.load_results(results)
            if not quiet:
                warn_if_partial(stored, results)
            found = run_discovery(stored, outcome, min_share=min_share,
                                  coverage_slack=coverage_slack, resample=resample, seed=seed)
        except (DiscoveryError, ImportError) as err:
            if debug:
                raise
            raise fail(f"{results}: {err}") from None
        figure = None
        if not no_plots:
            from negotiation_sim.plots.discovery import discovery
            from negotiation_sim.plots.style import save

            target = out or (results if results.is_dir() else results.parent)
            target.mkdir(parents=True, exist_ok=True)
            figure = target / FIGURE
            save(discovery(found, words=stored), figure)
    if as_json:
        typer.echo(json.dumps(found.to_json()))
        return
    print_discovery(found, words=stored)
    if figure is not None and not quiet:
        stderr().print(f"figure: {figure}", highlight=False)


def print_discovery(found, *, words=None) -> None:
    """The trajectory as a table and the chosen box in words, on stdout (``words``: the
    results, whose scenario names the outcome: ``config.words.words_of``)."""
    from rich.table import Table

    from negotiation_sim.config.words import words_of

    con = console()
    what = "sweep points' worlds" if found.kind == "sweep" else "worlds' drawn inputs"
    said = words_of(words).share_word(found.outcome)
    con.print(styled((f"Where is {said} likely?", "bold"),
                     f" PRIM over {found.worlds:,} rows ({what}); {found.outcome} in "
                     f"{found.base_share:.1%}."))
    t = Table(title="Peeling trajectory", title_justify="left",
              caption="coverage: share of the outcome's worlds inside the box; density: the "
                      "outcome's share among the box's worlds", caption_justify="left")
    for col in ("box", "step", "coverage", "density", "inputs restricted"):
        t.add_column(col, justify="right")
    for i, b in enumerate(found.boxes):
        mark = " <" if i == found.chosen else ""
        t.add_row(f"{i}{mark}", found.steps[i], f"{b.coverage:.1%}", f"{b.density:.1%}",
                  str(b.restricted))
    con.print(t)
    box = found.box
    if found.reached:
        con.print(styled((f"Chosen box {found.chosen}", "bold"),
                         f": {found.outcome} in {box.density:.1%} of its worlds (at least "
                         f"{found.min_share:.0%}), holding {box.coverage:.1%} of all of them, "
                         "when"))
    else:
        con.print(styled((f"No box reaches {found.min_share:.0%}", "bold"),
                         f"; the densest, box {found.chosen}: {found.outcome} in "
                         f"{box.density:.1%} of its worlds, holding {box.coverage:.1%} of all of "
                         "them, when"))
    for line in found.describe() or ["(no input restricted: anywhere in the space)"]:
        con.print(f"  - {line}")
    if found.restrictions:
        con.print(restrictions_table(found))


def restrictions_table(found):
    """The chosen box's restrictions: quasi-p-values, density without each, flags."""
    from rich.table import Table

    resampled = any(r.reproduce is not None for r in found.restrictions.values())
    t = Table(title="Restrictions of the chosen box", title_justify="left",
              caption="qp: quasi-p-value of the lower / upper limit (one-sided binomial test; "
                      "above 0.05 the data do not support the limit); barely binds: dropping "
                      "it lowers density by less than 1 point", caption_justify="left")
    for col in ("input", "qp lower", "qp upper", "density without", "flag"):
        t.add_column(col, justify="left" if col in ("input", "flag") else "right")
    if resampled:
        t.add_column("found again (coverage / density)", justify="right")
    for p, r in found.restrictions.items():
        flags = [w for w, on in (("barely binds", not r.binds),
                                 ("not significant", not r.significant)) if on]
        row = [found.labels.get(p, p), *(_qp(q) for q in r.qp), f"{r.density_without:.1%}",
               ", ".join(flags) or "ok"]
        if resampled:
            row.append("-" if r.reproduce is None
                       else f"{r.reproduce[0]:.0%} / {r.reproduce[1]:.0%}")
        t.add_row(*row)
    return t


def _qp(q: float | None) -> str:
    if q is None:
        return "-"
    return "< 0.001" if q < 0.001 else f"{q:.3f}"
