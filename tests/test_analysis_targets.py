"""What would it take (analysis.targets, negsim target) on cases with a known answer.

A pie between A (wants 1) and B (wants 0), complete information, values of war that do not move:
B signs any text worth its value of war w_B to it, so the deal A can get is worth 1 - w_B to A and
a world agrees iff A's value of war w_A <= 1 - w_B.
"""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from negotiation_sim.analysis.targets import TargetError, Vary
from negotiation_sim.analysis.targets import reach as search
from negotiation_sim.cli import app
from negotiation_sim.config.scenario import Scenario


def pie(a_reservation) -> dict:
    return {"name": "pie", "issues": {"share": {"low": "all to B", "high": "all to A"}},
            "actors": {"a": {"role": "principal", "position": {"share": 1.0},
                             "reservation": a_reservation},
                       "b": {"role": "principal", "position": {"share": 0.0},
                             "reservation": 0.3}},
            "protocol": {"kind": "mediated", "rounds": 3}}


def reach(sc, metric, target, varies, *, runs=2000, seed=0):
    """The search with the engine's summaries (as ``api.target`` wires it)."""
    from negotiation_sim.run.engine import summarise

    return search(sc, metric, target, varies, runs=runs,
                  summarise=lambda changed: summarise(changed, runs, seed=seed, solutions=False))


UNIFORM01 = {"dist": "uniform", "low": 0.0, "high": 1.0}


def test_one_lever_by_bisection_finds_the_known_threshold():
    """Agreement share = P(w_A <= 1 - w_B) = 1 - w_B: 80% needs w_B at most 0.2."""
    sc = Scenario.model_validate(pie(UNIFORM01))
    a = reach(sc, "agreement", 0.8, [Vary("actors.b.reservation")], runs=4000, seed=1)
    assert a.reached and a.share >= 0.8 and a.ci95[0] <= a.share <= a.ci95[1]
    assert a.start == {"actors.b.reservation": 0.3}
    assert a.start_share == pytest.approx(0.7, abs=0.02)
    assert a.levers["actors.b.reservation"] == pytest.approx(0.2, abs=0.015)
    assert a.worlds == a.evaluations * 4000 and "bisection" in a.method


def test_two_levers_find_the_nearest_point_of_the_known_frontier():
    """w_A ~ U(c - 0.3, c + 0.3): share = (1.3 - w_B - c) / 0.6, so 95% needs c + w_B <= 0.73
    (0.8 as written). In range units (c's lever spans 0.3-0.7, w_B's 0-1) the nearest such
    point is c = 0.490, w_B = 0.240 (Lagrange: dc / 0.4^2 = dw_B / 1^2)."""
    sc = Scenario.model_validate(pie({"dist": "uniform", "low": 0.2, "high": 0.8}))
    a = reach(sc, "agreement", 0.95,
              [Vary("actors.a.reservation"), Vary("actors.b.reservation")], runs=4000, seed=3)
    assert a.reached and a.share >= 0.95
    c, w = a.levers["actors.a.reservation"], a.levers["actors.b.reservation"]
    assert a.ranges["actors.a.reservation"] == pytest.approx((0.3, 0.7))
    assert c + w == pytest.approx(0.73, abs=0.01)
    distance = math.hypot((c - 0.5) / 0.4, (w - 0.3) / 1.0)
    best = math.hypot(0.0097 / 0.4, 0.0603)
    assert distance <= best + 0.012  # close to the nearest point, not just any point reaching it
    assert "COBYLA" in a.method


def test_a_target_out_of_reach_is_said_so_with_the_best_corner():
    sc = Scenario.model_validate(pie(UNIFORM01))
    a = reach(sc, "agreement", 0.95, [Vary("actors.b.reservation", 0.25, 0.35)], runs=2000)
    assert not a.reached
    assert a.levers == {"actors.b.reservation": 0.25}  # the end that gives A most
    assert a.share == pytest.approx(0.75, abs=0.03)


def test_the_command_answers_in_json_and_in_words(tmp_path):
    import yaml

    path = tmp_path / "pie.yaml"
    path.write_text(yaml.safe_dump(pie(UNIFORM01)))
    out = CliRunner().invoke(app, ["target", str(path), "--outcome", "agreement", "--share",
                                   "0.8", "--vary", "actors.b.reservation=0:1", "--runs",
                                   "2000", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) >= {"reached", "levers", "share", "ci95", "worlds"}
    assert data["reached"] and data["levers"]["actors.b.reservation"] == pytest.approx(0.2,
                                                                                      abs=0.03)
    words = CliRunner().invoke(app, ["target", str(path), "--share", "0.99", "--vary",
                                     "actors.b.reservation=0.25:0.35", "--runs", "500", "-q"])
    assert words.exit_code == 0 and "Not reachable within these ranges" in words.stdout
    bad = CliRunner().invoke(app, ["target", str(path), "--vary", "actors.b.reservaton"])
    assert bad.exit_code == 1 and "unknown path" in bad.output and "Traceback" not in bad.output
    bad = CliRunner().invoke(app, ["target", str(path), "--vary", "actors.b.clout"])
    assert bad.exit_code == 1 and "give one" in bad.output


def test_holds_targets_need_followed_texts_and_unknown_outcomes_are_refused():
    sc = Scenario.model_validate(pie(UNIFORM01))
    with pytest.raises(TargetError, match="durability.rounds"):
        reach(sc, "holds.agreement", 0.5, [Vary("actors.b.reservation")])
    with pytest.raises(TargetError, match="unknown outcome"):
        reach(sc, "peace", 0.5, [Vary("actors.b.reservation")])
    with pytest.raises(TargetError, match="PATH=LO:HI"):
        Vary.parse("actors.b.reservation=0.1")
    for bound in ("0:inf", "-inf:1", "nan:1"):  # no bounded range to search
        with pytest.raises(TargetError, match="finite"):
            Vary.parse(f"actors.b.reservation={bound}")


def test_a_lever_without_a_range_takes_its_fields_range():
    """--vary PATH without a range: patience and walk-out (not explorer controls) take the
    range their field must lie in, (0, 1] and [0, 1], as the help promises."""
    from negotiation_sim.analysis.targets import ranges_of
    from negotiation_sim.config.paths import field_range

    sc = Scenario.model_validate(pie(UNIFORM01))
    spans = ranges_of(sc, [Vary("actors.a.patience"), Vary("actors.b.walkout")])
    lo, hi = spans["actors.a.patience"]
    assert 0 < lo < 1e-5 and hi == 1.0  # the open end moved in: every value is valid
    assert spans["actors.b.walkout"] == (0.0, 1.0)
    assert field_range(sc, "actors.a.clout") is None  # (0, inf): no range to search
    with pytest.raises(TargetError, match="no range of its own"):
        ranges_of(sc, [Vary("actors.a.clout")])


def test_target_shares_are_printed_without_rounding_to_a_whole_percent():
    from negotiation_sim.cli.target import pct

    assert pct(0.999) == "99.9%" and pct(0.9999) == "99.99%" and pct(1.0) == "100%"
    assert pct(0.001) == "0.1%" and pct(0.0) == "0%" and pct(0.5) == "50%"
    sc_out = CliRunner().invoke(app, ["target", "--help"])
    assert sc_out.exit_code == 0


def test_a_meeting_share_is_a_target_as_an_outcome_is():
    """``talks`` and ``leaders`` are read from the summary's meetings: a summary whose talks
    share is B's value of war (a stand-in for the model, which is not what is tested here)
    reaches 0.6 at a value of war of 0.6."""
    sc = Scenario.model_validate(pie(0.5))

    def summarise(changed):
        x = float(changed.actors["b"].reservation)
        zero = {"share": 0.0, "ci95": [0.0, 0.0]}
        return {"outcomes": {o: zero for o in ("agreement", "ceasefire", "breakdown",
                                               "no_summit")},
                "meetings": {"talks": {"share": x, "ci95": [x - 0.01, x + 0.01]},
                             "leaders": {"share": x / 2, "ci95": [x / 2, x / 2]}}}

    answer = search(sc, "talks", 0.6, [Vary.parse("actors.b.reservation=0.3:0.9")], runs=100,
                    summarise=summarise)
    assert answer.reached and answer.metric == "talks"
    assert answer.levers["actors.b.reservation"] == pytest.approx(0.6, abs=2e-3)
    assert answer.share >= 0.6 and answer.start_share == pytest.approx(0.3)
    low = search(sc, "leaders", 0.6, [Vary.parse("actors.b.reservation=0.3:0.9")], runs=100,
                 summarise=summarise)
    assert not low.reached and low.share == pytest.approx(0.45)
