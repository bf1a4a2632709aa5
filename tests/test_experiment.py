"""Experiment files: schema, dotted paths, sampling designs, and one-line errors for bad files."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml
from conftest import ROOT, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.design import make_design, n_points
from negotiation_sim.config.design import Range, Sweep
from negotiation_sim.config.experiment import load_experiment
from negotiation_sim.config.paths import path_error, set_path
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.config.yamlio import InputError

LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): (?P<field>[\w.\-]+): (?P<msg>.+)$")


def experiment(tmp_path, small_data, text: str):
    """A scenario file and an experiment file (``text``, YAML) beside it."""
    write_yaml(tmp_path / "small.yaml", small_data)
    path = tmp_path / "exp.yaml"
    path.write_text("name: t\nscenario: small.yaml\nruns: 1000\nseed: 3\n" + text)
    return path


def error_of(path) -> tuple[InputError, re.Match]:
    with pytest.raises(InputError) as info:
        load_experiment(path)
    line = str(info.value)
    match = LINE.match(line)
    assert match, line
    assert "\n" not in line
    return info.value, match


# -- designs ------------------------------------------------------------------------------------


def test_grid_is_the_cartesian_product_last_parameter_fastest():
    sweep = Sweep(method="grid", parameters={"a": [1, 2], "b": Range(low=0, high=1, num=3)})
    d = make_design(sweep, seed=0)
    assert len(d) == n_points(sweep) == 6
    assert d.points[:3] == [{"a": 1, "b": 0.0}, {"a": 1, "b": 0.5}, {"a": 1, "b": 1.0}]
    assert d.names == ["a", "b"]


@pytest.mark.parametrize("method,samples,expected", [
    ("lhs", 10, 10), ("sobol", 8, 8 * (3 + 2)), ("morris", 4, 4 * (3 + 1))])
def test_sampled_designs_stay_in_bounds_and_are_seeded(method, samples, expected):
    params = {"x": Range(low=-1, high=1), "y": Range(low=0, high=0.5),
              "z": Range(low=2, high=9, integer=True)}
    sweep = Sweep(method=method, samples=samples, parameters=params)
    a, b = make_design(sweep, seed=5), make_design(sweep, seed=5)
    assert len(a) == n_points(sweep) == expected
    assert np.array_equal(a.X, b.X)
    assert (a.X[:, 0] >= -1).all() and (a.X[:, 0] <= 1).all()
    assert (a.X[:, 1] >= 0).all() and (a.X[:, 1] <= 0.5).all()
    assert all(isinstance(p["z"], int) and 2 <= p["z"] <= 9 for p in a.points)
    if method == "lhs":  # one sample in each of the N strata of every axis
        strata = np.floor((a.X[:, 0] + 1) / 2 * samples).astype(int)
        assert sorted(strata) == list(range(samples))


def test_list_points_keep_their_labels():
    sweep = Sweep(method="list", points=[{"label": "bi", "summit.order": ["bilateral"]},
                                         {"protocol.rounds": 3}])
    d = make_design(sweep, seed=0)
    assert d.labels == ["bi", None]
    assert d.points == [{"summit.order": ["bilateral"]}, {"protocol.rounds": 3}]
    assert d.names == ["summit.order", "protocol.rounds"]


# -- paths --------------------------------------------------------------------------------------


def test_paths_reach_defaults_distribution_parameters_and_new_map_keys(small_data):
    sc = Scenario.model_validate(small_data)
    for ok in ("protocol.rounds", "actors.russia.reservation", "actors.russia.reservation.high",
               "actors.ukraine.patience", "actors.us.pressure.ukraine", "summit.order",
               "actors.germany.offer.guarantees.low"):
        assert path_error(sc, ok) is None, ok
    msg = path_error(sc, "actors.russia.reservaton")
    assert "closest valid paths: actors.russia.reservation" in msg
    assert "not a section" in path_error(sc, "actors.ukraine.reservation.high")
    assert path_error(sc, "actors.poland.offer.guarantees") is not None  # no new actors
    assert path_error(sc, "protocol.roundz") is not None


def test_set_path_replaces_a_distribution_or_one_of_its_parameters(small_data):
    data = dict(small_data)
    set_path(data, "actors.russia.reservation.high", 0.9)
    assert data["actors"]["russia"]["reservation"] == {"dist": "uniform", "low": 0.2, "high": 0.9}
    set_path(data, "actors.russia.reservation", 0.4)
    assert data["actors"]["russia"]["reservation"] == 0.4
    set_path(data, "ceasefire.terms.territory", 0.7)
    assert data["ceasefire"]["terms"] == {"guarantees": 0.5, "territory": 0.7}


def test_overrides_and_points_build_the_point_scenarios(tmp_path, small_data):
    path = experiment(tmp_path, small_data, """
overrides:
  protocol.rounds: 3
sweep:
  method: grid
  parameters:
    actors.russia.reservation.high: [0.6, 0.7]
    actors.us.pressure.russia: {low: 0, high: 0.04, num: 3}
""")
    loaded = load_experiment(path)
    scenarios = loaded.point_scenarios()
    assert len(scenarios) == 6
    assert all(sc.protocol.rounds == 3 for sc in scenarios)
    assert scenarios[5].actors["russia"].reservation.high == 0.7
    assert scenarios[5].actors["us"].pressure["russia"] == pytest.approx(0.04)
    assert loaded.base.protocol.rounds == 8  # the scenario as written is untouched


def test_a_labelled_point_that_sets_nothing_is_the_scenario_as_written(tmp_path, small_data):
    path = experiment(tmp_path, small_data, """
sweep:
  method: list
  points:
    - {label: as written}
    - {label: short, protocol.rounds: 3}
""")
    loaded = load_experiment(path)
    first, second = loaded.point_scenarios()
    assert first == loaded.base and second.protocol.rounds == 3
    assert loaded.design.labels == ["as written", "short"]
    bare = experiment(tmp_path, small_data, "sweep:\n  method: list\n  points:\n    - {}\n")
    res = CliRunner().invoke(app, ["validate", str(bare)])
    assert res.exit_code == 1 and "or be the scenario as written with a label" in res.output


# -- bad experiment files: one line, with file and line -------------------------------------------


BAD = {
    "unknown path": ("""
sweep:
  method: grid
  parameters:
    actors.russia.reservaton: [0.1, 0.2]
""", 9, "closest valid paths: actors.russia.reservation"),
    "unknown override path": ("""
overrides:
  protocol.roundz: 4
""", 7, "closest valid paths: protocol.rounds"),
    "bounds reversed": ("""
sweep:
  method: sobol
  samples: 8
  parameters:
    actors.russia.claim: {low: 0.3, high: 0.1}
""", 10, "bounds reversed"),
    "grid with no values": ("""
sweep:
  method: grid
  parameters:
    actors.russia.claim: []
""", 9, "at least one value"),
    "unknown method": ("""
sweep:
  method: factorial
  parameters:
    actors.russia.claim: [0.1]
""", 7, "'grid', 'list', 'lhs', 'sobol', 'morris' or 'robust'"),
    "sobol without samples": ("""
sweep:
  method: sobol
  parameters:
    actors.russia.claim: {low: 0.1, high: 0.3}
""", 7, "needs samples"),
    "sobol samples not a power of two": ("""
sweep:
  method: sobol
  samples: 100
  parameters:
    actors.russia.claim: {low: 0.1, high: 0.3}
""", 8, "power of 2"),
    "value out of range": ("""
sweep:
  method: grid
  parameters:
    actors.russia.patience: [0.9, 1.5]
""", 9, "actors.russia.patience = 1.5 at point 1 makes the scenario invalid"),
    "unknown field": ("""
sweep:
  method: grid
  parametres: {}
""", 8, "unknown field"),
    "list point naming an unknown format": ("""
sweep:
  method: list
  points:
    - {summit.order: [quad]}
""", 9, "unknown summit format 'quad'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_experiment_files_get_one_located_line(tmp_path, small_data, case):
    text, line, fragment = BAD[case]
    path = experiment(tmp_path, small_data, text)
    _, m = error_of(path)
    assert m["file"] == str(path)
    assert int(m["line"]) == line, m.string
    assert fragment in m["msg"], m.string


def test_missing_scenario_file_is_reported_at_the_scenario_line(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("name: t\nruns: 10\nscenario: nowhere.yaml\n")
    _, m = error_of(path)
    assert (m["line"], m["field"]) == ("3", "scenario")
    assert "not found" in m["msg"]


def test_cli_prints_one_red_line_and_exits_1(tmp_path, small_data):
    path = experiment(tmp_path, small_data, BAD["unknown path"][0])
    res = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}:9: "), res.stderr
    assert not (tmp_path / "o").exists()


def test_scheduler_without_dask_is_bad_usage(tmp_path, small_data):
    path = experiment(tmp_path, small_data, "")
    res = CliRunner().invoke(app, ["sweep", str(path), "--executor", "serial",
                                   "--scheduler", "tcp://127.0.0.1:1"])
    assert res.exit_code == 2


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_experiments_load(path):
    loaded = load_experiment(path)
    assert len(loaded.design) == n_points(loaded.experiment.sweep) >= 2


def test_sensitivity_bounds_are_the_baselines_supports():
    """experiments/sensitivity.yaml sweeps every uncertain input of the baseline over its support,
    and the mediator's blame (fixed in the baseline) over a range that holds its value."""
    from conftest import ROOT

    from negotiation_sim.config.distributions import _Dist
    from negotiation_sim.config.paths import number_fields
    from negotiation_sim.config.scenario import load_scenario

    exp = yaml.safe_load((ROOT / "experiments" / "sensitivity.yaml").read_text())
    base = load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    fields = dict(number_fields(base))
    supports = {p: v.support() for p, v in fields.items() if isinstance(v, _Dist)}
    swept = {p: (b["low"], b["high"]) for p, b in exp["sweep"]["parameters"].items()}
    levers = {"actors.us.blame.refuse", "actors.us.blame.cap"}
    assert set(swept) == set(supports) | levers
    for path, (lo, hi) in supports.items():
        assert swept[path] == pytest.approx((lo, hi)), path
    for path in levers:
        assert not isinstance(fields[path], _Dist), path
        assert swept[path][0] <= float(fields[path]) <= swept[path][1], path


def test_an_odd_number_of_morris_levels_is_a_located_warning(tmp_path, small_data):
    """Morris's grid is symmetric only for an even number of levels: ``validate`` says so at
    the field's line, in one line, instead of SALib's own warning with its source path."""
    import warnings

    from typer.testing import CliRunner

    from negotiation_sim.cli import app

    path = experiment(tmp_path, small_data, "sweep:\n  method: morris\n  samples: 4\n"
                      "  levels: 3\n  parameters:\n"
                      "    actors.russia.claim: {low: 0.0, high: 0.2}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SALib's warning would raise here
        res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    assert f"warning: {path}:8: sweep.levels: 3 levels: Morris's grid" in res.output
    assert "SALib" not in res.output and "num_levels" not in res.output
    even = experiment(tmp_path, small_data, "sweep:\n  method: morris\n  samples: 4\n"
                      "  levels: 4\n  parameters:\n"
                      "    actors.russia.claim: {low: 0.0, high: 0.2}\n")
    assert "sweep.levels" not in CliRunner().invoke(app, ["validate", str(even)]).output
