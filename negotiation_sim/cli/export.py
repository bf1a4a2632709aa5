"""negsim export: a run's or a sweep's tables as CSV files or an Excel workbook."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from negotiation_sim.cli.common import (
    DebugOpt,
    QuietOpt,
    check_out_option,
    fail,
    reading,
    unreadable_errors,
    stderr,
    user_errors,
    warn,
    warn_if_partial,
    writing,
)


class ExportFormat(str, Enum):
    """The file formats export writes (a choice: typer refuses others as bad usage, exit 2)."""

    csv = "csv"
    xlsx = "xlsx"


def export(
    results: Annotated[Path, typer.Argument(
        help="A run's (negsim run --out) or a sweep's results directory.", show_default=False)],
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", "-f", help="csv (one file per table) or xlsx (one workbook, a sheet per "
                               "table).")] = ExportFormat.csv,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Directory for the files (default: RESULTS).")] = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Export results for spreadsheets: a run's outcome shares (outcomes) and worlds (runs), a
    sweep's points with their outcome shares and intervals (points) and, when kept, its worlds
    (runs). xlsx needs openpyxl (the export extra)."""
    if out is not None and out.exists() and not out.is_dir():
        raise fail(f"{out}: --out must be a directory, not a file", 2)
    check_out_option(out)
    with user_errors(debug), reading(results, debug), writing(results, out):
        from negotiation_sim import api
        from negotiation_sim.results.export import export as write

        try:
            loaded = api.load_results(results)
            if not quiet:
                warn_if_partial(loaded, results)
                if getattr(loaded, "kept", True) is False:
                    warn(f"{results}: no runs.parquet, so no worlds to export: only the "
                         "outcome shares are written")
            written = write(loaded, fmt.value, out or results)
        except ValueError as err:  # ExportError, or a directory that holds no results
            if isinstance(err, unreadable_errors()):
                raise  # a damaged file: ``reading`` names the results
            raise fail(str(err), 1) from None
    if not quiet:
        stderr().print(f"wrote {', '.join(str(p) for p in written)}", highlight=False,
                       soft_wrap=True)
