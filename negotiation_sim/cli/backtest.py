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
    fail,
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
        "reliability.png, questions.png and, with a record, posterior.png.")] = None,
    min_ess: Annotated[Optional[float], typer.Option(
        "--min-ess", min=1e-9, help="Refuse a conditioned day whose agreeing worlds weigh fewer "
        "effective worlds than this (default: the file's min_ess, else the scenario's "
        "history.min_ess).")] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Answer each dated question with its scenario and score the answers.

    The model's probability is the share of worlds where the event happens in a round that ends
    by the question's close (round r ends asked + r * round_days); a question answered from the
    file's scenario is conditioned on its record as known the day asked. Resolved questions get
    Brier and log scores beside every forecaster's, skill, the Murphy decomposition and intervals
    over events (docs/backtest.md).
    """
    kind = executor_kind(executor, scheduler)
    check_size_options(runs, workers=workers)
    check_out_option(out)
    with user_errors(debug):
        from negotiation_sim import api
        from negotiation_sim.config.backtest import load_backtest

        with file_of_kind(questions, "backtest", "negsim backtest"):
            loaded = load_backtest(questions)
        from negotiation_sim.run.condition import TooFewWorlds

        try:
            with progress_bar("worlds", quiet=quiet) as progress:
                result = api.backtest(loaded, runs=runs, seed=seed, executor=kind,
                                      workers=workers, scheduler=scheduler, progress=progress,
                                      min_ess=min_ess)
        except TooFewWorlds as err:
            if debug:
                raise
            raise fail(f"{questions}: {err}") from None
        if out is not None:
            written = write_outputs(result, out)
            if not quiet:
                stderr().print("wrote " + ", ".join(str(p) for p in written))
    if as_json:
        typer.echo(json.dumps(result, allow_nan=False))
    else:
        print_tables(result)


def write_outputs(result: dict[str, Any], out: Path) -> list[Path]:
    """backtest.json, .csv, .md and the figures (posterior.png too when a question is
    conditioned), each written whole or not at all."""
    from negotiation_sim.analysis.backtest import to_csv, to_markdown
    from negotiation_sim.plots.backtest import (
        posterior_figure,
        question_figure,
        reliability_figure,
    )
    from negotiation_sim.plots.style import save
    from negotiation_sim.results.files import all_or_none, write_json_atomic, write_text_atomic

    out.mkdir(parents=True, exist_ok=True)
    figures = {"reliability.png": reliability_figure, "questions.png": question_figure}
    info = result.get("conditioning")
    if info and info.get("posterior"):
        figures["posterior.png"] = lambda r: posterior_figure(
            info["posterior"], f"What the record known on {info['posterior_day']} taught the "
            f"drawn inputs\n{r['name']}: {r['runs']:,} worlds, seed {r['seed']}")
    with all_or_none() as written:  # a failure leaves none of them, not some
        write_json_atomic(out / "backtest.json", result)
        written.append(out / "backtest.json")
        for name, text in (("backtest.csv", to_csv(result)), ("backtest.md", to_markdown(result))):
            write_text_atomic(out / name, text)
            written.append(out / name)
        for name, make in figures.items():
            save(make(result), out / name)  # whole or not at all
            written.append(out / name)
    return written


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
                      "close (conditioned questions: weighted share of the worlds agreeing with "
                      "the record known that day, in the rounds from the day asked to the "
                      "close), with its 95% interval", caption_justify="left")
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
    if result.get("murphy"):
        con.print(skill_table(result))
    if result.get("conditioning"):
        for table in conditioning_tables(result["conditioning"]):
            con.print(table)


def skill_table(result: dict[str, Any]):
    """The model's scores that need the outcomes together: over events, against the base rate
    and each forecaster, and Murphy's decomposition."""
    from rich.table import Table

    m = result["murphy"]
    t = Table(title=f"What the scores say: {result['n_resolved']} resolved questions on "
                    f"{result['n_events']} events, {result['n_yes']} yes", title_justify="left",
              caption="Intervals resample events (questions on one event resolve together). "
                      "Skill 1 - Brier / reference: above 0 beats it. Brier = reliability - "
                      "resolution + uncertainty + within-bin; resolution 0: the forecasts do "
                      "not tell yes from no.", caption_justify="left")
    for col in ("score", "value"):
        t.add_column(col, justify="left" if col == "score" else "right")
    ci, lci = result["brier_events_ci95"], result["log_score_events_ci95"]
    t.add_row("model Brier (95% over events)", f"{m['brier']:.3f} ({ci[0]:.3f}-{ci[1]:.3f})")
    t.add_row("model log score (95% over events)",
              f"{result['log_score']:.3f} ({lci[0]:.3f}-{lci[1]:.3f})")
    t.add_row(f"base rate {result['base_rate']:.3f}: Brier", _num(result["base_rate_brier"]))
    t.add_row("skill against the base rate", _num(result["skill_vs_base_rate"]))
    for name, sk in result.get("skill_vs", {}).items():
        t.add_row(f"skill against {name} (its {result['forecasters'][name]['n']} questions)",
                  _num(sk))
    for key in ("reliability", "resolution", "uncertainty", "within"):
        t.add_row(key, _num(m[key]))
    return t


def conditioning_tables(info: dict[str, Any]) -> list:
    """The effective sample of each asking day, and what the record taught the drawn inputs."""
    from rich.table import Table

    t = Table(title=f"Conditioning on the record of {info['scenario']} (mismatch weight "
                    f"{info['mismatch']:g} per disagreeing observation)", title_justify="left",
              caption=f"ESS: effective worlds, (sum w)^2 / sum w^2; a day below "
                      f"{info['min_ess']:g} is refused.", caption_justify="left")
    for col in ("asked", "observations known", "ESS", "worlds"):
        t.add_column(col, justify="right")
    for d in info["days"]:
        t.add_row(d["day"], str(d["observations"]), f"{d['ess']:,.0f}", f"{d['worlds']:,}")
    out = [t]
    if info.get("posterior"):
        out.append(posterior_rich(info["posterior"], f"What the record known on "
                                  f"{info['posterior_day']} taught the drawn inputs"))
    return out


def posterior_rich(rows: list[dict[str, Any]], title: str):
    """Each drawn input's prior beside its posterior: mean, sd, 5th-95th percentiles."""
    from rich.table import Table

    t = Table(title=title, title_justify="left",
              caption="posterior: the weighted worlds (run.condition); shift: posterior - prior "
                      "mean in prior sds", caption_justify="left")
    for col in ("input", "prior mean", "prior 5-95%", "posterior mean", "posterior 5-95%",
                "sd ratio", "shift"):
        t.add_column(col, justify="left" if col == "input" else "right")
    for r in rows:
        a, b = r["prior"], r["posterior"]
        shift = (b["mean"] - a["mean"]) / a["sd"] if a["sd"] > 0 else 0.0
        t.add_row(r["input"], f"{a['mean']:.3f}", f"{a['q'][0]:.3f}-{a['q'][-1]:.3f}",
                  f"{b['mean']:.3f}", f"{b['q'][0]:.3f}-{b['q'][-1]:.3f}",
                  f"{b['sd'] / a['sd']:.2f}" if a["sd"] > 0 else "–", f"{shift:+.2f}")
    return t


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"
