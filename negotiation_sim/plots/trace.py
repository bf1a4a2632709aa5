"""The figure of one traced world: texts, stated positions and answers round by round, and
(when the trace records a calendar of sessions) which format met each round, at which level, and
which were refused. The outcome is named in the scenario's words (``config.words``: the
scenario's, or those the trace kept).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from negotiation_sim.config.words import words_of
from negotiation_sim.plots.style import (
    ACTOR_COLOURS,
    MARK_COLOUR,
    OUTCOME_COLOURS,
    closes_on_error,
    panels,
)

if TYPE_CHECKING:

    from negotiation_sim.config.scenario import Scenario


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


@closes_on_error
def trajectory(trace: dict[str, Any], ax=None, *, scenario: Scenario | None = None):
    """One traced world round by round: per issue, each principal's stated position and the
    mediator's text, with each principal's accept (dot) or reject (cross) and the outcome; below,
    each principal's value of the text against the reservation it claims; and, when the trace
    has a ``calendar`` (``negsim trace`` of a calendar of sessions), the sessions: the format
    held each round (a filled square at leaders' level, an open one at delegation level) and
    the formats refused before it (grey crosses).

    Args:
        trace: a trace dict (shape in this module's comments).
        ax: one Axes per panel (issues, then the value panel if the trace has claims, then the
            sessions panel if it has a calendar), or None.
        scenario: the traced scenario, for the issues' words and actors when the trace lacks them.

    Returns:
        The matplotlib Figure.
    """
    trace = normalise_trace(trace, scenario)
    w = words_of(trace) if trace.get("words") else words_of(scenario)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    issues = list(trace["issues"])
    rounds = trace["rounds"]
    actors = trace.get("actors", {})
    principals = [a for a, spec in actors.items() if spec.get("role", "principal") == "principal"]
    principals = principals or list(rounds[0]["accept"]) if rounds else principals
    has_values = bool(rounds) and "claim" in rounds[0] and "value" in rounds[0]
    calendar = trace.get("calendar") or []
    fig, axes = panels(max(1, len(issues) + has_values + bool(calendar)), ax,
                       size_each=(7.5, 1.7))
    strip = axes.pop() if calendar else None  # axes: the issue and value panels
    if strip is not None:
        _sessions(strip, calendar, [f for f, _ in scenario.formats()] if scenario else [])
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
    last = max(r.max() if len(r) else 1, end or 1, max((c["round"] for c in calendar), default=1))
    every = [*axes, *([strip] if strip is not None else [])]
    for axk in every:
        axk.set_xlim(0.5, last + 0.5)
        axk.set_xticks(range(1, int(axk.get_xlim()[1]) + 1))
        if outcome and end:
            axk.axvspan(end - 0.45, end + 0.45, color=OUTCOME_COLOURS.get(outcome, "#cccccc"),
                        alpha=0.18, linewidth=0)
    every[-1].set_xlabel("Round")
    if not rounds:
        axes[0].text(0.5, 0.5, f"{w.outcome('no_summit')}: talks never opened",
                     transform=axes[0].transAxes,
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
        labels.append(f"Ended: {w.outcome(outcome)}")
    fig.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False, fontsize=8)
    ended = w.outcome(outcome) if outcome else str(outcome)
    when = f" in round {end}" if end else ""
    walked = " after a walk-out" if any(rd.get("walked") for rd in rounds) else ""
    fmt = f", {trace['format']} format" if trace.get("format") else ""
    fig.suptitle(f"{ended}{when}{walked}: the talks round by round\n"
                 f"{trace.get('scenario', '?')}: world {trace.get('world', 0)}, seed "
                 f"{trace.get('seed', '?')}, {trace.get('protocol', '?')} protocol{fmt}",
                 fontsize=10)
    return fig


def _sessions(ax, calendar: list[dict[str, Any]], order: list[str]) -> None:
    """The sessions panel: one row per format (``order``, then any other the calendar names),
    the format held each round marked by its level, and the formats refused before it."""
    names = list(order) + [t["format"] for c in calendar for t in c["tried"]
                           if t["format"] not in order]
    rows = {f: i for i, f in enumerate(dict.fromkeys(names))}
    for c in calendar:
        for t in c["tried"]:
            y = rows[t["format"]]
            if t["format"] == c["held"]:
                leaders = t.get("level", "leaders") == "leaders"
                ax.plot([c["round"]], [y], "s", markersize=7, color=MARK_COLOUR,
                        markerfacecolor=MARK_COLOUR if leaders else "white", linestyle="none")
            elif not all(t["attend"].values()):
                ax.plot([c["round"]], [y], "x", markersize=5, color="#999999",
                        linestyle="none")
    ax.set_yticks(range(len(rows)), list(rows), fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # the mediator's first choice on top
    ax.set_ylabel("format")
    ax.set_title("sessions: filled square, leaders' level; open, delegation level; grey cross, "
                 "refused", fontsize=8, loc="left")
