"""negsim explore: a scenario's levers in the browser, rerun as they move (a local Solara app).

The server (``explore.server``) answers only pages of its own address on 127.0.0.1 and stops on
SIGINT, SIGTERM or SIGHUP with one line and exit ``128 + signal``, as every command does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from negotiation_sim.cli.common import (
    DebugOpt,
    SeedOpt,
    fail,
    file_of_kind,
    stderr,
    user_errors,
)

EXTRA = "explore"


def explore(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535,
                                      help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Do not open a browser; print the address only.")] = False,
    runs: Annotated[int, typer.Option("--runs", "-n", min=100, max=200_000,
                                      help="Worlds per rerun.")] = 5_000,
    save_dir: Annotated[Optional[Path], typer.Option(
        "--save-dir", file_okay=False,
        help="Folder where the page's Save button writes (default: the scenario's folder); "
        "the page names a file in it, never a path.", show_default=False)] = None,
    seed: SeedOpt = 0,
    debug: DebugOpt = False,
) -> None:
    """Explore a scenario in the browser: sliders for every mediator pressure, guarantor offer,
    audience cost, red line, value of war, the deadline, information and protocol; each change
    reruns the worlds with a fixed seed and shows the outcome shares with 95% intervals, the
    meetings (talks, a leaders' meeting, a settlement: shares with intervals and by round), the
    formats, the terms figure and one world's story, marked while a rerun for the levers as they
    are is still running. The changed scenario can be downloaded or saved as YAML in the
    scenario's folder (or --save-dir): the same numbers as `negsim run SAVED.yaml --runs N
    --seed S`. Served on 127.0.0.1 to this machine's pages only; stop with Ctrl-C.
    """
    with user_errors(debug):
        from negotiation_sim.config.scenario import load_scenario

        with file_of_kind(scenario, "scenario", "negsim explore"):
            load_scenario(scenario)  # a mistake is one located line, before any server starts
        folder = _save_folder(save_dir) if save_dir else scenario.resolve().parent
        try:
            from negotiation_sim.explore import server
        except ImportError:
            raise fail(f"negsim explore needs Solara: pip install 'negotiation_sim[{EXTRA}]'") \
                from None
        from negotiation_sim.explore.session import RUNS_ENV, SAVE_DIR_ENV, SCENARIO_ENV, \
            SEED_ENV

        sock = server.bind(port)  # a port in use is one line, before the first run
        os.environ[SCENARIO_ENV] = str(scenario.resolve())
        os.environ[RUNS_ENV], os.environ[SEED_ENV] = str(runs), str(seed)
        os.environ[SAVE_DIR_ENV] = str(folder)
        server.configure_solara()
        # the first run, before the page is asked for
        import negotiation_sim.explore.app  # noqa: F401

        stderr().print(f"negsim explore: {scenario} ({runs:,} worlds per rerun, seed {seed}) "
                       f"at http://localhost:{sock.getsockname()[1]}/ ; Ctrl-C stops the server",
                       highlight=False, soft_wrap=True)
        try:
            server.serve(sock, open_browser=not no_browser)
        except KeyboardInterrupt as err:
            _stopped(err)


def _stopped(err: KeyboardInterrupt) -> None:
    """End the process after the server stopped on a signal: one line, exit 128 + signal.

    The server has shut down (pages told, kernels closed, nothing left to write), but the
    threads of its libraries (Solara's kernels, zmq, the event loop's workers) are not joined,
    and the interpreter's clean-up after them has been seen to crash (SIGSEGV after the line).
    So the process ends here, without that clean-up.
    """
    from negotiation_sim.run.signals import exit_code

    code = exit_code(err)
    fail(f"interrupted ({err or 'SIGINT'})", code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _save_folder(folder: Path) -> Path:
    """The folder --save-dir names, resolved once (a link swapped in later changes nothing)."""
    folder = folder.resolve()
    if not folder.is_dir():
        raise fail(f"--save-dir {folder}: not a folder")
    if not os.access(folder, os.W_OK):
        raise fail(f"--save-dir {folder}: not writable")
    return folder
