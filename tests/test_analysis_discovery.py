"""Scenario discovery (analysis.discovery, negsim discover) on cases whose true region is known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from negotiation_sim import api
from negotiation_sim.analysis.discovery import Box, DiscoveryError, choose, discover
from negotiation_sim.cli import app
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.results.reader import SweepResults

pytest.importorskip("ema_workbench")


def sweep_with_a_known_region() -> SweepResults:
    """Agreement in 90% of worlds where x >= 0.6 and y <= 0.3, in 5% elsewhere; z is noise."""
    rng = np.random.default_rng(0)
    g = np.linspace(0, 1, 11)
    x, y = (a.ravel() for a in np.meshgrid(g, g))
    z = rng.uniform(0, 1, x.size)
    inside = (x >= 0.6 - 1e-9) & (y <= 0.3 + 1e-9)
    share = np.where(inside, 0.9, 0.05)
    table = pd.DataFrame({"point": np.arange(x.size), "p.x": x, "p.y": y, "p.z": z,
                          "runs": 200, "agreement": share, "ceasefire": 0.0,
                          "breakdown": 1 - share, "no_summit": 0.0})
    return SweepResults(table, {"design": {"method": "grid", "parameters": ["p.x", "p.y",
                                                                              "p.z"]}})


def test_prim_finds_the_box_a_sweep_was_built_with():
    found = discover(sweep_with_a_known_region(), "agreement", min_share=0.8)
    assert found.reached
    box = found.box
    assert set(box.limits) == {"p.x", "p.y"}  # the noise input is not restricted
    assert box.limits["p.x"][0] == pytest.approx(0.6, abs=0.051)
    assert box.limits["p.y"][1] == pytest.approx(0.3, abs=0.051)
    assert box.density == pytest.approx(0.9, abs=0.02)
    # all 20 points of the region: 0.9 x 20 of the 0.9 x 20 + 0.05 x 101 points' worth of deals
    assert box.coverage == pytest.approx(18 / (18 + 0.05 * 101), abs=0.01)
    # the trajectory starts at the whole space and density rises as coverage falls
    assert found.boxes[0].limits == {} and found.boxes[0].coverage == 1.0
    assert found.boxes[-1].density > found.boxes[0].density
    assert found.describe() == [
        f"p.x at least {box.limits['p.x'][0]:.3g}", f"p.y at most {box.limits['p.y'][1]:.3g}"]


PIE = {"name": "pie", "issues": {"share": {"low": "all to B", "high": "all to A"}},
       "actors": {"a": {"role": "principal", "position": {"share": 1.0},
                        "reservation": {"dist": "uniform", "low": 0.0, "high": 1.0},
                        "walkout": {"dist": "uniform", "low": 0.0, "high": 0.5}},
                  "b": {"role": "principal", "position": {"share": 0.0}, "reservation": 0.3}},
       "protocol": {"kind": "mediated", "rounds": 3}}


def test_prim_on_a_run_finds_a_value_of_war_below_the_best_text_b_signs(tmp_path):
    """B signs any text worth 0.3 to it: A's best is 0.7, so a deal iff A's value of war <= 0.7
    (complete information, values that do not move); A's walk-out chance never matters."""
    res = api.run(Scenario.model_validate(PIE), runs=3000, seed=2, out=tmp_path / "run",
                  plots=False)
    found = discover(res, "agreement", min_share=0.95)
    assert found.kind == "run" and found.reached
    assert set(found.box.limits) == {"actors.a.reservation"}
    assert found.box.limits["actors.a.reservation"][1] == pytest.approx(0.7, abs=0.03)
    assert found.box.density >= 0.95 and found.box.coverage > 0.99  # every deal, few others
    out = CliRunner().invoke(app, ["discover", str(tmp_path / "run"), "--json",
                                   "--min-share", "0.95"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) >= {"outcome", "boxes", "chosen"}
    chosen = data["boxes"][data["chosen"]]
    assert list(chosen["limits"]) == ["actors.a.reservation"]
    assert set(chosen) == {"coverage", "density", "limits"}
    assert (tmp_path / "run" / "discovery.png").is_file()
    words = CliRunner().invoke(app, ["discover", str(tmp_path / "run"), "--min-share", "0.95",
                                     "--no-plots"])
    assert "Peeling trajectory" in words.stdout
    assert "a's reservation (utility of no deal) at most 0.7" in words.stdout


def test_choose_takes_the_widest_box_dense_enough_else_the_densest():
    boxes = [Box(1.0, 0.2, 1.0, {}), Box(0.8, 0.5, 0.5, {"x": (0, 1)}),
             Box(0.5, 0.7, 0.2, {"x": (0, 1)})]
    assert choose(boxes, 0.5) == (1, True)
    assert choose(boxes, 0.9) == (2, False)


def test_questions_the_results_cannot_answer_are_one_line_errors(tmp_path):
    with pytest.raises(DiscoveryError, match="unknown outcome"):
        discover(sweep_with_a_known_region(), "peace")
    fixed = {**PIE, "actors": {**PIE["actors"], "a": {"role": "principal",
                                                       "position": {"share": 1.0}}}}
    api.run(Scenario.model_validate(fixed), runs=50, seed=0, out=tmp_path / "fixed", plots=False)
    out = CliRunner().invoke(app, ["discover", str(tmp_path / "fixed")])
    assert out.exit_code == 1 and "no per-world inputs that vary" in out.output
    assert "Traceback" not in out.output
