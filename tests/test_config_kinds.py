"""negsim validate recognises each kind of file by its top-level keys."""

from __future__ import annotations

from conftest import ROOT
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.kinds import file_kind
from negotiation_sim.config.yamlio import load_yaml


def test_each_shipped_file_has_its_kind():
    assert file_kind(load_yaml(ROOT / "scenarios" / "summit_baseline.yaml").data) == "scenario"
    assert file_kind(load_yaml(ROOT / "experiments" / "sensitivity.yaml").data) == "experiment"
    assert file_kind(load_yaml(ROOT / "backtests" / "russia_ukraine_2025.yaml").data) == "backtest"
    assert file_kind([1, 2]) == "scenario"  # not a mapping: the scenario loader says so


def test_validate_checks_every_kind():
    files = [ROOT / "scenarios" / "summit_baseline.yaml", ROOT / "experiments" / "sensitivity.yaml",
             ROOT / "backtests" / "russia_ukraine_2025.yaml"]
    res = CliRunner().invoke(app, ["validate", *map(str, files)])
    assert res.exit_code == 0, res.output
    assert res.output.count("ok ") == 3


def test_validate_reports_a_bad_backtest_at_its_line(tmp_path):
    bad = tmp_path / "b.yaml"
    bad.write_text("name: x\nquestions:\n  - id: q\n    event: nonsense\n")
    res = CliRunner().invoke(app, ["validate", str(bad)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert all(line.startswith(f"{bad}:") for line in res.output.strip().splitlines())
