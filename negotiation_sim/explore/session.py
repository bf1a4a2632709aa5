"""The explorer's logic, without a browser: a scenario, its levers, and what a rerun shows.

``Session`` holds the scenario a user opened, the levers it has (``config.levers``) and their
current values; ``session.run()`` builds the changed scenario (validated, as
``config.levers.apply_levers`` builds it), runs it through the Python API with a fixed seed
(``api.run``: the engine ``negsim run`` calls, so the same inputs and seed give the same
numbers), and returns an ``Explored``: the outcome shares with their intervals, the formats,
the terms figure and one traced world's story in words. ``session.save(path)`` writes the
changed scenario as YAML that loads back to it.

The Solara page (``explore.app``) only draws controls for these levers and shows an
``Explored``; everything it does can be tested here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from negotiation_sim.config.levers import GROUPS, Lever, apply_levers, levers, scenario_yaml
from negotiation_sim.config.scenario import Scenario, load_scenario
from negotiation_sim.config.yamlio import InputError

SCENARIO_ENV, RUNS_ENV, SEED_ENV = ("NEGSIM_EXPLORE_SCENARIO", "NEGSIM_EXPLORE_RUNS",
                                    "NEGSIM_EXPLORE_SEED")
"""How ``negsim explore`` tells the page which scenario to open, with how many worlds and seed."""

DEFAULT_RUNS = 5_000
"""Worlds per rerun: enough for shares within about ±1.4 points, fast enough to feel live."""


@dataclass
class Explored:
    """What one rerun shows.

    Attributes:
        scenario: the scenario that ran (the levers applied).
        summary: its summary (the ``negsim run --json`` shape).
        results: the run's results (with per-world rows, for the figures).
        story: the traced world (``api.trace``) and its ``world`` index.
        seconds: time the run and the trace took.
    """

    scenario: Scenario
    summary: dict[str, Any]
    results: Any
    story: dict[str, Any]
    seconds: float
    _png: dict[int, bytes] = field(default_factory=dict, repr=False, compare=False)

    def shares(self) -> list[tuple[str, str, float, float, float]]:
        """(outcome, words, share, lower, upper) for every outcome, in the summary's order."""
        from negotiation_sim.plots.style import OUTCOME_LABELS

        return [(o, OUTCOME_LABELS[o], v["share"], v["ci95"][0], v["ci95"][1])
                for o, v in self.summary["outcomes"].items()]

    def formats(self) -> list[tuple[str, float]]:
        """(format, share of worlds that held it) in the scenario's order."""
        return list(self.summary["formats"].items())

    def terms_figure(self):
        """The terms figure of ``negsim plot`` (a matplotlib Figure, to be closed by the caller)."""
        from negotiation_sim.plots.run import terms

        return terms(self.results)

    def terms_png(self, dpi: int = 80) -> bytes:
        """The terms figure as PNG bytes, drawn once per rerun (the page shows these bytes on
        every render instead of drawing the figure again; 80 dpi is sharp on a screen and
        draws in a fraction of the 150 dpi of saved figures' time)."""
        if dpi not in self._png:
            import io

            import matplotlib.pyplot as plt

            fig = self.terms_figure()
            try:
                buf = io.BytesIO()
                fig.savefig(buf, format="png", dpi=dpi)
            finally:
                plt.close(fig)
            self._png[dpi] = buf.getvalue()
        return self._png[dpi]

    def story_lines(self) -> list[str]:
        """The traced world's story in words, one line per step."""
        return story_lines(self.scenario, self.story)


@dataclass
class Session:
    """A scenario opened in the explorer and the values its levers have now.

    Attributes:
        base: the scenario as read.
        source: the file it came from.
        values: lever path -> value (starts at the scenario's own values).
        runs, seed, world: worlds per rerun, their seed, and which world's story to trace.
    """

    base: Scenario
    source: str = "<scenario>"
    values: dict[str, Any] = field(default_factory=dict)
    runs: int = DEFAULT_RUNS
    seed: int = 0
    world: int = 0

    def __post_init__(self) -> None:
        self.levers: list[Lever] = levers(self.base)
        self._by_path = {lever.path: lever for lever in self.levers}
        self.values = {lever.path: lever.value for lever in self.levers} | dict(self.values)

    @classmethod
    def open(cls, path: str | Path, **kwargs: Any) -> Session:
        """A session on a scenario file (raises ``InputError`` as ``negsim validate`` reports)."""
        return cls(load_scenario(path), str(path), **kwargs)

    def groups(self) -> list[tuple[str, list[Lever]]]:
        """The levers by group, in ``GROUPS`` order (groups without levers left out)."""
        return [(g, [lv for lv in self.levers if lv.group == g]) for g in GROUPS
                if any(lv.group == g for lv in self.levers)]

    def lever(self, path: str) -> Lever:
        return self._by_path[path]

    def set(self, path: str, value: Any) -> None:
        """Move one lever (a value outside its control's range is still checked, on run)."""
        if path not in self._by_path:
            raise KeyError(f"{path} is not a lever of {self.base.name}")
        self.values[path] = value

    def reset(self) -> None:
        """Every lever back to the scenario's value."""
        self.values = {lever.path: lever.value for lever in self.levers}

    def changed(self) -> dict[str, Any]:
        """The levers whose values differ from the scenario's."""
        return {p: v for p, v in self.values.items() if v != self._by_path[p].value}

    def scenario(self) -> Scenario:
        """The scenario with the levers applied (validated; ``InputError`` when invalid)."""
        changed = self.changed()
        if not changed:
            return self.base
        return apply_levers(self.base, changed, source=self.source)

    def run(self) -> Explored:
        """Rerun the changed scenario: ``runs`` worlds with ``seed``, and trace ``world``."""
        from negotiation_sim import api

        sc = self.scenario()
        start = time.perf_counter()
        res = api.run(sc, runs=self.runs, seed=self.seed)
        story = api.trace(sc, seed=self.seed, world=min(self.world, self.runs - 1))
        return Explored(sc, res.summary, res, story, time.perf_counter() - start)

    def yaml(self) -> str:
        """The changed scenario as YAML text (valid: it is the validated scenario's data)."""
        changed = self.changed()
        header = (f"{self.base.name}, from {self.source} with negsim explore"
                  + "".join(f"\n  {p}: {v}" for p, v in changed.items()))
        return scenario_yaml(self.scenario(), header=header)

    def save(self, path: str | Path) -> Path:
        """Write the changed scenario as YAML, checked by loading it back; returns the path."""
        path = Path(path)
        text = self.yaml()
        path.write_text(text, encoding="utf-8")
        back = load_scenario(path)
        if back.digest() != self.scenario().digest():  # cannot happen: the same data
            raise InputError([])
        return path


def _fmt(d: dict | None, digits: int = 3) -> str:
    if not d:
        return "–"
    out = []
    for k, v in d.items():
        if v is None:
            out.append(f"{k} –")
        elif isinstance(v, bool):
            out.append(f"{k} {'yes' if v else 'no'}")
        elif isinstance(v, (int, float)):
            out.append(f"{k} {v:.{digits}f}")
        else:
            out.append(f"{k} {v}")
    return ", ".join(out)


def story_lines(sc: Scenario, story: dict[str, Any]) -> list[str]:
    """One world's story (``api.trace``) in words: formats, texts, answers, events, outcome."""
    lines = [f"World {story['world']} (seed {story['seed']}, protocol {story['protocol']})"]
    if story["inputs"]:
        lines.append("Drew: " + _fmt(story["inputs"]))
    form = story["formation"]
    if form is not None:
        for t in form["tried"]:
            declined = [sc.actors[p].display(p) for p, ok in t["attend"].items() if not ok]
            lines.append(f"Format {t['format']}: " + ("all attend" if not declined else
                                                     "declined by " + ", ".join(declined)))
        if form["held"] is None:
            lines.append("No summit.")
    events = {}
    for e in story.get("events", []):
        events.setdefault(e["round"], []).append(e["event"])
    for r in story["rounds"]:
        for name in events.pop(r["round"], []):
            lines.append(f"Before round {r['round']}: {name}")
        answers = r.get("answers") or {p: ("accepts" if ok else "rejects")
                                       for p, ok in (r.get("accept") or {}).items()}
        said = ", ".join(f"{sc.actors[p].display(p) if p in sc.actors else p} {a}"
                         for p, a in answers.items())
        who = r.get("proposer", "mediator")
        lines.append(f"Round {r['round']}: {who} tables {_fmt(r['text'], 2)}; {said}"
                     + (" (walk-out)" if r.get("walked_out") else ""))
    o = story["outcome"]
    lines.append(f"Outcome: {o['outcome'].replace('_', ' ')} in round {o['round']} "
                 f"(day {o['days']:g})" + (f", format {o['format']}" if o["format"] else "")
                 + (f", walk-out by {o['walked_out_by']}" if o.get("walked_out_by") else ""))
    if o["terms"]:
        lines.append("Terms: " + _fmt(o["terms"], 2))
    if story.get("why"):
        lines.append(f"Why: {story['why']}")
    return lines
