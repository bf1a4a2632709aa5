"""Sanity warnings: each check fires on the mistake it names, at the right line, and only there.

Every case starts from the small scenario (which has no warning), makes one mistake, and expects
exactly one warning naming the field (and what it entails, where the mistake has a named
consequence), at the line of that field in the written file.
"""

from __future__ import annotations

import copy

import pytest
from conftest import SMALL, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.distributions import Normal, Triangular, Uniform
from negotiation_sim.config.warnings import mass_outside
from negotiation_sim.core.checks import file_warnings


def _set(data, path, value):
    *head, last = path
    node = data
    for k in head:
        node = node[k]
    node[last] = value


def _line_of(text: str, key: str, nth: int = 0) -> int:
    """1-based line of the ``nth`` line whose stripped text starts with ``key``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if line.strip().startswith(key)]
    return hits[nth]


CASES = {
    "percentage reservation": (
        [(("actors", "ukraine", "reservation"), 62)],
        "actors.ukraine.reservation", "looks like a percentage", "reservation:"),
    "pressure of a whole scale": (
        [(("actors", "us", "pressure", "russia"), 1)],
        "actors.us.pressure.russia", "pressure is the fall per round", "russia: 1"),
    "percent audience cost": (
        [(("actors", "russia", "audience_cost", "bilateral"), 30)],
        "actors.russia.audience_cost.bilateral", "looks like a percentage", "bilateral: 30"),
    "red lines leave nothing": (
        [(("actors", "ukraine", "red_lines"), ["territory <= 0.3"])],
        "actors.russia.red_lines.0", "no text can be agreed", "- territory >= 0.5"),
    "format never attended": (
        [(("actors", "russia", "reservation"), 0.5),
         (("actors", "russia", "audience_cost", "bilateral"),
          {"dist": "uniform", "low": 0.7, "high": 0.9})],
        "actors.russia.audience_cost.bilateral", "never attends the bilateral format",
        "bilateral:"),
    "cap below status quo": (
        [(("actors", "germany", "offer", "guarantees"), 0.1)],
        "actors.germany.offer.guarantees", "below the status quo", "guarantees: 0.1"),
    "ceasefire breaks a reservation": (
        [(("actors", "ukraine", "reservation"), 0.95)],
        "ceasefire.terms", "no world can end in a ceasefire", "terms:"),
    "distribution off the scale": (
        [(("actors", "russia", "reservation"),
          {"dist": "normal", "mean": 0.9, "sd": 0.2})],
        "actors.russia.reservation", "outside [0, 1]", "reservation:"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_check_fires_once_at_its_line(tmp_path, case):
    edits, field, words, key = CASES[case]
    data = copy.deepcopy(SMALL)
    for path, value in edits:
        _set(data, path, value)
    path = write_yaml(tmp_path / "s.yaml", data)
    found = file_warnings(path)
    # A cap below the status quo also caps the ceasefire package below what Ukraine takes.
    also = ["ceasefire.terms"] if case == "cap below status quo" else []
    assert [w.field for w in found] == [field, *also], found
    assert words in found[0].message
    text = path.read_text()
    # The field's own line: the first line starting with the key under the actor or section.
    section = field.split(".")[1] if field.startswith("actors") else field.split(".")[0]
    start = _line_of(text, f"{section}:")
    lines = text.splitlines()
    expected = next(i + 1 for i in range(start - 1, len(lines)) if lines[i].strip().startswith(key))
    assert found[0].line == expected
    assert str(found[0]).startswith(f"{path}:{expected}: {field}: ")


def test_an_off_scale_value_of_war_is_said_once(tmp_path):
    data = copy.deepcopy(SMALL)
    data["actors"]["russia"]["reservation"] = 40  # Russia has audience costs and a ceasefire
    found = file_warnings(write_yaml(tmp_path / "s.yaml", data))
    assert [w.field for w in found] == ["actors.russia.reservation"], found


def test_shipped_scenarios_have_no_warning_but_the_one_their_header_states():
    """no_us_pressure.yaml says in its header that without pressure no world can end in a
    ceasefire; validate says so too, and nothing else warns in any shipped scenario."""
    from conftest import SCENARIOS

    for path in SCENARIOS:
        found = [(w.field, w.message.split(":")[0]) for w in file_warnings(path)]
        if path.name == "no_us_pressure.yaml":
            assert found == [("ceasefire.terms", "the ceasefire package is worth at most 0.495 "
                              "to Russia, below every value of war it can have (at least 0.55, "
                              "after pressure)")], found
            assert "no world can end in a\n#   ceasefire" in path.read_text()
        else:
            assert found == [], path


def test_mass_outside_known_answers():
    assert mass_outside(Uniform(dist="uniform", low=0.0, high=2.0), 0, 1) == pytest.approx(0.5)
    assert mass_outside(Normal(dist="normal", mean=1.0, sd=0.1), 0, 1) == pytest.approx(0.5)
    assert mass_outside(Triangular(dist="triangular", low=0, mode=1, high=1), 0, 0.5) == \
        pytest.approx(0.75)
    assert mass_outside(Triangular(dist="triangular", low=0, mode=0.5, high=1), 0, 0.75) == \
        pytest.approx(0.125)
    assert mass_outside(Normal(dist="normal", mean=0.5, sd=1.0, low=0.0, high=1.0), 0, 1) == 0.0


def test_validate_warns_with_exit_0_and_no_warn_silences(tmp_path):
    data = copy.deepcopy(SMALL)
    data["actors"]["ukraine"]["reservation"] = 62
    path = write_yaml(tmp_path / "s.yaml", data)
    runner = CliRunner()
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    warned = [line for line in res.output.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "actors.ukraine.reservation" in warned[0]
    assert f"{path}:" in warned[0]
    res = runner.invoke(app, ["validate", "--no-warn", str(path)])
    assert res.exit_code == 0 and "warning" not in res.output


def test_run_prints_the_same_warnings_on_stderr(tmp_path):
    data = copy.deepcopy(SMALL)
    data["actors"]["us"]["pressure"]["russia"] = 1
    path = write_yaml(tmp_path / "s.yaml", data)
    res = CliRunner().invoke(app, ["run", str(path), "--runs", "50", "--json"])
    assert res.exit_code == 0, res.output
    assert "warning:" in res.stderr and "actors.us.pressure.russia" in res.stderr
    assert "warning" not in res.stdout
    res = CliRunner().invoke(app, ["run", str(path), "--runs", "50", "--json", "--no-warn"])
    assert "warning" not in res.stderr


def test_a_swept_value_that_looks_wrong_is_warned_at_its_line_in_the_experiment(tmp_path):
    """A grid value of 3 where 0.03 was meant validates (pressure is only bounded below) and
    would run: validate and sweep say so at the grid's line, naming the value and the point."""
    write_yaml(tmp_path / "s.yaml", SMALL)
    text = ("name: typo\nscenario: s.yaml\nruns: 50\nsweep:\n  method: grid\n  parameters:\n"
            "    actors.us.pressure.russia: [0.01, 0.03, 3]\n")
    exp = tmp_path / "e.yaml"
    exp.write_text(text)
    res = CliRunner().invoke(app, ["validate", str(exp)])
    assert res.exit_code == 0, res.output
    warned = [line for line in res.output.splitlines() if line.startswith("warning:")]
    assert warned and any("did you mean 0.03?" in w for w in warned), res.output
    for w in warned:  # the scenario's own checks, each said at the grid's line
        assert w.startswith(f"warning: {exp}:7: sweep.parameters.actors.us.pressure.russia:")
        assert "actors.us.pressure.russia = 3 at point 2 gives a warning" in w
    res = CliRunner().invoke(app, ["sweep", str(exp), "--out", str(tmp_path / "out"),
                                   "--no-plots"])
    assert res.exit_code == 0, res.output
    assert "at point 2" in res.stderr and f"{exp}:7" in res.stderr
    fine = tmp_path / "fine.yaml"
    fine.write_text(text.replace(", 3]", ", 0.05]"))
    res = CliRunner().invoke(app, ["validate", str(fine)])
    assert "warning" not in res.output


@pytest.mark.parametrize("event, field, words", [
    ({"name": "late", "kind": "scheduled", "round": 9, "probability": 0.5,
      "set": {"actors.russia.reservation": 0.3}}, "events.0.round", "before round 9"),
    ({"name": "rare", "kind": "shock", "every": 8, "draw": 0.01,
      "effect": {"actors.russia.reservation": 1.0}}, "events.0.every", "every 8 rounds"),
])
def test_an_event_no_world_reaches_is_a_warning_at_its_line(tmp_path, event, field, words):
    """An event after the last round any world plays (here the horizon, round 8) never fires:
    said at its line; the same event in the horizon is not."""
    data = copy.deepcopy(SMALL)
    data["events"] = [event]
    found = file_warnings(write_yaml(tmp_path / "s.yaml", data))
    assert [w.field for w in found] == [field], found
    assert words in found[0].message and "never fires" in found[0].message
    assert found[0].line is not None
    data["protocol"]["rounds"] = 12
    assert file_warnings(write_yaml(tmp_path / "t.yaml", data)) == []
