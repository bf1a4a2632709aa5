"""Robust policies (method: robust, analysis.robust, negsim robust): designs, metrics, command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL, write_yaml
from typer.testing import CliRunner

from negotiation_sim.analysis.robust import (
    RobustnessError,
    best_policies,
    regret_of,
    robustness,
    score,
)
from negotiation_sim.cli import app
from negotiation_sim.config.design import Sweep, make_design, n_points
from negotiation_sim.results.reader import SweepResults

ROOT = Path(__file__).resolve().parent.parent

SWEEP = {"method": "robust", "samples": 5,
         "levers": {"actors.us.pressure.russia": [0.0, 0.02, 0.04],
                    "actors.us.pressure.ukraine": {"low": 0.0, "high": 0.01, "num": 2}},
         "uncertainties": {"actors.russia.reservation": {"low": 0.3, "high": 0.6}}}


def test_every_policy_meets_the_same_states_of_the_world():
    sweep = Sweep.model_validate(SWEEP)
    design = make_design(sweep, seed=3)
    assert len(design) == n_points(sweep) == 3 * 2 * 5
    states = [[p["actors.russia.reservation"] for p in design.points[i * 5:(i + 1) * 5]]
              for i in range(6)]
    assert all(s == states[0] for s in states)  # the same draws, in the same order
    assert len(set(states[0])) == 5 and all(0.3 <= v <= 0.6 for v in states[0])
    # a Latin hypercube: one draw in each fifth of the range
    assert sorted(int((v - 0.3) / 0.06) for v in states[0]) == [0, 1, 2, 3, 4]
    policies = [(p["actors.us.pressure.russia"], p["actors.us.pressure.ukraine"])
                for p in design.points[::5]]
    assert policies == [(0.0, 0.0), (0.0, 0.01), (0.02, 0.0), (0.02, 0.01), (0.04, 0.0),
                        (0.04, 0.01)]
    assert design.options["levers"] == list(SWEEP["levers"])
    assert design.options["policies"] == 6 and design.options["samples"] == 5
    assert make_design(sweep, seed=3).points == design.points  # seeded


def test_metrics_against_hand_computed_values():
    # 3 policies x 4 states of the world, shares of the outcome
    y = np.array([[0.2, 0.4, 0.6, 0.8],
                  [0.5, 0.5, 0.5, 0.5],
                  [0.1, 0.45, 0.7, 0.9]])
    s = score(y, maximize=True, threshold=0.5)
    assert s["expected"].tolist() == pytest.approx([0.5, 0.5, 0.5375])
    assert s["worst"].tolist() == pytest.approx([0.2, 0.5, 0.1])
    assert s["satisficing"].tolist() == pytest.approx([0.5, 1.0, 0.5])
    # best per state: 0.5, 0.5, 0.7, 0.9 -> regrets
    assert regret_of(y, True) == pytest.approx(
        np.array([[0.3, 0.1, 0.1, 0.1], [0.0, 0.0, 0.2, 0.4], [0.4, 0.05, 0.0, 0.0]]))
    assert s["max_regret"].tolist() == pytest.approx([0.3, 0.4, 0.4])
    # numpy's linear percentile of 4 values at 10%: v0 + 0.3 (v1 - v0)
    assert s["p10"].tolist() == pytest.approx([0.26, 0.5, 0.205])
    best = best_policies(s, True)
    assert best["expected"] == 2 and best["worst"] == 1 and best["satisficing"] == 1
    assert best["max_regret"] == 0  # minimax regret: the metrics disagree, as they can
    # minimising: regret is the excess over the lowest share of each state
    low = score(y, maximize=False, threshold=0.5)
    assert low["worst"].tolist() == pytest.approx([0.8, 0.5, 0.9])
    assert regret_of(y, False)[0].tolist() == pytest.approx([0.1, 0.0, 0.1, 0.3])
    assert best_policies(low, False)["expected"] in (0, 1)  # tie on the mean, then order
    assert best_policies(low, False)["expected"] == 0


def test_robust_sweeps_are_checked_where_they_are_written(tmp_path):
    write_yaml(tmp_path / "s.yaml", SMALL)
    cases = {
        "levers: {}\n": "sweep.levers: method robust needs at least one lever",
        "parameters: {actors.us.pressure.russia: [0.1]}\n": "sweep.parameters: method robust "
                                                            "takes levers and uncertainties",
    }
    base = ("name: r\nscenario: s.yaml\nruns: 10\nsweep:\n  method: robust\n  samples: 2\n"
            "  uncertainties: {actors.russia.reservation: {low: 0.3, high: 0.6}}\n")
    for extra, message in cases.items():
        (tmp_path / "e.yaml").write_text(base + "  " + extra)
        res = CliRunner().invoke(app, ["validate", str(tmp_path / "e.yaml")])
        assert res.exit_code == 1 and message in res.output, res.output
        assert "Traceback" not in res.output
    both = base + ("  levers: {actors.russia.reservation: [0.4]}\n")
    (tmp_path / "e.yaml").write_text(both)
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "e.yaml")])
    assert res.exit_code == 1 and "is a lever too" in res.output
    grid = ("name: g\nscenario: s.yaml\nruns: 10\nsweep:\n  method: grid\n  parameters: "
            "{actors.us.pressure.russia: [0.1]}\n  levers: {actors.us.pressure.ukraine: [0]}\n")
    (tmp_path / "g.yaml").write_text(grid)
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "g.yaml")])
    assert res.exit_code == 1 and f"{tmp_path / 'g.yaml'}:7: sweep.levers: levers are for " \
                                   "method robust" in res.output


def test_robust_command_scores_a_small_sweep_end_to_end(tmp_path, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # output as piped: whole cells
    write_yaml(tmp_path / "s.yaml", SMALL)
    write_yaml(tmp_path / "e.yaml", {"name": "robust-small", "scenario": "s.yaml", "runs": 64,
                                     "seed": 2, "common_random_numbers": True,
                                     "sweep": {**SWEEP, "samples": 3}})
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["sweep", str(tmp_path / "e.yaml"), "--out", str(out),
                                   "--no-plots", "--quiet"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["robust", str(out), "--outcome", "no_summit", "--minimize",
                                   "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["outcome"] == "no_summit" and data["maximize"] is False
    assert len(data["policies"]) == 6 and data["states"] == 3
    found = robustness(SweepResults.load(out), "no_summit", maximize=False)
    assert found.threshold == pytest.approx(found.values.mean())
    points = pd.read_parquet(out / "summary.parquet").sort_values("point")
    assert found.values.ravel().tolist() == pytest.approx(points["no_summit"].tolist())
    talks = robustness(SweepResults.load(out), "talks")  # a meeting's share, as an outcome's
    assert talks.values.ravel().tolist() == pytest.approx(points["talks"].tolist())
    assert (out / "robustness.png").stat().st_size > 1000
    assert json.loads((out / "robustness.json").read_text()) == data
    words = CliRunner().invoke(app, ["robust", str(out), "--no-plots"])
    assert words.exit_code == 0 and "Which policy is robust?" in words.stdout
    assert "pressure.russia=0.02, pressure.ukraine=0.01" in words.stdout  # never ellipsised
    res = CliRunner().invoke(app, ["robust", str(out), "--outcome", "talks", "--json"])
    assert res.exit_code == 0, res.output  # and its figure, in the meeting's colour
    assert json.loads(res.stdout)["outcome"] == "talks"


def test_robust_refuses_what_it_cannot_score(tmp_path):
    table = pd.DataFrame({"point": [0], "runs": [10], "agreement": [0.5], "ceasefire": [0.0],
                          "breakdown": [0.5], "no_summit": [0.0]})
    grid = SweepResults(table, {"design": {"method": "grid", "parameters": []}})
    with pytest.raises(RobustnessError, match="method: robust"):
        robustness(grid)
    with pytest.raises(RobustnessError, match="unknown outcome"):
        robustness(grid, "peace")
    old = SweepResults(table.assign(**{"actors.us.pressure.russia": [0.1],
                                       "actors.russia.reservation": [0.4]}),
                       {"design": {"method": "robust", "parameters": [],
                                   "levers": ["actors.us.pressure.russia"],
                                   "uncertainties": ["actors.russia.reservation"],
                                   "policies": 1, "samples": 1}})
    assert robustness(old, "agreement").values.tolist() == [[0.5]]
    with pytest.raises(RobustnessError, match="no 'talks' column"):
        robustness(old, "talks")


def test_the_shipped_robustness_experiment_validates():
    res = CliRunner().invoke(app, ["validate", "--no-warn",
                                   str(ROOT / "experiments" / "us_policy_robustness.yaml")])
    assert res.exit_code == 0, res.output
