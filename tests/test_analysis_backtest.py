"""Backtest scoring and the horizon rule: Brier and log scores against hand-computed values, which
rounds count by a question's close, open questions, and holds questions read from the follow-up."""

from __future__ import annotations

import datetime as dt
import json
import math
import textwrap

import numpy as np
import pytest
from conftest import SMALL, make_scenario, write_yaml
from test_core_durability import exact_hold_probability, walk_scenario

from negotiation_sim.analysis.backtest import (
    CLIP,
    bootstrap_interval,
    brier,
    log_score,
    score_questions,
    to_csv,
    to_markdown,
)
from negotiation_sim.api import backtest
from negotiation_sim.config.backtest import Question
from negotiation_sim.core.outcomes import AGREEMENT, BREAKDOWN, CEASEFIRE, NO_SUMMIT, ChunkResult
from negotiation_sim.run.backtest import Horizon, count_events
from negotiation_sim.run.chunks import iter_chunks

ASKED = dt.date(2025, 8, 20)


def question(event="agreement", days=140, resolved=None, forecasts=None, holds_days=None,
             qid="q"):
    return Question(id=qid, question="?", scenario="s.yaml", asked=ASKED,
                    closes=ASKED + dt.timedelta(days=days), event=event, holds_days=holds_days,
                    resolved=resolved, forecasts=forecasts or {})


# -- scores -----------------------------------------------------------------------------------


def test_brier_and_log_scores_by_hand():
    assert brier(0.24, False) == pytest.approx(0.0576)
    assert brier(0.24, True) == pytest.approx(0.5776)
    assert brier(1.0, True) == 0.0 and brier(0.0, True) == 1.0
    assert log_score(0.24, False) == pytest.approx(-0.2744368457017603)
    assert log_score(0.9, True) == pytest.approx(-0.10536051565782628)
    assert log_score(0.5, True) == log_score(0.5, False) == pytest.approx(-math.log(2))
    # a certain forecast that turns out wrong is clipped, not minus infinity
    assert log_score(0.0, True) == pytest.approx(math.log(CLIP)) == pytest.approx(-13.815510557964274)
    assert log_score(1.0, False) == pytest.approx(math.log(CLIP))
    assert log_score(1.0, True) == pytest.approx(math.log(1 - CLIP))


def test_mean_scores_by_hand_and_open_questions_carry_none():
    qs = [question(qid="a", resolved=False, forecasts={"m": 0.5}),
          question(qid="b", resolved=True, forecasts={"m": 0.5, "n": 0.9}),
          question(qid="c", resolved=None, forecasts={"m": 0.1})]
    out = score_questions(qs, [(0.2, [0.1, 0.3], 10), (0.7, [0.6, 0.8], 10),
                               (0.3, [0.2, 0.4], 10)])
    a, b, c = out["questions"]
    assert a["outcome"] == "no" and b["outcome"] == "yes" and c["outcome"] is None
    assert a["brier"] == pytest.approx(0.04) and b["brier"] == pytest.approx(0.09)
    assert out["brier"] == pytest.approx(0.065)
    assert out["log_score"] == pytest.approx((math.log(0.8) + math.log(0.7)) / 2)
    assert out["n_resolved"] == 2 and out["n"] == 3
    # the open question: p and its forecasts, no scores
    assert c["p"] == 0.3 and c["brier"] is None and c["log_score"] is None
    assert c["forecasts"]["m"] == {"p": 0.1, "brier": None, "log_score": None}
    m, n = out["forecasters"]["m"], out["forecasters"]["n"]
    assert m["n"] == 2 and m["brier"] == pytest.approx(0.25)
    assert m["log_score"] == pytest.approx(math.log(0.5))
    assert m["model_brier"] == pytest.approx(0.065)
    # n answered only b: it and the model are compared on b alone
    assert n["n"] == 1 and n["brier"] == pytest.approx(0.01)
    assert n["model_brier"] == pytest.approx(0.09)
    assert n["model_log_score"] == pytest.approx(math.log(0.7))
    json.dumps(out, allow_nan=False)  # the JSON has no NaN


def test_no_resolved_question_means_no_scores():
    out = score_questions([question(resolved=None, forecasts={"m": 0.4})], [(0.5, [0.4, 0.6], 3)])
    assert out["brier"] is None and out["log_score"] is None and out["brier_ci95"] is None
    assert out["forecasters"]["m"] == {"brier": None, "log_score": None, "n": 0,
                                       "model_brier": None, "model_log_score": None}


def test_bootstrap_interval_of_the_mean():
    assert bootstrap_interval([]) is None
    assert bootstrap_interval([0.3] * 5) == pytest.approx([0.3, 0.3])
    lo, hi = bootstrap_interval([0.0, 1.0] * 10, seed=1)
    assert lo < 0.5 < hi and hi - lo == pytest.approx(2 * 1.96 * 0.5 / math.sqrt(20), abs=0.06)


# -- the horizon rule --------------------------------------------------------------------------


def chunk(outcome, end_round, held_format=None, broken_round=None, leaders_round=None,
          settled_round=None):
    outcome = np.asarray(outcome, dtype=np.int8)
    n = outcome.size
    held = (np.where(outcome == NO_SUMMIT, -1, 0) if held_format is None
            else np.asarray(held_format)).astype(np.int8)
    end = np.asarray(end_round, dtype=np.int16)
    signed = (outcome == AGREEMENT) | (outcome == CEASEFIRE)
    return ChunkResult(first_world=0, outcome=outcome, held_format=held, end_round=end,
                       walked_out=np.zeros(n, bool), terms=np.zeros((1, n)),
                       utility=np.zeros((1, n)),
                       broken_round=None if broken_round is None
                       else np.asarray(broken_round, dtype=np.int16),
                       leaders_round=np.asarray(leaders_round if leaders_round is not None
                                                else np.where(outcome == AGREEMENT, end, -1),
                                                dtype=np.int16),
                       settled_round=np.asarray(settled_round if settled_round is not None
                                                else np.where(signed, end, -1),
                                                dtype=np.int16))


def test_each_event_counts_its_outcomes_by_the_close():
    """Model v3: a summit is the leaders' meeting of both (``leaders_round``); a ceasefire or a
    settlement counts from the round it took effect (``settled_round``), an agreement from its
    signing. World 1: a delegations' ceasefire in round 2 held to the horizon; 2: the leaders met
    in round 1 and signed nothing; 5: a ceasefire in round 2, in force at the horizon (round 6);
    6: a ceasefire in round 2, then the leaders signed in round 5."""
    c = chunk([AGREEMENT, CEASEFIRE, BREAKDOWN, NO_SUMMIT, AGREEMENT, CEASEFIRE, AGREEMENT],
              [1, 2, 1, 0, 5, 6, 5], leaders_round=[1, -1, 1, -1, 4, -1, 5],
              settled_round=[1, 2, -1, -1, 5, 2, 2])
    three = {e: Horizon(e, 3).happened(c).tolist()
             for e in ("summit", "agreement", "ceasefire", "settlement")}
    assert three == {"summit": [True, False, True, False, False, False, False],
                     "agreement": [True, False, False, False, False, False, False],
                     "ceasefire": [False, True, False, False, False, True, True],
                     "settlement": [True, True, False, False, False, True, True]}
    assert not Horizon("summit", 0).happened(c).any()
    assert Horizon("summit", 4).happened(c).tolist() == [True, False, True, False, True, False,
                                                         False]
    assert Horizon("settlement", 6).happened(c).tolist() == [True, True, False, False, True,
                                                             True, True]


def test_holds_reads_the_follow_up():
    """Signed in round 1 and needing 3 follow-up rounds: a break in round 4 (the third follow-up
    round) is too early; one in round 5 comes after the text held three whole rounds."""
    c = chunk([AGREEMENT] * 5 + [BREAKDOWN], [1, 1, 1, 1, 3, 1],
              broken_round=[-1, 2, 4, 5, -1, -1])
    assert Horizon("holds", 3, hold=3).happened(c).tolist() == [True, False, False, True, True,
                                                                 False]
    # a text signed after the close never counts, however long it holds
    assert Horizon("holds", 2, hold=3).happened(c).tolist() == [True, False, False, True, False,
                                                                 False]
    with pytest.raises(ValueError):
        Horizon("holds", 3, hold=3).happened(chunk([AGREEMENT], [1]))


def small(round_days=14.0, rounds=8):
    data = {**SMALL, "protocol": {**SMALL["protocol"], "rounds": rounds,
                                  "round_days": round_days}}
    return make_scenario(data)


def test_a_question_closing_before_round_one_ends_has_p_zero():
    sc = small()
    horizons = [Horizon.of(question(event=e, days=13), 14.0) for e in
                ("agreement", "ceasefire", "settlement", "summit")]
    assert count_events(sc, horizons, 2048, seed=1) == [0, 0, 0, 0]
    assert count_events(sc, [Horizon.of(question(event="agreement", days=14), 14.0)], 2048,
                        seed=1)[0] > 0


def test_a_longer_horizon_never_lowers_p():
    sc = small()
    for event in ("agreement", "ceasefire", "settlement", "summit"):
        horizons = [Horizon.of(question(event=event, days=d), 14.0) for d in range(0, 140, 7)]
        counts = count_events(sc, horizons, 2048, seed=2)
        assert counts == sorted(counts), (event, counts)
    assert counts[-1] > 0


def test_round_days_changes_which_rounds_count():
    """Same worlds (round_days only dates the rounds): closing 30 days after asking counts the
    agreements of rounds 1-2 with 14-day rounds and of rounds 1-4 with 7-day rounds."""
    fast, slow = small(round_days=7.0), small(round_days=14.0)
    runs = 2048
    ends = np.concatenate([c.end_round[c.outcome == AGREEMENT] for c in iter_chunks(slow, runs, seed=3)])
    q = question(event="agreement", days=30)
    p_slow = count_events(slow, [Horizon.of(q, 14.0)], runs, seed=3)[0]
    p_fast = count_events(fast, [Horizon.of(q, 7.0)], runs, seed=3)[0]
    assert p_slow == int((ends <= 2).sum()) and p_fast == int((ends <= 4).sum())
    assert p_fast > p_slow


def test_holds_end_to_end_matches_the_random_walk():
    """A deal signed in round 1 with a margin of five steps of a +-0.02 walk: it holds 100 days
    (8 rounds of 14) iff the walk stays at or below 5 for 8 steps."""
    sc = walk_scenario(rounds=10)
    q = question(event="holds", days=30, holds_days=100)
    h = Horizon.of(q, sc.protocol.round_days)
    assert h.hold == 8 and h.rounds == 2
    runs = 40_000
    (k,) = count_events(sc, [h], runs, seed=5)
    assert k / runs == pytest.approx(exact_hold_probability(8, 5), abs=0.01)
    (signed,) = count_events(sc, [Horizon.of(question(event="settlement", days=30), 14.0)],
                             runs, seed=5)
    assert signed == runs > k


# -- the whole backtest ---------------------------------------------------------------------


def test_backtest_shape_and_one_pass_per_scenario(tmp_path):
    write_yaml(tmp_path / "s.yaml", {**SMALL, "durability": {"rounds": 3}})
    (tmp_path / "bt.yaml").write_text(textwrap.dedent("""\
        name: t
        questions:
          - {id: a, question: "?", scenario: s.yaml, asked: 2025-01-01, closes: 2025-03-01,
             event: settlement, resolved: no, forecasts: {m: 0.3}}
          - {id: b, question: "?", scenario: s.yaml, asked: 2025-01-01, closes: 2025-12-31,
             event: holds, holds_days: 30, resolved: yes}
          - {id: c, question: "?", scenario: s.yaml, asked: 2025-01-01, closes: 2025-12-31,
             event: summit, resolved: null, forecasts: {m: 0.6}}
        """))
    seen = []
    out = backtest(tmp_path / "bt.yaml", runs=2048, seed=4,
                   progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2048, 2048)  # the scenario ran once for its three questions
    assert out["name"] == "t" and out["runs"] == 2048 and out["seed"] == 4
    assert [q["id"] for q in out["questions"]] == ["a", "b", "c"]
    for q in out["questions"]:
        assert {"id", "p", "ci95", "outcome", "brier", "log_score", "forecasts"} <= set(q)
        assert q["ci95"][0] <= q["p"] <= q["ci95"][1]
    a, b, c = out["questions"]
    assert a["rounds"] == 4 and b["rounds"] == 26
    assert c["brier"] is None and b["brier"] == pytest.approx((b["p"] - 1) ** 2)
    assert out["brier"] == pytest.approx((a["brier"] + b["brier"]) / 2)
    assert out["forecasters"]["m"]["n"] == 1
    again = backtest(tmp_path / "bt.yaml", runs=2048, seed=4)
    assert again == out
    json.dumps(out, allow_nan=False)
    assert to_csv(out).splitlines()[0].startswith("id,event,asked,closes")
    assert len(to_csv(out).splitlines()) == 4
    md = to_markdown(out)
    assert "| a |" in md and "| m |" in md
