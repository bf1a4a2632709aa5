"""Figures of a backtest: a reliability diagram and the per-question probabilities.

Both take the ``negsim backtest --json`` shape (``api.backtest``) and an
optional ``ax``, and return the Figure. The model is drawn in ``MARK_COLOUR``; forecasters take
the actor palette in order of first appearance; the model's bars in the per-question figure take
the colour of the outcome their event counts (agreement, ceasefire; a summit question the
colour of its complement, no summit).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from negotiation_sim.plots.style import (
    ACTOR_COLOURS,
    MARK_COLOUR,
    OUTCOME_COLOURS,
    closes_on_error,
    new_figure,
    pct_axis,
    wrap,
)

EVENT_COLOURS = {
    "summit": OUTCOME_COLOURS["no_summit"],
    "agreement": OUTCOME_COLOURS["agreement"],
    "ceasefire": OUTCOME_COLOURS["ceasefire"],
    "settlement": OUTCOME_COLOURS["agreement"],
    "holds": OUTCOME_COLOURS["agreement"],
    "talks": OUTCOME_COLOURS["breakdown"],  # sessions held, whatever they bring
    "leaders": OUTCOME_COLOURS["no_summit"],  # as summit: drawn in its complement's colour
}

BIN_EDGES = np.linspace(0.0, 1.0, 6)  # five bins of 20 points


def forecaster_colours(result: dict[str, Any]) -> dict[str, str]:
    """A colour per forecaster, the same in both figures."""
    return {name: ACTOR_COLOURS[i % len(ACTOR_COLOURS)]
            for i, name in enumerate(result["forecasters"])}


def _subtitle(result: dict[str, Any]) -> str:
    return (f"{result['name']}: {result['runs']:,} worlds per scenario, seed {result['seed']}")


def reliability_points(probs: list[float], outcomes: list[bool],
                       edges: np.ndarray = BIN_EDGES) -> list[tuple[float, float, int]]:
    """``(mean forecast, observed frequency, count)`` of each non-empty probability bin."""
    p = np.asarray(probs, dtype=float)
    o = np.asarray(outcomes, dtype=float)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    out = []
    for b in range(len(edges) - 1):
        here = idx == b
        if here.any():
            out.append((float(p[here].mean()), float(o[here].mean()), int(here.sum())))
    return out


@closes_on_error
def reliability_figure(result: dict[str, Any], ax=None):
    """Forecast probability against observed frequency over the resolved questions.

    Forecasts are grouped in five bins of 20 points; each marker sits at the bin's mean forecast
    and the share of its questions that resolved yes, its area growing with the number of
    questions. A well-calibrated forecaster lies on the diagonal. Ticks along the bottom and top
    edges show every single forecast of a question that resolved no or yes.

    Returns:
        The matplotlib Figure.
    """
    fig, ax = new_figure(ax, size=(6.0, 5.2))
    resolved = [q for q in result["questions"] if q["outcome"] is not None]
    series = {"model": ([q["p"] for q in resolved], [q["outcome"] == "yes" for q in resolved])}
    for name in result["forecasters"]:
        mine = [q for q in resolved if name in q["forecasts"]]
        series[name] = ([q["forecasts"][name]["p"] for q in mine],
                        [q["outcome"] == "yes" for q in mine])
    colours = {"model": MARK_COLOUR, **forecaster_colours(result)}
    ax.plot([0, 100], [0, 100], color="#999999", lw=1, ls="--", label="perfect calibration")
    for k, (name, (p, o)) in enumerate(series.items()):
        if not p:
            continue
        pts = reliability_points(p, o)
        x = [100 * a for a, _, _ in pts]
        y = [100 * b for _, b, _ in pts]
        ax.plot(x, y, color=colours[name], lw=1.2, alpha=0.8)
        ax.scatter(x, y, s=[40 * n for _, _, n in pts], color=colours[name], zorder=3,
                   edgecolor="white", label=f"{name} ({len(p)} forecasts)")
        # every forecast as a tick at the edge of its resolution, nudged apart per series
        rug = np.asarray(p) * 100
        edge = np.where(np.asarray(o), 100 + 2 + 1.2 * k, -2 - 1.2 * k)
        ax.scatter(rug, edge, marker="|", s=60, color=colours[name], lw=1.2)
    ax.set_xlim(-2, 102)
    ax.set_ylim(-4 - 1.2 * len(series), 104 + 1.2 * len(series))
    ax.set_xlabel("Forecast probability of yes (%)")
    ax.set_ylabel("Questions that resolved yes (%)")
    pct_axis(ax, "x")
    pct_axis(ax, "y")
    n = len(resolved)
    ax.set_title(f"Reliability over {n} resolved question{'s' if n != 1 else ''}\n"
                 f"{_subtitle(result)}", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    return fig


@closes_on_error
def question_figure(result: dict[str, Any], ax=None):
    """Each question's probability of yes: the model (bar, with its 95% interval) beside every
    forecaster (markers), and how the question resolved (yes/no/open, on the right).

    Returns:
        The matplotlib Figure.
    """
    questions = result["questions"]
    n = len(questions)
    fig, ax = new_figure(ax, size=(8.0, 1.2 + 0.45 * n))
    y = np.arange(n)[::-1]
    p = np.array([q["p"] for q in questions]) * 100
    lo = np.array([q["ci95"][0] for q in questions]) * 100
    hi = np.array([q["ci95"][1] for q in questions]) * 100
    colours = [EVENT_COLOURS[q["event"]] for q in questions]
    ax.barh(y, p, height=0.55, color=colours, edgecolor="white")
    ax.errorbar(p, y, xerr=[np.maximum(p - lo, 0), np.maximum(hi - p, 0)], fmt="none",
                ecolor=MARK_COLOUR, elinewidth=1, capsize=2)
    fc = forecaster_colours(result)
    markers = "oDs^v<>"
    for k, name in enumerate(result["forecasters"]):
        pts = [(yi, q["forecasts"][name]["p"] * 100) for yi, q in zip(y, questions)
               if name in q["forecasts"]]
        if pts:
            ax.scatter([b for _, b in pts], [a for a, _ in pts], color=fc[name],
                       marker=markers[k % len(markers)], s=36, zorder=3, label=name,
                       edgecolor="white")
    for yi, q in zip(y, questions):
        ax.annotate(q["outcome"] or "open", xy=(1.0, yi), xycoords=("axes fraction", "data"),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=8,
                    color=MARK_COLOUR, fontweight="bold" if q["outcome"] else "normal")
    labels = [wrap(f"{q['id']} (asked {q['asked']}, closes {q['closes']})", 44)
              for q in questions]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.7, n - 0.3)
    pct_axis(ax, "x")
    ax.set_xlabel("Probability of yes (%): model bar with 95% interval, forecasters as markers")
    from matplotlib.patches import Patch

    by_colour: dict[str, list[str]] = {}
    for q in questions:
        events = by_colour.setdefault(EVENT_COLOURS[q["event"]], [])
        if q["event"] not in events:
            events.append(q["event"])
    handles, names = ax.get_legend_handles_labels()
    handles += [Patch(color=c) for c in by_colour]
    names += [f"model: {', '.join(e)}" for e in by_colour.values()]
    ax.legend(handles, names, fontsize=7, loc="lower right", frameon=False)
    ax.set_title(f"Backtest questions: probability of yes, and how each resolved\n"
                 f"{_subtitle(result)}", fontsize=10)
    return fig


@closes_on_error
def posterior_figure(rows: list[dict[str, Any]], title: str = "", ax=None):
    """What the record taught each drawn input: its prior (grey) and posterior (dark) mean and
    5th-95th percentiles, each input on its prior's scale (0: the prior's 5th percentile, 1: its
    95th), so inputs of every unit share one axis.

    Args:
        rows: ``run.condition.posterior_table`` (per input ``prior`` and ``posterior`` with
            ``mean`` and ``q`` = 5th, 50th, 95th percentiles).
        title: the figure's title.

    Returns:
        The matplotlib Figure.
    """
    n = len(rows)
    fig, ax = new_figure(ax, size=(7.5, 1.2 + 0.34 * max(n, 1)))
    y = np.arange(n)[::-1]
    for yi, r in zip(y, rows):
        lo, hi = r["prior"]["q"][0], r["prior"]["q"][-1]
        span = (hi - lo) or 1.0
        for key, colour, dy in (("prior", "#aaaaaa", 0.14), ("posterior", MARK_COLOUR, -0.14)):
            d = r[key]
            a, b = (d["q"][0] - lo) / span, (d["q"][-1] - lo) / span
            ax.plot([a, b], [yi + dy, yi + dy], color=colour, lw=3, solid_capstyle="butt",
                    label=key if yi == y[0] else None)
            ax.scatter([(d["mean"] - lo) / span], [yi + dy], color=colour, s=20, zorder=3,
                       edgecolor="white")
    ax.set_yticks(y, [wrap(r["input"], 46) for r in rows], fontsize=7)
    ax.set_ylim(-0.7, max(n, 1) - 0.3)
    ax.axvline(0, color="#dddddd", lw=0.8)
    ax.axvline(1, color="#dddddd", lw=0.8)
    ax.set_xlabel("Input on its prior's scale (0: prior 5th percentile, 1: prior 95th); "
                  "bar 5th-95th, dot mean", fontsize=8)
    ax.set_title(title or "What the record taught the drawn inputs", fontsize=10)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    return fig
