"""negsim validate and negsim schema: checking files and exporting their JSON Schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from negotiation_sim.cli.common import DebugOpt, check_out_file, fail, printable, user_errors


def validate(
    files: Annotated[list[Path], typer.Argument(
        help="Scenario, experiment or backtest files to check.", show_default=False)],
    no_warn: Annotated[bool, typer.Option(
        "--no-warn", help="Leave out the sanity warnings (valid but probably unmeant).")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print only problems and warnings, not 'ok FILE' (the exit code "
                              "says whether every file is valid).")] = False,
    debug: DebugOpt = False,
) -> None:
    """Check scenario, experiment or backtest files: prints 'ok FILE' for each valid file, else
    one line per problem (FILE:LINE: field.path: message) and exits 1. An experiment file (one
    with a top-level `scenario:` path) is checked with its scenario and the points of its sweep;
    a backtest file (one with `questions:`) with every question's scenario.

    A valid scenario (or an experiment's scenario) is also checked for what is allowed but
    probably not meant, printed as 'warning: FILE:LINE: field: message' without changing the
    exit code: values that look like percentages or lie off the utility scale, red lines that
    leave no possible agreement, a format no draw of its audience costs lets a leader attend, a
    guarantor cap below the status quo, a ceasefire package some side can never accept,
    distributions with mass outside a field's meaningful range, and events that no world
    plays long enough to see."""
    from negotiation_sim.config.backtest import load_backtest
    from negotiation_sim.config.experiment import load_experiment
    from negotiation_sim.config.kinds import file_kind
    from negotiation_sim.config.extras import missing_extra
    from negotiation_sim.config.scenario import scenario_from_data
    from negotiation_sim.config.yamlio import InputError, load_yaml

    loaders = {"experiment": load_experiment, "backtest": load_backtest}
    failed = False
    for path in files:
        try:
            doc = load_yaml(path)  # read once: its kind, a scenario and the warnings' lines
            kind = file_kind(doc.data)
            loaded = (scenario_from_data(doc.data, doc) if kind == "scenario"
                      else loaders[kind](path))
        except InputError as err:
            if debug:
                raise
            failed = True
            for problem in err.problems:
                typer.echo(printable(problem, newlines=False))
        except ImportError as err:  # an optional dependency the file needs (SALib)
            if debug or missing_extra(err) is None:
                raise
            failed = True
            typer.echo(printable(f"{path}: {missing_extra(err)}", newlines=False))
        else:
            if not quiet:
                typer.echo(printable(f"ok {path}", newlines=False))
            if not no_warn and kind in ("scenario", "experiment"):
                _warn(loaded, doc, kind)
    if failed:
        raise typer.Exit(1)


def _warn(loaded, doc, kind: str) -> None:
    """The sanity warnings of a valid scenario (``doc``: its file), or of an experiment's
    scenario and of the values its points set."""
    from negotiation_sim.core.checks import scenario_warnings

    if kind == "scenario":
        found = scenario_warnings(loaded, doc)
    else:
        found = scenario_warnings(loaded.base, loaded.scenario_doc) + loaded.point_warnings()
    for w in found:
        typer.echo(printable(f"warning: {w}", newlines=False))


def schema(
    kind: Annotated[str, typer.Argument(
        help="Which file format: scenario, experiment or backtest.")] = "scenario",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of scenario, experiment or backtest files, for editor completion
    and checks."""
    from negotiation_sim.config.kinds import KINDS, json_schema

    if kind not in KINDS:
        raise fail(f"unknown schema '{kind}' (choose {', '.join(KINDS[:-1])} or {KINDS[-1]})", 2)
    check_out_file(out)
    text = json.dumps(json_schema(kind), indent=2)
    if out is None:
        typer.echo(text)
    else:
        with user_errors(False):  # written whole or not at all; a disk error is one line
            from negotiation_sim.results.files import write_text_atomic

            write_text_atomic(out, text + "\n")
