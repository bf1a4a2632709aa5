"""Figures of results: every function takes result tables, an optional ``ax``, returns the Figure.

Functions never call ``plt.show()``; the CLI saves figures with ``savefig`` and closes them.
Each outcome has one colour, the same in every figure (``OUTCOME_COLOURS``).
"""

from __future__ import annotations

from typing import Any

from negotiation_sim.model import OUTCOMES

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


def _figure(ax=None, size=(7.0, 4.0)):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=size, layout="constrained")
    return ax.figure, ax


def outcome_shares(summaries: list[dict[str, Any]] | dict[str, Any], ax=None, *,
                   labels: list[str] | None = None):
    """Stacked bars of outcome shares, one bar per summary, with 95% Wilson intervals.

    Args:
        summaries: one run summary (the ``negsim run --json`` shape) or several.
        ax: matplotlib Axes to draw on; a new figure when omitted.
        labels: bar labels (default: each summary's scenario name).

    Returns:
        The matplotlib Figure.
    """
    import numpy as np

    if isinstance(summaries, dict):
        summaries = [summaries]
    fig, ax = _figure(ax)
    labels = labels or [s["scenario"] for s in summaries]
    x = np.arange(len(summaries))
    bottom = np.zeros(len(summaries))
    for name in OUTCOMES:
        share = np.array([s["outcomes"][name]["share"] for s in summaries]) * 100
        lo = np.array([s["outcomes"][name]["ci95"][0] for s in summaries]) * 100
        hi = np.array([s["outcomes"][name]["ci95"][1] for s in summaries]) * 100
        ax.bar(x, share, 0.6, bottom=bottom, color=OUTCOME_COLOURS[name],
               label=OUTCOME_LABELS[name], edgecolor="white", linewidth=0.5)
        centre = bottom + share / 2
        ax.errorbar(x, centre, yerr=[share - lo, hi - share], fmt="none", ecolor="#333333",
                    elinewidth=1, capsize=3)
        for xi, c, s in zip(x, centre, share):
            if s >= 4:
                ax.text(xi + 0.32, c, f"{s:.1f}%", va="center", ha="left", fontsize=8)
        bottom += share
    ax.set_xticks(x, labels)
    ax.set_xlim(-0.6, len(summaries) - 0.2)
    ax.set_ylim(0, 100)
    ax.set_ylabel("Share of simulated worlds (%)")
    ax.set_xlabel("Scenario")
    runs = {s["runs"] for s in summaries}
    seeds = {s["seed"] for s in summaries}
    title = "Summit outcomes" if len(summaries) > 1 else f"Summit outcomes: {summaries[0]['scenario']}"
    ax.set_title(f"{title}\n{'/'.join(map(str, sorted(runs)))} worlds, seed "
                 f"{'/'.join(map(str, sorted(seeds)))}; bars: 95% Wilson intervals", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def save(fig, path, **kwargs) -> None:
    """Save a figure and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=kwargs.pop("dpi", 150), **kwargs)
    plt.close(fig)
