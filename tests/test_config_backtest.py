"""Backtest files: the schema, the checks that need each question's scenario, and one-line
FILE:LINE: field: message errors for every kind of mistake."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path

import pytest
from conftest import PIE, ROOT, SMALL, write_yaml

from negotiation_sim.config.backtest import (
    Question,
    holds_rounds,
    load_backtest,
    rounds_by,
)
from negotiation_sim.config.yamlio import InputError

SHIPPED = ROOT / "backtests" / "russia_ukraine_2025.yaml"
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[\w.\-]+): (?P<msg>.+)$")

GOOD = """\
name: t
questions:
  - id: q1
    question: Will they meet?
    scenario: s.yaml
    asked: 2025-08-20
    closes: 2025-12-31
    event: summit
    resolved: no
    forecasts: {market: 0.24}
"""


def write(tmp_path: Path, text: str, scenario=SMALL) -> Path:
    write_yaml(tmp_path / "s.yaml", scenario)
    path = tmp_path / "bt.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problem(tmp_path: Path, text: str, scenario=SMALL):
    """The first problem of a bad file, parsed from its one-line message."""
    path = write(tmp_path, text, scenario)
    with pytest.raises(InputError) as err:
        load_backtest(path)
    line = str(err.value)
    assert "\n" not in line
    m = LINE.match(line)
    assert m, line
    return m


def test_a_good_file_loads_with_its_scenario(tmp_path):
    loaded = load_backtest(write(tmp_path, GOOD))
    (q,) = loaded.questions
    assert q.asked == dt.date(2025, 8, 20) and q.resolved is False and q.status == "no"
    assert q.forecasts == {"market": 0.24}
    assert loaded.scenario_of(0).name == "small"
    assert Path(loaded.paths[0]) == tmp_path / "s.yaml"


def test_the_shipped_backtest_validates_and_each_scenario_is_of_its_day():
    loaded = load_backtest(SHIPPED)
    assert len(loaded.questions) >= 9
    assert len({q.asked for q in loaded.questions}) >= 3
    events = {q.event for q in loaded.questions}
    assert {"summit", "settlement", "holds"} <= events
    for q, path in zip(loaded.questions, loaded.paths):
        # a question asked on day D is answered by the scenario of day D
        assert Path(path).stem == q.asked.isoformat(), (q.id, path)
        assert Path(path).parent.name == "dated"
        assert q.asked.year == 2025
    assert any(q.resolved is None for q in loaded.questions)
    assert any(q.resolved is not None for q in loaded.questions)


@pytest.mark.parametrize("days, round_days, rounds", [
    (0, 14, 0), (13, 14, 0), (14, 14, 1), (27, 14, 1), (28, 14, 2), (133, 14, 9),
    (30, 7, 4), (30, 10, 3), (30, 30, 1), (1, 0.5, 2),
])
def test_rounds_by_counts_rounds_that_end_by_the_close(days, round_days, rounds):
    asked = dt.date(2025, 8, 20)
    q = Question(id="q", question="?", scenario="s.yaml", asked=asked,
                 closes=asked + dt.timedelta(days=days), event="agreement", resolved=None)
    assert rounds_by(q, round_days) == rounds


@pytest.mark.parametrize("holds_days, round_days, rounds", [
    (30, 14, 3), (28, 14, 2), (14, 14, 1), (1, 14, 1), (30, 7, 5), (91, 14, 7)])
def test_holds_rounds_is_the_ceiling(holds_days, round_days, rounds):
    q = Question(id="q", question="?", scenario="s.yaml", asked=dt.date(2025, 1, 1),
                 closes=dt.date(2025, 12, 31), event="holds", holds_days=holds_days,
                 resolved=False)
    assert holds_rounds(q, round_days) == rounds


@pytest.mark.parametrize("old, new, line, field, words", [
    ("event: summit", "event: meeting", 8, "questions.0.event", "summit"),
    ("asked: 2025-08-20", "asked: 20 August 2025", 6, "questions.0.asked", "date"),
    ("closes: 2025-12-31", "closes: 2025-02-01", 7, "questions.0.closes", "before asked"),
    ("resolved: no", "resolved: maybe", 9, "questions.0.resolved", "bool"),
    ("    resolved: no\n", "", 3, "questions.0.resolved", "field required"),
    ("{market: 0.24}", "{market: 1.4}", 10, "questions.0.forecasts.market", "less than or equal"),
    ("    forecasts:", "    colour: red\n    forecasts:", 10, "questions.0.colour", "unknown field"),
    ("scenario: s.yaml", "scenario: nope.yaml", 5, "questions.0.scenario", "not found"),
    ("event: summit", "event: agreement\n    holds_days: 30", 9, "questions.0.holds_days",
     "only for event: holds"),
    ("event: summit", "event: holds", 3, "questions.0.holds_days", "needs holds_days"),
    ("id: q1", "id: 'bad id!'", 3, "questions.0.id", "pattern"),
])
def test_bad_files_give_one_line_errors_at_the_right_line(tmp_path, old, new, line, field,
                                                          words):
    assert old in GOOD
    m = problem(tmp_path, GOOD.replace(old, new))
    assert m["file"].endswith("bt.yaml")
    assert (int(m["line"]), m["field"]) == (line, field), m.group(0)
    assert words in m["msg"], m.group(0)


def test_a_duplicate_id_is_reported_at_the_second(tmp_path):
    text = GOOD + GOOD.split("questions:\n", 1)[1]
    m = problem(tmp_path, text)
    assert (int(m["line"]), m["field"]) == (11, "questions.1.id")
    assert "already used" in m["msg"]


def test_holds_needs_the_scenario_to_follow_signed_texts_long_enough(tmp_path):
    text = GOOD.replace("event: summit", "event: holds\n    holds_days: 30")
    sc = {**SMALL, "durability": {"rounds": 2}}
    m = problem(tmp_path, text, sc)
    assert (int(m["line"]), m["field"]) == (9, "questions.0.holds_days")
    assert "durability.rounds >= 3" in m["msg"] and "has 2" in m["msg"]
    write_yaml(tmp_path / "s.yaml", {**SMALL, "durability": {"rounds": 3}})
    assert load_backtest(tmp_path / "bt.yaml").questions[0].holds_days == 30


def test_a_summit_question_needs_a_summit_to_decide(tmp_path):
    m = problem(tmp_path, GOOD, PIE)
    assert (int(m["line"]), m["field"]) == (8, "questions.0.event")
    assert "summit" in m["msg"]


def test_problems_in_a_scenario_are_reported_in_the_scenario_file(tmp_path):
    bad = {**SMALL, "protocol": {"rounds": 8, "round_days": -1}}
    path = write(tmp_path, GOOD, bad)
    with pytest.raises(InputError) as err:
        load_backtest(path)
    m = LINE.match(str(err.value))
    assert m and m["file"].endswith("s.yaml") and m["field"] == "protocol.round_days"


def test_scenario_paths_are_relative_to_the_backtest_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write_yaml(tmp_path / "sub" / "s.yaml", SMALL)
    path = tmp_path / "q" / "bt.yaml"
    path.parent.mkdir()
    path.write_text(GOOD.replace("scenario: s.yaml", "scenario: ../sub/s.yaml"))
    assert load_backtest(path).scenario_of(0).name == "small"
