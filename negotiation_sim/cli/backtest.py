"""negsim backtest: the model's probabilities for dated forecasting questions, scored beside
markets and forecasting platforms.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from negotiation_sim.cli.common import (
    DebugOpt,
    ExecutorOpt,
    QuietOpt,
    RUNS_HELP,
    SchedulerOpt,
    SeedOpt,
    WorkersOpt,
    check_out_option,
    check_size_options,
    executor_kind,
    file_of_kind,
    progress_bar,
    stderr,
    user_errors,
)


def backtest(
    questions: Annotated[Path, typer.Argument(help="Backtest YAML file (questions, dated "
                                                   "scenarios, resolutions, forecasts).",
                                              show_default=False)],
    runs: Annotated[int, typer.Option("--runs", "-n", min=1,
                                      help="Simulated worlds per dated scenario "
                                           f"({RUNS_HELP}).")] = 10_000,
    seed: SeedOpt = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout "
                                                         "(nothing else).")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Directory for backtest.json, backtest.csv, backtest.md, "
        "reliability.png and questions.png.")] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Answer each dated question with its scenario and score the answers.

    The model's probability is the share of worlds where the event happens in a round that ends
    by the question's close (round r ends asked + r * round_days). Resolved questions get Brier
    and log scores beside every forecaster's (docs/backtest.md).
    """
    kind = executor_kind(executor, scheduler)
    check_size_options(runs, workers=workers)
    check_out_option(out)
    with user_errors(debug):
        from negotiation_sim import api
        from negotiation_sim.config.backtest import load_backtest

        with file_of_kind(questions, "backtest", "negsim backtest"):
            loaded = load_backtest(questions)
        with progress_bar("worlds", quiet=quiet) as progress:
            result = api.backtest(loaded, runs=runs, seed=seed, executor=kind, workers=workers,
                                  scheduler=scheduler, progress=progress)
        if out is not None:
            written = write_outputs(result, out)
            if not quiet:
                stderr().print("wrote " + ", ".join(str(p) for p in written))
    if as_json:
        typer.echo(json.dumps(result, allow_nan=False))
    else:
        print_tables(result)


def write_outputs(result: dict[str, Any], out: Path) -> list[Path]:
    """backtest.json, .csv, .md and the two figures, each written whole or not at all."""
    from negotiation_sim.analysis.backtest import to_csv, to_markdown
    from negotiation_sim.plots.backtest import question_figure, reliability_figure
    from negotiation_sim.plots.style import save
    from negotiation_sim.results.files import write_json_atomic, write_text_atomic

    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "backtest.json", result)
    write_text_atomic(out / "backtest.csv", to_csv(result))
    write_text_atomic(out / "backtest.md", to_markdown(result))
    figures = {"reliability.png": reliability_figure, "questions.png": question_figure}
    for name, make in figures.items():
        save(make(result), out / name)  # whole or not at all
    return [out / n for n in ("backtest.json", "backtest.csv", "backtest.md", *figures)]


def print_tables(result: dict[str, Any]) -> None:
    """Each question with the model beside every forecaster, then the mean scores."""
    from rich.table import Table

    from negotiation_sim.cli.common import console, styled

    con = console()
    if not con.is_terminal:  # a file or pipe: wide enough for one row per question
        con = console(width=max(con.width, 150))
    names = list(result["forecasters"])
    con.print(styled((result["name"], "bold"), f": {len(result['questions'])} questions, "
                     f"{result['n_resolved']} resolved; {result['runs']:,} worlds per scenario, "
                     f"seed {result['seed']}"))
    t = Table(title="Questions: probability of yes", title_justify="left",
              caption="model: share of worlds where the event happens in a round ending by the "
                      "close, with its 95% interval", caption_justify="left")
    for col in ("question", "event", "asked", "closes", "resolved", "model", "95%", *names):
        t.add_column(col, justify="left" if col in ("question", "event") else "right",
                     no_wrap=col not in ("question", "event"))
    for q in result["questions"]:
        event = q["event"] + (f" {q['holds_days']}d" if q["holds_days"] else "")
        cells = [_num(q["forecasts"].get(n, {}).get("p")) for n in names]
        t.add_row(q["id"], event, q["asked"], q["closes"], q["outcome"] or "open",
                  f"{q['p']:.3f}", f"{q['ci95'][0]:.3f}-{q['ci95'][1]:.3f}", *cells)
    con.print(t)
    t = Table(title="Mean scores over resolved questions", title_justify="left",
              caption="log score ln p if yes, ln(1 - p) if no (p clipped to [1e-6, 1 - 1e-6]): "
                      "nearer 0 is better. Each forecaster beside the model on the same "
                      "questions.", caption_justify="left")
    for col in ("forecaster", "n", "Brier", "log score", "model Brier", "model log score"):
        t.add_column(col, justify="left" if col == "forecaster" else "right")
    ci = result["brier_ci95"]
    t.add_row("model (all resolved)", str(result["n_resolved"]),
              _num(result["brier"]) + (f" ({ci[0]:.3f}-{ci[1]:.3f})" if ci else ""),
              _num(result["log_score"]), "", "")
    for n, f in result["forecasters"].items():
        t.add_row(n, str(f["n"]), _num(f["brier"]), _num(f["log_score"]),
                  _num(f["model_brier"]), _num(f["model_log_score"]))
    con.print(t)


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"
