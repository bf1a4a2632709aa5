"""What every command shares: options, one-line errors, progress bars on stderr, and the
consoles that show users' text as written.

Conventions: kebab-case options, ``--help`` everywhere; progress and errors on stderr, data on
stdout or in files; exit 0 on success, 1 for invalid input or a failed run, 2 for bad usage.
A mistake in a user's file is one red line ``FILE:LINE: field: message`` (``--debug`` shows the
traceback instead).

Users' text (names, labels, ids, paths, messages that quote them) is shown literally: every
console made here (``console``, ``stderr``) reads no rich markup, no ``:emoji:`` codes and no
highlighting in any string it prints (tables, titles and captions included), and shows control
characters and bidirectional overrides as escapes (``\\x1b``), so a name can neither break a table
nor reach the terminal as a control sequence. The commands' own styling goes through ``Text``
objects and ``style=``, never through markup in strings.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Annotated, Optional

import typer

from negotiation_sim.config.limits import MAX_CHUNK, MAX_RUNS

DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output on stderr.")]


SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the run's random numbers.")]


ChunkOpt = Annotated[int, typer.Option(
    "--chunk-size", min=1,
    help=f"Worlds simulated together (memory per chunk; results do not depend on it; at most "
    f"{MAX_CHUNK:,}, docs/limits.md).")]
RUNS_HELP = f"at most {MAX_RUNS:,}, docs/limits.md"


class ExecutorName(str, Enum):
    """Where chunks of worlds run (``run.executors``)."""

    serial = "serial"
    processes = "processes"
    dask = "dask"


ExecutorOpt = Annotated[Optional[ExecutorName], typer.Option(
    "--executor", "-e", case_sensitive=False,
    help="Where chunks run: serial (this process), processes (local worker processes) or "
         "dask (a LocalCluster, or the cluster at --scheduler); results are the same bits on "
         "every one. Default: serial, or dask with --scheduler.", show_default=False)]
WorkersOpt = Annotated[Optional[int], typer.Option(
    "--workers", "-w", min=1, help="Worker processes (processes, dask LocalCluster). "
                                   "Default: one per CPU; at most 1,024 (docs/limits.md).",
    show_default=False)]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    "--scheduler", help="A running dask scheduler: its address (tcp://host:8786) or its "
                        "scheduler file (JSON).", show_default=False)]


def executor_kind(executor: ExecutorName | None, scheduler: str | None) -> str:
    """The executor's name from ``--executor`` and ``--scheduler`` (bad usage: exit 2)."""
    kind = executor.value if executor else ("dask" if scheduler else "serial")
    if scheduler is not None and kind != "dask":
        raise fail("--scheduler needs --executor dask", 2)
    return kind


def printable(text: object, *, newlines: bool = True) -> str:
    """``config.names.printable``: control characters as visible escapes (imported when first
    used, so that ``negsim --help`` loads nothing of the package below the command line)."""
    from negotiation_sim.config.names import printable as shown

    return shown(text, newlines=newlines)


PIPED_WIDTH = 1000
"""Columns of output that goes to a pipe or a file: wide enough that no table cell or line of
data is ever cut or ellipsised (a terminal's own width applies to a terminal; ``COLUMNS`` set
in the environment applies everywhere)."""


def console(*, stderr: bool = False, width: int | None = None):
    """A rich Console that shows every string it prints literally (see the module docstring).

    Output to a terminal wraps at its width; output piped or written to a file is not cut to
    rich's default of 80 columns (``PIPED_WIDTH``), so data is never ellipsised.
    """
    if width is None and "COLUMNS" not in os.environ:
        stream = sys.stderr if stderr else sys.stdout
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        if not tty:
            width = PIPED_WIDTH
    return _literal_console()(stderr=stderr, width=width, highlight=False, markup=False,
                              emoji=False)


@functools.cache
def _literal_console():
    from rich.console import Console

    class LiteralConsole(Console):
        """Every string rendered (printed, a table cell, a title) is literal and printable."""

        def render_str(self, text, **kwargs):
            kwargs.update(markup=False, emoji=False, highlight=False)
            return super().render_str(printable(text), **kwargs)

    return LiteralConsole


def stderr():
    """The literal console on stderr (progress, warnings, errors)."""
    return console(stderr=True)


def styled(*parts) -> object:
    """A rich ``Text`` of ``(text, style)`` pairs and plain strings, every part literal."""
    from rich.text import Text

    return Text.assemble(*((printable(p[0]), p[1]) if isinstance(p, tuple) else printable(p)
                           for p in parts))


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one red error line on stderr and return the Exit to raise.

    An interrupt may have cut short the first import of rich, which the line is printed with:
    importing it again can then raise instead, and the line is written plainly."""
    try:
        stderr().print(styled(("error:", "red"), " ", message), soft_wrap=True)
    except Exception:  # noqa: BLE001 - a half-made module: any error of its import
        sys.stderr.write(f"error: {message}\n")
        sys.stderr.flush()
    return typer.Exit(code)


def warn(message: str) -> None:
    """Print one yellow warning line on stderr."""
    stderr().print(styled(("warning:", "yellow"), " ", message), soft_wrap=True)


def warn_if_partial(results, path) -> None:
    """Warn (one line) that a sweep's results hold only part of it (interrupted, running or
    killed, failed tasks), with how to finish it; nothing for a run or a complete sweep."""
    note = getattr(results, "status_note", None)
    if note is not None:
        warn(f"{path}: {note}")


def fail_all(messages: list[str], code: int = 1) -> typer.Exit:
    """Print one red error line per message on stderr and return the Exit to raise."""
    for message in messages[:-1]:
        fail(message)
    return fail(messages[-1] if messages else "failed", code)


REPORTED: list[BaseException] = []  # interrupts user_errors has reported (cli.main reads it)


@contextlib.contextmanager
def user_errors(debug: bool) -> Iterator[None]:
    """Turn input problems into one-line errors with exit code 1 (tracebacks with --debug).

    A user's file with several problems gets one line each (as ``negsim validate`` prints
    them); a missing optional dependency, the line naming the extra that installs it.
    """
    from negotiation_sim.config.extras import missing_extra
    from negotiation_sim.config.yamlio import InputError
    from negotiation_sim.run.signals import exit_code

    try:
        yield
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP (cli.main)
        # First: the clauses below import modules to name their errors, and an interrupt that
        # cut an import short leaves that module half made, so importing it again here could
        # raise in the interrupt's place (a traceback and exit 1, seen once under load).
        REPORTED.append(err)
        raise fail(getattr(err, "message", None) or f"interrupted ({err or 'SIGINT'})",
                   exit_code(err)) from None
    except InputError as err:
        if debug:
            raise
        raise fail_all([str(p) for p in err.problems] or [str(err)]) from None
    except ImportError as err:
        if debug:
            raise
        raise fail(str(missing_extra(err) or err)) from None
    except _results_dir_errors() as err:
        if debug:
            raise
        raise fail(str(err)) from None
    except ValueError as err:
        if debug or not isinstance(err, _scheduler_error()):
            raise
        raise fail(str(err)) from None
    except (NotImplementedError, OSError) as err:
        if debug:
            raise
        raise fail(str(err)) from None


@contextlib.contextmanager
def reading(results, debug: bool, scenario=None) -> Iterator[None]:
    """Results a command reads (a run's or a sweep's directory, a trace file) holding a file
    that cannot be read as negsim writes it (not JSON, not Parquet, a directory in a file's
    place, a column or a field missing): one line naming them, exit 1, instead of the parser's
    traceback (``--debug`` shows it). Used inside ``user_errors``."""
    from negotiation_sim.results.reader import RunsNotKept

    try:
        yield
    except RunsNotKept as err:  # no runs.parquet file where the directory should hold one
        if debug:
            raise
        raise fail(f"{results}: {err}") from None
    except unreadable_errors() as err:
        if debug:
            raise
        if isinstance(err, KeyError):
            detail = f"no {err.args[0]!r}" if err.args else "a missing field"
            if scenario is not None:
                detail += "; does --scenario match them?"
        else:
            lines = str(err).strip().splitlines()
            detail = f"{type(err).__name__}: {lines[0] if lines else ''}".rstrip(": ")
        raise fail(f"{results}: cannot read these results ({detail})") from None


def unreadable_errors() -> tuple[type[Exception], ...]:
    """What reading a damaged results file raises (pyarrow imported only when one is)."""
    import json

    from pyarrow import ArrowException

    return (json.JSONDecodeError, UnicodeDecodeError, ArrowException, KeyError,
            IsADirectoryError, NotADirectoryError)


def _results_dir_errors() -> tuple[type[Exception], ...]:
    """A results directory that cannot be used (evaluated only when an exception is raised,
    so that importing the command line loads nothing of the results layer)."""
    from negotiation_sim.results.files import OutDirError
    from negotiation_sim.results.manifest_schema import ManifestError

    return (OutDirError, ManifestError)


def _scheduler_error() -> type[Exception]:
    """A ``--scheduler`` that names no dask scheduler (imported only when a ValueError is
    raised, as above)."""
    from negotiation_sim.run.executors.dask import SchedulerError

    return SchedulerError


def check_out_option(out, kind: str | None = None) -> None:
    """``--out`` (a directory of any ``kind`` of results) that cannot be written, checked
    before anything is read or simulated (``results.files.check_out_path``: a file, a name
    too long, a component that cannot be searched or written, a symbolic link): one line,
    exit 2."""
    _check_out(out, directory=True)


def check_out_file(out) -> None:
    """``--out`` of a command that writes one file that cannot be written (a directory, and
    the checks of ``check_out_option``): one line, exit 2."""
    _check_out(out, directory=False)


def _check_out(out, *, directory: bool) -> None:
    if out is None:
        return
    from negotiation_sim.results.files import OutDirError, check_out_path

    try:
        check_out_path(out, directory=directory)
    except OutDirError as err:
        raise fail(str(err), 2) from None


@contextlib.contextmanager
def writing(*paths) -> Iterator[None]:
    """Hold the lock (``results.lock``) of each of ``paths`` that is a results directory (it
    holds the engine's manifest) while a command reads it or writes into it: a run replacing
    it, or another command writing there, is then one line naming that process, exit 1."""
    from pathlib import Path

    from negotiation_sim.results.lock import results_locks
    from negotiation_sim.results.schema import MANIFEST_FILE

    dirs = [p for p in paths if p is not None and (Path(p) / MANIFEST_FILE).is_file()]
    with results_locks(*dirs):
        yield


def check_size_options(runs: int | None = None, chunk: int | None = None,
                       workers: int | None = None) -> None:
    """``--runs``, ``--chunk-size`` and ``--workers`` within the engine's limits
    (docs/limits.md): one line, exit 2 (bad usage) beyond them."""
    from negotiation_sim.config.limits import MAX_WORKERS, limit_text

    for option, value, limit in (("--runs", runs, MAX_RUNS), ("--chunk-size", chunk, MAX_CHUNK),
                                 ("--workers", workers, MAX_WORKERS)):
        if value is not None and value > limit:
            raise fail(f"{option}: {limit_text(option.lstrip('-'), limit, value)}", 2)


@contextlib.contextmanager
def file_of_kind(path, kind: str, command: str) -> Iterator[None]:
    """A file that fails to load as ``kind`` but is another kind of file (an experiment given
    to ``negsim run``) is bad usage: one line naming the command that takes it, exit 2.

    Only a failed load looks: a valid file is never parsed twice.
    """
    from negotiation_sim.config.yamlio import InputError

    try:
        yield
    except InputError:
        from negotiation_sim.config.kinds import COMMAND, file_kind
        from negotiation_sim.config.yamlio import load_yaml

        try:
            other = file_kind(load_yaml(path).data)
        except Exception:  # noqa: BLE001 - unreadable: the load's own error says why
            other = kind
        if other != kind:
            raise fail(f"{path} is {_a(other)} file, not {_a(kind)} file: run it with "
                       f"{COMMAND[other]} {path} ({command} takes {_a(kind)} file)", 2) from None
        raise


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


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
            warn(message)


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
