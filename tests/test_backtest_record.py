"""The backtest on the record: scores against hand-computed values (Murphy's decomposition,
Brier skill, intervals over events), the file's checks, and the shipped record backtest end to
end at a small --runs."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import ROOT
from test_cli_backtest import LINE, invoke

from negotiation_sim.analysis.backtest import (
    event_bootstrap,
    murphy,
    score_questions,
    skill,
)
from negotiation_sim.config.backtest import Question

RECORD = ROOT / "backtests" / "russia_ukraine_record.yaml"


def test_murphy_decomposition_by_hand():
    """Forecasts 0.1, 0.1, 0.8, 0.8; outcomes no, yes, yes, yes. Base rate 0.75.
    Bin 0.1: mean 0.1, frequency 0.5; bin 0.8: mean 0.8, frequency 1.
    reliability = (2 * 0.4^2 + 2 * 0.2^2) / 4 = 0.1; resolution = (2 * 0.25^2 * 2) / 4 =
    0.0625; uncertainty = 0.75 * 0.25 = 0.1875; Brier = (0.01 + 0.81 + 0.04 + 0.04) / 4 =
    0.225 = 0.1 - 0.0625 + 0.1875."""
    m = murphy([0.1, 0.1, 0.8, 0.8], [False, True, True, True])
    assert m["reliability"] == pytest.approx(0.1)
    assert m["resolution"] == pytest.approx(0.0625)
    assert m["uncertainty"] == pytest.approx(0.1875)
    assert m["brier"] == pytest.approx(0.225)
    assert m["within"] == pytest.approx(0.0, abs=1e-12)
    # a spread inside one bin is the within-bin term: 0.11 and 0.19 share the bin [0.1, 0.2)
    spread = murphy([0.11, 0.19], [False, False])
    assert spread["within"] == pytest.approx(spread["brier"] - spread["reliability"])
    assert spread["resolution"] == 0 and spread["uncertainty"] == 0
    assert murphy([], []) is None


def test_a_constant_forecast_has_no_resolution():
    m = murphy([0.3] * 5, [True, False, False, True, False])
    assert m["resolution"] == 0.0
    assert m["reliability"] == pytest.approx((0.3 - 0.4) ** 2)


def test_brier_skill_by_hand():
    assert skill(0.225, 0.1875) == pytest.approx(-0.2)
    assert skill(0.05, 0.2) == pytest.approx(0.75)
    assert skill(None, 0.2) is None and skill(0.1, 0.0) is None


def test_the_event_bootstrap_resamples_events_not_questions():
    # two questions on event a (both Brier 1), one on b (0): resampling two events gives means
    # 1 (a, a), 2/3 (a, b or b, a) or 0 (b, b), each question of a drawn event counted
    lo, hi = event_bootstrap([1.0, 1.0, 0.0], ["a", "a", "b"], resamples=4000, seed=0)
    assert (lo, hi) == (0.0, 1.0)
    lo, hi = event_bootstrap([1.0, 1.0, 0.0], ["a", "a", "b"], resamples=4000, seed=0,
                             level=0.4)
    assert lo == hi == pytest.approx(2 / 3)
    assert event_bootstrap([0.2, 0.4], ["x", "x"]) == pytest.approx([0.3, 0.3])
    assert event_bootstrap([], []) is None


def question(qid, p_yes, about, forecasts=None):
    return Question(id=qid, question="?", asked=dt.date(2025, 5, 1),
                    closes=dt.date(2025, 6, 1), event="talks", about=about,
                    resolved=p_yes, forecasts=forecasts or {})


def test_score_questions_gives_events_base_rate_and_skill():
    qs = [question("a", False, "e1", {"m": 0.5}), question("b", True, "e2"),
          question("c", True, "e2", {"m": 0.2}), question("d", None, "e3")]
    model = [(0.1, [0, 1], 1), (0.1, [0, 1], 1), (0.8, [0, 1], 1), (0.8, [0, 1], 1)]
    out = score_questions(qs, model)
    assert out["n_events"] == 2 and out["n_yes"] == 2 and out["base_rate"] == pytest.approx(2 / 3)
    # model Brier on the three resolved: (0.01 + 0.81 + 0.04) / 3; base rate: (2/3)(1/3)
    assert out["brier"] == pytest.approx(0.86 / 3)
    assert out["base_rate_brier"] == pytest.approx(2 / 9)
    assert out["skill_vs_base_rate"] == pytest.approx(1 - (0.86 / 3) / (2 / 9))
    # m priced a (0.5, no) and c (0.2, yes): Brier (0.25 + 0.64) / 2; the model (0.01 + 0.04) / 2
    assert out["skill_vs"]["m"] == pytest.approx(1 - 0.05 / 0.89)
    assert out["questions"][0]["about"] == "e1"


def test_talks_questions_need_the_file_scenario(tmp_path):
    text = RECORD.read_text().replace("scenario: ../scenarios/dated/record_2025.yaml",
                                      f"scenario: {ROOT / 'scenarios' / 'summit_baseline.yaml'}")
    path = tmp_path / "bt.yaml"
    path.write_text(text)
    res = invoke("backtest", path, "--runs", 1024)
    assert res.exit_code == 1 and "Traceback" not in res.output
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and LINE.match(err[0]) and "no history" in err[0], err


def test_a_close_after_the_last_round_is_refused(tmp_path):
    scen = (ROOT / "scenarios" / "dated" / "record_2025.yaml").read_text()
    (tmp_path / "s.yaml").write_text(scen.replace("rounds: 44", "rounds: 30", 1))
    text = RECORD.read_text().replace("../scenarios/dated/record_2025.yaml", "s.yaml")
    (tmp_path / "bt.yaml").write_text(text)
    res = invoke("backtest", tmp_path / "bt.yaml", "--runs", 1024)
    assert res.exit_code == 1
    assert "after the scenario's last round (30)" in res.stderr


def test_shipped_record_backtest_small(tmp_path):
    res = invoke("backtest", RECORD, "--runs", 2048, "--min-ess", 50, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    qs = out["questions"]
    resolved = [q for q in qs if q["outcome"] is not None]
    assert len(resolved) >= 24 and out["n_yes"] >= 6
    assert len({q["asked"] for q in resolved}) >= 8
    days = out["conditioning"]["days"]
    assert all(d["ess"] >= 50 for d in days)
    assert days[-1]["observations"] > days[0]["observations"]  # the record grows by date
    # windows have a clock: the same event asked on one day, by two closes
    by_id = {q["id"]: q for q in qs}
    assert by_id["ceasefire-2025q2-may08"]["p"] < by_id["ceasefire-2025-may08"]["p"]
    m = out["murphy"]
    assert m["brier"] == pytest.approx(m["reliability"] - m["resolution"] + m["uncertainty"]
                                       + m["within"])
    post = {r["input"]: r for r in out["conditioning"]["posterior"]}
    assert "actors.russia.reservation" in post


def test_too_few_agreeing_worlds_is_one_line():
    res = invoke("backtest", RECORD, "--runs", 512, "--min-ess", 10_000)
    assert res.exit_code == 1 and "Traceback" not in res.output
    err = res.stderr.strip()
    assert "\n" not in err and "effective worlds" in err and "--min-ess" in err
