"""The ``negsim`` command line: one module per command group, registered here explicitly.

Command modules define plain functions with typer annotations and import only ``cli.common``
(and, inside the functions, the layers below); this module builds the ``app`` and registers
every command in the order ``negsim --help`` lists them. Nothing here imports numpy or the
model, so ``negsim --help`` starts fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Optional

import typer
import typer.core

from negotiation_sim import __version__
from negotiation_sim.cli import (
    backtest,
    discover,
    explore,
    export,
    figures,
    files,
    robust,
    run,
    sweep,
    target,
    trace,
)

def _tidy(params: list) -> list:
    """Name arguments the one way (upper case: ``{SCENARIO}`` required, ``[KIND]`` optional)
    and show no value type beside flags (``--quiet``, not ``--quiet <bool>``): a flag takes no
    value."""
    for param in params:
        if param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif isinstance(param, typer.core.TyperArgument):
            param.metavar = param.name.upper()  # usage adds {} if required, [] if not
    return params


@contextlib.contextmanager
def _one_line_usage() -> Iterator[None]:
    """A usage error of the command line (an option's value out of range or not one of its
    choices, an unknown option or command, a missing argument) as one error line naming the
    command's --help, exit code 2, as every other input error is one line (typer would draw a
    box of five lines with the usage above it). ``negsim`` alone still prints the help."""
    usage, help_only = _usage_errors()
    try:
        yield
    except help_only:
        raise
    except usage as err:
        from negotiation_sim.cli.common import fail

        where = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
        message = " ".join(err.format_message().split())
        raise fail(message.rstrip(".") + where, 2) from None


def _usage_errors() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """``(UsageError classes, NoArgsIsHelpError classes)`` of the click typer parses with:
    its own copy (``typer.core._click``, typer 0.2x) and the click package (older typer)."""
    import importlib

    usage, help_only = [], []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        usage.append(module.UsageError)
        if hasattr(module, "NoArgsIsHelpError"):
            help_only.append(module.NoArgsIsHelpError)
    return tuple(usage), tuple(help_only)


class _Command(typer.core.TyperCommand):
    """A command whose --help is tidied (``_tidy``) and whose usage errors are one line
    (``_one_line_usage``)."""

    def get_params(self, ctx):
        return _tidy(super().get_params(ctx))

    def make_context(self, info_name, args, parent=None, **extra):
        with _one_line_usage():
            return super().make_context(info_name, args, parent=parent, **extra)


class _Group(typer.core.TyperGroup):
    """``negsim --help`` tidied like every command's (``_tidy``); an unknown command or option
    of ``negsim`` itself is one line (``_one_line_usage``)."""

    def get_params(self, ctx):
        return _tidy(super().get_params(ctx))

    def make_context(self, info_name, args, parent=None, **extra):
        with _one_line_usage():
            return super().make_context(info_name, args, parent=parent, **extra)

    def resolve_command(self, ctx, args):
        with _one_line_usage():
            return super().resolve_command(ctx, args)


app = typer.Typer(
    name="negsim",
    help="Simulate negotiations between states as ensembles of worlds: does a meeting happen, "
    "in which format, does it end in agreement, ceasefire or breakdown, on which terms, and "
    "which levers move those odds. A scenario is a YAML file of issues and actors (see "
    "docs/tutorial.md to write one; scenarios/ holds the Russia-Ukraine war's). The commands "
    "below are listed in the order of a study: check, run, read, compare, sweep, analyse.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    cls=_Group,
)

COMMANDS = [  # (function, name), in the order of ``negsim --help``: the order of a workflow
    (files.validate, "validate"),
    (files.schema, "schema"),
    (run.run, "run"),
    (trace.trace, "trace"),
    (figures.plot, "plot"),
    (figures.report, "report"),
    (figures.compare, "compare"),
    (sweep.sweep, "sweep"),
    (sweep.sensitivity, "sensitivity"),
    (discover.discover, "discover"),
    (robust.robust, "robust"),
    (target.target, "target"),
    (backtest.backtest, "backtest"),
    (explore.explore, "explore"),
    (export.export, "export"),
]


def _one_line_paragraphs(function) -> None:
    """Join each paragraph of a command's docstring into one line, so that ``--help`` wraps it
    to the terminal instead of keeping the source's line breaks (paragraphs holding a list, a
    line starting with "-", keep theirs)."""
    import inspect

    doc = inspect.cleandoc(function.__doc__ or "")
    paragraphs = [p if any(line.lstrip().startswith("-") for line in p.splitlines())
                  else " ".join(p.split()) for p in doc.split("\n\n")]
    function.__doc__ = "\n\n".join(paragraphs)


def _short_help(function) -> str:
    """The first sentence of a command's docstring (the list of ``negsim --help``)."""
    first = (function.__doc__ or "").split("\n\n")[0]
    head, dot, _ = first.partition(". ")
    return head + "." if dot else first


for _function, _name in COMMANDS:
    _one_line_paragraphs(_function)
    app.command(_name, short_help=_short_help(_function), cls=_Command)(_function)


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


def main() -> None:
    """Entry point of the ``negsim`` console script.

    SIGTERM and SIGHUP stop every command as Ctrl-C does (``run.signals``): clean-up runs, and
    the command exits with one line and ``128 + signal``. Output that cannot be written (a
    full disk behind ``> FILE``) is one line too, exit 1 (a closed pipe, ``| head``, ends
    quietly as typer ends it).
    """
    import sys

    from negotiation_sim.run.signals import interruptible

    with interruptible() as received:
        try:
            try:
                app()
            finally:
                sys.stdout.flush()  # what is still buffered fails here, not at exit
        except KeyboardInterrupt:  # before typer runs the command (it builds the commands)
            raise SystemExit(_interrupted(received[0] if received else 2)) from None
        except SystemExit as err:
            # an interrupt outside a command's body (while the command line is parsed) is
            # ended by typer with a silent 130, and one that arrived as the command finished
            # may have stopped nothing: say which signal it was, with its code (never 0)
            from negotiation_sim.cli.common import REPORTED

            if err.code in (0, None, 130) and received and not REPORTED:
                raise SystemExit(_interrupted(received[0])) from None
            raise
        except OSError as err:  # writing the output (stdout) failed
            if "--debug" in sys.argv[1:]:
                raise
            raise SystemExit(_unwritten(err)) from None


def _unwritten(err: OSError) -> int:
    """One line saying the command's output could not be written (or, for an error that
    names a file, that file); exit code 1. Standard output is pointed at nothing, so that what
    is still buffered is not written, and does not fail again, as Python exits."""
    import os
    import sys

    from negotiation_sim.cli.common import fail

    try:  # the unwritten rest would be flushed, and fail, again as Python exits
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    if isinstance(err, BrokenPipeError):  # the reader left (``| head``): quietly, as typer
        return 1
    if err.filename:  # not the output: an error a command left unnamed, with its file
        return fail(f"{err.filename}: {err.strerror or err}").exit_code
    return fail(f"cannot write the output ({err.strerror or err})").exit_code


def _interrupted(signum: int) -> int:
    """One line saying which signal stopped the command; its exit code (128 + signal)."""
    import signal

    from negotiation_sim.cli.common import fail

    return fail(f"interrupted ({signal.Signals(signum).name})", 128 + signum).exit_code
