"""The ``negsim`` command line: run scenarios, validate files, export the schema.

Conventions: kebab-case options, ``--help`` everywhere; progress and errors on stderr, data on
stdout or in files; exit 0 on success, 1 for invalid input or a failed run, 2 for bad usage.
A mistake in a user's file is one red line ``FILE:LINE: field: message`` (``--debug`` shows the
traceback instead).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from negotiation_sim import __version__

app = typer.Typer(
    name="negsim",
    help="Simulate negotiations between states: will the summit happen, in which format, and "
    "does it end in agreement, ceasefire or breakdown? Scenarios are YAML files "
    "(see scenarios/ and docs/scenario.md).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output on stderr.")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the run's random numbers.")]


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one red error line on stderr and return the Exit to raise."""
    _stderr().print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def user_errors(debug: bool) -> Iterator[None]:
    """Turn input problems into one-line errors with exit code 1 (tracebacks with --debug)."""
    from negotiation_sim.yamlio import InputError

    try:
        yield
    except (InputError, NotImplementedError, OSError) as err:
        if debug:
            raise
        raise fail(str(err)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"negsim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
) -> None:
    """negsim: negotiation scenario simulation."""


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Number of simulated worlds.")] = 10_000,
    seed: SeedOpt = 0,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Directory for runs.parquet, summary.json, manifest.json and the figures "
        "(outcomes, terms, utilities, formats .png).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout (nothing else).")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="With --out, skip the figures.")] = False,
    chunk_size: Annotated[int, typer.Option(
        "--chunk-size", min=1, help="Worlds simulated together (memory per chunk; results do not depend on it).")] = 16384,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run a scenario's ensemble of worlds and summarise the outcomes.

    Prints outcome shares with 95% Wilson intervals, the summit formats held, the terms of
    agreements per issue (mean and 5th/50th/95th percentiles) and mean utilities.
    """
    with user_errors(debug):
        from negotiation_sim.scenario import load_scenario

        sc = load_scenario(scenario)
        summary = _run(sc, str(scenario), runs=runs, seed=seed, out=out, chunk_size=chunk_size,
                       quiet=quiet, plots=not no_plots)
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        print_summary(sc, summary)
        if out is not None and not quiet:
            _stderr().print(f"wrote {out}/runs.parquet, summary.json, manifest.json"
                            + ("" if no_plots else ", outcomes.png, terms.png, utilities.png, "
                               "formats.png"))


def _run(sc, source: str, *, runs: int, seed: int, out: Path | None, chunk_size: int,
         quiet: bool, plots: bool) -> dict[str, Any]:
    import time

    from negotiation_sim.results import Accumulator, RunWriter, manifest, write_json_atomic
    from negotiation_sim.runner import iter_chunks

    acc = Accumulator.for_scenario(sc)
    writer = RunWriter(out, sc) if out is not None else None
    start = time.perf_counter()
    with progress_bar(runs, "worlds", quiet=quiet) as advance:
        for chunk in iter_chunks(sc, runs, seed=seed, chunk_size=chunk_size, on_chunk=advance):
            acc.add(chunk)
            if writer is not None:
                writer.add(chunk)
    summary = acc.summary(sc.name, seed)
    if out is not None:
        writer.close()
        write_json_atomic(out / "summary.json", summary)
        write_json_atomic(out / "manifest.json", manifest(
            sc, source, seed=seed, runs=runs, chunk_size=chunk_size,
            seconds=round(time.perf_counter() - start, 3)))
        if plots:
            from negotiation_sim import plots as plotting

            results = plotting.RunResults.load(out, sc)
            plotting.write_figures(plotting.run_figures(results), out)
    return summary


@contextlib.contextmanager
def progress_bar(total: int, unit: str, *, quiet: bool):
    """A rich progress bar on stderr; silent when quiet or when stderr is not a terminal.

    Yields a function ``advance(n)``.
    """
    if quiet or not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    import time

    columns = [TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), TimeRemainingColumn()]
    start = time.perf_counter()
    with Progress(*columns, console=_stderr(), transient=True) as bar:
        task = bar.add_task(f"simulating {unit}", total=total, rate="")
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            rate = done / max(time.perf_counter() - start, 1e-9)
            bar.update(task, advance=n, rate=f"{rate:,.0f} {unit}/s")

        yield advance


def print_summary(sc, summary: dict[str, Any]) -> None:
    """The run summary as tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    from negotiation_sim.plots import OUTCOME_LABELS

    con = Console()
    con.print(f"[bold]{summary['scenario']}[/bold]: {summary['runs']:,} worlds, seed {summary['seed']}, "
              f"protocol {sc.protocol.kind}")
    t = Table(title="Outcomes", title_justify="left")
    t.add_column("outcome")
    t.add_column("share", justify="right")
    t.add_column("95% interval", justify="right")
    for name, o in summary["outcomes"].items():
        lo, hi = o["ci95"]
        t.add_row(OUTCOME_LABELS[name], f"{o['share']:.1%}", f"{lo:.1%} – {hi:.1%}")
    con.print(t)
    t = Table(title="Summit formats held", title_justify="left")
    t.add_column("format")
    t.add_column("share of worlds", justify="right")
    for f, share in summary["formats"].items():
        t.add_row(f, f"{share:.1%}")
    con.print(t)
    _print_terms(con, sc, summary)
    _print_solutions(con, summary)
    t = Table(title="Mean utility at the outcome", title_justify="left",
              caption="1 = the actor's own ideal text; principals' deals are discounted, and "
                      "breakdown or no summit is worth their value of war; other actors count "
                      "only outcomes with a text", caption_justify="left")
    t.add_column("actor")
    t.add_column("role")
    t.add_column("mean utility", justify="right")
    for a, u in summary["utilities"].items():
        t.add_row(sc.actors[a].display(a), sc.actors[a].role,
                  "–" if u["mean"] is None else f"{u['mean']:.3f}")
    con.print(t)


def _print_terms(con, sc, summary: dict[str, Any]) -> None:
    from rich.table import Table

    rounds = summary["rounds"]
    if rounds is None:
        con.print("[italic]No world reached agreement: no terms to show.[/italic]")
        return
    t = Table(title=f"Terms of agreements (0 = low end, 1 = high end); agreed in round "
              f"{rounds['mean']:.1f} on average (median {rounds['p50']:.0f})", title_justify="left")
    for col in ("issue", "mean", "sd", "p05", "p50", "p95"):
        t.add_column(col, justify="left" if col == "issue" else "right")
    for k, stats in summary["terms"].items():
        t.add_row(k, *(f"{stats[c]:.3f}" for c in ("mean", "sd", "p05", "p50", "p95")))
    con.print(t)
    for k, issue in sc.issues.items():
        con.print(f"  [bold]{k}[/bold]: 0 = {issue.label('low')}; 1 = {issue.label('high')}",
                  highlight=False)


def _print_solutions(con, summary: dict[str, Any]) -> None:
    from rich.table import Table

    sol = summary.get("solutions")
    if not sol:
        return
    names = ("nash", "kalai_smorodinsky", "weighted_mean", "weighted_median")
    t = Table(title="Reference solutions, mean over worlds (docs/protocols.md)", title_justify="left")
    t.add_column("issue")
    for name in ("Nash", "Kalai-Smorodinsky", "weighted mean", "weighted median"):
        t.add_column(name, justify="right")
    for k in summary["terms"]:
        t.add_row(k, *("–" if sol[n][k] is None else f"{sol[n][k]:.3f}" for n in names))
    con.print(t)
    if sol["distance_to_nash"] is not None:
        con.print(f"Agreed terms lie {sol['distance_to_nash']:.3f} from the Nash text on average "
                  "(Euclidean, over agreements).")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario or experiment files to check.",
                                                show_default=False)],
    debug: DebugOpt = False,
) -> None:
    """Check scenario or experiment files: prints 'ok FILE' for each valid file, else one line
    per problem (FILE:LINE: field.path: message) and exits 1. An experiment file (one with a
    top-level `scenario:` path) is checked with its scenario and every point of its sweep."""
    from negotiation_sim.experiment import load_experiment
    from negotiation_sim.scenario import load_scenario
    from negotiation_sim.yamlio import InputError, load_yaml

    failed = False
    for path in files:
        try:
            data = load_yaml(path).data
            if isinstance(data, dict) and "scenario" in data and "actors" not in data:
                load_experiment(path)
            else:
                load_scenario(path)
        except InputError as err:
            if debug:
                raise
            failed = True
            for problem in err.problems:
                typer.echo(str(problem))
        else:
            typer.echo(f"ok {path}")
    if failed:
        raise typer.Exit(1)


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(
        help="Which file format: scenario or experiment.")] = "scenario",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of scenario (or experiment) files, for editor completion and checks."""
    if kind == "scenario":
        from negotiation_sim.scenario import json_schema
    elif kind == "experiment":
        from negotiation_sim.experiment import experiment_schema as json_schema
    else:
        raise fail(f"unknown schema '{kind}' (choose scenario or experiment)", 2)
    text = json.dumps(json_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")


def main() -> None:
    """Entry point of the ``negsim`` console script."""
    app()


# Commands owned by other modules register themselves on ``app`` when imported.
from negotiation_sim import cli_figures, cli_sweep, cli_trace  # noqa: E402,F401


if __name__ == "__main__":
    main()
