"""Export of results as CSV files or one Excel workbook, for analysts who do not use Parquet.

A run exports its outcome shares (``outcomes``) and, when it kept them, its worlds (``runs``: one
row per world, the columns of ``runs.parquet``). A sweep exports its points (``points``: one row
per point, the swept values and the point's outcome shares with their intervals, from
``summary.parquet``) and, when kept, its worlds (``runs``). CSV writes one file per table;
``xlsx`` one workbook with a sheet per table (openpyxl, the ``export`` extra). Excel holds at
most 1,048,576 rows a sheet: a larger table is refused for ``xlsx`` with a line saying to use CSV.
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
        written = []
        for name, table in found.items():
            target = out / f"{name}.csv"
            _atomic(target, lambda p, t=table: t.to_csv(p, index=False))
            written.append(target)
        return written
    import pandas as pd

    def workbook(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xl:
            for name, table in found.items():
                table.to_excel(xl, sheet_name=name, index=False)

    target = out / WORKBOOK
    _atomic(target, workbook)
    return [target]


def _atomic(target: Path, write) -> None:
    """``write(path)`` through a temporary name beside ``target`` (``files.atomic_path``), so a
    failed export leaves no half file."""
    from negotiation_sim.results.files import atomic_path

    with atomic_path(target) as tmp:
        write(tmp)
