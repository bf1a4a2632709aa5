"""Sizes the command line asks for, and the work it can skip (issue 13, class 5).

``--runs`` and ``--chunk-size`` are options, not file fields: every command that takes them
refuses a value beyond its limit up front (one line naming the option and docs/limits.md, exit 2,
nothing simulated). ``--no-solutions`` skips the reference solutions and changes nothing else.
Expected utility's memory does not grow with the number of rounds.
"""

from __future__ import annotations

import copy
import json
import tracemalloc

import pytest
from conftest import ROOT, SMALL, write_yaml
from typer.testing import CliRunner

import negotiation_sim as ns
from negotiation_sim.cli import app
from negotiation_sim.config.limits import MAX_CHUNK, MAX_RUNS
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.protocols import PROTOCOLS
from negotiation_sim.run import chunks
from negotiation_sim.run.chunks import simulate_chunk

cli = CliRunner()


def invoke(*args):
    return cli.invoke(app, [str(a) for a in args])


@pytest.fixture
def scenario(tmp_path):
    return write_yaml(tmp_path / "small.yaml", SMALL)


def commands(scenario):
    backtest = ROOT / "backtests" / "russia_ukraine_2025.yaml"
    return {"run": ["run", scenario], "compare": ["compare", scenario, scenario],
            "backtest": ["backtest", backtest],
            "target": ["target", scenario, "--vary", "actors.russia.claim=0:0.2"]}


@pytest.mark.parametrize("command, option, limit", [
    ("run", "--runs", MAX_RUNS), ("compare", "--runs", MAX_RUNS), ("backtest", "--runs", MAX_RUNS),
    ("target", "--runs", MAX_RUNS),
    ("run", "--chunk-size", MAX_CHUNK), ("compare", "--chunk-size", MAX_CHUNK),
])  # backtest has no --chunk-size
def test_sizes_beyond_the_limits_are_refused_up_front(scenario, monkeypatch, command, option,
                                                      limit):

    def never(*args, **kwargs):
        raise AssertionError("simulated before the options were checked")

    monkeypatch.setattr(chunks, "simulate_chunk", never)
    for value in (limit + 1, 10**18, 10**30):
        res = invoke(*commands(scenario)[command], option, value)
        assert res.exit_code == 2, res.output
        line = res.stderr.strip()
        assert "\n" not in line and "Traceback" not in res.output
        assert line.startswith(f"error: {option}:") and f"{limit:,}" in line, line
        assert "docs/limits.md" in line
    assert f"{limit:,}" in invoke(command, "--help").stdout.replace("\n", " ").replace("│", "")


def test_workers_beyond_the_limit_are_refused_before_any_is_started(tmp_path, monkeypatch):
    from negotiation_sim.config.limits import MAX_WORKERS
    from negotiation_sim.run.executors import make_executor, processes

    def never(*args, **kwargs):
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr(processes.cf, "ProcessPoolExecutor", never)
    write_yaml(tmp_path / "small.yaml", SMALL)
    exp = tmp_path / "exp.yaml"
    exp.write_text("name: w\nscenario: small.yaml\nruns: 100\nsweep:\n  method: list\n"
                   "  points:\n    - actors.russia.claim: 0.1\n")
    for value in (MAX_WORKERS + 1, 10**12):
        res = invoke("sweep", exp, "--executor", "processes", "--workers", value,
                     "--out", tmp_path / "o")
        assert res.exit_code == 2, res.output
        assert res.stderr.strip().startswith("error: --workers:") and f"{MAX_WORKERS:,}" in \
            res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match="workers is limited"):
        make_executor("processes", workers=MAX_WORKERS + 1)


def test_the_api_refuses_the_same_sizes(scenario):
    for kwargs in ({"runs": MAX_RUNS + 1}, {"chunk_size": MAX_CHUNK + 1}, {"runs": 0}):
        with pytest.raises(ValueError, match="limited to|at least 1"):
            ns.run(scenario, **kwargs)
    with pytest.raises(ValueError, match="limited to"):  # before any evaluation is simulated
        ns.target(scenario, "agreement", 0.5, ["actors.russia.claim=0:0.2"], runs=MAX_RUNS + 1)


def test_the_limits_of_options_are_documented():
    text = (ROOT / "docs" / "limits.md").read_text()
    for needle in ("--runs", "--chunk-size", "--workers", "--world", "--no-solutions",
                   f"{MAX_RUNS:,}"):
        assert needle in text, needle


# -- --no-solutions --------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_no_solutions_skips_them_and_changes_nothing_else(tmp_path, protocol):
    data = copy.deepcopy(SMALL)
    data["protocol"] = {"kind": protocol, "rounds": 6}
    path = write_yaml(tmp_path / "s.yaml", data)
    args = ("run", path, "--runs", 1100, "--chunk-size", 1024, "--seed", 3, "--json")
    with_them = json.loads(invoke(*args).stdout)
    res = invoke(*args, "--no-solutions")
    assert res.exit_code == 0, res.output
    without = json.loads(res.stdout)
    assert with_them["solutions"] is not None and without["solutions"] is None
    assert {k: v for k, v in with_them.items() if k != "solutions"} == \
        {k: v for k, v in without.items() if k != "solutions"}
    if protocol == "mediated":  # the table, the files and the report do without them
        res = invoke(*args[:-1], "--no-solutions", "--out", tmp_path / "o", "--no-plots")
        assert res.exit_code == 0 and "Reference solutions" not in res.stdout, res.output
        assert json.loads((tmp_path / "o" / "summary.json").read_text())["solutions"] is None
        assert invoke("report", tmp_path / "o").exit_code == 0
        assert "--no-solutions" in invoke("run", "--help").stdout


def test_no_solutions_does_not_call_the_solvers(monkeypatch):
    from negotiation_sim.core import model

    def never(*args, **kwargs):
        raise AssertionError("a reference solution was computed")

    monkeypatch.setattr(model, "reference_texts", never)
    sc = Scenario.model_validate(SMALL)
    result = simulate_chunk(sc, 200, solutions=False)
    assert not result.solutions


# -- expected utility: memory flat in the rounds ---------------------------------------------------


def _peak(rounds: int) -> int:
    data = copy.deepcopy(SMALL)
    data["protocol"] = {"kind": "expected_utility", "rounds": rounds}
    sc = Scenario.model_validate(data)
    tracemalloc.start()
    try:
        simulate_chunk(sc, 1024, solutions=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_expected_utility_memory_does_not_grow_with_the_rounds():
    """An allocation of rounds x actors x actors x worlds would make 160 rounds cost 8x what 20
    rounds do; the dynamics keep only the current positions."""
    short, long = _peak(20), _peak(160)
    assert long < 1.5 * short, (short, long)
