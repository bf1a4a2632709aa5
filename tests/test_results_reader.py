"""The one reader of results directories: what a path holds, runs and sweeps read back with all
their tables, the scenario from scenario.json (from any working directory), and clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import small_sweep
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.results import schema
from negotiation_sim.results.reader import (
    MAX_FIGURE_ROWS,
    RunResults,
    RunsNotKept,
    SweepResults,
    load_results,
    results_kind,
)

cli = CliRunner()
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    res = cli.invoke(app, ["run", str(DATA / "figures_summit.yaml"), "--runs", "2048", "--out",
                           str(out), "--quiet", "--no-plots"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    return small_sweep(tmp_path_factory.mktemp("sweep"), "reader", 300, [0.3, 0.6, 0.9])


def test_results_kind_and_load_results(run_dir, sweep_dir, tmp_path):
    assert results_kind(run_dir) == "run" and isinstance(load_results(run_dir), RunResults)
    assert results_kind(sweep_dir) == "sweep"
    assert isinstance(load_results(sweep_dir), SweepResults)
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps({"rounds": [], "outcome": "no_summit"}))
    assert results_kind(trace) == "trace" and load_results(trace)["outcome"] == "no_summit"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / schema.TRACE_FILE).write_text(trace.read_text())
    assert load_results(tmp_path / "d")["rounds"] == []
    with pytest.raises(FileNotFoundError, match="not a results directory"):
        load_results(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_results(tmp_path / "missing")
    with pytest.raises(ValueError, match="not a trace"):
        (tmp_path / "x.json").write_text("{}")
        load_results(tmp_path / "x.json")


def test_a_run_reads_back_every_column_of_runs_parquet(run_dir):
    res = load_results(run_dir)
    table = pq.read_table(run_dir / schema.RUNS_FILE)
    assert list(res.runs.columns) == table.column_names and len(res.runs) == 2048
    assert any(c.startswith("input.") for c in res.runs.columns)
    assert res.runs["outcome"].dtype == "string"
    assert res.summary == json.loads((run_dir / schema.SUMMARY_FILE).read_text())
    assert res.manifest["scenario_hash"] == res.scenario.digest()
    assert res.issues == ["territory", "sovereignty", "guarantees"]
    assert res.actors == ["russia", "ukraine"] and res.principals == ["russia", "ukraine"]
    assert res.kept and res.path == run_dir
    assert "2,048 worlds" in repr(res)


def test_figures_read_only_their_columns(run_dir):
    res = load_results(run_dir)
    assert len(res.sample) == 2048
    assert not any(c.startswith("input.") and not c.endswith(".reservation")
                   for c in res.sample.columns)


def test_a_sample_of_rows_in_memory_is_every_kth_world():
    n = MAX_FIGURE_ROWS + 10
    frame = pd.DataFrame({"world": range(n), "outcome": ["agreement"] * n})
    res = RunResults({"scenario": "s", "runs": n, "seed": 0}, runs=frame)
    assert res.sample["world"].tolist() == list(range(0, n, 2))


def test_a_summary_only_run_says_what_to_do():
    res = RunResults({"scenario": "s", "runs": 1, "seed": 0, "terms": {}, "utilities": {}})
    assert not res.kept
    with pytest.raises(RunsNotKept, match="keep_runs=True"):
        _ = res.runs
    with pytest.raises(RunsNotKept):
        _ = res.sample


def test_a_run_dir_reads_the_same_from_another_working_directory(tmp_path, monkeypatch):
    """The manifest records the scenario path as typed (relative); scenario.json does not need it."""
    shutil.copy(DATA / "figures_summit.yaml", tmp_path / "sc.yaml")
    monkeypatch.chdir(tmp_path)
    res = cli.invoke(app, ["run", "sc.yaml", "--runs", "1024", "--out", "out", "-q",
                           "--no-plots"])
    assert res.exit_code == 0, res.output
    here = RunResults.load("out")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (tmp_path / "sc.yaml").unlink()  # the file is gone too
    there = RunResults.load(tmp_path / "out")
    assert there.scenario == load_scenario(DATA / "figures_summit.yaml")
    assert there.scenario == here.scenario and there.marks == here.marks
    assert there.manifest["scenario_file"] == "sc.yaml"


def test_plot_from_another_directory_keeps_the_marks_or_says_what_is_lost(tmp_path, monkeypatch):
    shutil.copy(DATA / "figures_summit.yaml", tmp_path / "sc.yaml")
    monkeypatch.chdir(tmp_path)
    res = cli.invoke(app, ["run", "sc.yaml", "--runs", "1024", "--out", "out", "-q",
                           "--no-plots"])
    assert res.exit_code == 0, res.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (tmp_path / "sc.yaml").unlink()
    res = cli.invoke(app, ["plot", str(tmp_path / "out"), "--kind", "terms"])
    assert res.exit_code == 0, res.output
    assert "warning" not in res.stderr  # scenario.json carries the marks
    # Results without scenario.json (written before it existed) whose file is gone: a warning.
    (tmp_path / "out" / schema.SCENARIO_FILE).unlink()
    res = cli.invoke(app, ["plot", str(tmp_path / "out"), "--kind", "terms"])
    assert res.exit_code == 0, res.output
    assert "warning:" in res.stderr and "sc.yaml is not found" in res.stderr
    assert "--scenario FILE" in res.stderr


def test_a_sweep_reads_back_its_points_summary_and_runs(sweep_dir):
    sw = load_results(sweep_dir)
    points = pq.read_table(sweep_dir / schema.POINTS_FILE).to_pandas()
    assert sw.points.equals(points) and len(sw.points) == 3
    assert sw.points["actors.germany.offer.guarantees"].tolist() == [0.3, 0.6, 0.9]
    assert len(sw.summary) == 3 and sw.params == ["actors.germany.offer.guarantees"]
    assert len(sw.runs) == 3 * 300 and set(sw.runs["point"]) == {0, 1, 2}
    assert sw.scenario is not None and sw.scenario.name == "small"
    assert sw.sensitivity is None  # a grid saves none


def test_an_unfinished_sweep_is_a_clear_error(sweep_dir, tmp_path):
    part = tmp_path / "part"
    part.mkdir()
    shutil.copy(sweep_dir / schema.POINTS_FILE, part / schema.POINTS_FILE)
    assert results_kind(part) == "sweep"
    with pytest.raises(FileNotFoundError, match="no point of the sweep is finished"):
        load_results(part)


def test_an_older_directory_whose_scenario_file_changed_warns(run_dir, tmp_path):
    from negotiation_sim.results.reader import ScenarioChangedWarning

    old = tmp_path / "old"
    old.mkdir()
    for name in (schema.RUNS_FILE, schema.SUMMARY_FILE):
        shutil.copy(run_dir / name, old / name)
    changed = tmp_path / "changed.yaml"
    changed.write_text((DATA / "figures_summit.yaml").read_text().replace("walkout: 0.15",
                                                                          "walkout: 0.2", 1))
    manifest = json.loads((run_dir / schema.MANIFEST_FILE).read_text())
    (old / schema.MANIFEST_FILE).write_text(json.dumps({**manifest,
                                                        "scenario_file": str(changed)}))
    with pytest.warns(ScenarioChangedWarning, match="differs from the scenario that was run"):
        assert RunResults.load(old).scenario.actors["russia"].walkout == 0.2
    res = cli.invoke(app, ["plot", str(old), "--kind", "terms", "--out", str(tmp_path / "f")])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1 and "differs from the scenario that was run" in lines[0]
