"""Export of results as CSV files or one Excel workbook, for analysts who do not use Parquet.

A run exports its outcome shares (``outcomes``) and, when it kept them, its worlds (``runs``: one
row per world, the columns of ``runs.parquet``). A sweep exports its points (``points``: one row
per point, the swept values and the point's outcome shares with their intervals, from
``summary.parquet``) and, when kept, its worlds (``runs``). CSV writes one file per table;
``xlsx`` one workbook with a sheet per table (openpyxl, the ``export`` extra). Excel holds at
most 1,048,576 rows a sheet: a larger table is refused for ``xlsx`` with a line saying to use CSV.

Text is written as text, never as something a spreadsheet evaluates (formula injection: a point
label ``=HYPERLINK(...)`` must not become a live formula). In a workbook every string is a cell
of the explicit string type (openpyxl would store a string starting with ``=`` as a formula). In
CSV, which has no types, a string cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading single quote (the OWASP rule; spreadsheets evaluate such cells),
headers included. Numbers stay numbers in both: only strings are touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "xlsx")
EXCEL_ROWS = 1_048_576
WORKBOOK = "results.xlsx"


class ExportError(ValueError):
    """What keeps a table from being exported (one line for the user)."""


def tables(results) -> dict[str, pd.DataFrame]:
    """The tables of a run's or a sweep's results, by name, in the order they are written."""
    import pandas as pd

    from negotiation_sim.results.reader import RunsNotKept, RunResults

    out: dict[str, pd.DataFrame] = {}
    if isinstance(results, dict):
        raise ExportError("a traced world is not a table: its JSON file is the data")
    if isinstance(results, RunResults):
        rows = [{"outcome": o, "share": v["share"], "ci95_low": v["ci95"][0],
                 "ci95_high": v["ci95"][1]} for o, v in results.summary["outcomes"].items()]
        out["outcomes"] = pd.DataFrame(rows)
    else:
        out["points"] = results.summary.reset_index(drop=True)
    try:
        out["runs"] = results.runs
    except RunsNotKept:
        pass
    return out


def export(results, fmt: str, out: str | Path) -> list[Path]:
    """Write the tables of ``results`` (``load_results``'s) into directory ``out``.

    Returns:
        The files written.

    Raises:
        ExportError: an unknown format, a table too long for Excel, or openpyxl missing.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    found = tables(results)
    out = Path(out)
    if fmt == "xlsx":
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise ExportError("xlsx export needs openpyxl (the export extra of negotiation_sim: "
                              "pip install openpyxl), or use --format csv") from None
        for name, table in found.items():
            if len(table) + 1 > EXCEL_ROWS:
                raise ExportError(f"the {name} table has {len(table):,} rows, more than an "
                                  f"Excel sheet holds ({EXCEL_ROWS - 1:,}); use --format csv")
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        from negotiation_sim.results.files import all_or_none

        with all_or_none() as written:  # a failure leaves none of the tables, not some
            for name, table in found.items():
                target = out / f"{name}.csv"
                _atomic(target, lambda p, t=table: guard_csv(t).to_csv(p, index=False))
                written.append(target)
        return written
    target = out / WORKBOOK
    _atomic(target, lambda p: write_workbook(found, p))
    return [target]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP, CSV injection)."""


def guard_text(value: str) -> str:
    """``value`` with a leading single quote when a spreadsheet would evaluate it."""
    return "'" + value if value.startswith(FORMULA_START) else value


def guard_csv(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose string cells and headers are guarded (``guard_text``);
    number, boolean and missing cells are left as they are."""
    out = table.copy(deep=False)
    for column in out.columns:
        if out[column].dtype.kind in "OSU" or str(out[column].dtype) == "string":
            out[column] = out[column].map(lambda v: guard_text(v) if isinstance(v, str) else v)
    out.columns = [guard_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_workbook(found: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table; strings as cells of the string type, numbers as numbers, missing
    values as empty cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    for name, table in found.items():
        sheet = book.create_sheet(title=name)

        def cell(value, sheet=sheet):
            value = _plain(value)
            c = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                c.data_type = "s"  # never a formula, whatever the text starts with
            return c

        sheet.append([cell(str(c)) for c in table.columns])
        for row in table.itertuples(index=False, name=None):
            sheet.append([cell(v) for v in row])
    book.save(path)


def _plain(value):
    """A cell's value as openpyxl takes it: Python numbers, booleans, strings; None for
    missing values (NaN, NA)."""
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    return value if isinstance(value, str) else str(value)


def _atomic(target: Path, write) -> None:
    """``write(path)`` through a temporary name beside ``target`` (``files.atomic_path``), so a
    failed export leaves no half file."""
    from negotiation_sim.results.files import atomic_path

    with atomic_path(target) as tmp:
        write(tmp)
