"""negsim explore: a scenario's levers in the browser, rerun as they move (a local Solara app).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from negotiation_sim.cli.common import DebugOpt, SeedOpt, fail, stderr, user_errors

EXTRA = "explore"


def explore(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535,
                                      help="Port on localhost (0: any free port).")] = 8765,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Do not open a browser; print the address only.")] = False,
    runs: Annotated[int, typer.Option("--runs", "-n", min=100, max=200_000,
                                      help="Worlds per rerun.")] = 5_000,
    seed: SeedOpt = 0,
    debug: DebugOpt = False,
) -> None:
    """Explore a scenario in the browser: sliders for every mediator pressure, guarantor offer,
    audience cost, red line, value of war, the deadline, information and protocol; each change
    reruns the worlds with a fixed seed and shows the outcome shares with 95% intervals, the
    formats, the terms figure and one world's story. The changed scenario can be saved as YAML
    (the same numbers as `negsim run SAVED.yaml --runs N --seed S`). Stop with Ctrl-C.
    """
    with user_errors(debug):
        from negotiation_sim.config.scenario import load_scenario

        load_scenario(scenario)  # a mistake is one located line, before any server starts
    try:
        os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
        import solara.__main__ as solara_main
    except ImportError:
        raise fail(f"negsim explore needs Solara: pip install 'negotiation_sim[{EXTRA}]'") \
            from None
    from negotiation_sim.explore.session import RUNS_ENV, SCENARIO_ENV, SEED_ENV

    os.environ[SCENARIO_ENV] = str(scenario.resolve())
    os.environ[RUNS_ENV], os.environ[SEED_ENV] = str(runs), str(seed)
    import negotiation_sim.explore.app  # noqa: F401  the first run, before the page is asked for

    stderr().print(f"negsim explore: {scenario} ({runs:,} worlds per rerun, seed {seed}); "
                   "Ctrl-C stops the server", highlight=False)
    args = ["negotiation_sim.explore.app", "--host", "localhost", "--port", str(port),
            "--no-check-version", "--log-level", "warning", "--production",
            "--no-open" if no_browser else "--open"]
    try:
        solara_main.run.main(args=args, standalone_mode=False)
    except KeyboardInterrupt:
        pass
