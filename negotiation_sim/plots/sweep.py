"""Figures of sweeps: outcome shares against swept parameters, heatmaps, sensitivity indices.

They read a sweep's ``summary.parquet`` (one row per point: ``point``, optional ``label``, one
column per swept parameter path, ``runs``, ``<outcome>`` share with ``<outcome>.lo`` and
``<outcome>.hi`` 95% Wilson bounds, ``format.<name>``, ``terms.<issue>``, ``rounds``,
``utility.<actor>`` means) through ``results.reader.SweepResults``. Sensitivity indices are a
table with a ``parameter`` column and either Sobol ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` or
Morris ``mu_star``, ``mu_star_conf``, ``sigma`` columns (SALib's names).

Where a figure shows one parameter and others vary too, shares are *pooled* over the other
parameters' points (worlds added up, Wilson interval of the pooled share): the marginal effect
over the design, said so in the title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from negotiation_sim.config.paths import param_label
from negotiation_sim.config.words import words_of
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.plots.run import outcome_shares
from negotiation_sim.plots.style import (
    MARK_COLOUR,
    SHARE_COLOURS,
    share_labels,
    closes_on_error,
    new_figure,
    pct_axis,
    pyplot,
    wrap,
)
from negotiation_sim.results.reader import SweepResults, format_value, sensitivity_table

if TYPE_CHECKING:
    import pandas as pd

    from negotiation_sim.config.scenario import Scenario


def pooled(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Outcome shares (and the meetings', ``talks`` and ``leaders``, where the table has them)
    per value(s) of ``by``, worlds pooled over the other points.

    Returns:
        One row per group: the ``by`` columns, ``runs``, ``points``, and per outcome the pooled
        share with its 95% Wilson bounds (``<outcome>``, ``<outcome>.lo``, ``<outcome>.hi``).
    """
    import pandas as pd

    from negotiation_sim.results.summary import MEETING_COLUMNS, wilson_interval

    shares = (*OUTCOMES, *(m for m in MEETING_COLUMNS if m in table))
    rows = []
    for key, g in table.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        n = float(g["runs"].sum())
        row = dict(zip(by, key), runs=n, points=len(g))
        for o in shares:
            hits = float((g[o] * g["runs"]).sum())
            row[o] = hits / n if n else np.nan
            row[f"{o}.lo"], row[f"{o}.hi"] = wilson_interval(round(hits), n)
        rows.append(row)
    return pd.DataFrame(rows)


INDEXED_ABOVE = 10
"""A sweep of more points than this (or of several parameters) names its bars by point index."""


@closes_on_error
def sweep_outcomes(sweep: SweepResults, ax=None):
    """Stacked outcome shares, one bar per sweep point, with 95% intervals.

    A few points of one parameter are named by their value; more points, or points of several
    parameters, are named by their index (the ``point`` column of the sweep's table, where
    their values are) and sorted by the first numeric swept parameter, so the bars read as a
    trend instead of rotated tuples of every value.
    """
    summaries, labels = sweep.summaries(), sweep.point_labels()
    named = "label" in sweep.summary and sweep.summary["label"].notna().all()
    if not named and (len(summaries) > INDEXED_ABOVE or len(sweep.params) > 1):
        key = next((p for p in sweep.params if sweep.numeric(p)), None)
        order = (np.argsort(sweep.summary[key].to_numpy(float), kind="stable") if key
                 else np.arange(len(summaries)))
        points = sweep.summary["point"].to_numpy()
        summaries = [summaries[i] for i in order]
        labels = [f"#{points[i]}" for i in order]
        xlabel = ("Sweep point (its values: the sweep's table, by point)"
                  + (f", sorted by {sweep.label(key, units=False)}" if key else ""))
    elif len(sweep.params) == 1 and not named:
        xlabel = sweep.label(sweep.params[0])
    else:
        xlabel = "Sweep point"
    w = words_of(sweep)
    return outcome_shares(summaries, ax=ax, labels=labels, xlabel=wrap(xlabel, 80),
                          title=f"{w.Meeting} outcomes per sweep point: {sweep.name}", words=w)


@closes_on_error
def sweep_line(sweep: SweepResults, param: str | None = None, ax=None, *,
               outcomes: Sequence[str] = OUTCOMES, where: dict[str, Any] | None = None):
    """Outcome shares against one swept parameter, one line per outcome with its 95% band.

    Args:
        sweep: the sweep's results.
        param: the parameter on the x-axis (default: the first numeric swept parameter).
        ax: matplotlib Axes, or None for a new figure.
        outcomes: which outcomes to draw (or meetings: ``talks``, ``leaders``).
        where: fix other parameters to these values; those left free are pooled over.

    Returns:
        The matplotlib Figure.
    """
    param = param or next((p for p in sweep.params if sweep.numeric(p)), None)
    if param is None:
        raise ValueError("no numeric swept parameter to draw a line against")
    table = sweep.summary
    for p, v in (where or {}).items():
        table = table[table[p] == v]
    others = [p for p in sweep.params if p != param and table[p].nunique() > 1]
    fig, ax = new_figure(ax, size=(7.5, 4.2))
    # Sampled designs (lhs, sobol, morris) put every point at its own x: show the points as
    # dots and the trend as worlds pooled in bins of x, rather than a zigzag through them.
    scattered = sweep.method in ("lhs", "sobol", "morris") or table[param].nunique() > 25
    if scattered:
        bins = int(min(8, max(2, table[param].nunique() // 4)))
        edges = np.unique(np.quantile(table[param].to_numpy(dtype=float),
                                      np.linspace(0, 1, bins + 1)))
        binned = table.assign(_bin=np.clip(np.searchsorted(
            edges, table[param].to_numpy(dtype=float), side="right") - 1, 0, len(edges) - 2))
        data = pooled(binned, ["_bin"])
        data[param] = [float(binned.loc[binned["_bin"] == b, param].mean()) for b in data["_bin"]]
    else:
        data = pooled(table, [param]) if others else table.sort_values(param)
    x = data[param].to_numpy(dtype=float)
    names = share_labels(sweep)
    for o in outcomes:
        y = data[o].to_numpy() * 100
        lo, hi = data[f"{o}.lo"].to_numpy() * 100, data[f"{o}.hi"].to_numpy() * 100
        c = SHARE_COLOURS[o]
        if scattered:
            ax.plot(table[param].to_numpy(dtype=float), table[o].to_numpy() * 100, "o",
                    color=c, markersize=3, alpha=0.35, linestyle="none")
        ax.fill_between(x, lo, hi, color=c, alpha=0.25, linewidth=0)
        ax.plot(x, y, marker="o", markersize=4, color=c, label=names[o], linewidth=2)
    ax.set_ylim(0, 100)
    pct_axis(ax)
    ax.set_ylabel("Share of simulated worlds")
    ax.set_xlabel(wrap(sweep.label(param), 70))
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    note = "bands: 95% Wilson intervals"
    if scattered:
        note = (f"dots: sweep points; lines: their worlds pooled in {len(x)} bins "
                "(over the other parameters), 95% Wilson bands")
    elif others:
        note += f"; pooled over {', '.join(sweep.label(p, units=False) for p in others)}"
    if where:
        note += "; " + ", ".join(f"{sweep.label(p, units=False)} = {format_value(v)}"
                                 for p, v in where.items())
    ax.set_title(f"Outcomes against {sweep.label(param, units=False)}\n{sweep.caption}\n"
                 f"{wrap(note, 90)}", fontsize=9)
    return fig


def _outcome_cmap(outcome: str):
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    base = np.array(to_rgb(SHARE_COLOURS[outcome]))
    return LinearSegmentedColormap.from_list(
        outcome, [tuple(0.92 + 0.08 * base), tuple(base), tuple(base * 0.45)], N=256)


@closes_on_error
def sweep_heatmap(sweep: SweepResults, x: str | None = None, y: str | None = None, ax=None, *,
                  outcome: str = "agreement", facet: str | None = None):
    """An outcome's share over two swept parameters; small multiples over a third.

    Args:
        sweep: the sweep's results (a grid over at least two parameters).
        x, y: the parameters on the axes (default: the first two numeric ones).
        ax: one Axes per panel (a sequence), or None for a new figure.
        outcome: whose share is coloured (an outcome, or a meeting: ``talks``, ``leaders``).
        facet: the parameter with one panel per value (default: the next swept parameter
            that varies); further parameters are pooled over.

    Returns:
        The matplotlib Figure.
    """
    numeric = [p for p in sweep.params if sweep.numeric(p)]
    x = x or (numeric[0] if numeric else sweep.params[0])
    y = y or next(p for p in (numeric + sweep.params) if p != x)
    rest = [p for p in sweep.params if p not in (x, y) and sweep.summary[p].nunique() > 1]
    facet = facet if facet is not None else (rest[0] if rest else None)
    pooled_over = [p for p in rest if p != facet]
    levels = list(sweep.summary[facet].drop_duplicates()) if facet else [None]
    n = len(levels)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    plt = pyplot()
    if ax is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.9 * ncols + 1.6, 3.5 * nrows + 1.2),
                                 layout="constrained", squeeze=False)
        axes = list(axes.ravel())
    else:
        axes = list(np.atleast_1d(ax).ravel())
        if len(axes) < n:
            raise ValueError(f"need {n} axes (one per value of {facet}), got {len(axes)}")
        fig = axes[0].figure
    cmap = _outcome_cmap(outcome)
    image = None
    # The colour scale spans the shares seen (in steps of 5 points), so that tipping points
    # between, say, 75% and 95% stay visible; the colour bar says where it starts.
    seen = sweep.summary[outcome].to_numpy() * 100
    vmin = max(0.0, 5 * np.floor(np.nanmin(seen) / 5))
    vmax = min(100.0, max(5 * np.ceil(np.nanmax(seen) / 5), vmin + 5))
    xs = sorted(sweep.summary[x].dropna().unique())
    ys = sorted(sweep.summary[y].dropna().unique())
    for axk, level in zip(axes, levels):
        table = sweep.summary if facet is None else sweep.summary[sweep.summary[facet] == level]
        grid = pooled(table, [y, x]).pivot(index=y, columns=x, values=outcome)
        grid = grid.reindex(index=ys, columns=xs) * 100
        image = axk.imshow(grid.to_numpy(), origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                           aspect="auto")
        if grid.size <= 120:
            for (i, j), v in np.ndenumerate(grid.to_numpy()):
                if np.isfinite(v):
                    axk.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7,
                             color="white" if (v - vmin) / (vmax - vmin) > 0.55 else MARK_COLOUR)
        axk.set_xticks(range(len(xs)), [format_value(v) for v in xs], fontsize=8,
                       rotation=30 if len(xs) > 6 else 0)
        axk.set_yticks(range(len(ys)), [format_value(v) for v in ys], fontsize=8)
        axk.set_xlabel(wrap(sweep.label(x), 42), fontsize=8)
        axk.set_ylabel(wrap(sweep.label(y), 36), fontsize=8)
        if facet is not None:
            axk.set_title(f"{wrap(sweep.label(facet), 50)} = {format_value(level)}", fontsize=8)
    for extra in axes[n:]:
        extra.set_visible(False)
    bar = fig.colorbar(image, ax=axes[:n], shrink=0.9)
    name = share_labels(sweep)[outcome]
    bar.set_label(f"{name} share (% of worlds)")
    note = "cells: % of worlds"
    if pooled_over:
        note += f"; pooled over {', '.join(sweep.label(p, units=False) for p in pooled_over)}"
    chars = int(fig.get_figwidth() * 11)  # what fits on a line at this font size
    head = wrap(f"{name} share by {sweep.label(x, units=False)} and "
                 f"{sweep.label(y, units=False)}", chars)
    fig.suptitle(f"{head}\n{wrap(f'{sweep.caption}; {note}', chars)}", fontsize=10)
    return fig


@closes_on_error
def sensitivity(indices: pd.DataFrame | dict, ax=None, *, metric: str = "agreement",
                title: str | None = None, scenario: Scenario | None = None):
    """Sobol first-order and total indices (or Morris mu* and sigma) per parameter, with their
    95% confidence intervals; parameters sorted by total effect.

    Args:
        indices: a table (``parameter`` plus SALib's columns) or SALib's result dict.
        ax: matplotlib Axes, or None for a new figure.
        metric: the result the indices are of (for the labels).
        title: second title line (default: none).
        scenario: the swept scenario, for actors' display names in labels.

    Returns:
        The matplotlib Figure.
    """
    table = sensitivity_table(indices)
    if "metric" in table and table["metric"].nunique() > 1:
        table = table[table["metric"] == metric]
    sobol = "ST" in table
    first, total = ("S1", "ST") if sobol else ("sigma", "mu_star")
    table = table.sort_values(total, ascending=True)
    n = len(table)
    fig, ax = new_figure(ax, size=(7.5, 1.6 + 0.45 * n))
    yy = np.arange(n)
    h = 0.38
    colours = {first: "#94a3b8", total: "#334155"}
    names = {"S1": "First order (S1)", "ST": "Total (ST)", "mu_star": "mu* (mean |effect|)",
             "sigma": "sigma (interactions / non-linearity)"}
    for off, col in ((-h / 2, total), (h / 2, first)):
        vals = table[col].to_numpy(dtype=float)
        conf = table[f"{col}_conf"].to_numpy(dtype=float) if f"{col}_conf" in table else None
        ax.barh(yy + off, vals, h, color=colours[col], label=names[col],
                xerr=conf, error_kw=dict(ecolor=MARK_COLOUR, elinewidth=0.8, capsize=2))
    undefined = ~np.isfinite(table[total].to_numpy(dtype=float))
    for y in yy[undefined]:  # no bar is not a zero: say so
        ax.text(0.01, y, "undefined", transform=ax.get_yaxis_transform(), va="center",
                fontsize=8, color=MARK_COLOUR)
    labels = [wrap(param_label(str(p), scenario), 40) for p in table["parameter"]]
    said = words_of(scenario).share_word(metric)
    ax.set_yticks(yy, labels, fontsize=8)
    ax.axvline(0, color=MARK_COLOUR, linewidth=0.6)
    if sobol:
        ax.set_xlabel(f"Sobol index of the {said} share "
                      "(share of its variance)")
        ax.set_xlim(min(0, ax.get_xlim()[0]), max(1.0, ax.get_xlim()[1]))
    else:
        ax.set_xlabel(f"Morris elementary effect on the {said} share")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    kind = "Sobol indices" if sobol else "Morris screening"
    ax.set_title(f"{kind}: what drives the {said} share"
                 + (f"\n{title}" if title else "") + "\nerror bars: 95% confidence intervals",
                 fontsize=10)
    return fig
