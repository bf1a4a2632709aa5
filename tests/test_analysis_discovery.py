"""Scenario discovery (analysis.discovery, negsim discover) on cases whose true region is known."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from negotiation_sim import api
from negotiation_sim.analysis.discovery import Box, DiscoveryError, choose, discover, steps_of
from negotiation_sim.cli import app
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.results.reader import RunResults, SweepResults

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


def test_a_meeting_is_discovered_as_an_outcome_is():
    """``talks`` from a sweep's column and from a run's ``talks_round`` (set: the world had
    talks), here where x >= 0.5 (a run's rows built by hand, not by the model)."""
    sweep = sweep_with_a_known_region()
    table = sweep.summary.assign(talks=sweep.summary["agreement"])
    found = discover(SweepResults(table, sweep.manifest), "talks", min_share=0.8)
    assert found.outcome == "talks" and found.box.limits == discover(sweep, "agreement",
                                                                     min_share=0.8).box.limits
    with pytest.raises(DiscoveryError, match="no 'talks' column"):
        discover(sweep, "talks")
    x = np.random.default_rng(1).uniform(0, 1, 2000)
    runs = pd.DataFrame({"input.p.x": x, "outcome": "no_summit",
                         "talks_round": np.where(x >= 0.5, 2.0, np.nan)})
    found = discover(RunResults({}, runs=runs), "talks", min_share=0.95)
    assert found.box.limits["p.x"][0] == pytest.approx(0.5, abs=0.03)
    assert found.base_share == pytest.approx((x >= 0.5).mean())
    assert found.box.coverage == 1.0 and found.box.density >= 0.95
    with pytest.raises(DiscoveryError, match="no world had leaders"):
        discover(RunResults({}, runs=runs.assign(leaders_round=np.nan)), "leaders")


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
    # every deal but those at the edge the peels cut (the plateau gives up <= 2 points of
    # coverage for density), and no other world
    assert found.box.density >= 0.95 and found.box.coverage > 0.98
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
    said = re.search(r"a's reservation \(utility of no deal\) at most ([0-9.]+)", words.stdout)
    assert said and float(said.group(1)) == pytest.approx(0.7, abs=0.03)


def test_choose_takes_the_densest_box_on_the_coverage_plateau_else_the_densest():
    boxes = [Box(1.0, 0.2, 1.0, {}), Box(0.8, 0.5, 0.5, {"x": (0, 1)}),
             Box(0.5, 0.7, 0.2, {"x": (0, 1)})]
    assert choose(boxes, 0.5) == (1, True)
    assert choose(boxes, 0.9) == (2, False)
    # the plateau: boxes within the slack of the widest dense-enough box; the densest wins
    plateau = [Box(1.0, 0.52, 0.8, {"x": (0, 0.77)}), Box(0.995, 0.9, 0.45, {"x": (0, 0.45)}),
               Box(0.989, 1.0, 0.4, {"x": (0, 0.4)}), Box(0.9, 1.0, 0.36, {"x": (0, 0.36)})]
    assert choose(plateau, 0.5) == (2, True)
    assert choose(plateau, 0.5, coverage_slack=0.0) == (0, True)
    assert choose(plateau, 0.5, coverage_slack=0.2) == (2, True)  # density tie: more coverage


def agreement_exactly_below(threshold: float, n: int = 6000) -> RunResults:
    """A run where agreement happens exactly when one input is <= threshold; another is noise."""
    rng = np.random.default_rng(1)
    u, v = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    runs = pd.DataFrame({"input.actors.a.reservation": u, "input.actors.b.reservation": v,
                         "outcome": np.where(u <= threshold, "agreement", "breakdown")})
    return RunResults({}, runs=runs)


def test_a_sharp_region_is_found_whole_not_the_first_box_dense_enough():
    """The widest box with density >= 50% keeps every deal at density ~52% (input <= ~0.77);
    the densest box on the plateau is the region itself."""
    found = discover(agreement_exactly_below(0.4), "agreement", min_share=0.5)
    box = found.box
    assert box.density >= 0.97 and box.coverage >= 0.98
    assert list(box.limits) == ["actors.a.reservation"]
    assert box.limits["actors.a.reservation"][1] == pytest.approx(0.4, abs=0.02)
    r = found.restrictions["actors.a.reservation"]
    assert r.binds and r.significant and r.qp[0] is None and r.qp[1] < 0.001
    assert r.density_without == pytest.approx(found.base_share)
    first = next(i for i, b in enumerate(found.boxes) if b.density >= 0.5)
    assert found.boxes[first].density < 0.6  # the rule that was replaced would stop here


def test_restrictions_that_barely_bind_are_flagged():
    """A box that also limits a noise input: dropping that limit leaves density as it was."""
    found = discover(agreement_exactly_below(0.4), "agreement", min_share=0.5)
    x = found.box.limits["actors.a.reservation"]
    from negotiation_sim.analysis.discovery import _restriction
    data = agreement_exactly_below(0.4).runs
    xs = data[["input.actors.a.reservation", "input.actors.b.reservation"]].rename(
        columns=lambda c: c[len("input."):])
    y = (data["outcome"] == "agreement").to_numpy(int)
    box = Box(found.box.coverage, found.box.density, found.box.mass,
              {"actors.a.reservation": x, "actors.b.reservation": (0.0, 0.99)})
    noise = _restriction(xs, y, box, "actors.b.reservation", [-1, 0.6], None)
    assert not noise.binds and not noise.significant
    real = _restriction(xs, y, box, "actors.a.reservation", [-1, 0.0], None)
    assert real.binds and real.significant


def test_steps_name_peels_and_pastes_by_the_box_mass():
    boxes = [Box(1.0, 0.3, 1.0, {}), Box(0.9, 0.4, 0.7, {}), Box(0.8, 0.5, 0.5, {}),
             Box(0.85, 0.5, 0.55, {})]
    assert steps_of(boxes) == ["start", "peel", "peel", "paste"]


def test_discover_cli_prints_steps_and_restrictions_and_resamples(tmp_path):
    res = api.run(Scenario.model_validate(PIE), runs=1500, seed=2, out=tmp_path / "run",
                  plots=False)
    assert res.path is not None
    out = CliRunner().invoke(app, ["discover", str(tmp_path / "run"), "--min-share", "0.9",
                                   "--no-plots", "--resample", "2", "--seed", "3"])
    assert out.exit_code == 0, out.output
    assert "step" in out.stdout and "peel" in out.stdout
    assert "Restrictions of the chosen box" in out.stdout and "found again" in out.stdout
    data = json.loads(CliRunner().invoke(app, ["discover", str(tmp_path / "run"), "--json",
                                               "--min-share", "0.9", "--no-plots"]).stdout)
    assert len(data["steps"]) == len(data["boxes"]) and data["steps"][0] == "start"
    assert set(data["restrictions"]) == set(data["boxes"][data["chosen"]]["limits"])


def test_questions_the_results_cannot_answer_are_one_line_errors(tmp_path):
    with pytest.raises(DiscoveryError, match="unknown outcome"):
        discover(sweep_with_a_known_region(), "peace")
    fixed = {**PIE, "actors": {**PIE["actors"], "a": {"role": "principal",
                                                       "position": {"share": 1.0}}}}
    api.run(Scenario.model_validate(fixed), runs=50, seed=0, out=tmp_path / "fixed", plots=False)
    out = CliRunner().invoke(app, ["discover", str(tmp_path / "fixed")])
    assert out.exit_code == 1 and "no per-world inputs that vary" in out.output
    assert "Traceback" not in out.output
