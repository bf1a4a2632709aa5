"""Backtest files: dated forecasting questions, each answered by a dated scenario.

A backtest file lists *questions* people were asked about the negotiation ("Will Putin and
Zelensky meet in person before 1 January 2026?"). Each names the scenario that describes the
situation as it was known on the day the question was asked (a path relative to the backtest
file), the day it was asked and the day it closes, the event it asks about, how it resolved
(``yes``, ``no``, or ``null`` while it is open) and what other forecasters said on the day.

This module owns the schema of backtest files (strict, frozen pydantic models, like scenario and
experiment files), the checks that need the scenarios (a ``holds`` question needs the scenario
to follow signed texts long enough; a ``summit`` question needs a summit to decide), and
``load_backtest``, which turns every mistake into a one-line ``FILE:LINE: field: message``
problem. The model's probabilities come from ``run.backtest``, the scores from ``analysis.backtest``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from negotiation_sim.config.distributions import STRICT
from negotiation_sim.config.history import rounds_through
from negotiation_sim.config.scenario import Scenario, scenario_from_data
from negotiation_sim.config.yamlio import (
    InputError,
    Problem,
    YamlDoc,
    load_yaml,
    problems_from_validation_error,
)

Event = Literal["summit", "agreement", "ceasefire", "settlement", "holds", "talks", "leaders"]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
QuestionId = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][\w.\-]*$")]


class Question(BaseModel):
    """One dated forecasting question."""

    model_config = STRICT
    id: QuestionId = Field(description="Short unique name (letters, digits, '-', '_', '.').")
    question: str = Field(min_length=1, description="The question as it was asked.")
    scenario: str | None = Field(None, min_length=1, description="Scenario file describing the "
                                 "situation as known on the day asked, relative to this file "
                                 "(default: the file's scenario, conditioned on its record).")
    asked: dt.date = Field(description="The day the question is answered from (YYYY-MM-DD): "
                           "round r of the scenario ends asked + r * protocol.round_days.")
    closes: dt.date = Field(description="The last day on which the event counts (YYYY-MM-DD).")
    event: Event = Field(description="summit: the leaders of every principal meet; agreement: "
                         "a text is signed; ceasefire: one takes effect; settlement: either; "
                         "holds: a settlement that then holds holds_days; talks: a session of "
                         "exactly members (at level); leaders: a leaders' session seating "
                         "members (talks and leaders need the file's scenario).")
    members: list[str] | None = Field(None, min_length=1, description="talks, leaders: the "
                                      "actors (default: every principal).")
    level: Literal["leaders", "delegation"] | None = Field(None, description="talks only: the "
                                                           "level (default: either).")
    about: str | None = Field(None, min_length=1, description="The underlying event this "
                              "question is one of (questions on one event resolve together; "
                              "the bootstrap resamples events). Default: the question's id.")
    holds_days: int | None = Field(None, ge=1, le=36_600, description="event: holds only: how "
                                   "many days the signed text must hold.")
    resolved: bool | None = Field(description="yes, no, or null while the question is open "
                                  "(then it is forecast, not scored).")
    forecasts: dict[str, Probability] = Field(
        default_factory=dict, description="Other forecasters' probabilities on the day asked, "
        "forecaster name -> probability.")

    @property
    def status(self) -> str:
        """``yes``, ``no`` or ``open``."""
        return "open" if self.resolved is None else ("yes" if self.resolved else "no")


class Backtest(BaseModel):
    """A whole backtest file."""

    model_config = STRICT
    name: str = Field(min_length=1)
    description: str | None = None
    scenario: str | None = Field(None, min_length=1, description="One scenario with a history: "
                                 "section, relative to this file; a question without its own "
                                 "scenario is answered from it, conditioned on the record known "
                                 "on the day asked (run.condition).")
    min_ess: float | None = Field(None, gt=0, description="Refuse a day whose conditioned worlds "
                                  "weigh fewer effective worlds than this (default: the "
                                  "scenario's history.min_ess).")
    questions: list[Question] = Field(min_length=1)



def rounds_by(question: Question, round_days: float) -> int:
    """How many rounds end by the day the question closes: the largest r with
    ``asked + r * round_days <= closes`` (0 when even round 1 ends later)."""
    days = (question.closes - question.asked).days
    return max(0, math.floor(days / round_days + 1e-9))


def holds_rounds(question: Question, round_days: float) -> int:
    """Follow-up rounds a signed text must survive to have held ``holds_days``:
    ``ceil(holds_days / round_days)`` (0 for other events)."""
    if question.holds_days is None:
        return 0
    return math.ceil(question.holds_days / round_days - 1e-9)


@dataclass
class LoadedBacktest:
    """A backtest file with the scenario of every question, checked."""

    backtest: Backtest
    doc: YamlDoc
    scenarios: dict[str, Scenario]  # resolved path -> scenario (each file loaded once)
    paths: list[str]  # resolved scenario path of each question, in order
    conditioned: str | None = None  # the file's scenario (with a history), resolved path

    def is_conditioned(self, i: int) -> bool:
        """Whether question ``i`` is answered from the file's scenario, conditioned."""
        return self.conditioned is not None and self.paths[i] == self.conditioned \
            and self.questions[i].scenario is None

    @property
    def path(self) -> str:
        return self.doc.path

    @property
    def questions(self) -> list[Question]:
        return self.backtest.questions

    def scenario_of(self, i: int) -> Scenario:
        """The scenario of question ``i``."""
        return self.scenarios[self.paths[i]]


def load_backtest(path: str | Path) -> LoadedBacktest:
    """Read and check a backtest file and the scenario of every question.

    Raises:
        InputError: with one located problem per mistake (``str(err)`` is the first one).
            Problems in a scenario are reported at their line in the scenario file.
    """
    doc = load_yaml(path)
    try:
        bt = Backtest.model_validate(doc.data)
    except ValidationError as err:
        raise InputError(problems_from_validation_error(err, doc, model=Backtest)) from None
    problems = [_problem(doc, loc, msg) for loc, msg in _file_problems(bt)]
    if problems:
        raise InputError(problems)
    scenarios: dict[str, Scenario] = {}
    paths: list[str] = []
    conditioned = None
    if bt.scenario is not None:
        conditioned = _load_scenario(doc, bt.scenario, ("scenario",), scenarios, problems)
        if conditioned is not None and scenarios[conditioned].history is None:
            problems.append(_problem(doc, ("scenario",), f"{conditioned} has no history: "
                                     "section to condition on"))
    for i, q in enumerate(bt.questions):
        loc = ("questions", i, "scenario")
        key = _load_scenario(doc, q.scenario, loc, scenarios, problems) if q.scenario \
            else conditioned
        paths.append(key or "")
        if key is None:
            if q.scenario is None and bt.scenario is None:
                problems.append(_problem(doc, loc, "give the question a scenario, or the file "
                                         "one (scenario: at the top, with a history: section)"))
            continue
        conditioned_here = q.scenario is None
        problems.extend(_problem(doc, ("questions", i, *loc), msg) for loc, msg
                        in _question_problems(q, scenarios[key], key, conditioned_here))
    if problems:
        raise InputError(problems)
    return LoadedBacktest(bt, doc, scenarios, paths, conditioned)


def _load_scenario(doc: YamlDoc, rel: str, loc: tuple, scenarios: dict[str, Scenario],
                   problems: list[Problem]) -> str | None:
    """Load the scenario at ``rel`` (relative to the backtest file) once; its resolved path,
    or None with a problem when there is no such file."""
    target = Path(doc.path).parent / rel
    key = str(target)
    if key not in scenarios:
        if not target.is_file():
            what = "is a directory" if target.is_dir() else "not found"
            problems.append(_problem(doc, loc, f"scenario file {what}: {target}"))
            return None
        scenario_doc = load_yaml(target)
        scenarios[key] = scenario_from_data(scenario_doc.data, scenario_doc)
    return key


def _file_problems(bt: Backtest) -> list[tuple[tuple, str]]:
    """(loc, message) for the rules pydantic cannot check field by field."""
    out: list[tuple[tuple, str]] = []
    seen: dict[str, int] = {}
    for i, q in enumerate(bt.questions):
        base = ("questions", i)
        if q.id in seen:
            out.append(((*base, "id"), f"question id '{q.id}' is already used by question "
                        f"{seen[q.id]}"))
        seen.setdefault(q.id, i)
        if q.closes < q.asked:
            out.append(((*base, "closes"), f"closes ({q.closes}) is before asked ({q.asked})"))
        if q.event == "holds" and q.holds_days is None:
            out.append(((*base, "holds_days"), "event: holds needs holds_days (how many days "
                        "the signed text must hold)"))
        if q.level is not None and q.event != "talks":
            out.append(((*base, "level"), "level is only for event: talks"))
        if q.members is not None and q.event not in ("talks", "leaders"):
            out.append(((*base, "members"), "members is only for event: talks or leaders"))
        if q.event != "holds" and q.holds_days is not None:
            out.append(((*base, "holds_days"), f"holds_days is only for event: holds (this "
                        f"question's event is {q.event})"))
    return out


def _question_problems(q: Question, sc: Scenario, path: str,
                       conditioned: bool = False) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    days = sc.protocol.round_days
    if q.event in ("talks", "leaders") and not conditioned:
        out.append((("event",), f"event: {q.event} is read from the file's scenario's calendar "
                    "(give the file a scenario: with a history: and none to the question)"))
    for m in q.members or []:
        if m not in sc.actors:
            out.append((("members",), f"no actor {m!r} in {path}"))
    if conditioned and sc.history is not None:
        if q.asked < sc.history.start:
            out.append((("asked",), f"asked ({q.asked}) is before the record starts "
                        f"({sc.history.start})"))
        need = rounds_through(q.closes, sc.history.start, days)
        if q.event != "holds" and need > sc.protocol.rounds:
            out.append((("closes",), f"{q.closes} is in round {need}, after the scenario's "
                        f"last round ({sc.protocol.rounds}): raise protocol.rounds in {path}"))
    if q.event == "holds":
        need = holds_rounds(q, days)
        if sc.durability.rounds < need:
            out.append((("holds_days",), f"holding {q.holds_days} days needs the scenario to "
                        f"follow signed texts for at least {need} rounds of {days:g} days "
                        f"(durability.rounds >= {need}); {path} has {sc.durability.rounds}"))
    if q.event == "summit" and sc.summit is None:
        out.append((("event",), f"event: summit needs a scenario with a summit: section (in "
                    f"{path} talks open in every world)"))
    return out


def _problem(doc: YamlDoc, loc: tuple, message: str) -> Problem:
    return Problem(doc.path, doc.line_of(loc), ".".join(str(p) for p in loc), message)


def backtest_schema() -> dict[str, Any]:
    """The JSON Schema of backtest files, for editors that complete YAML."""
    return Backtest.model_json_schema()
