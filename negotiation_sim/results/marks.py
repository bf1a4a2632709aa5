"""What a run's figures mark on each issue, computed when the run is made, and ``scenario.json``.

The terms figure marks, per issue, each principal's ideal point, the red lines, the guarantors'
caps, the status quo and the Nash point. Those come from the scenario's numbers over 2,048 drawn
worlds and a Nash solve, so ``scenario_marks`` runs the core: it is called on the run's path
(``ns.run``, ``negsim run --out``, ``res.save``), never by a figure. What figures need is then
stored beside the results in ``scenario.json`` (a cap: guarantor, median, 5th and 95th
percentile of its offer)::

    {"format_version": 1,
     "scenario": {... the validated scenario, the fields its file set (model_dump, mode json) ...},
     "marks": {"seed": 0, "worlds": 2048,
               "issues": {"territory": {"ideal": {"russia": [p05, p50, p95]},
                                        "red_lines": [["ukraine", "<=", 0.85]],
                                        "caps": [["germany", 0.6, 0.6, 0.6]],
                                        "status_quo": 0.8, "nash": 0.74}}}}

so ``negsim plot RESULTS`` draws the same figure from any working directory, with the scenario's
words, red lines and caps, whether or not the scenario file is still where it was. The scenario
keeps only the fields its file set, as ``Scenario.digest`` hashes them: read back, its digest is
the manifest's ``scenario_hash``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from negotiation_sim.config.scenario import Scenario
from negotiation_sim.results.schema import FORMAT_VERSION

MARK_WORLDS = 2048  # worlds drawn to summarise a scenario's uncertain numbers


@dataclass(frozen=True)
class IssueMarks:
    """What to mark on an issue's axis: ideal points, red lines, caps, status quo, Nash point."""

    ideal: dict[str, tuple[float, float, float]]  # actor -> (p05, median, p95) of its ideal point
    red_lines: list[tuple[str, str, float]]  # (actor, op, value)
    caps: list[tuple[str, float, float, float]]  # (guarantor, median, p05, p95 of its offer)
    status_quo: float
    nash: float | None  # median Nash text over worlds where one exists

    def to_json(self) -> dict[str, Any]:
        return {"ideal": {a: list(v) for a, v in self.ideal.items()},
                "red_lines": [list(r) for r in self.red_lines],
                "caps": [list(c) for c in self.caps],
                "status_quo": self.status_quo, "nash": self.nash}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IssueMarks:
        return cls(ideal={a: tuple(float(x) for x in v) for a, v in data["ideal"].items()},
                   red_lines=[(str(a), str(op), float(v)) for a, op, v in data["red_lines"]],
                   caps=[_cap(c) for c in data["caps"]],
                   status_quo=float(data["status_quo"]),
                   nash=None if data["nash"] is None else float(data["nash"]))


def _cap(c: list) -> tuple[str, float, float, float]:
    """A stored cap: ``[guarantor, median, p05, p95]`` (``[guarantor, median]`` before ranges
    were stored: a certain cap)."""
    g, mid, *rng = c
    lo, hi = (float(rng[0]), float(rng[1])) if rng else (float(mid), float(mid))
    return str(g), float(mid), lo, hi


def scenario_marks(scenario: Scenario, *, seed: int = 0,
                   worlds: int = MARK_WORLDS) -> dict[str, IssueMarks]:
    """Per issue, the reference points of a scenario, over ``worlds`` draws of its numbers.

    The Nash point is the clout-weighted Nash bargaining text at the principals' true values of
    war in round 1 (no posture, no pressure), inside every red line, cap and precondition: where
    talks would land with complete information. Uncertain numbers are summarised by their median
    (ideal points also by their 5-95% range).
    """
    import numpy as np

    from negotiation_sim.core.solvers.nash import nash_text
    from negotiation_sim.core.worlds import sample_bounded

    prm = sample_bounded(scenario, worlds, seed=seed)
    guarantors = scenario.ids("guarantor")
    war = np.clip(prm.reservation, 0.0, 1.0)
    text, feasible = nash_text(prm.prefs, war, prm.clout, prm.lo, prm.hi)
    feasible &= prm.box_ok
    principals = scenario.principals
    marks = {}
    for k, issue in enumerate(scenario.issue_ids):
        ideal = {}
        for a, aid in enumerate(principals):
            p = prm.prefs.position[a, k]
            ideal[aid] = tuple(float(v) for v in np.quantile(p, [0.05, 0.5, 0.95]))
        red = [(aid, c.op, c.value) for aid in principals
               for c in scenario.actors[aid].red_lines if c.issue == issue]
        caps = [(aid, *(float(v) for v in np.quantile(prm.offers[g, k], [0.5, 0.05, 0.95])))
                for g, aid in enumerate(guarantors) if issue in scenario.actors[aid].offer]
        nash = float(np.median(text[k, feasible])) if feasible.any() else None
        marks[issue] = IssueMarks(ideal, red, caps, float(np.median(prm.status_quo[k])), nash)
    return marks


def scenario_record(scenario: Scenario, marks: dict[str, IssueMarks] | None = None, *,
                    seed: int | None = None, worlds: int = MARK_WORLDS) -> dict[str, Any]:
    """The content of ``scenario.json``: the scenario and, for a run, its figures' marks."""
    record: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "scenario": scenario.model_dump(mode="json", exclude_unset=True),
    }
    if marks is not None:
        record["marks"] = {"seed": seed, "worlds": worlds,
                           "issues": {k: m.to_json() for k, m in marks.items()}}
    return record


def read_scenario_record(path: Path) -> tuple[Scenario, dict[str, IssueMarks] | None]:
    """The scenario and marks stored in ``scenario.json`` (marks None when it holds none).

    Raises:
        ValueError: the file is not a scenario record (or its scenario does not validate).
    """
    import json

    from pydantic import ValidationError

    try:
        data = json.loads(Path(path).read_text())
        scenario = Scenario.model_validate(data["scenario"])
        marks = data.get("marks")
        issues = None if marks is None else {
            k: IssueMarks.from_json(m) for k, m in marks["issues"].items()}
    except (ValueError, KeyError, TypeError, ValidationError) as err:
        raise ValueError(f"{path}: not a scenario record ({err})") from None
    return scenario, issues
