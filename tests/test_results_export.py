"""negsim export: CSV and Excel tables of runs and sweeps, read back equal to the Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL, small_sweep, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.results import export as export_mod
from negotiation_sim.results import schema

cli = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("run")
    sc = write_yaml(tmp / "small.yaml", SMALL)
    res = cli.invoke(app, ["run", str(sc), "--runs", "300", "--out", str(tmp / "out"), "-q",
                           "--no-plots"])
    assert res.exit_code == 0, res.output
    return tmp / "out"


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    return small_sweep(tmp_path_factory.mktemp("sweep"), "export", 200, [0.3, 0.9])


def test_run_to_csv_equals_the_parquet(run_dir, tmp_path):
    res = cli.invoke(app, ["export", str(run_dir), "--format", "csv", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    runs = pd.read_csv(tmp_path / "runs.csv")
    parquet = pd.read_parquet(run_dir / schema.RUNS_FILE)
    assert list(runs.columns) == list(parquet.columns) and len(runs) == 300
    pd.testing.assert_frame_equal(runs, parquet, check_dtype=False, check_exact=False,
                                  check_categorical=False)
    outcomes = pd.read_csv(tmp_path / "outcomes.csv")
    assert outcomes["share"].sum() == pytest.approx(1.0)
    assert (outcomes["ci95_low"] <= outcomes["share"]).all()


def test_run_and_sweep_to_xlsx_one_sheet_per_table(run_dir, sweep_dir, tmp_path):
    res = cli.invoke(app, ["export", str(run_dir), "--format", "xlsx", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    sheets = pd.read_excel(tmp_path / "r" / export_mod.WORKBOOK, sheet_name=None)
    assert list(sheets) == ["outcomes", "runs"] and len(sheets["runs"]) == 300
    res = cli.invoke(app, ["export", str(sweep_dir), "-f", "xlsx", "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    sheets = pd.read_excel(tmp_path / "s" / export_mod.WORKBOOK, sheet_name=None)
    points = sheets["points"]
    assert len(points) == 2
    assert points["actors.germany.offer.guarantees"].tolist() == [0.3, 0.9]
    assert len(sheets["runs"]) == 2 * 200


def test_export_mistakes_are_one_line(run_dir, tmp_path, monkeypatch):
    # bad option values are bad usage (exit 2), as in every command; --format is a choice
    res = cli.invoke(app, ["export", str(run_dir), "--format", "pdf"])
    assert res.exit_code == 2 and "'pdf' is not one of" in res.stderr and "csv" in res.stderr
    res = cli.invoke(app, ["export", str(tmp_path)])
    assert res.exit_code == 1 and "not a results directory" in res.stderr
    file = tmp_path / "f.txt"
    file.write_text("x")
    res = cli.invoke(app, ["export", str(run_dir), "--out", str(file)])
    assert res.exit_code == 2 and "f.txt" in res.stderr and res.stderr.count("\n") == 1
    monkeypatch.setattr(export_mod, "EXCEL_ROWS", 100)
    res = cli.invoke(app, ["export", str(run_dir), "-f", "xlsx", "--out", str(tmp_path / "x")])
    assert res.exit_code == 1 and "use --format csv" in res.stderr
    assert not (tmp_path / "x" / export_mod.WORKBOOK).exists()
    assert "Traceback" not in res.output


HOSTILE = ["=1+1", '=HYPERLINK("http://evil.example","x")', "+1", "-1+2", "@SUM(A1)",
           "\tcmd", "\rcmd", "plain", "-"]


@pytest.fixture(scope="module")
def labelled_sweep(tmp_path_factory) -> Path:
    """A list design whose point labels are formulas."""
    tmp = tmp_path_factory.mktemp("labels")
    write_yaml(tmp / "small.yaml", SMALL)
    points = [{"label": label, "actors.germany.offer.guarantees": round(0.3 + 0.05 * i, 2)}
              for i, label in enumerate(HOSTILE)]
    write_yaml(tmp / "exp.yaml", {"name": "labels", "scenario": "small.yaml", "runs": 50,
                                  "seed": 1, "sweep": {"method": "list", "points": points}})
    res = cli.invoke(app, ["sweep", str(tmp / "exp.yaml"), "--out", str(tmp / "out"), "-q",
                           "--no-plots"])
    assert res.exit_code == 0, res.output
    return tmp / "out"


def test_xlsx_writes_every_string_as_a_string_cell_and_numbers_as_numbers(labelled_sweep,
                                                                          tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    res = cli.invoke(app, ["export", str(labelled_sweep), "-f", "xlsx", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    book = openpyxl.load_workbook(tmp_path / export_mod.WORKBOOK)
    sheet = book["points"]
    header = [c.value for c in sheet[1]]
    label = header.index("label")
    labels = [row[label] for row in sheet.iter_rows(min_row=2)]
    # XML reads a carriage return back as a line feed: the text is otherwise as written
    assert [c.value for c in labels] == [h.replace("\r", "\n") for h in HOSTILE]
    assert all(c.data_type == "s" for c in labels)
    cells = [c for row in book.worksheets for line in row.iter_rows() for c in line]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell is a formula"
    guarantees = header.index("actors.germany.offer.guarantees")
    values = [row[guarantees] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and isinstance(c.value, float) for c in values)
    assert values[1].value == pytest.approx(0.35)
    runs = book["runs"]
    kinds = {type(c.value): c.data_type for c in runs[2] if c.value is not None}
    assert kinds[float] == kinds[int] == "n" and kinds[str] == "s"
    assert kinds.get(bool, "b") == "b"


def test_csv_prefixes_cells_a_spreadsheet_would_evaluate(labelled_sweep, tmp_path):
    res = cli.invoke(app, ["export", str(labelled_sweep), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    points = pd.read_csv(tmp_path / "points.csv", keep_default_na=False)
    expected = ["'" + h if h[:1] in ("=", "+", "-", "@", "\t", "\r") else h for h in HOSTILE]
    assert points["label"].tolist() == expected
    assert points["actors.germany.offer.guarantees"].dtype.kind == "f"
    assert (points["agreement"] >= 0).all()  # numbers (even negative ones) stay numbers


def test_guard_text_is_the_owasp_rule():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert export_mod.guard_text(start + "x") == "'" + start + "x"
    assert export_mod.guard_text("x=1") == "x=1" and export_mod.guard_text("") == ""
    table = pd.DataFrame({"=a": ["-1", "ok"], "n": [-1.5, 2.0]})
    guarded = export_mod.guard_csv(table)
    assert list(guarded.columns) == ["'=a", "n"]
    assert guarded["'=a"].tolist() == ["'-1", "ok"]
    assert guarded["n"].tolist() == [-1.5, 2.0]
