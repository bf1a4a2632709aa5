"""What every command shares: options, one-line errors, progress bars on stderr.

Conventions: kebab-case options, ``--help`` everywhere; progress and errors on stderr, data on
stdout or in files; exit 0 on success, 1 for invalid input or a failed run, 2 for bad usage.
A mistake in a user's file is one red line ``FILE:LINE: field: message`` (``--debug`` shows the
traceback instead).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Annotated

import typer

DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output on stderr.")]


SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the run's random numbers.")]


ChunkOpt = Annotated[int, typer.Option(
    "--chunk-size", min=1,
    help="Worlds simulated together (memory per chunk; results do not depend on it).")]


def stderr():
    from rich.console import Console

    return Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one red error line on stderr and return the Exit to raise."""
    stderr().print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def user_errors(debug: bool) -> Iterator[None]:
    """Turn input problems into one-line errors with exit code 1 (tracebacks with --debug)."""
    from negotiation_sim.config.yamlio import InputError

    try:
        yield
    except (InputError, NotImplementedError, OSError) as err:
        if debug:
            raise
        raise fail(str(err)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None


@contextlib.contextmanager
def warnings_as_lines(quiet: bool) -> Iterator[None]:
    """Show warnings meant for the user (a changed scenario file, indices not saved: every
    ``UserWarning``) as one yellow line each on stderr, after the command's work; the same
    message once. Other warnings keep the filters they had."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        yield
    for w in caught:  # what the filters let through, shown as Python would have
        if not issubclass(w.category, UserWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if not quiet:
        mine = (str(w.message) for w in caught if issubclass(w.category, UserWarning))
        for message in dict.fromkeys(mine):
            stderr().print(f"[yellow]warning:[/yellow] {message}", highlight=False,
                           soft_wrap=True)


@contextlib.contextmanager
def progress_bar(what: str = "worlds", *, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar of worlds on stderr; silent when quiet or when stderr is not a
    terminal.

    Yields the ``progress(done, total)`` callback the Python API takes (``api.run``,
    ``api.sweep``, ``api.compare``): the bar appears at the first call.
    """
    if quiet or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), TimeRemainingColumn()]
    start = time.perf_counter()
    with Progress(*columns, console=stderr(), transient=True) as bar:
        task = None

        def progress(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task(f"simulating {what}", total=total, rate="")
            rate = done / max(time.perf_counter() - start, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:,.0f} worlds/s")

        yield progress
