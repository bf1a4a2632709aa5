"""The variance decomposition over worlds (analysis.variance): known answers of the law of total
variance Var(Y) = Var(E[Y | X]) + E[Var(Y | X)], the residual part by nearest neighbours
(Devroye, Gyorfi, Lugosi & Walk 2018)."""

from __future__ import annotations

import numpy as np
import pytest

from negotiation_sim.analysis.variance import decompose, nearest_neighbours, rank_scale


def test_an_outcome_the_inputs_decide_is_all_inputs():
    rng = np.random.default_rng(0)
    x = rng.random((5000, 2))
    got = decompose(x, {"y": x[:, 0] < 0.3})["y"]
    assert got["mean"] == pytest.approx(0.3, abs=0.02)
    assert got["inputs"] > 0.95 and got["inputs"] + got["process"] == pytest.approx(1.0)


def test_an_outcome_of_the_process_alone_is_all_process():
    rng = np.random.default_rng(1)
    x = rng.random((5000, 3))
    got = decompose(x, {"y": rng.random(5000) < 0.5})["y"]
    assert got["inputs"] == pytest.approx(0.0, abs=0.05)


def test_half_and_half_by_hand():
    """Y = 1[U < X], X and U uniform: E[Y | X] = X, Var(X) = 1/12, Var(Y) = 1/4: the inputs
    explain a third of the variance."""
    rng = np.random.default_rng(2)
    x = rng.random((20000, 1))
    got = decompose(x, {"y": rng.random(20000) < x[:, 0]})["y"]
    assert got["inputs"] == pytest.approx(1 / 3, abs=0.04)


def test_no_variance_or_no_inputs():
    x = np.zeros((100, 0))
    got = decompose(x, {"flat": np.ones(100), "coin": np.arange(100) % 2 == 0})
    assert got["flat"] is None and got["coin"]["inputs"] == 0.0
    assert decompose(np.zeros((10, 1)), {"y": np.arange(10) % 2})["y"] is None  # too few


def test_ranks_and_neighbours():
    x = np.array([[3.0], [1.0], [1.0], [10.0]])
    assert rank_scale(x)[:, 0].tolist() == [0.5, 0.0, 0.0, 0.75]
    nn = nearest_neighbours(np.array([[0.0], [0.1], [0.9], [1.0]]))
    assert nn.tolist() == [1, 0, 3, 2]


def test_negsim_run_variance_on_the_baseline():
    import json

    from conftest import ROOT
    from typer.testing import CliRunner

    from negotiation_sim.cli import app

    res = CliRunner().invoke(app, ["run", str(ROOT / "scenarios" / "summit_baseline.yaml"),
                                   "--runs", "1024", "--variance", "--json", "--quiet",
                                   "--no-solutions"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    split = out["variance"]
    assert split["runs"] == 1024 and "actors.russia.reservation" in split["inputs"]
    agree = split["shares"]["agreement"]
    assert agree["mean"] == pytest.approx(out["outcomes"]["agreement"]["share"])
    assert 0.0 < agree["inputs"] < 1.0


def test_the_report_shows_the_variance_and_the_posterior_of_a_run(tmp_path):
    from conftest import write_yaml
    from test_run_condition import pie
    from typer.testing import CliRunner

    from negotiation_sim.cli import app
    from negotiation_sim.report.html import build_report

    data = pie()
    data["history"] = {"start": "2025-01-01", "min_ess": 50, "observed": [
        {"date": "2025-01-05", "event": "talks", "happened": True}]}
    path = write_yaml(tmp_path / "s.yaml", data)
    out = tmp_path / "r"
    res = CliRunner().invoke(app, ["run", str(path), "--runs", "1024", "--variance", "--quiet",
                                   "--out", str(out), "--no-plots"])
    assert res.exit_code == 0, res.output
    assert (out / "variance.json").exists() and (out / "conditioning.json").exists()
    page = build_report(out)
    assert "id='variance'" in page and "id='posterior'" in page
    assert "actors.a.reservation" in page
