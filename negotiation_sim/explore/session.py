"""The explorer's logic, without a browser: a scenario, its levers, and what a rerun shows.

``Session`` holds the scenario a user opened, the levers it has (``config.levers``) and their
current values; ``session.run()`` builds the changed scenario (validated, as
``config.levers.apply_levers`` builds it), runs it through the Python API with a fixed seed
(``api.run``: the engine ``negsim run`` calls, so the same inputs and seed give the same
numbers), and returns an ``Explored``: the outcome shares with their intervals, the meetings'
(talks, a leaders' meeting, a settlement: shares with intervals, and by round), the formats, the
terms figure and one traced world's story in words. ``session.save(name, folder)`` writes
the changed scenario as YAML that loads back to it, as a plain file name inside one folder
(``save_path`` says which names are refused and why).

What the page's controls need without a browser is here too: ``typed_value`` (a typed value
or a link's, checked), ``Session.query``/``from_query`` (the levers in the page's address),
``slider_position``/``placed_report`` (a value off a slider's grid), ``short_label``; the YAML
written keeps the file's comments (``explore.yamltext``).

``Reruns`` schedules the page's reruns: one at a time, always of the newest settings, so the
numbers shown end up being those of the levers as they are (``Shown`` says whether they are).

The Solara page (``explore.app``) only draws controls for these levers and shows an
``Explored``; everything it does can be tested here.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from negotiation_sim.config.levers import GROUPS, Lever, apply_levers, levers, scenario_yaml
from negotiation_sim.config.names import path_component
from negotiation_sim.config.scenario import Scenario, load_scenario
from negotiation_sim.config.yamlio import InputError
from negotiation_sim.run.story import invitations_line, meetings_line, outcome_line, values_text

SCENARIO_ENV, RUNS_ENV, SEED_ENV, SAVE_DIR_ENV = (
    "NEGSIM_EXPLORE_SCENARIO", "NEGSIM_EXPLORE_RUNS", "NEGSIM_EXPLORE_SEED",
    "NEGSIM_EXPLORE_SAVE_DIR")
"""How ``negsim explore`` tells the page which scenario to open, with how many worlds and seed,
and the folder its Save button writes in (default: the scenario's)."""

BY_ROUND_COLUMNS = 10
"""Rounds shown in the explorer's table of meetings by round (a year of 14-day rounds has 26)."""

ON_BOUND = 1e-3
"""How near a red line's bound or the guarantors' cap an agreed term counts as sitting on it
(on the issues' 0–1 scale: a tenth of a percentage point)."""

DEFAULT_RUNS = 5_000
"""Worlds per rerun: enough for shares within about ±1.4 points, fast enough to feel live."""


@dataclass(frozen=True)
class TermRow:
    """One issue's agreed terms across the worlds that reached agreement.

    Attributes:
        issue: the issue.
        median, p05, p95: the agreed term's median and 5–95% range.
        agreements: how many worlds of the sample agreed (the flags' denominator).
        flags: (what the term sits on, share of those agreements) for each red line and the
            guarantors' cap some agreements sit on.
    """

    issue: str
    median: float
    p05: float
    p95: float
    agreements: int
    flags: list[tuple[str, float]]


def _display(sc: Scenario, actor: str) -> str:
    return sc.actors[actor].display(actor) if actor in sc.actors else actor


@dataclass
class Explored:
    """What one rerun shows.

    Attributes:
        scenario: the scenario that ran (the levers applied).
        summary: its summary (the ``negsim run --json`` shape).
        results: the run's results (with per-world rows, for the figures).
        story: the traced world (``api.trace``) and its ``world`` index.
        seconds: time the run, the trace and the warnings took (what the page waits for
            before it draws).
    """

    scenario: Scenario
    summary: dict[str, Any]
    results: Any
    story: dict[str, Any]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    _png: dict[int, bytes] = field(default_factory=dict, repr=False, compare=False)

    def tables(self) -> list[Any]:
        """The tables ``negsim run`` prints beside the outcomes (``report.tables``): will what
        is signed hold, why worlds ended, the reference solutions (those the summary has)."""
        from negotiation_sim.report import tables

        built = (tables.durability(self.summary), tables.end_reasons(self.summary),
                 tables.solutions(self.summary))
        return [t for t in built if t is not None]

    def changes(self, before: Explored | None) -> list[tuple[str, str, float]]:
        """(outcome, words, change in percentage points) of each outcome share against the run
        shown ``before`` (empty without one)."""
        if before is None:
            return []
        return [(o, words, 100 * (share - before.summary["outcomes"][o]["share"]))
                for o, words, share, _, _ in self.shares()]

    def csv(self) -> str:
        """Every table the page shows, as CSV text: outcomes and meetings with their intervals,
        formats, then the tables of ``tables()``, each under a line naming it."""
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([f"{self.summary['scenario']}: {self.summary['runs']} worlds, seed "
                    f"{self.summary['seed']}"])
        w.writerow(["outcome", "share", "ci95_low", "ci95_high"])
        w.writerows([o, share, lo, hi] for o, _, share, lo, hi in self.shares())
        w.writerow(["meeting", "share", "ci95_low", "ci95_high", "half met by"])
        w.writerows([k, share, lo, hi, when] for k, _, share, lo, hi, when in self.meetings())
        w.writerow(["format", "share", "ci95_low", "ci95_high"])
        w.writerows(self.formats_with_intervals())
        w.writerow(["issue", "agreed median", "p05", "p95", "agreements", "sits on"])
        w.writerows([t.issue, t.median, t.p05, t.p95, t.agreements,
                     "; ".join(f"{what} {share:.4f}" for what, share in t.flags)]
                    for t in self.terms())
        for t in self.tables():
            w.writerow([t.title])
            w.writerows(t.csv_rows())
        return buf.getvalue()

    def shares(self) -> list[tuple[str, str, float, float, float]]:
        """(outcome, words, share, lower, upper) for every outcome, in the summary's order; the
        words are the scenario's (``words:``, else the defaults)."""
        from negotiation_sim.plots.style import outcome_labels

        labels = outcome_labels(self.scenario)
        return [(o, labels[o], v["share"], v["ci95"][0], v["ci95"][1])
                for o, v in self.summary["outcomes"].items()]

    def meetings(self) -> list[tuple[str, str, float, float, float, str]]:
        """(meeting, words, share, lower, upper, when half of those worlds had met) for talks,
        a leaders' meeting and a settlement (``summary["meetings"]``), in that order."""
        from negotiation_sim.plots.style import half_met, meeting_labels

        m = self.summary["meetings"]
        return [(k, words, m[k]["share"], m[k]["ci95"][0], m[k]["ci95"][1], half_met(m[k]))
                for k, words in meeting_labels(self.scenario).items()]

    def sessions(self) -> float:
        """Mean sessions per world."""
        return self.summary["meetings"]["sessions"]["mean"]

    def meetings_by_round(self, columns: int = BY_ROUND_COLUMNS
                          ) -> tuple[list[str], list[tuple[str, list[float]]]]:
        """The cumulative share of worlds with talks, a leaders' meeting and a settlement at
        up to ``columns`` rounds: every round when the horizon has no more, else rounds evenly
        spaced up to the last. Returns the column heads (``round 3``, with the date that round
        ends when the scenario starts on one) and (meeting, shares) per row."""
        import datetime
        import math

        m = self.summary["meetings"]
        last = len(m["by_round"]["talks"])
        shown = sorted({math.ceil(last * (i + 1) / columns) for i in range(columns)}
                       if last > columns else range(1, last + 1))
        start = m.get("start") and datetime.date.fromisoformat(m["start"])
        heads = [f"round {r}" + (f" ({start + datetime.timedelta(days=r * m['round_days'])})"
                                 if start else "") for r in shown]
        return heads, [(k, [m["by_round"][k][r - 1] for r in shown]) for k in m["by_round"]]

    def formats(self) -> list[tuple[str, float]]:
        """(format, share of worlds that held it) in the scenario's order."""
        return list(self.summary["formats"].items())

    def formats_met(self) -> dict[str, float]:
        """Format -> the share of worlds that held it at least once, of any members (the
        channels that leave a principal out too; ``meetings.sessions.by_format``)."""
        by = self.summary["meetings"]["sessions"].get("by_format") or {}
        return {f: v["share"] for f, v in by.items()}

    def formats_with_intervals(self) -> list[tuple[str, float, float, float]]:
        """(format, share, lower, upper): each format's share of worlds with its Wilson 95%
        interval, as the outcome shares have."""
        from negotiation_sim.results.summary import wilson_interval

        n = self.summary["runs"]
        return [(f, v, *wilson_interval(round(v * n), n)) for f, v in self.formats()]

    def terms(self) -> list[TermRow]:
        """Each issue's agreed terms: median and 5–95% range across the worlds that reached
        agreement (``summary["terms"]``, as ``negsim run`` has them), and the share of those
        agreements whose term sits on a principal's red line or at the guarantors' cap
        (within ``ON_BOUND``; the cap is the largest offer among the guarantors offering on
        the issue, the model's). Issues without agreements are left out."""
        import numpy as np

        runs = self.results.sample
        agreed = (runs["outcome"] == "agreement").to_numpy()
        marks = self.results.marks or {}
        out = []
        for issue, t in self.summary["terms"].items():
            if t is None or t.get("p50") is None:
                continue
            col = runs[f"terms.{issue}"].to_numpy()
            mask = agreed & ~np.isnan(col)
            if not mask.any():
                continue
            flags = []
            m = marks.get(issue)
            for actor, op, bound in (m.red_lines if m else []):
                share = float(np.mean(np.abs(col[mask] - bound) <= ON_BOUND))
                if share > 0:
                    flags.append((f"{_display(self.scenario, actor)}'s red line "
                                  f"({issue} {op} {bound:g})", share))
            cap = self._cap(issue, runs)
            if cap is not None:
                share = float(np.mean(np.abs(col[mask] - cap[mask]) <= ON_BOUND))
                if share > 0:
                    flags.append(("the guarantors' cap", share))
            out.append(TermRow(issue, t["p50"], t["p05"], t["p95"], int(mask.sum()), flags))
        return out

    def _cap(self, issue: str, runs: Any):
        """Per world of the sample, the guarantors' cap on ``issue`` (None: nobody offers)."""
        import numpy as np

        from negotiation_sim.config.levers import centre

        caps = []
        for g, actor in self.scenario.actors.items():
            offer = getattr(actor, "offer", None)
            if offer and issue in offer:
                column = f"input.actors.{g}.offer.{issue}"
                caps.append(runs[column].to_numpy() if column in runs else
                            np.full(len(runs), centre(offer[issue])))
        return np.max(caps, axis=0) if caps else None

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
        res = api.run(sc, runs=self.runs, seed=self.seed, keep_runs="memory")  # no file
        story = api.trace(sc, seed=self.seed, world=min(self.world, self.runs - 1))
        found = self.warnings(sc)
        return Explored(sc, res.summary, res, story, time.perf_counter() - start,
                        warnings=found)

    def warnings(self, sc: Scenario | None = None) -> list[str]:
        """The sanity warnings ``negsim validate`` gives for the scenario with the levers
        applied, as 'field: message' (the field names the lever's place in the file)."""
        from negotiation_sim.config.yamlio import YamlDoc
        from negotiation_sim.core.checks import scenario_warnings

        sc = self.scenario() if sc is None else sc
        # a document without lines: the page names fields, so the scenario is not written out
        # as YAML and read back for each rerun to locate them
        doc = YamlDoc(self.source, None)
        return [f"{p.field}: {p.message}" if p.field else p.message
                for p in scenario_warnings(sc, doc)]

    def query(self) -> str:
        """The levers moved from the file as a URL query string (``path=value&...``, in the
        levers' order; numbers written so they read back exactly), empty when none moved."""
        from urllib.parse import urlencode

        changed = self.changed()
        return urlencode([(lv.path, repr(changed[lv.path]) if lv.kind != "choice"
                           else str(changed[lv.path]))
                          for lv in self.levers if lv.path in changed])

    def from_query(self, query: str | None) -> tuple[dict[str, Any], list[str]]:
        """The lever values a URL query string sets (``query()``'s form): the file's values
        with each parameter applied, and why each parameter that is not applied was refused
        (an unknown lever, a value a typed value would not be, a choice not offered). A
        parameter given twice counts once, its last value."""
        from urllib.parse import parse_qsl

        out = {lv.path: lv.value for lv in self.levers}
        problems: list[str] = []
        for path, text in parse_qsl(query or "", keep_blank_values=True):
            lever = self._by_path.get(path)
            if lever is None:
                problems.append(f"{path!r} is not a lever of this scenario")
            elif lever.kind == "choice":
                if text in lever.choices:
                    out[path] = text
                else:
                    problems.append(f"{path}: {text!r} is not one of "
                                    + ", ".join(lever.choices))
            else:
                try:
                    out[path] = typed_value(lever, text)
                except ValueError as err:
                    problems.append(f"{path}: {err}")
        return out, problems

    def changed_words(self) -> list[str]:
        """Each lever moved from the file, as 'label: file value -> value now'."""
        return [f"{self._by_path[p].label}: {self._by_path[p].value:g} -> {v:g}"
                if isinstance(v, (int, float)) and not isinstance(v, bool) else
                f"{self._by_path[p].label}: {self._by_path[p].value} -> {v}"
                for p, v in self.changed().items()]

    def yaml(self) -> str:
        """The changed scenario as YAML text that loads back to it: the scenario file's own
        text with the changed values written in (its comments and layout kept;
        ``explore.yamltext``), or, when that text cannot be patched to the changed scenario (a
        file changed since or a shape not handled), the scenario's data dumped, which says so
        in its first lines."""
        changed = self.changed()
        header = (f"{self.base.name}, from {self.source} with negsim explore"
                  + "".join(f"\n  {p}: {v}" for p, v in changed.items()))
        sc = self.scenario()
        text = self._patched(sc)
        if text is not None:
            return "".join(f"# {line}\n" for line in header.splitlines()) + text
        return scenario_yaml(sc, header=header + "\n(written anew: the comments of "
                             f"{self.source} could not be kept)")

    def _patched(self, sc: Scenario) -> str | None:
        """The source file's text with the changed values written in, if it loads back to
        ``sc`` (else None)."""
        from negotiation_sim.config.levers import scenario_data
        from negotiation_sim.config.scenario import scenario_from_data
        from negotiation_sim.config.yamlio import parse_yaml
        from negotiation_sim.explore.yamltext import patched_text

        try:
            text = Path(self.source).read_text(encoding="utf-8")
            out = patched_text(text, scenario_data(self.base), scenario_data(sc),
                               list(self.changed()))
            if out is None:
                return None
            doc = parse_yaml(out, self.source)
            back = scenario_from_data(doc.data, doc)
        except (OSError, UnicodeError, yaml_errors(), InputError, KeyError, IndexError,
                TypeError):
            return None
        return out if back.digest() == sc.digest() else None

    def save(self, name: str, folder: str | Path) -> Path:
        """Write the changed scenario as YAML to ``folder / name``, checked by loading it back.

        Only a plain file name inside ``folder`` is written (``save_path``); the file is
        replaced in one step (a temporary file in the same folder, renamed), so a reader never
        sees half a file and a symbolic link put in its place is replaced, never followed.

        Raises:
            ValueError: a name ``save_path`` refuses.
            OSError: the folder cannot be written.
        """
        path = save_path(folder, name, source=self.source)
        text = self.yaml()
        # a new file with the user's umask (mkstemp would make it private), never through a link
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o666)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        back = load_scenario(path)
        if back.digest() != self.scenario().digest():  # cannot happen: the same data
            raise InputError([])
        return path


def short_label(sc: Scenario, lever: Lever) -> str:
    """A few words for a lever's control (``US pressure on Russia``-like: the actors' names
    as the scenario gives them); the lever's ``label`` is the full description."""
    parts = lever.path.split(".")

    def name(actor: str) -> str:
        return sc.actors[actor].display(actor) if actor in sc.actors else actor

    if parts[0] == "actors":
        who, what, rest = name(parts[1]), parts[2], parts[3:]
        words = {
            "pressure": lambda: f"{who} pressure on {name(rest[0])}",
            "blame": lambda: f"{who} blame " + ("per refusal" if rest[0] == "refuse"
                                                 else "cap"),
            "offer": lambda: f"{who} offer on {rest[0]}",
            "support": lambda: f"{who} support to {name(rest[0])}",
            "audience_cost": lambda: f"{who} audience cost: {rest[0]}",
            "red_lines": lambda: f"{who} red line on "
                                 + sc.actors[parts[1]].red_lines[int(rest[0])].issue,
            "reservation": lambda: f"{who} value of {sc.words.no_deal}",
        }
    elif parts[0] == "durability":
        words = {
            "breach_cost": lambda: f"{name(parts[2])} cost of breaking",
            "deterrence": lambda: f"{name(parts[2])} deterrence per unit of {parts[3]}",
            "shifts": lambda: f"{name(parts[2])} drift while a text holds",
            "leverage": lambda: "pressure after the signing",
        }
        what = parts[1]
    else:
        words = {"rounds": lambda: "horizon (rounds)", "information": lambda: "information",
                 "kind": lambda: "bargaining protocol"}
        what = parts[-1]
    make = words.get(what)
    return make() if make is not None else lever.label


def yaml_errors() -> type[Exception]:
    """PyYAML's base error (imported where used: the page imports this module at start)."""
    import yaml

    return yaml.YAMLError


def slider_position(value: float, lever: Lever) -> float:
    """Where the page's slider (Vuetify's ``v-slider``) puts ``value``: clamped to the lever's
    range and rounded to its grid of steps counted from ``low`` (``Math.round``: halves up),
    to as many decimals as the step is written with.

    A value off that grid (the mean of a distribution, a typed value) is shown by the slider at
    this position, and the slider reports the position back as if the user had moved it there;
    the page knows the position so it can tell that report from a move (``placed_report``).
    """
    import decimal
    import math

    step, low, high = float(lever.step), float(lever.low), float(lever.high)
    decimals = max(0, -decimal.Decimal(repr(step)).as_tuple().exponent)
    offset = math.fmod(low, step)  # JavaScript's % keeps the dividend's sign, as fmod does
    k = math.floor((min(max(float(value), low), high) - offset) / step + 0.5)
    return round(min(k * step + offset, high), decimals)


def typed_value(lever: Lever, text: str) -> float | int:
    """The value a user typed for a number lever, or ``ValueError`` saying why it is refused:
    not a number, not a whole number for an ``int`` lever, or outside the lever's range (the
    slider's). A comma is read as a decimal point."""
    import math

    said = text.strip()
    try:
        value = float(said.replace(",", "."))
    except ValueError:
        raise ValueError(f"{said!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{said!r} is not a finite number")
    if lever.kind == "int":
        if value != int(value):
            raise ValueError(f"{said!r} is not a whole number")
        value = int(value)
    if not lever.low <= value <= lever.high:
        raise ValueError(f"{said} is outside the range {lever.low:g} – {lever.high:g}")
    return value


def placed_report(reported: float, value: float, lever: Lever) -> bool:
    """Whether a value the slider reports is only where it put ``value`` (the lever's value,
    placed on it by the page), not a move: ``value`` is off the slider's grid and ``reported``
    is its position. A move the user makes always lands on another point of the grid, since
    the slider already sits at that position."""
    where = slider_position(value, lever)
    return where != value and abs(float(reported) - where) <= 1e-6 * float(lever.step)


SAVE_SUFFIXES = (".yaml", ".yml")


def save_path(folder: str | Path, name: str, *, source: str | Path | None = None) -> Path:
    """Where the explorer may save ``name``: ``folder / name``, or ``ValueError`` saying why not.

    The name comes from a text field in the page, so it may not choose a folder: it must be
    one plain file name (letters, digits, ``_``, ``-`` and inner dots, as
    ``config.names.path_component`` leaves a name) ending in ``.yaml`` or ``.yml``. So ``..``,
    separators, absolute paths, drive letters, hidden files and control characters are
    refused, and so are a symbolic link at that name (it could point anywhere), anything that
    is not a regular file, and the scenario being explored (its comments would be lost).
    """
    folder = Path(folder)
    if not name or path_component(name) != name:
        raise ValueError(f"{name!r} is not a plain file name: give a name such as "
                         f"changed.yaml (letters, digits, _ - .); it is saved in {folder}")
    if Path(name).suffix.lower() not in SAVE_SUFFIXES:
        raise ValueError(f"{name!r} does not end in .yaml or .yml")
    path = folder / name
    if path.is_symlink():
        raise ValueError(f"{path} is a symbolic link: not written through")
    if path.exists() and not path.is_file():
        raise ValueError(f"{path} exists and is not a regular file")
    if source is not None and path.exists() and Path(source).exists() \
            and path.samefile(source):
        raise ValueError(f"{path} is the scenario being explored: save under another name")
    return path


@dataclass(frozen=True)
class Shown:
    """What the page shows and whether it is the run of the levers as they are.

    Attributes:
        generation: which request (``Reruns.request``) produced it; 0 for the first run.
        key: the settings that ran (lever values and traced world).
        outcome: the ``Explored`` result, or why those settings cannot run (a message).
    """

    generation: int
    key: Any
    outcome: Any

    def state(self, key: Any, requested: int) -> str:
        """``current`` when these are the numbers of ``key`` (the levers now), ``running``
        while a rerun asked for later is still to come, else ``stale`` (the levers moved and
        no rerun was asked for: live reruns are off)."""
        if self.key == key:
            return "current"
        return "running" if requested > self.generation else "stale"


class Reruns:
    """Reruns one at a time, always of the newest settings asked for.

    Levers move faster than a rerun runs (a key held on a slider moves it ten times a second;
    a rerun of 5,000 worlds takes a few tenths). Running every request in turn would keep
    showing old settings long after the last change; running them side by side would show
    whichever happened to finish last. Here one worker thread runs the newest request; the
    requests that arrive while it runs replace one another, so after the last change exactly
    one more rerun starts, and its result is the last one published. A rerun under way is not
    interrupted (it is a few tenths of a second; stopping numpy mid-way would cost more).

    Args:
        run: key -> outcome (exceptions are published as the outcome, so a failed rerun ends
            the wait instead of leaving the page running forever).
        publish: called in the worker thread with each ``Shown``, in the order of the runs.
    """

    def __init__(self, run: Callable[[Any], Any], publish: Callable[[Shown], None]) -> None:
        self._run, self._publish = run, publish
        self._lock = threading.Lock()
        self._wanted: tuple[int, Any] | None = None
        self._worker: threading.Thread | None = None
        self.requested = 0

    def request(self, key: Any) -> int:
        """Ask for a rerun of ``key``; returns its generation (1, 2, ...)."""
        with self._lock:
            self.requested += 1
            self._wanted = (self.requested, key)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="negsim-rerun",
                                                daemon=True)
                self._worker.start()
            return self.requested

    def busy(self) -> bool:
        """Whether a rerun is running or waiting."""
        with self._lock:
            return self._worker is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every request is published; False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                worker = self._worker
            if worker is None:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            worker.join(left)

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._wanted is None:
                    self._worker = None
                    return
                (generation, key), self._wanted = self._wanted, None
            try:
                outcome = self._run(key)
            except Exception as err:  # noqa: BLE001  shown on the page, the worker lives on
                outcome = err
            try:
                self._publish(Shown(generation, key, outcome))
            except Exception:  # noqa: BLE001  the page is gone (its kernel closed): stop
                with self._lock:
                    self._wanted = self._worker = None
                return


def story_lines(sc: Scenario, story: dict[str, Any]) -> list[str]:
    """One world's story (``api.trace``) in words: formats, texts, answers, events, outcome."""
    lines = [f"World {story['world']} (seed {story['seed']}, protocol {story['protocol']})"]
    if story["inputs"]:
        lines.append("Drew: " + values_text(story["inputs"]))
    form = story["formation"]
    if story.get("calendar"):  # a calendar of sessions: each round's invitations
        lines += [invitations_line(sc, r) for r in story["calendar"]]
    elif form is not None:
        for t in form["tried"]:
            declined = [sc.actors[p].display(p) for p, ok in t["attend"].items() if not ok]
            lines.append(f"Format {t['format']}: " + ("all attend" if not declined else
                                                     "declined by " + ", ".join(declined)))
        if form["held"] is None:
            lines.append(f"No {sc.words.meeting}.")
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
        lines.append(f"Round {r['round']}: {who} tables {values_text(r['text'], 2)}; {said}"
                     + (" (walk-out)" if r.get("walked_out") else ""))
    o = story["outcome"]
    if "talks_round" in o:
        lines.append(meetings_line(o))
    lines.append("".join(outcome_line(sc, o)))
    if o["terms"]:
        lines.append("Terms: " + values_text(o["terms"], 2))
    if story.get("why"):
        lines.append(f"Why: {story['why']}")
    return lines
