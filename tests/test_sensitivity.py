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
from negotiation_sim.config.design import Range, Sweep, make_design

pytest.importorskip("SALib")
cli = CliRunner()

# Ishigami & Homma (1990), a = 7, b = 0.1, x_i ~ U(-pi, pi): published indices (Saltelli et
# al. 2008, Global Sensitivity Analysis: The Primer, sec. 4.8; Sobol' & Levitan 1999), not
# recomputed here.
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(X: np.ndarray) -> np.ndarray:
    return np.sin(X[:, 0]) + 7.0 * np.sin(X[:, 1]) ** 2 + 0.1 * X[:, 2] ** 4 * np.sin(X[:, 0])


UNIT = Range(low=0, high=1)


def sobol_design(samples: int, names: str, seed: int = 1):
    sweep = Sweep(method="sobol", samples=samples, parameters={n: UNIT for n in names})
    return make_design(sweep, seed=seed)


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


def test_an_additive_function_splits_its_variance_by_the_squared_slopes():
    """y = 4 a + 2 b + 0 c, uniform inputs: V_i = slope_i^2 / 12, so S1 = ST = (0.8, 0.2, 0)
    and no interactions (S1 sums to 1)."""
    design = sobol_design(2048, "abc")
    X = design.X
    res = analyze("sobol", design.space, X, 4 * X[:, 0] + 2 * X[:, 1], seed=1, num_resamples=50)
    for name, share in zip("abc", (0.8, 0.2, 0.0)):
        assert res.indices[name]["S1"] == pytest.approx(share, abs=0.03), name
        assert res.indices[name]["ST"] == pytest.approx(share, abs=0.03), name
    assert sum(res.indices[n]["S1"] for n in "abc") == pytest.approx(1.0, abs=0.05)


def test_a_product_shows_its_interaction():
    """y = a b, uniform inputs: Var y = 7/144, V_a = V_b = 1/48, V_ab = 1/144, so
    S1 = 3/7 and ST = 4/7 for each: the total exceeds the first order by the interaction."""
    design = sobol_design(4096, "ab")
    res = analyze("sobol", design.space, design.X, design.X[:, 0] * design.X[:, 1], seed=1,
                  num_resamples=50)
    for name in "ab":
        assert res.indices[name]["S1"] == pytest.approx(3 / 7, abs=0.03), name
        assert res.indices[name]["ST"] == pytest.approx(4 / 7, abs=0.03), name


def test_analyze_results_reads_the_points_in_their_order():
    """A sweep's summary may list points in any order: the indices of a known function come out
    right only if each output is matched with its own point's values."""
    import pandas as pd

    from negotiation_sim.analysis.sensitivity import analyze_results
    from negotiation_sim.results.reader import SweepResults

    design = sobol_design(2048, "ab", seed=2)
    X = design.X
    points = pd.DataFrame({"point": range(len(X)), "a": X[:, 0], "b": X[:, 1]})
    summary = pd.DataFrame({"point": range(len(X)), "runs": 1,
                            "agreement": X[:, 0] * X[:, 1]}).iloc[::-1]
    manifest = {"design": {"method": "sobol", "parameters": ["a", "b"], "points": len(X),
                           "bounds": [[0, 1], [0, 1]], "seed": 0}}
    res = analyze_results(SweepResults(summary, manifest, points=points), num_resamples=20)
    assert res.indices["a"]["S1"] == pytest.approx(3 / 7, abs=0.03)
    assert res.indices["b"]["ST"] == pytest.approx(4 / 7, abs=0.03)


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


def test_the_sweep_saves_the_indices_negsim_sensitivity_prints(sobol_results):
    res = cli.invoke(app, ["sensitivity", str(sobol_results), "--json"])
    printed = json.loads(res.stdout)
    saved = json.loads((sobol_results / "sensitivity.json").read_text())
    assert saved["parameters"] == printed["parameters"]
    for row in printed["parameters"].values():  # shares of variance, up to estimation noise
        assert row["ST"] >= -row["ST_conf"] and row["ST_conf"] >= 0


@pytest.mark.parametrize("second_order", [False, True])
@pytest.mark.parametrize("value", [0.0, 0.25, 1.0, 1e5])
def test_sobol_indices_of_a_constant_metric_are_undefined_not_zero(value, second_order):
    """No variance, nothing to share out: every Sobol index is NaN (null in JSON), whatever the
    constant, and SALib's 0/0 never reaches the user as 0.000 or as a RuntimeWarning."""
    import warnings

    sweep = Sweep(method="sobol", samples=8, second_order=second_order,
                  parameters={"a": Range(low=0, high=1), "b": Range(low=0, high=1)})
    design = make_design(sweep, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = analyze("sobol", design.space, design.X, np.full(len(design), value),
                      second_order=second_order, metric="ceasefire")
    assert all(math.isnan(v) for row in res.indices.values() for v in row.values())
    out = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert all(v is None for row in out["parameters"].values() for v in row.values())
    assert "ceasefire is the same at every point" in out["undefined"]
    if second_order:
        assert out["second_order"] == {"a": {"b": None}, "b": {}}
    # a metric that varies, however little, keeps its indices
    Y = np.full(len(design), value) + 1e-3 * design.X[:, 0]
    res = analyze("sobol", design.space, design.X, Y, second_order=second_order)
    assert res.note is None and res.indices["a"]["ST"] > 0.5


def test_cli_and_figure_show_undefined_indices_as_undefined(sobol_results, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from negotiation_sim.plots.sweep import sensitivity

    res = cli.invoke(app, ["sensitivity", str(sobol_results), "--metric", "ceasefire"])
    assert res.exit_code == 0, res.output
    assert "undefined" in res.stdout and "0.000 ± 0.000" not in res.stdout
    assert "the same at every point" in res.stdout
    res = cli.invoke(app, ["sensitivity", str(sobol_results), "--metric", "ceasefire", "--json"])
    out = json.loads(res.stdout)
    assert out["parameters"]["actors.russia.reservation"]["ST"] is None
    fig = sensitivity(out, metric="ceasefire")
    assert sum(t.get_text() == "undefined" for t in fig.axes[0].texts) == 3
    matplotlib.pyplot.close(fig)
