"""negsim trace: the same model with N = 1 worth of story, agreeing with negsim run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.core.protocols import PROTOCOLS
from negotiation_sim.run.chunks import iter_chunks
from negotiation_sim.run.trace import trace_world

BASELINE = "scenarios/summit_baseline.yaml"
RUNS = 2200  # three blocks of worlds


def variant(kind: str):
    sc = load_scenario(BASELINE)
    proto = sc.protocol.as_kind(kind, rounds=max(sc.protocol.rounds, 1))
    return sc.model_copy(update={"protocol": proto})


@pytest.fixture(scope="module", params=list(PROTOCOLS))
def run_and_scenario(request):
    sc = variant(request.param)
    chunks = list(iter_chunks(sc, RUNS, seed=7, chunk_size=2048))
    return sc, chunks


def _world(chunks, k):
    for c in chunks:
        if c.first_world <= k < c.first_world + c.n:
            return c, k - c.first_world
    raise AssertionError(k)


@settings(max_examples=8, deadline=None)
@given(k=st.integers(0, RUNS - 1))
def test_trace_agrees_with_run_on_the_same_seed_and_world(run_and_scenario, k):
    sc, chunks = run_and_scenario
    story = trace_world(sc, seed=7, world=k)
    c, w = _world(chunks, k)
    o = story["outcome"]
    assert o["outcome"] == OUTCOMES[c.outcome[w]]
    assert o["round"] == c.end_round[w]
    if o["terms"] is not None:
        assert np.allclose(list(o["terms"].values()), c.terms[:, w], atol=1e-12)
    u = [np.nan if v is None else v for v in o["utilities"].values()]
    assert np.allclose(u, c.utility[:, w], atol=1e-12, equal_nan=True)
    if o["outcome"] != "no_summit":
        assert story["rounds"] and story["rounds"][-1]["round"] == o["round"]


def test_cli_trace_json_and_table():
    runner = CliRunner()
    res = runner.invoke(app, ["trace", BASELINE, "--world", "3", "--json"])
    assert res.exit_code == 0, res.output
    story = json.loads(res.stdout)
    assert story["world"] == 3 and "outcome" in story and "formation" in story
    res = runner.invoke(app, ["trace", BASELINE, "--world", "3"])
    assert res.exit_code == 0 and "Outcome:" in res.stdout


def test_cli_trace_bad_input_is_one_line():
    res = CliRunner().invoke(app, ["trace", "no/such/file.yaml"])
    assert res.exit_code == 1


def test_trace_json_carries_issue_words_and_this_worlds_positions():
    """A trace plots on its own: issues' words and each actor's drawn position travel with it."""
    from conftest import ROOT

    res = CliRunner().invoke(app, ["trace", str(ROOT / "scenarios" / "summit_baseline.yaml"),
                                   "--world", "3", "--json"])
    assert res.exit_code == 0, res.output
    story = json.loads(res.stdout)
    assert set(story["issues"]) >= {"territory"} and story["issues"]["territory"]["low"]
    assert story["actors"]["russia"]["role"] == "principal"
    assert set(story["actors"]["russia"]["position"]) == set(story["issues"])


@pytest.mark.parametrize("world", [10**9, 2**63 - 1, 2**63, 2**64, 10**40])
def test_a_world_beyond_any_run_is_one_line(world):
    """World indices a run can hold are 0 ... MAX_RUNS - 1; beyond them (past int64 too) one
    line naming --world, exit 2, not an overflow deep in the model."""
    res = CliRunner().invoke(app, ["trace", BASELINE, "--world", str(world)])
    assert res.exit_code == 2, res.output
    line = res.stderr.strip()
    assert "\n" not in line and "Traceback" not in res.output
    assert line.startswith("error: --world:") and "999,999,999" in line
    import negotiation_sim as ns

    with pytest.raises(ValueError, match="world is limited to 999,999,999"):
        ns.trace(BASELINE, world=world)


def test_the_last_world_of_the_largest_run_is_traced():
    res = CliRunner().invoke(app, ["trace", BASELINE, "--world", str(10**9 - 1), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["world"] == 10**9 - 1


def test_the_trace_tells_what_became_of_a_signed_text():
    """A traced world's durability is the run's: a first text broken in the run is broken in the
    trace by the same principal in the same round, and says so in its why; a text kept says it
    held."""
    sc = load_scenario(BASELINE)
    chunk = next(iter_chunks(sc, 400, seed=0, chunk_size=400))
    signed = np.flatnonzero(chunk.settled_round >= 0)
    broken = signed[chunk.broken_round[signed] >= 0]
    held = signed[chunk.broken_round[signed] < 0]
    assert broken.size and held.size  # the baseline has both within 400 worlds
    for w in (broken[0], held[0]):
        story = trace_world(sc, seed=0, world=int(w))
        d = story["outcome"]["durability"]
        assert d["followed_rounds"] == sc.durability.rounds
        if chunk.broken_round[w] >= 0:
            by = sc.principals[chunk.broken_by[w]]
            assert (d["held"], d["broken_round"], d["broken_by"]) == (
                False, chunk.broken_round[w], by)
            assert f"in round {chunk.broken_round[w]} (day" in story["why"]
            assert d["resumed"] == bool(chunk.resumed[w])
        else:
            assert d["held"] and d["broken_round"] is None and "held" in story["why"]
    no_summit = int(np.flatnonzero(np.array(OUTCOMES)[chunk.outcome] == "no_summit")[0])
    assert trace_world(sc, seed=0, world=no_summit)["outcome"]["durability"] is None
