"""Conditioning on the record (run.condition, config.history): known answers.

Conditioning is Bayes' rule on the simulated worlds (rejection ABC, Pritchard et al. 1999): with
one uncertain input whose value alone decides an observed event, the conditioned input is the
prior truncated to the values that make the event happen. A constant per-round hazard h gives
P(within n rounds) = 1 - (1 - h)^n, and the forecast made later, conditioned on "not yet", is
the same curve from that date (law of total probability).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import make_scenario
from pydantic import ValidationError

from negotiation_sim.config.history import History, first_round_from, round_of, rounds_through
from negotiation_sim.core.outcomes import ChunkResult
from negotiation_sim.run.chunks import simulate_chunk
from negotiation_sim.run.condition import (
    Check,
    Conditioner,
    EventKind,
    TooFewWorlds,
    Window,
    condition,
    posterior_table,
    require_ess,
    weighted_quantiles,
)

START = dt.date(2025, 1, 1)


def pie(**protocol):
    """a's value of war ~ U(0.4, 0.8), b's 0.3, a pays 0.045 a round to attend the only
    (leaders') format. Complete information, no pressure, no shocks: a attends in round 1 iff
    its gain from the Nash split, (1 - w_a - 0.3) / 2, covers 0.045, i.e. iff w_a <= 0.61,
    and then both sign at once; otherwise no session is ever held."""
    return {"name": "c", "issues": {"share": {"low": "all to b", "high": "all to a"}},
            "actors": {"a": {"role": "principal", "position": {"share": 1.0},
                             "reservation": {"dist": "uniform", "low": 0.4, "high": 0.8},
                             "audience_cost": {"summit": 0.045}},
                       "b": {"role": "principal", "position": {"share": 0.0},
                             "reservation": 0.3}},
            "summit": {"formats": {"summit": ["a", "b"]}},
            "protocol": {"kind": "mediated", "rounds": 4, "information": "complete",
                         "start": START.isoformat(), **protocol}}


def history(*observed, **extra):
    return History.model_validate({"start": START.isoformat(), "observed": list(observed),
                                   **extra})


def test_the_session_log_records_the_format_of_every_round():
    sc = make_scenario(pie())
    chunk = simulate_chunk(sc, 500, seed=0)
    log = chunk.session_log
    assert log.shape == (4, 500) and log.dtype == np.int8
    met = chunk.talks_round == 1
    assert met.any() and (~met).any()
    assert (log[0, met] == 0).all() and (log[0, ~met] == -1).all()
    assert (log[1:] == -1).all()  # signed at once, or never met: no later session


def test_conditioning_on_an_event_one_input_decides_truncates_the_prior():
    sc = make_scenario(pie())
    seen = history({"date": "2025-01-05", "event": "talks", "happened": True})
    got = condition(sc, seen, [dt.date(2025, 1, 5)],
                    [[Window(EventKind.of(sc, "settlement"), 1, 4)]], 4000, seed=0)
    x, w = got.inputs["actors.a.reservation"], got.weights[0]
    # exactly the worlds with w_a <= 0.61 agree (rejection: weight 1, else 0)
    assert set(np.unique(w)) == {0.0, 1.0}
    assert (x[w > 0] <= 0.61 + 1e-9).all() and (x[w == 0] > 0.61 - 1e-9).all()
    tally = got.tallies[0]
    assert tally.ess == pytest.approx(w.sum())
    assert tally.ess / 4000 == pytest.approx(0.21 / 0.4, abs=0.03)  # P(w_a <= 0.61)
    assert tally.p(0) == 1.0  # every world that met signed
    post = posterior_table(got.inputs, w)[0]["posterior"]
    # U(0.4, 0.61): mean 0.505, sd 0.21 / sqrt(12), quantiles 0.4 + 0.21 q
    assert post["mean"] == pytest.approx(0.505, abs=0.005)
    assert post["sd"] == pytest.approx(0.21 / 12 ** 0.5, abs=0.003)
    assert post["q"] == pytest.approx([0.4105, 0.505, 0.5995], abs=0.006)


def test_what_did_not_happen_truncates_the_other_way():
    sc = make_scenario(pie())
    never = history({"through": "2025-02-20", "event": "leaders", "happened": False})
    got = condition(sc, never, [dt.date(2025, 2, 20)], [[]], 2000, seed=3)
    x, w = got.inputs["actors.a.reservation"], got.weights[0]
    assert (x[w > 0] > 0.61 - 1e-9).all() and (x[w == 0] <= 0.61 + 1e-9).all()


def test_a_mismatch_weight_counts_each_disagreement_once():
    sc = make_scenario(pie())
    seen = history({"date": "2025-01-05", "event": "talks", "happened": True},
                   {"date": "2025-01-20", "event": "talks", "happened": True}, mismatch=0.5)
    got = condition(sc, seen, [dt.date(2025, 2, 1)], [[]], 1000, seed=0)
    x, w = got.inputs["actors.a.reservation"], got.weights[0]
    # no world meets in round 2: those that met in round 1 miss one observation, the rest two
    assert np.allclose(w[x <= 0.6], 0.5) and np.allclose(w[x > 0.62], 0.25)


def constant_hazard(h, rounds, n, seed=0):
    """A chunk whose worlds each hold format 0 in a round with probability h, independently."""
    rng = np.random.default_rng(seed)
    log = np.where(rng.random((rounds, n)) < h, 0, -1).astype(np.int8)
    return ChunkResult(0, outcome=np.zeros(n, np.int8), session_log=log)


def test_constant_hazard_curve_and_the_later_forecast_conditioned_on_not_yet():
    h, n, rounds = 0.1, 200_000, 20
    chunk = constant_hazard(h, rounds, n)
    talks = EventKind("talks", np.array([True]))
    k = 5  # the later forecast is made after rounds 1..5 passed with nothing
    checks = [[], [Check(talks, 1, k, False)]]
    windows = [[Window(talks, 1, m) for m in (1, 3, 8)],
               [Window(talks, k + 1, k + m) for m in (1, 3, 8)]]
    fold = Conditioner(checks, windows, 0.0, keep_inputs=False)
    fold(chunk)
    now, later = fold.tallies
    for j, m in enumerate((1, 3, 8)):
        exact = 1 - (1 - h) ** m
        assert now.p(j) == pytest.approx(exact, abs=0.004)
        assert later.p(j) == pytest.approx(exact, abs=0.006)  # the same curve from round 6
    assert later.ess / n == pytest.approx((1 - h) ** k, abs=0.005)


def test_dates_fall_in_rounds_from_the_start():
    assert round_of(START, START, 14) == 1
    assert round_of(START + dt.timedelta(days=13), START, 14) == 1
    assert round_of(START + dt.timedelta(days=14), START, 14) == 2
    assert rounds_through(START - dt.timedelta(days=1), START, 14) == 0
    sc = make_scenario(pie())
    h = history({"through": "2025-01-29", "since": "2025-01-15", "event": "talks",
                 "happened": False})
    check = Check.of(sc, h, h.observed[0])
    assert (check.first, check.last) == (2, 3)


def test_a_later_never_is_known_up_to_the_day_asked_and_a_dated_event_only_after_it():
    h = history({"through": "2025-06-30", "event": "settlement", "happened": False},
                {"date": "2025-03-01", "event": "talks", "happened": True},
                {"through": "2025-06-30", "event": "talks", "happened": True})
    known = h.known_on(dt.date(2025, 2, 1))
    assert len(known) == 1 and known[0].through == dt.date(2025, 2, 1)
    assert len(h.known_on(dt.date(2025, 7, 1))) == 3


def test_too_few_agreeing_worlds_is_refused_in_one_line():
    sc = make_scenario(pie())
    # in this scenario talks come only where both sign at once: no world has talks without a
    # settlement
    seen = history({"through": "2025-02-20", "event": "talks", "happened": True},
                   {"through": "2025-02-20", "event": "settlement", "happened": False})
    got = condition(sc, seen, [dt.date(2025, 3, 1)], [[]], 500, seed=0)
    assert got.tallies[0].ess == 0
    with pytest.raises(TooFewWorlds, match="0.0 effective worlds of 500") as err:
        require_ess(got.tallies[0], 200, dt.date(2025, 3, 1))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("bad, match", [
    ({"event": "talks", "happened": True}, "exactly one of date"),
    ({"date": "2025-01-02", "through": "2025-01-03", "event": "talks", "happened": True},
     "exactly one of date"),
    ({"date": "2025-01-02", "event": "settlement", "level": "leaders", "happened": True},
     "level is only"),
    ({"since": "2025-01-09", "through": "2025-01-03", "event": "talks", "happened": False},
     "since needs through"),
])
def test_bad_observations_are_refused(bad, match):
    with pytest.raises(ValidationError, match=match):
        history(bad)


def test_a_record_that_contradicts_itself_is_refused():
    same = {"date": "2025-01-02", "event": "talks", "members": ["a", "b"]}
    with pytest.raises(ValidationError, match="observed.1 says the same event as observed.0"):
        History(start=dt.date(2025, 1, 1),
                observed=[{**same, "happened": True},
                          {**same, "members": ["b", "a"], "happened": False}])
    # the same fact twice, or the same day at another level, is no contradiction
    History(start=dt.date(2025, 1, 1),
            observed=[{**same, "happened": True}, {**same, "happened": True},
                      {**same, "level": "leaders", "happened": False}])


def test_a_scenario_checks_its_history_against_its_calendar_and_actors():
    data = pie()
    data["history"] = {"start": "2025-02-01", "observed": [
        {"date": "2025-01-05", "event": "talks", "members": ["a", "zz"], "happened": True}]}
    problems = make_scenario(data).reference_problems()
    text = " | ".join(msg for _, msg in problems)
    assert "differs from protocol.start" in text
    assert "before history.start" in text
    assert "zz" in text


def test_weighted_quantiles_of_equal_weights_are_the_plain_ones():
    x = np.arange(1.0, 101.0)
    assert weighted_quantiles(x, np.ones(100), [0.5]) == pytest.approx([50.5])
    assert weighted_quantiles(x, (x <= 10).astype(float), [0.5]) == pytest.approx([5.5])


def test_a_question_counts_the_rounds_that_start_from_the_day_asked():
    assert first_round_from(START, START, 14) == 1
    assert first_round_from(START + dt.timedelta(days=1), START, 14) == 2
    assert first_round_from(START + dt.timedelta(days=14), START, 14) == 2
    assert first_round_from(START - dt.timedelta(days=30), START, 14) == 1


def test_negsim_run_shows_the_posterior_of_a_scenario_with_a_history(tmp_path):
    import json

    from conftest import write_yaml
    from typer.testing import CliRunner

    from negotiation_sim.cli import app

    data = pie()
    data["history"] = {"start": START.isoformat(), "min_ess": 50, "observed": [
        {"date": "2025-01-05", "event": "talks", "happened": True}]}
    path = write_yaml(tmp_path / "s.yaml", data)
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(path), "--runs", "2000", "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    post = json.loads(res.stdout)["conditioning"]["posterior"][0]
    assert post["input"] == "actors.a.reservation"
    assert post["posterior"]["q"][-1] < 0.61 < post["prior"]["q"][-1]
    table = runner.invoke(app, ["run", str(path), "--runs", "2000", "--quiet"])
    assert "taught the drawn inputs" in table.stdout and "actors.a.reservation" in table.stdout
    data["history"]["min_ess"] = 5000
    write_yaml(path, data)
    refused = runner.invoke(app, ["run", str(path), "--runs", "2000", "--quiet"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "effective worlds" in refused.stderr and "\n" not in refused.stderr.strip()
