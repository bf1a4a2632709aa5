"""negsim backtest end to end: the shipped backtest at a small --runs, --json, --out, bad input."""

from __future__ import annotations

import json
import re

from conftest import ROOT
from typer.testing import CliRunner

from negotiation_sim.cli import app

SHIPPED = ROOT / "backtests" / "russia_ukraine_2025.yaml"
runner = CliRunner()
LINE = re.compile(r"^error: (?P<file>[^:]+):(?P<line>\d+): (?P<field>[\w.\-]+): .+$")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_shipped_backtest_json(tmp_path):
    res = invoke("backtest", SHIPPED, "--runs", 1024, "--seed", 1, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) >= {"questions", "brier", "log_score", "forecasters"}
    assert out["runs"] == 1024 and out["seed"] == 1 and out["name"] == "russia-ukraine-2025"
    qs = out["questions"]
    assert len(qs) >= 9
    for q in qs:
        assert set(q) >= {"id", "p", "ci95", "outcome", "brier", "log_score", "forecasts"}
        assert 0.0 <= q["p"] <= 1.0
        if q["outcome"] is None:
            assert q["brier"] is None and q["log_score"] is None
            assert all(f["brier"] is None for f in q["forecasts"].values())
        else:
            assert q["brier"] is not None and q["log_score"] <= 0
    resolved = [q for q in qs if q["outcome"] is not None]
    assert out["brier"] == sum(q["brier"] for q in resolved) / len(resolved)
    assert out["forecasters"]["polymarket"]["n"] >= 1


def test_shipped_backtest_table_and_files(tmp_path):
    res = invoke("backtest", SHIPPED, "--runs", 1024, "--out", tmp_path / "bt", "--quiet")
    assert res.exit_code == 0, res.output
    assert "meet-2025-aug" in res.stdout and "polymarket" in res.stdout
    assert "Mean scores" in res.stdout
    for name in ("backtest.json", "backtest.csv", "backtest.md", "reliability.png",
                 "questions.png"):
        assert (tmp_path / "bt" / name).stat().st_size > 0, name
    assert not list((tmp_path / "bt").glob(".*"))  # no temporary file left behind
    saved = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    again = invoke("backtest", SHIPPED, "--runs", 1024, "--json")
    assert json.loads(again.stdout) == saved


def test_bad_backtest_file_is_one_red_line(tmp_path):
    text = SHIPPED.read_text().replace("event: summit", "event: meeting", 1)
    path = tmp_path / "bt.yaml"
    path.write_text(text.replace("../scenarios/", str(ROOT / "scenarios") + "/"))
    res = invoke("backtest", path, "--runs", 1024)
    assert res.exit_code == 1
    err = res.stderr.strip()
    assert "\n" not in err and "Traceback" not in res.output
    m = LINE.match(err)
    assert m and m["file"].endswith("bt.yaml") and m["field"] == "questions.0.event", err
    missing = invoke("backtest", tmp_path / "nope.yaml")
    assert missing.exit_code == 1 and "nope.yaml" in missing.stderr


def test_backtest_help_and_bad_usage():
    assert invoke("backtest", "--help").exit_code == 0
    assert invoke("backtest", SHIPPED, "--runs", 0).exit_code == 2
