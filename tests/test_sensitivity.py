"""Sensitivity analysis: known indices of analytic functions through the sweep's own sampling and
analysis path, and ``negsim sensitivity`` on a real (tiny) Sobol sweep."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import write_yaml
from typer.testing import CliRunner

from negotiation_sim.analysis.sensitivity import SensitivityError, analyze
from negotiation_sim.cli import app
from negotiation_sim.config.design import make_design
from negotiation_sim.config.design import Range, Sweep

pytest.importorskip("SALib")
cli = CliRunner()

# Ishigami & Homma (1990), a = 7, b = 0.1, x_i ~ U(-pi, pi). Analytic indices (Saltelli et
# al. 2008, Global Sensitivity Analysis: The Primer, sec. 4.8 / Sobol' & Levitan 1999).
A, B = 7.0, 0.1
_V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
_V2 = A**2 / 8
_V13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
ISHIGAMI_S1 = [_V1 / _V, _V2 / _V, 0.0]
ISHIGAMI_ST = [(_V1 + _V13) / _V, _V2 / _V, _V13 / _V]


def ishigami(X: np.ndarray) -> np.ndarray:
    return np.sin(X[:, 0]) + A * np.sin(X[:, 1]) ** 2 + B * X[:, 2] ** 4 * np.sin(X[:, 0])


def test_analytic_values_are_the_textbook_ones():
    assert ISHIGAMI_S1[:2] == pytest.approx([0.3139, 0.4424], abs=1e-4)
    assert ISHIGAMI_ST == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)


def test_ishigami_sobol_indices_through_the_sweep_path():
    bounds = Range(low=-math.pi, high=math.pi)
    sweep = Sweep(method="sobol", samples=4096, parameters={"x1": bounds, "x2": bounds, "x3": bounds})
    design = make_design(sweep, seed=1)
    assert len(design) == 4096 * 5
    res = analyze("sobol", design.space, design.X, ishigami(design.X), seed=1, num_resamples=50)
    for j, name in enumerate(["x1", "x2", "x3"]):
        row = res.indices[name]
        assert row["S1"] == pytest.approx(ISHIGAMI_S1[j], abs=0.03), name
        assert row["ST"] == pytest.approx(ISHIGAMI_ST[j], abs=0.03), name
        assert 0 < row["ST_conf"] < 0.1


def test_morris_on_a_linear_function_gives_its_slopes():
    sweep = Sweep(method="morris", samples=20, levels=4,
                  parameters={"a": Range(low=0, high=1), "b": Range(low=0, high=1),
                              "c": Range(low=0, high=1)})
    design = make_design(sweep, seed=3)
    Y = 2.0 * design.X[:, 0] - 0.5 * design.X[:, 1]
    res = analyze("morris", design.space, design.X, Y, levels=4, seed=3, num_resamples=50)
    assert [res.indices[n]["mu_star"] for n in "abc"] == pytest.approx([2.0, 0.5, 0.0], abs=1e-9)
    assert [res.indices[n]["mu"] for n in "abc"] == pytest.approx([2.0, -0.5, 0.0], abs=1e-9)
    assert [res.indices[n]["sigma"] for n in "abc"] == pytest.approx([0, 0, 0], abs=1e-9)


def test_undefined_metric_values_are_refused():
    sweep = Sweep(method="sobol", samples=8, parameters={"a": Range(low=0, high=1),
                                                         "b": Range(low=0, high=1)})
    design = make_design(sweep, seed=0)
    Y = np.ones(len(design))
    Y[3] = np.nan
    with pytest.raises(SensitivityError, match="undefined at 1 of 32 points"):
        analyze("sobol", design.space, design.X, Y)


@pytest.fixture(scope="module")
def sobol_results(tmp_path_factory):
    from conftest import SMALL

    tmp = tmp_path_factory.mktemp("sobol")
    write_yaml(tmp / "small.yaml", SMALL)
    (tmp / "exp.yaml").write_text("""name: tiny-sobol
scenario: small.yaml
runs: 200
seed: 4
sweep:
  method: sobol
  samples: 16
  parameters:
    actors.russia.reservation: {low: 0.2, high: 0.5}
    actors.ukraine.reservation: {low: 0.1, high: 0.5}
    actors.us.pressure.russia: {low: 0.0, high: 0.05}
""")
    res = cli.invoke(app, ["sweep", str(tmp / "exp.yaml"), "--out", str(tmp / "out"), "--quiet"])
    assert res.exit_code == 0, res.output
    return tmp / "out"


def test_cli_sensitivity_json(sobol_results):
    res = cli.invoke(app, ["sensitivity", str(sobol_results), "--metric", "agreement", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["method"] == "sobol" and out["metric"] == "agreement" and out["points"] == 16 * 5
    assert list(out["parameters"]) == ["actors.russia.reservation", "actors.ukraine.reservation",
                                       "actors.us.pressure.russia"]
    for row in out["parameters"].values():
        assert set(row) == {"S1", "S1_conf", "ST", "ST_conf"}
    table = cli.invoke(app, ["sensitivity", str(sobol_results), "--metric", "utility.ukraine"])
    assert table.exit_code == 0 and "total ST" in table.stdout


def test_cli_sensitivity_errors(sobol_results, tmp_path):
    res = cli.invoke(app, ["sensitivity", str(sobol_results), "--metric", "happiness"])
    assert res.exit_code == 1 and "unknown metric 'happiness'" in res.stderr
    assert "terms.territory" in res.stderr
    res = cli.invoke(app, ["sensitivity", str(tmp_path)])
    assert res.exit_code == 1 and "not a results directory" in res.stderr
