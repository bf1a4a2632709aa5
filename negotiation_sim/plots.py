"""Figures of results: every function takes result tables, an optional ``ax``, returns the Figure.

This module owns what a reader sees: outcome shares, agreed terms against the parties' ideal
points and red lines, utilities against reservation values, summit formats, sweep lines and
heatmaps, sensitivity bars and one world's negotiation round by round. It also owns reading a
results directory back (``RunResults``, ``SweepResults``) so that ``negsim plot``, ``negsim
report`` and ``negsim run`` draw from the same tables.

Conventions every figure keeps:
- each outcome has one colour, the same everywhere (``OUTCOME_COLOURS``); principals have their
  own colours (``ACTOR_COLOURS``) that never reuse an outcome's;
- titles say the scenario, the number of worlds and the seed;
- an issue's axis runs from 0 to 1 with the issue's ``low``/``high`` words at its ends;
- functions never call ``plt.show()``; a figure they create is returned for the caller to save
  (``save`` closes it). Given ``ax``, they draw there and return ``ax.figure``.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from negotiation_sim.model import OUTCOMES

if TYPE_CHECKING:
    import pandas as pd

    from negotiation_sim.scenario import Scenario

OUTCOME_COLOURS = {
    "agreement": "#2a9d8f",
    "ceasefire": "#e9c46a",
    "breakdown": "#e76f51",
    "no_summit": "#8d99ae",
}
OUTCOME_LABELS = {
    "agreement": "Agreement",
    "ceasefire": "Ceasefire",
    "breakdown": "Breakdown",
    "no_summit": "No summit",
}
# Principals and other actors, in scenario order; dark tones that no outcome uses.
ACTOR_COLOURS = ("#9b2226", "#005f9e", "#6a4c93", "#3a5a40", "#7f4f24", "#343a40")
MARK_COLOUR = "#222222"  # status quo, Nash point, intervals


# -- results read back from disk --------------------------------------------------------------


@dataclass
class RunResults:
    """A run's tables: one row per world, the summary, the manifest, and the scenario if known.

    Attributes:
        runs: ``runs.parquet`` as a DataFrame (outcome and format as strings).
        summary: ``summary.json`` (the ``negsim run --json`` shape).
        manifest: ``manifest.json`` (provenance).
        scenario: the validated scenario, when its file is found (marks ideal points, red lines).
        path: the results directory.
    """

    runs: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario | None = None
    path: Path | None = None

    @classmethod
    def load(cls, path: str | Path, scenario: Scenario | str | Path | None = None) -> RunResults:
        """Read ``runs.parquet``, ``summary.json`` and ``manifest.json`` from a run directory.

        The scenario is ``scenario`` if given, else the manifest's ``scenario_file`` when that
        file still exists and has the recorded hash (a changed file would mark the wrong lines).
        """
        path = Path(path)
        runs = read_runs_sample(path / "runs.parquet")
        for col in ("outcome", "format"):
            if col in runs:
                runs[col] = runs[col].astype("string")
        summary = json.loads((path / "summary.json").read_text())
        manifest = _read_json(path / "manifest.json")
        return cls(runs, summary, manifest, resolve_scenario(scenario, manifest, path), path)

    @property
    def caption(self) -> str:
        """``scenario: N worlds, seed S`` for titles."""
        return caption(self.summary["scenario"], self.summary["runs"], self.summary["seed"])

    @property
    def principals(self) -> list[str]:
        """Principal ids (from the scenario, else the first two utility columns)."""
        if self.scenario is not None:
            return self.scenario.principals
        return self.actors[:2]

    @property
    def actors(self) -> list[str]:
        """Actors with a utility column, in table order (principals first)."""
        return [c.split(".", 1)[1] for c in self.runs.columns if c.startswith("utility.")]

    @property
    def issues(self) -> list[str]:
        return [c.split(".", 1)[1] for c in self.runs.columns if c.startswith("terms.")]

    def name_of(self, actor: str) -> str:
        if self.scenario is not None and actor in self.scenario.actors:
            return self.scenario.actors[actor].display(actor)
        return actor


# Figures of distributions need no more worlds than this; a larger run is read as a systematic
# sample (every k-th world), so drawing a run of millions stays within bounded memory.
MAX_FIGURE_ROWS = 200_000
_FIGURE_COLUMNS = ("world", "outcome", "format", "round", "walked_out")


def read_runs_sample(path: Path, max_rows: int = MAX_FIGURE_ROWS) -> pd.DataFrame:
    """The columns figures use from ``runs.parquet``, every k-th world when there are more
    than ``max_rows`` (outcome shares in titles and tables come from the exact summary)."""
    import math

    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    columns = [c for c in names if c in _FIGURE_COLUMNS or c.startswith(("terms.", "utility."))
               or (c.startswith("input.actors.") and c.endswith(".reservation"))]
    step = max(1, math.ceil(pf.metadata.num_rows / max_rows))
    if step == 1:
        return pf.read(columns=columns).to_pandas()
    parts, offset = [], 0
    for batch in pf.iter_batches(batch_size=65_536, columns=columns):
        first = (-offset) % step  # keep rows whose run-wide index is a multiple of step
        parts.append(batch.take(pa.array(range(first, batch.num_rows, step))))
        offset += batch.num_rows
    return pa.Table.from_batches(parts).to_pandas()


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def resolve_scenario(scenario, manifest: dict[str, Any], base: Path | None = None):
    """The scenario a result came from: the one given, else the manifest's file.

    A file whose hash differs from the recorded one is still used (the hash also moves when the
    schema gains a field), but with a warning: its red lines and ideal points may not be the
    ones that were run.
    """
    import warnings

    from negotiation_sim.scenario import Scenario, load_scenario

    if isinstance(scenario, Scenario):
        return scenario
    if scenario is not None:
        return load_scenario(scenario)
    source = manifest.get("scenario_file")
    if not source:
        return None
    candidates = [Path(source)]
    if base is not None and not Path(source).is_absolute():
        candidates.append(base / source)
    for cand in candidates:
        if cand.is_file():
            try:
                sc = load_scenario(cand)
            except Exception:  # noqa: BLE001 - an unreadable file just means no marks
                return None
            recorded = manifest.get("scenario_hash")
            if recorded not in (None, sc.digest()):
                warnings.warn(f"{cand} differs from the scenario that was run (hash "
                              f"{recorded[:12]}...); figures mark its current positions and "
                              "red lines", ScenarioChangedWarning, stacklevel=2)
            return sc
    return None


class ScenarioChangedWarning(UserWarning):
    """The scenario file named in a manifest no longer has the recorded hash."""


def caption(scenario: str, runs: int, seed: int | str) -> str:
    """The second title line every figure carries."""
    return f"{scenario}: {int(runs):,} worlds, seed {seed}"


# -- figure plumbing --------------------------------------------------------------------------


def closes_on_error(func):
    """Close the figures a plotting function opened if it fails half-way (no leaked figures)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        plt = _pyplot()
        before = set(plt.get_fignums())
        try:
            return func(*args, **kwargs)
        except BaseException:
            for num in set(plt.get_fignums()) - before:
                plt.close(num)
            raise

    return wrapper


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf", "cairo"):
        # Never open windows: figures are saved, not shown.
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _figure(ax=None, size=(7.0, 4.0)):
    """A new figure and axes, or the given axes and its figure."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = _pyplot().subplots(figsize=size, layout="constrained")
    return fig, ax


def _panels(n: int, ax, *, size_each=(7.5, 1.9), extra_height=1.1):
    """One axes per item stacked vertically, or the axes given (one per item)."""
    if ax is not None:
        axes = list(np.atleast_1d(ax).ravel())
        if len(axes) != n:
            raise ValueError(f"need {n} axes (one per panel), got {len(axes)}")
        return axes[0].figure, axes
    fig, axes = _pyplot().subplots(
        n, 1, figsize=(size_each[0], size_each[1] * n + extra_height), layout="constrained",
        squeeze=False)
    return fig, list(axes[:, 0])


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _issue_axis(ax, low: str, high: str, name: str) -> None:
    """An issue's x-axis: 0 to 1, with the words for each end under the ends."""
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel(name, labelpad=2)
    kw = dict(xycoords="axes fraction", textcoords="offset points", va="top", fontsize=8,
              color="#444444")
    ax.annotate(f"0 = {_wrap(low, 30)}", xy=(0, 0), xytext=(0, -26), ha="left", **kw)
    ax.annotate(f"1 = {_wrap(high, 30)}", xy=(1, 0), xytext=(0, -26), ha="right", **kw)


def _headroom(ax, factor: float) -> None:
    """Stretch a percentage y-axis by ``factor`` above the data, ticks only up to the data."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    top = ax.get_ylim()[1] or 1.0
    ticks = [t for t in MaxNLocator(3).tick_values(0, top) if 0 <= t <= top * 1.02]
    ax.set_ylim(0, top * factor)
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    _pct_axis(ax)


def _pct_axis(ax, axis: str = "y") -> None:
    from matplotlib.ticker import PercentFormatter

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(100, decimals=0))


def save(fig, path, **kwargs) -> None:
    """Save a figure (format from the file suffix) and close it."""
    plt = _pyplot()
    try:
        fig.savefig(path, dpi=kwargs.pop("dpi", 150), **kwargs)
    finally:
        plt.close(fig)


def close(fig) -> None:
    """Close a figure without saving it."""
    _pyplot().close(fig)


# -- outcome shares ---------------------------------------------------------------------------


@closes_on_error
def outcome_shares(summaries: list[dict[str, Any]] | dict[str, Any], ax=None, *,
                   labels: list[str] | None = None, xlabel: str = "Scenario",
                   title: str | None = None):
    """Stacked bars of outcome shares, one bar per summary, with 95% Wilson intervals.

    Each segment carries an error bar: the 95% interval of that outcome's share, drawn at the
    segment's middle (left out when narrower than half a percentage point).

    Args:
        summaries: one run summary (the ``negsim run --json`` shape) or several (scenarios of a
            comparison, points of a sweep: see ``sweep_summaries``).
        ax: matplotlib Axes to draw on; a new figure when omitted.
        labels: bar labels (default: each summary's scenario name).
        xlabel: what the bars are.
        title: first title line (default "Summit outcomes").

    Returns:
        The matplotlib Figure.
    """
    if isinstance(summaries, dict):
        summaries = [summaries]
    n = len(summaries)
    width = max(5.5, 1.2 * n + 3.5) if n <= 6 else min(16.0, 6.0 + 0.4 * n)
    fig, ax = _figure(ax, size=(width, 4.2))
    labels = labels or [s["scenario"] for s in summaries]
    x = np.arange(n)
    bottom = np.zeros(n)
    width = 0.6 if n < 12 else 0.8
    for name in OUTCOMES:
        share = np.array([s["outcomes"][name]["share"] for s in summaries]) * 100
        lo = np.array([s["outcomes"][name]["ci95"][0] for s in summaries]) * 100
        hi = np.array([s["outcomes"][name]["ci95"][1] for s in summaries]) * 100
        ax.bar(x, share, width, bottom=bottom, color=OUTCOME_COLOURS[name],
               label=OUTCOME_LABELS[name], edgecolor="white", linewidth=0.5)
        centre = bottom + share / 2
        # Intervals under half a point would draw as a stray dash: leave them out.
        shown = (hi - lo) >= 0.5
        ax.errorbar(x[shown], centre[shown],
                    yerr=[np.maximum(share - lo, 0)[shown], np.maximum(hi - share, 0)[shown]],
                    fmt="none", ecolor=MARK_COLOUR, elinewidth=1, capsize=3 if n < 12 else 1.5)
        if n <= 8:
            for xi, c, s, l, h in zip(x, centre, share, lo, hi):
                if s >= 4:
                    text = f"{s:.1f}%" if n > 1 else f"{s:.1f}% ({l:.1f}-{h:.1f})"
                    ax.text(xi + width / 2 + 0.03, c, text, va="center", ha="left", fontsize=8)
        bottom += share
    widest = max(len(str(lb)) for lb in labels)
    rotate = widest > 14 or (n > 4 and widest > 6) or n > 12
    ax.set_xticks(x, [_wrap(str(lb), 18) for lb in labels], rotation=30 if rotate else 0,
                  ha="right" if rotate else "center")
    ax.set_xlim(-0.6, n - 0.4 + (0.25 if n > 1 else 0.6) * (n <= 8))
    ax.set_ylim(0, 100)
    _pct_axis(ax)
    ax.set_ylabel("Share of simulated worlds")
    ax.set_xlabel(xlabel)
    runs = sorted({s["runs"] for s in summaries})
    seeds = sorted({s["seed"] for s in summaries})
    head = title or ("Summit outcomes" if n > 1 else f"Summit outcomes: {summaries[0]['scenario']}")
    ax.set_title(f"{head}\n{'/'.join(f'{r:,}' for r in runs)} worlds per bar, seed "
                 f"{'/'.join(map(str, seeds))}; error bars: 95% Wilson intervals", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


# -- terms ------------------------------------------------------------------------------------


@dataclass
class IssueMarks:
    """What to mark on an issue's axis: ideal points, red lines, caps, status quo, Nash point."""

    ideal: dict[str, tuple[float, float, float]]  # actor -> (p05, median, p95) of its ideal point
    red_lines: list[tuple[str, str, float]]  # (actor, op, value)
    caps: list[tuple[str, float]]  # (guarantor, median offer)
    status_quo: float
    nash: float | None  # median Nash text over worlds where one exists


def scenario_marks(scenario: Scenario, *, seed: int = 0, worlds: int = 2048) -> dict[str, IssueMarks]:
    """Per issue, the reference points of a scenario, over ``worlds`` draws of its numbers.

    The Nash point is the clout-weighted Nash bargaining text at the principals' *true*
    reservations (no overstatement, no pressure), inside every red line and guarantor cap: where
    talks would land with complete information. Uncertain numbers are summarised by their median
    (ideal points also by their 5-95% range).
    """
    from negotiation_sim.solutions import nash_text
    from negotiation_sim.worlds import sample_numbers, sample_worlds

    prm = sample_worlds(scenario, worlds, seed=seed)
    values, _ = sample_numbers(scenario, seed, 0, range(-(-worlds // 1024)), worlds)
    text, feasible = nash_text(prm.prefs, prm.reservation, prm.clout, prm.lo, prm.hi)
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
        caps = [(aid, float(np.median(values[f"actors.{aid}.offer.{issue}"])))
                for aid, actor in scenario.actors.items()
                if actor.role == "guarantor" and issue in actor.offer]
        nash = float(np.median(text[k, feasible])) if feasible.any() else None
        marks[issue] = IssueMarks(ideal, red, caps, float(np.median(prm.status_quo[k])), nash)
    return marks


@closes_on_error
def terms(results: RunResults, ax=None, *, issues: Sequence[str] | None = None, bins: int = 40):
    """Per issue, the distribution of agreed terms (and ceasefire packages) with reference marks.

    One panel per issue: a histogram of the agreed value over worlds that reached agreement
    (and, stacked on it in its own colour, the ceasefire package where talks ended in one), each
    principal's ideal point (triangle, with its 5-95% range when uncertain), red lines (dashed,
    the forbidden side shaded), guarantor caps (dash-dot), the status quo (dotted) and the Nash
    point (star). Marks need ``results.scenario``; without it only the histograms are drawn.

    Args:
        results: a run's tables.
        ax: one Axes per issue (a sequence), or None for a new figure.
        issues: which issues (default all, in scenario order).
        bins: histogram bins over [0, 1].

    Returns:
        The matplotlib Figure.
    """
    issues = list(issues or results.issues)
    fig, axes = _panels(len(issues), ax)
    sc = results.scenario
    marks = scenario_marks(sc, seed=results.summary["seed"]) if sc is not None else {}
    colours = _actor_colours(results)
    n = len(results.runs)
    # Bins centred on multiples of 1/bins, so round values (a red line at 0.85, a status quo
    # at 0.8) sit in the middle of a bar rather than on an edge.
    half = 0.5 / bins
    edges = np.linspace(-half, 1 + half, bins + 2)
    for axk, issue in zip(axes, issues):
        col = results.runs[f"terms.{issue}"].to_numpy()
        stacks, colors, labels = [], [], []
        for outcome in ("agreement", "ceasefire"):
            mask = (results.runs["outcome"] == outcome).to_numpy() & ~np.isnan(col)
            stacks.append(col[mask])
            colors.append(OUTCOME_COLOURS[outcome])
            labels.append("Agreed terms" if outcome == "agreement" else "Ceasefire package")
        weights = [np.full(len(s), 100.0 / max(n, 1)) for s in stacks]
        axk.hist(stacks, bins=edges, weights=weights, stacked=True, color=colors, label=labels,
                 edgecolor="white", linewidth=0.3)
        _headroom(axk, 1.5)  # room above the bars for the marks
        axk.set_ylabel("% of worlds")
        if issue in marks:
            _mark_issue(axk, marks[issue], colours, results)
        spec = sc.issues[issue] if sc is not None else None
        _issue_axis(axk, spec.label("low") if spec else "0", spec.label("high") if spec else "1",
                    issue)
        agreed = stacks[0]
        note = (f"agreed in {len(agreed) / max(n, 1):.0%} of worlds; median {np.median(agreed):.2f}, "
                f"5-95% {np.quantile(agreed, 0.05):.2f}-{np.quantile(agreed, 0.95):.2f}"
                if len(agreed) else "no world reached agreement")
        axk.set_title(f"{issue}: {note}", fontsize=9, loc="left")
    handles, labels = _terms_legend(axes[0], colours, results, with_marks=bool(marks))
    fig.legend(handles, labels, loc="outside lower center", ncols=3, frameon=False, fontsize=8)
    fig.suptitle(f"Terms by issue\n{results.caption}", fontsize=10)
    return fig


def _actor_colours(results: RunResults) -> dict[str, str]:
    return {a: ACTOR_COLOURS[i % len(ACTOR_COLOURS)] for i, a in enumerate(results.actors)}


def _mark_issue(ax, m: IssueMarks, colours: dict[str, str], results: RunResults) -> None:
    import matplotlib.transforms as mtransforms

    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    for op_actor, op, value in m.red_lines:
        c = colours.get(op_actor, MARK_COLOUR)
        ax.axvline(value, color=c, linestyle="--", linewidth=1.2)
        span = (value, 1.02) if op in ("<=", "<") else (-0.02, value)
        ax.axvspan(*span, color=c, alpha=0.07, linewidth=0)
    by_value: dict[float, list[str]] = {}
    for gid, cap in m.caps:
        by_value.setdefault(round(cap, 6), []).append(results.name_of(gid))
    for i, (cap, names) in enumerate(sorted(by_value.items())):
        ax.axvline(cap, color=MARK_COLOUR, linestyle="-.", linewidth=1)
        right = cap > 0.7  # write the guarantors' names on the side with room
        ax.annotate(f"cap: {', '.join(names)}", (cap, 0.62 - 0.16 * i), xycoords=trans,
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.75, pad=0.6),
                    textcoords="offset points", xytext=(-3 if right else 3, 0),
                    ha="right" if right else "left", va="center", fontsize=7, color="#444444")
    ax.axvline(m.status_quo, color=MARK_COLOUR, linestyle=":", linewidth=1.3)
    for i, (aid, (lo, mid, hi)) in enumerate(m.ideal.items()):
        y = 0.90 - 0.1 * i
        c = colours.get(aid, MARK_COLOUR)
        if hi - lo > 1e-9:
            ax.plot([lo, hi], [y, y], color=c, linewidth=2, transform=trans, alpha=0.6)
        ax.plot([mid], [y], marker="v", markersize=8, color=c, transform=trans, clip_on=False,
                linestyle="none")
        left = mid > 0.5  # write the name on the side with room
        ax.annotate(results.name_of(aid), (mid, y), xycoords=trans, textcoords="offset points",
                    xytext=(-8 if left else 8, 0), ha="right" if left else "left",
                    va="center", fontsize=8, color=c)
    if m.nash is not None:
        ax.plot([m.nash], [0.9], marker="*", markersize=12, color=MARK_COLOUR, transform=trans,
                linestyle="none", markeredgecolor="white")


def _terms_legend(ax, colours, results: RunResults, *, with_marks: bool):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=OUTCOME_COLOURS["agreement"]), Patch(color=OUTCOME_COLOURS["ceasefire"])]
    labels = ["Agreed terms", "Ceasefire package"]
    if not with_marks:
        return handles, labels
    for aid in results.principals:
        c = colours.get(aid, MARK_COLOUR)
        handles.append(Line2D([], [], marker="v", color=c, linestyle="none", markersize=8))
        labels.append(f"{results.name_of(aid)} ideal (5-95% range)")
        handles.append(Line2D([], [], color=c, linestyle="--"))
        labels.append(f"{results.name_of(aid)} red line (shaded: excluded)")
    handles += [Line2D([], [], color=MARK_COLOUR, linestyle="-."),
                Line2D([], [], color=MARK_COLOUR, linestyle=":"),
                Line2D([], [], marker="*", color=MARK_COLOUR, linestyle="none", markersize=11)]
    labels += ["Guarantor cap", "Status quo", "Nash point (true reservations)"]
    return handles, labels


# -- utilities --------------------------------------------------------------------------------


@closes_on_error
def utilities(results: RunResults, ax=None):
    """Per actor, utility at the outcome by outcome (box: quartiles, whiskers: 5-95%), against
    the actor's reservation value (grey band: its 5-95% range over worlds; line: median).

    Returns:
        The matplotlib Figure.
    """
    actors = results.actors
    fig, ax = _figure(ax, size=(7.5, 1.3 + 1.25 * len(actors)))
    runs = results.runs
    present = [o for o in OUTCOMES if (runs["outcome"] == o).any()]
    step = 0.8 / max(len(present), 1)
    for i, actor in enumerate(actors):
        base = len(actors) - 1 - i  # first actor on top
        res = _reservations(results, actor)
        if res is not None:
            lo, mid, hi = np.quantile(res, [0.05, 0.5, 0.95])
            ax.fill_betweenx([base - 0.45, base + 0.45], lo, max(hi, lo + 0.002), color="#bbbbbb",
                             alpha=0.45, linewidth=0)
            ax.plot([mid, mid], [base - 0.45, base + 0.45], color=MARK_COLOUR, linewidth=1.5)
        for j, outcome in enumerate(present):
            vals = runs.loc[runs["outcome"] == outcome, f"utility.{actor}"].dropna().to_numpy()
            if not len(vals):
                continue
            y = base + 0.4 - step * (j + 0.5)
            if np.ptp(vals) < 1e-6:  # one value (a fixed ceasefire package): a box would vanish
                ax.plot([vals[0]], [y], marker="D", markersize=7, linestyle="none",
                        color=OUTCOME_COLOURS[outcome], markeredgecolor=MARK_COLOUR,
                        markeredgewidth=0.6)
                continue
            bp = ax.boxplot(vals, positions=[y], widths=step * 0.8, orientation="horizontal",
                            whis=(5, 95), showfliers=False, patch_artist=True,
                            manage_ticks=False)
            for box in bp["boxes"]:
                box.set(facecolor=OUTCOME_COLOURS[outcome], edgecolor=MARK_COLOUR, linewidth=0.6)
            for part in ("whiskers", "caps", "medians"):
                for line in bp[part]:
                    line.set(color=MARK_COLOUR, linewidth=0.8)
    principals = set(results.principals)

    def tick(a: str) -> str:
        if a in principals:
            return results.name_of(a)
        role = results.scenario.actors[a].role if results.scenario is not None else "non-principal"
        return f"{results.name_of(a)}\n({role}: outcomes\nwith a text only)"

    ax.set_yticks(range(len(actors)), [tick(a) for a in reversed(actors)])
    ax.set_ylim(-0.55, len(actors) - 0.45)
    ax.set_xlim(0, 1)
    ax.set_xlabel("Utility at the outcome (1 = the actor's own ideal text)")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=OUTCOME_COLOURS[o], edgecolor=MARK_COLOUR, linewidth=0.6)
               for o in present]
    labels = [OUTCOME_LABELS[o] for o in present]
    handles += [Line2D([], [], color=MARK_COLOUR), Patch(color="#bbbbbb", alpha=0.45)]
    labels += ["Reservation (median)", "Reservation 5-95%"]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
              fontsize=8)
    ax.set_title(f"Utility at the outcome against the value of no deal\n{results.caption}; "
                 "boxes: quartiles, whiskers: 5-95%", fontsize=10)
    return fig


def _reservations(results: RunResults, actor: str) -> np.ndarray | None:
    """An actor's true reservation value per world (before pressure), if it has one."""
    col = f"input.actors.{actor}.reservation"
    if col in results.runs:
        return results.runs[col].to_numpy()
    sc = results.scenario
    if sc is not None and actor in sc.actors and sc.actors[actor].role == "principal":
        return np.array([float(sc.actors[actor].reservation)])
    return None


# -- formats ----------------------------------------------------------------------------------


@closes_on_error
def formats(results: RunResults, ax=None):
    """How often each summit format was held, split by the outcome it ended in.

    One bar per format (in the order the mediator tries them) plus one for no summit; heights
    are shares of all worlds, so the bars add up to 100%.

    Returns:
        The matplotlib Figure.
    """
    runs = results.runs
    names = list(results.summary.get("formats", {})) or sorted(runs["format"].dropna().unique())
    groups = names + [None]
    fig, ax = _figure(ax, size=(max(5.5, 1.3 * len(groups) + 3), 4.0))
    n = max(len(runs), 1)
    x = np.arange(len(groups))
    bottom = np.zeros(len(groups))
    fmt = runs["format"]
    for outcome in OUTCOMES:
        is_o = runs["outcome"] == outcome
        share = np.array([((fmt.isna() if g is None else fmt == g) & is_o).sum() for g in groups])
        share = share * 100.0 / n
        ax.bar(x, share, 0.6, bottom=bottom, color=OUTCOME_COLOURS[outcome],
               label=OUTCOME_LABELS[outcome], edgecolor="white", linewidth=0.5)
        bottom += share
    for xi, total in zip(x, bottom):
        ax.text(xi, total + 1.5, f"{total:.1f}%", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [*names, "no summit"])
    ax.set_ylim(0, 108)
    _pct_axis(ax)
    ax.set_ylabel("Share of simulated worlds")
    ax.set_xlabel("Summit format held")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title="Ended in",
              fontsize=8, title_fontsize=8)
    ax.set_title(f"Summit formats and how they ended\n{results.caption}", fontsize=10)
    return fig


# -- trajectory of one traced world --------------------------------------------------------------
#
# A trace is a dict (``negsim trace`` writes it as JSON):
#   {"scenario": str, "seed": int, "world": int, "protocol": str,
#    "issues": {issue: {"low": str, "high": str, "status_quo": float}},
#    "actors": {actor: {"name": str, "role": str, "position": {issue: float}}},
#    "format": str | None, "outcome": str, "end_round": int, "terms": {issue: float} | None,
#    "rounds": [{"round": int, "text": {issue: float},
#                "positions": {principal: {issue: float}}   (optional: stated positions),
#                "accept": {principal: bool},
#                "claim": {principal: float}, "value": {principal: float}  (optional),
#                "walked": bool}]}


def load_trace(path: str | Path) -> dict[str, Any]:
    """Read a trace JSON file (see the shape above)."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "rounds" not in data:
        raise ValueError(f"{path}: not a trace (no 'rounds')")
    return data


@closes_on_error
def normalise_trace(trace: dict[str, Any], scenario: Scenario | None = None) -> dict[str, Any]:
    """A trace in the shape ``trajectory`` reads, from that shape or ``negsim trace --json``'s.

    ``negsim trace`` nests the outcome (``{"outcome": {"outcome", "format", "round", ...}}``),
    names walk-outs ``walked_out`` and may leave out the issues' words and the actors; those come
    from ``scenario`` when given, else the issues are read off the texts.
    """
    t = dict(trace)
    if isinstance(t.get("outcome"), dict):
        out = t["outcome"]
        t["outcome"], t["end_round"] = out.get("outcome"), out.get("round", 0)
        t.setdefault("format", out.get("format"))
    rounds = []
    for rd in t.get("rounds", []):
        rd = dict(rd)
        rd.setdefault("walked", rd.get("walked_out", False))
        rd.setdefault("accept", {})
        rounds.append(rd)
    t["rounds"] = rounds
    if scenario is not None:
        t.setdefault("issues", {k: {"low": v.label("low"), "high": v.label("high"),
                                    "status_quo": float(v.status_quo)}
                                for k, v in scenario.issues.items()})
        t.setdefault("actors", {a: {"name": s.display(a), "role": s.role,
                                    "position": {k: float(x) for k, x in s.position.items()
                                                 if isinstance(x, (int, float))}}
                                for a, s in scenario.actors.items()})
    if "issues" not in t:
        keys = list(rounds[0]["text"]) if rounds else []
        t["issues"] = {k: {} for k in keys}
    if "actors" not in t:
        names = {a for rd in rounds for a in (*rd["accept"], *rd.get("claim", {}))}
        t["actors"] = {a: {"role": "principal"} for a in sorted(names)}
    return t


def trajectory(trace: dict[str, Any], ax=None, *, scenario: Scenario | None = None):
    """One traced world round by round: per issue, each principal's stated position and the
    mediator's text, with each principal's accept (dot) or reject (cross) and the outcome; below,
    each principal's value of the text against the reservation it claims.

    Args:
        trace: a trace dict (shape in this module's comments).
        ax: one Axes per panel (issues, then the value panel if the trace has claims), or None.
        scenario: the traced scenario, for the issues' words and actors when the trace lacks them.

    Returns:
        The matplotlib Figure.
    """
    trace = normalise_trace(trace, scenario)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    issues = list(trace["issues"])
    rounds = trace["rounds"]
    actors = trace.get("actors", {})
    principals = [a for a, spec in actors.items() if spec.get("role", "principal") == "principal"]
    principals = principals or list(rounds[0]["accept"]) if rounds else principals
    has_values = bool(rounds) and "claim" in rounds[0] and "value" in rounds[0]
    fig, axes = _panels(max(1, len(issues) + has_values), ax, size_each=(7.5, 1.7))
    colours = {a: ACTOR_COLOURS[i % len(ACTOR_COLOURS)] for i, a in enumerate(actors or principals)}
    names = {a: actors.get(a, {}).get("name") or a for a in principals}
    r = np.array([rd["round"] for rd in rounds], dtype=float)
    outcome, end = trace.get("outcome"), trace.get("end_round", 0)
    spread = np.linspace(-0.12, 0.12, max(len(principals), 1)) if len(principals) > 1 else [0.0]
    for axk, issue in zip(axes, issues):
        info = trace["issues"][issue]
        for a in principals:
            pos = [rd.get("positions", {}).get(a, {}).get(issue) for rd in rounds]
            if any(v is None for v in pos):
                ideal = actors.get(a, {}).get("position", {}).get(issue)
                pos = [ideal] * len(rounds)
            if rounds and pos[0] is not None:  # each round's position held for the round
                xs = np.concatenate([[r[0] - 0.5], r, [r[-1] + 0.5]])
                axk.step(xs, [pos[0], *pos, pos[-1]], where="mid", color=colours[a],
                         linestyle="--", linewidth=1.2)
        text = [rd["text"][issue] for rd in rounds]
        axk.plot(r, text, color=MARK_COLOUR, marker="s", markersize=4, linewidth=1.8)
        for j, a in enumerate(principals):
            answered = np.array([a in rd["accept"] for rd in rounds], dtype=bool)
            acc = np.array([bool(rd["accept"].get(a)) for rd in rounds], dtype=bool) & answered
            xs = r + spread[j]
            axk.plot(xs[acc], np.array(text)[acc], "o", color=colours[a], markersize=6,
                     markeredgecolor="white", linestyle="none")
            axk.plot(xs[answered & ~acc], np.array(text)[answered & ~acc], "x", color=colours[a],
                     markersize=7,
                     markeredgewidth=2, linestyle="none")
        if "status_quo" in info:
            axk.axhline(info["status_quo"], color=MARK_COLOUR, linestyle=":", linewidth=1)
        axk.set_ylim(-0.32, 1.32)  # room for the scale's words beyond 0 and 1
        axk.set_yticks([0, 0.5, 1])
        axk.set_ylabel(issue)
        import matplotlib.transforms as mtransforms

        trans = mtransforms.blended_transform_factory(axk.transAxes, axk.transData)
        kw = dict(xycoords=trans, fontsize=7, color="#555555", ha="left")
        axk.annotate(f"1 = {info.get('high') or '1'}", xy=(0.01, 1.05), va="bottom", **kw)
        axk.annotate(f"0 = {info.get('low') or '0'}", xy=(0.01, -0.05), va="top", **kw)
    if has_values:
        axv = axes[-1]
        for a in principals:
            axv.plot(r, [rd["value"][a] for rd in rounds], color=colours[a], marker="o",
                     markersize=4, linewidth=1.6)
            axv.plot(r, [rd["claim"][a] for rd in rounds], color=colours[a], linestyle="--",
                     linewidth=1.2)
        axv.set_ylabel("utility")
        axv.set_title("value of the text (solid) against the reservation claimed (dashed): "
                      "accepts when solid >= dashed", fontsize=8, loc="left")
    for axk in axes:
        axk.set_xlim(0.5, max(r.max() if len(r) else 1, end or 1) + 0.5)
        axk.set_xticks(range(1, int(axk.get_xlim()[1]) + 1))
        if outcome and end:
            axk.axvspan(end - 0.45, end + 0.45, color=OUTCOME_COLOURS.get(outcome, "#cccccc"),
                        alpha=0.18, linewidth=0)
    axes[-1].set_xlabel("Round")
    if not rounds:
        axes[0].text(0.5, 0.5, "No summit: talks never opened", transform=axes[0].transAxes,
                     ha="center", va="center", fontsize=11, color=MARK_COLOUR)
    handles = [Line2D([], [], color=MARK_COLOUR, marker="s", markersize=4, linewidth=1.8)]
    labels = ["Mediator's text"]
    for a in principals:
        handles += [Line2D([], [], color=colours[a], linestyle="--"),
                    Line2D([], [], color=colours[a], marker="o", linestyle="none"),
                    Line2D([], [], color=colours[a], marker="x", linestyle="none",
                           markeredgewidth=2)]
        labels += [f"{names[a]} position", f"{names[a]} accepts", f"{names[a]} rejects"]
    handles += [Line2D([], [], color=MARK_COLOUR, linestyle=":")]
    labels += ["Status quo"]
    if outcome:
        handles.append(Patch(color=OUTCOME_COLOURS.get(outcome, "#cccccc"), alpha=0.35))
        labels.append(f"Ended: {OUTCOME_LABELS.get(outcome, outcome)}")
    fig.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False, fontsize=8)
    ended = OUTCOME_LABELS.get(outcome, str(outcome))
    when = f" in round {end}" if end else ""
    walked = " after a walk-out" if any(rd.get("walked") for rd in rounds) else ""
    fmt = f", {trace['format']} format" if trace.get("format") else ""
    fig.suptitle(f"{ended}{when}{walked}: the talks round by round\n"
                 f"{trace.get('scenario', '?')}: world {trace.get('world', 0)}, seed "
                 f"{trace.get('seed', '?')}, {trace.get('protocol', '?')} protocol{fmt}",
                 fontsize=10)
    return fig


def trace_figures(trace: dict[str, Any], scenario: Scenario | None = None) -> dict[str, Any]:
    """The figures of a traced world, by kind name."""
    return {"trajectory": lambda: trajectory(trace, scenario=scenario)}


# -- default figure sets ----------------------------------------------------------------------


def run_figures(results: RunResults) -> dict[str, Any]:
    """The figures of a run, by kind name, as functions that make them (one open at a time)."""
    return {
        "outcomes": lambda: outcome_shares(results.summary),
        "terms": lambda: terms(results),
        "utilities": lambda: utilities(results),
        "formats": lambda: formats(results),
    }


def write_figures(makers: dict[str, Any], out: str | Path, *, kinds: Sequence[str] | None = None,
                  fmt: str = "png") -> list[Path]:
    """Make, save and close each figure in turn; returns the files written (``KIND.FMT``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in kinds or list(makers):
        path = out / f"{kind}.{fmt}"
        save(makers[kind](), path)
        written.append(path)
    return written


# Sweep figures live in their own module; importable from here like every other figure.
from negotiation_sim.plots_sweep import (  # noqa: E402, F401  (re-exported)
    SweepResults,
    sensitivity,
    sweep_figures,
    sweep_heatmap,
    sweep_line,
    sweep_outcomes,
)
