"""The marks of the terms figure: computed when a run is written, stored in scenario.json, read
back unchanged, and never recomputed by a figure."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.results import marks as marks_module
from negotiation_sim.results.marks import (
    MARK_WORLDS,
    IssueMarks,
    read_scenario_record,
    scenario_marks,
    scenario_record,
)
from negotiation_sim.results.reader import RunResults
from negotiation_sim.results.schema import SCENARIO_FILE

matplotlib.use("Agg")

SCENARIO = Path(__file__).parent / "data" / "figures_summit.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    res = CliRunner().invoke(app, ["run", str(SCENARIO), "--runs", "1024", "--seed", "5",
                                   "--out", str(out), "--quiet", "--no-plots"])
    assert res.exit_code == 0, res.output
    return out


def test_nash_point_inside_red_lines_and_caps(scenario):
    marks = scenario_marks(scenario)
    assert marks["territory"].nash <= 0.75 + 1e-9  # Ukraine's red line
    assert marks["guarantees"].nash <= 0.6 + 1e-9  # the guarantor's cap
    assert marks["territory"].status_quo == pytest.approx(0.8)
    assert marks["territory"].ideal["russia"][1] == pytest.approx(1.0)
    assert marks["territory"].red_lines == [("ukraine", "<=", 0.75)]
    assert marks["guarantees"].caps == [("europe", 0.6, 0.6, 0.6)]


def test_marks_survive_json_exactly(scenario):
    marks = scenario_marks(scenario, seed=3)
    back = {k: IssueMarks.from_json(json.loads(json.dumps(m.to_json())))
            for k, m in marks.items()}
    assert back == marks
    assert isinstance(back["territory"].ideal["russia"], tuple)


def test_a_written_run_stores_the_marks_of_its_seed(run_dir, scenario):
    record = json.loads((run_dir / SCENARIO_FILE).read_text())
    assert record["marks"]["seed"] == 5 and record["marks"]["worlds"] == MARK_WORLDS
    sc, marks = read_scenario_record(run_dir / SCENARIO_FILE)
    assert marks == scenario_marks(scenario, seed=5)
    assert marks != scenario_marks(scenario, seed=6)  # the seed matters: it is the run's


def test_the_stored_scenario_is_the_one_run(run_dir, scenario):
    sc, _ = read_scenario_record(run_dir / SCENARIO_FILE)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert sc == scenario
    assert sc.digest() == manifest["scenario_hash"] == scenario.digest()


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "scenarios")
                                        .glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_round_trips_with_its_digest(path, tmp_path):
    sc = load_scenario(path)
    (tmp_path / SCENARIO_FILE).write_text(json.dumps(scenario_record(sc)))
    back, marks = read_scenario_record(tmp_path / SCENARIO_FILE)
    assert back == sc and back.digest() == sc.digest() and marks is None


def test_a_broken_record_is_a_value_error(tmp_path):
    (tmp_path / SCENARIO_FILE).write_text('{"scenario": {"name": "x"}}')
    with pytest.raises(ValueError, match="not a scenario record"):
        read_scenario_record(tmp_path / SCENARIO_FILE)


def test_figures_of_written_results_never_run_the_model(run_dir, monkeypatch):
    """Reading a run back and drawing every figure calls neither the sampler nor the solver."""
    from negotiation_sim import plots
    from negotiation_sim.core import worlds
    from negotiation_sim.core.solvers import nash

    def forbidden(*args, **kwargs):
        raise AssertionError("a figure ran the model")

    monkeypatch.setattr(marks_module, "scenario_marks", forbidden)
    monkeypatch.setattr(nash, "nash_text", forbidden)
    monkeypatch.setattr(worlds, "sample_worlds", forbidden)
    import negotiation_sim.results.reader as reader

    monkeypatch.setattr(reader, "scenario_marks", forbidden)
    results = RunResults.load(run_dir)
    assert results.marks["territory"].nash is not None
    for make in plots.run_figures(results).values():
        plots.close(make())


def test_results_without_scenario_json_get_their_marks_from_the_manifests_file(run_dir,
                                                                               tmp_path):
    """Directories written before scenario.json existed still get the same marks."""
    old = tmp_path / "old"
    old.mkdir()
    for p in run_dir.iterdir():
        if p.name != SCENARIO_FILE:
            (old / p.name).write_bytes(p.read_bytes())
    stored = RunResults.load(run_dir)
    legacy = RunResults.load(old)
    assert legacy.scenario == stored.scenario and legacy.marks == stored.marks


def test_a_scenario_given_replaces_the_stored_one_and_its_marks(run_dir, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(SCENARIO.read_text().replace('"territory <= 0.75"', '"territory <= 0.7"'))
    res = RunResults.load(run_dir, other)
    assert res.marks["territory"].red_lines == [("ukraine", "<=", 0.7)]
    assert RunResults.load(run_dir).marks["territory"].red_lines == [("ukraine", "<=", 0.75)]
