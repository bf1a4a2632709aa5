"""negsim trace: one world's negotiation told round by round.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from negotiation_sim.cli.common import (
    DebugOpt,
    SeedOpt,
    console,
    fail,
    file_of_kind,
    styled,
    user_errors,
)
from negotiation_sim.config.limits import MAX_RUNS, limit_text


def trace(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    seed: SeedOpt = 0,
    world: Annotated[int, typer.Option(
        "--world", "-w", min=0, help="Which world of `negsim run` (same seed) to tell (at most "
        f"{MAX_RUNS - 1:,}, the last world of the largest run; docs/limits.md).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the story as JSON on stdout.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Tell one world's negotiation round by round: each round's invitations (who refused
    which format, and why: preconditions, or expected gain plus blame short of the audience
    cost), each text, who accepted or rejected, walk-outs, the outcome, the final utilities
    and why the world ended as it did."""
    if world > MAX_RUNS - 1:  # beyond any run (and int64, whose overflow is no error message)
        raise fail(f"--world: {limit_text('world', MAX_RUNS - 1, world)}", 2)
    with user_errors(debug):
        from negotiation_sim import api

        with file_of_kind(scenario, "scenario", "negsim trace"):
            sc = api.load_scenario(scenario)
        story = api.trace(sc, seed=seed, world=world)
    if as_json:
        typer.echo(json.dumps(story))
    else:
        print_story(sc, story)


def print_story(sc, story: dict[str, Any]) -> None:
    """The story as text and a table on stdout."""
    from rich.table import Table

    from negotiation_sim.run.story import (
        invitations_line,
        meetings_line,
        outcome_line,
        values_text,
    )

    war = sc.words.no_deal
    con = console()
    con.print(styled((story["scenario"], "bold"), f": world {story['world']}, seed "
                     f"{story['seed']}, protocol {story['protocol']}"))
    if story["inputs"]:
        con.print("Drawn inputs: " + values_text(story["inputs"]))
    for r in story.get("calendar", []):
        con.print("  " + invitations_line(sc, r))
    if "talks_round" in story["outcome"]:
        con.print(meetings_line(story["outcome"]))
    for e in story.get("events", []):
        con.print(f"  before round {e['round']}: {e['event']} (values of {war} now "
                  f"{values_text(e['value_of_war'])})")
    if story["rounds"]:
        t = Table(title="Rounds (values per round, on the texts' utility scale)",
                  title_justify="left")
        for col in ("round", "proposer", "text", "value of the text", f"value of {war}",
                    "answers", "walk-out"):
            t.add_column(col)
        for r in story["rounds"]:
            answers = r.get("answers") or {p: ("accepts" if ok else "rejects")
                                           for p, ok in (r.get("accept") or {}).items()}
            t.add_row(str(r["round"]), r.get("proposer", "mediator" if "claim" in r else "–"),
                      values_text(r["text"]), values_text(r.get("value")),
                      values_text(r.get("value_of_war")),
                      ", ".join(f"{p}: {a}" for p, a in answers.items()),
                      "yes" if r.get("walked_out") else "")
        con.print(t)
        last = story["rounds"][-1]
        if "positions" in last:
            con.print("Final stated positions: " + "; ".join(
                f"{a}: {values_text(p)}" for a, p in last["positions"].items()))
    o = story["outcome"]
    head, rest = outcome_line(sc, o)
    con.print(styled((head, "bold"), rest))
    if o["terms"]:
        con.print("Terms: " + values_text(o["terms"]))
    con.print("Utilities: " + values_text(o["utilities"]))
    if story.get("why"):
        con.print(f"Why: {story['why']}")
