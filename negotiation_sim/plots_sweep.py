"""Figures of sweeps: outcome shares against swept parameters, heatmaps, sensitivity indices.

They read a sweep's ``summary.parquet`` (one row per point: ``point``, optional ``label``, one
column per swept parameter path, ``runs``, ``<outcome>`` share with ``<outcome>.lo`` and
``<outcome>.hi`` 95% Wilson bounds, ``format.<name>``, ``terms.<issue>``, ``rounds``,
``utility.<actor>`` means) through ``SweepResults``. Sensitivity indices are a table with a
``parameter`` column and either Sobol ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` or Morris
``mu_star``, ``mu_star_conf``, ``sigma`` columns (SALib's names).

Where a figure shows one parameter and others vary too, shares are *pooled* over the other
parameters' points (worlds added up, Wilson interval of the pooled share): the marginal effect
over the design, said so in the title.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from negotiation_sim.model import OUTCOMES
from negotiation_sim.plots import (
    MARK_COLOUR,
    OUTCOME_COLOURS,
    OUTCOME_LABELS,
    _figure,
    _pct_axis,
    _pyplot,
    _read_json,
    _wrap,
    caption,
    closes_on_error,
    outcome_shares,
    resolve_scenario,
)

if TYPE_CHECKING:
    import pandas as pd

    from negotiation_sim.scenario import Scenario

_NOT_PARAMS = {"point", "label", "runs", "rounds", "scenario_hash", *OUTCOMES}
_PREFIXES = ("format.", "terms.", "utility.")
_SUFFIXES = (".lo", ".hi")
SENSITIVITY_FILES = ("sensitivity.parquet", "sensitivity.json")


@dataclass
class SweepResults:
    """A sweep's per-point summary, manifest, swept parameters and sensitivity indices.

    Attributes:
        summary: ``summary.parquet`` as a DataFrame, one row per point.
        manifest: ``manifest.json``.
        params: swept parameter paths (the manifest's design, else the summary's columns).
        scenario: the base scenario when its file is found (for readable axis labels).
        sensitivity: indices per parameter, when the sweep directory holds them.
        path: the results directory.
    """

    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    params: list[str] = field(default_factory=list)
    scenario: Scenario | None = None
    sensitivity: pd.DataFrame | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        if not self.params:
            design = self.manifest.get("design", {})
            self.params = [p for p in design.get("parameters", []) if p in self.summary] or [
                c for c in self.summary.columns
                if c not in _NOT_PARAMS and not c.startswith(_PREFIXES)
                and not c.endswith(_SUFFIXES)]

    @classmethod
    def load(cls, path: str | Path, scenario=None) -> SweepResults:
        """Read a sweep's results directory (``summary.parquet``, ``manifest.json``)."""
        import pandas as pd

        path = Path(path)
        summary_file = path / "summary.parquet"
        if not summary_file.exists():
            raise FileNotFoundError(f"{path}: no summary.parquet (the sweep has not finished "
                                    "any point yet)")
        summary = pd.read_parquet(summary_file)
        manifest = _read_json(path / "manifest.json")
        return cls(summary, manifest, [], resolve_scenario(scenario, manifest, path),
                   load_sensitivity(path, manifest), path)

    @property
    def name(self) -> str:
        return str(self.manifest.get("experiment") or self.manifest.get("scenario") or "sweep")

    @property
    def caption(self) -> str:
        runs = int(self.summary["runs"].iloc[0]) if "runs" in self.summary else 0
        text = caption(self.name, runs, self.manifest.get("seed", "?"))
        return text.replace(" worlds,", " worlds per point,") + f", {len(self.summary)} points"

    @property
    def method(self) -> str:
        return str(self.manifest.get("design", {}).get("method", "grid"))

    def numeric(self, param: str) -> bool:
        return self.summary[param].dtype.kind in "fiu"

    def label(self, param: str, *, units: bool = True) -> str:
        return param_label(param, self.scenario, units=units)

    def point_labels(self) -> list[str]:
        """A short name per point: its ``label``, else its parameter values."""
        if "label" in self.summary and self.summary["label"].notna().all():
            return list(self.summary["label"].astype(str))
        out = []
        for _, row in self.summary.iterrows():
            out.append(", ".join(_fmt(row[p]) for p in self.params) or str(row["point"]))
        return out

    def summaries(self) -> list[dict[str, Any]]:
        """Each point in the ``negsim run --json`` shape (outcomes only), for ``outcome_shares``."""
        seed = self.manifest.get("seed", 0)
        out = []
        for _, row in self.summary.iterrows():
            out.append({"scenario": self.name, "runs": int(row["runs"]), "seed": seed,
                        "outcomes": {o: {"share": float(row[o]),
                                         "ci95": [float(row[f"{o}.lo"]), float(row[f"{o}.hi"])]}
                                     for o in OUTCOMES}})
        return out


def load_sensitivity(path: Path, manifest: dict[str, Any] | None = None,
                     metric: str = "agreement") -> pd.DataFrame | None:
    """Sensitivity indices of a sweep: saved beside it (``sensitivity.parquet`` or ``.json``),
    else computed from a finished sobol or morris sweep (needs SALib); None otherwise."""
    import pandas as pd

    for name in SENSITIVITY_FILES:
        f = path / name
        if f.exists():
            if f.suffix == ".parquet":
                return pd.read_parquet(f)
            return sensitivity_table(json.loads(f.read_text()))
    method = (manifest or {}).get("design", {}).get("method")
    if method not in ("sobol", "morris"):
        return None
    try:
        from negotiation_sim.sensitivity import analyze_results

        return sensitivity_table(analyze_results(path, metric).to_json())
    except Exception:  # noqa: BLE001 - no SALib or an unfinished sweep: no sensitivity figure
        return None


def sensitivity_table(data: Any) -> pd.DataFrame:
    """Indices as a DataFrame from SALib's dict (``names`` + arrays), a list of rows, or a
    ``{"indices": ...}`` / ``{"parameters": {name: {S1: ...}}}`` JSON object."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict) and "indices" in data:
        data = data["indices"]
    if isinstance(data, dict) and "parameters" in data and isinstance(data["parameters"], dict):
        return pd.DataFrame([{"parameter": k, **v} for k, v in data["parameters"].items()])
    if isinstance(data, dict) and "names" in data:
        cols = {k: v for k, v in data.items() if k != "names" and np.ndim(v) == 1}
        return pd.DataFrame({"parameter": data["names"], **cols})
    if isinstance(data, list):
        return pd.DataFrame(data)
    raise ValueError("unrecognised sensitivity indices: expected SALib's dict or rows")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


_FIELD_WORDS = {
    "reservation": "reservation (utility of no deal)",
    "claim": "overstated claim (utility)",
    "concession": "concession (share of overstatement dropped per rejection)",
    "walkout": "walk-out chance per rejecting round",
    "patience": "patience (discount per round)",
    "clout": "clout (bargaining weight)",
    "backlash": "backlash (walk-out chance per unit of pressure)",
}


def param_label(path: str, scenario: Scenario | None = None, *, units: bool = True) -> str:
    """Words and units for a swept dotted path (``actors.us.pressure.russia`` ->
    "United States' pressure on Russia (fall in reservation per round)"); ``units=False``
    leaves out the parenthesised unit, for titles."""
    import re

    text = _param_words(path, scenario)
    return text if units else re.sub(r" \([^()]*\)$", "", text)


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _param_words(path: str, scenario: Scenario | None) -> str:
    parts = path.split(".")
    dist = ""
    if parts[-1] in ("low", "high", "mean", "sd", "mode", "a", "b") and len(parts) > 2:
        dist, parts = f" (distribution's {parts[-1]})", parts[:-1]

    def name(actor: str) -> str:
        if scenario is not None and actor in scenario.actors:
            return scenario.actors[actor].display(actor)
        return actor

    text = path
    if parts[0] == "actors" and len(parts) >= 3:
        who, fld, rest = _possessive(name(parts[1])), parts[2], parts[3:]
        if fld == "pressure" and rest:
            text = f"{who} pressure on {name(rest[0])} (fall in reservation per round)"
        elif fld == "offer" and rest:
            text = f"{who} offer on {rest[0]} (cap, 0-1 issue scale)"
        elif fld == "position" and rest:
            text = f"{who} ideal point on {rest[0]} (0-1 issue scale)"
        elif fld == "salience" and rest:
            text = f"{who} salience of {rest[0]}"
        elif fld == "audience_cost" and rest:
            text = f"{who} audience cost of a {rest[0]} summit (utility)"
        elif fld == "red_lines":
            text = f"{who} red line"
        elif fld in _FIELD_WORDS:
            text = f"{who} {_FIELD_WORDS[fld]}"
        else:
            text = f"{who} {'.'.join(parts[2:])}"
    elif parts[0] == "issues" and len(parts) == 3 and parts[2] == "status_quo":
        text = f"status quo on {parts[1]} (0-1 issue scale)"
    elif path == "protocol.rounds":
        text = "deadline (rounds)"
    if dist:  # the unit belongs to the value, the distribution's part comes last
        return text + dist
    return text


# -- pooling over the other parameters ---------------------------------------------------------


def pooled(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Outcome shares per value(s) of ``by``, worlds pooled over the other points.

    Returns:
        One row per group: the ``by`` columns, ``runs``, ``points``, and per outcome the pooled
        share with its 95% Wilson bounds (``<outcome>``, ``<outcome>.lo``, ``<outcome>.hi``).
    """
    import pandas as pd

    from negotiation_sim.results import wilson_interval

    rows = []
    for key, g in table.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        n = float(g["runs"].sum())
        row = dict(zip(by, key), runs=n, points=len(g))
        for o in OUTCOMES:
            hits = float((g[o] * g["runs"]).sum())
            row[o] = hits / n if n else np.nan
            row[f"{o}.lo"], row[f"{o}.hi"] = wilson_interval(round(hits), n)
        rows.append(row)
    return pd.DataFrame(rows)


# -- figures ----------------------------------------------------------------------------------


@closes_on_error
def sweep_outcomes(sweep: SweepResults, ax=None):
    """Stacked outcome shares, one bar per sweep point, with 95% intervals."""
    xlabel = (sweep.label(sweep.params[0]) if len(sweep.params) == 1 else
              "Sweep point (" + "; ".join(sweep.label(p, units=False) for p in sweep.params) + ")")
    return outcome_shares(sweep.summaries(), ax=ax, labels=sweep.point_labels(),
                          xlabel=_wrap(xlabel, 80),
                          title=f"Summit outcomes per sweep point: {sweep.name}")


@closes_on_error
def sweep_line(sweep: SweepResults, param: str | None = None, ax=None, *,
               outcomes: Sequence[str] = OUTCOMES, where: dict[str, Any] | None = None):
    """Outcome shares against one swept parameter, one line per outcome with its 95% band.

    Args:
        sweep: the sweep's results.
        param: the parameter on the x-axis (default: the first numeric swept parameter).
        ax: matplotlib Axes, or None for a new figure.
        outcomes: which outcomes to draw.
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
    fig, ax = _figure(ax, size=(7.5, 4.2))
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
    for o in outcomes:
        y = data[o].to_numpy() * 100
        lo, hi = data[f"{o}.lo"].to_numpy() * 100, data[f"{o}.hi"].to_numpy() * 100
        c = OUTCOME_COLOURS[o]
        if scattered:
            ax.plot(table[param].to_numpy(dtype=float), table[o].to_numpy() * 100, "o",
                    color=c, markersize=3, alpha=0.35, linestyle="none")
        ax.fill_between(x, lo, hi, color=c, alpha=0.25, linewidth=0)
        ax.plot(x, y, marker="o", markersize=4, color=c, label=OUTCOME_LABELS[o], linewidth=2)
    ax.set_ylim(0, 100)
    _pct_axis(ax)
    ax.set_ylabel("Share of simulated worlds")
    ax.set_xlabel(_wrap(sweep.label(param), 70))
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    note = "bands: 95% Wilson intervals"
    if scattered:
        note = (f"dots: sweep points; lines: their worlds pooled in {len(x)} bins "
                "(over the other parameters), 95% Wilson bands")
    elif others:
        note += f"; pooled over {', '.join(sweep.label(p, units=False) for p in others)}"
    if where:
        note += "; " + ", ".join(f"{sweep.label(p, units=False)} = {_fmt(v)}"
                                 for p, v in where.items())
    ax.set_title(f"Outcomes against {sweep.label(param, units=False)}\n{sweep.caption}\n"
                 f"{_wrap(note, 90)}", fontsize=9)
    return fig


def _outcome_cmap(outcome: str):
    from matplotlib.colors import LinearSegmentedColormap

    from matplotlib.colors import to_rgb

    base = np.array(to_rgb(OUTCOME_COLOURS[outcome]))
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
        outcome: whose share is coloured.
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
    plt = _pyplot()
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
        axk.set_xticks(range(len(xs)), [_fmt(v) for v in xs], fontsize=8,
                       rotation=30 if len(xs) > 6 else 0)
        axk.set_yticks(range(len(ys)), [_fmt(v) for v in ys], fontsize=8)
        axk.set_xlabel(_wrap(sweep.label(x), 42), fontsize=8)
        axk.set_ylabel(_wrap(sweep.label(y), 36), fontsize=8)
        if facet is not None:
            axk.set_title(f"{_wrap(sweep.label(facet), 50)} = {_fmt(level)}", fontsize=8)
    for extra in axes[n:]:
        extra.set_visible(False)
    bar = fig.colorbar(image, ax=axes[:n], shrink=0.9)
    bar.set_label(f"{OUTCOME_LABELS[outcome]} share (% of worlds)")
    note = "cells: % of worlds"
    if pooled_over:
        note += f"; pooled over {', '.join(sweep.label(p, units=False) for p in pooled_over)}"
    chars = int(fig.get_figwidth() * 11)  # what fits on a line at this font size
    head = _wrap(f"{OUTCOME_LABELS[outcome]} share by {sweep.label(x, units=False)} and "
                 f"{sweep.label(y, units=False)}", chars)
    fig.suptitle(f"{head}\n{_wrap(f'{sweep.caption}; {note}', chars)}", fontsize=10)
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
    fig, ax = _figure(ax, size=(7.5, 1.6 + 0.45 * n))
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
    labels = [_wrap(param_label(str(p), scenario), 40) for p in table["parameter"]]
    ax.set_yticks(yy, labels, fontsize=8)
    ax.axvline(0, color=MARK_COLOUR, linewidth=0.6)
    if sobol:
        ax.set_xlabel(f"Sobol index of the {metric.replace('_', ' ')} share "
                      "(share of its variance)")
        ax.set_xlim(min(0, ax.get_xlim()[0]), max(1.0, ax.get_xlim()[1]))
    else:
        ax.set_xlabel(f"Morris elementary effect on the {metric.replace('_', ' ')} share")
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    kind = "Sobol indices" if sobol else "Morris screening"
    ax.set_title(f"{kind}: what drives the {metric.replace('_', ' ')} share"
                 + (f"\n{title}" if title else "") + "\nerror bars: 95% confidence intervals",
                 fontsize=10)
    return fig


def sweep_figures(sweep: SweepResults) -> dict[str, Any]:
    """The sensible figures of a sweep, by kind name, as functions that make them."""
    makers: dict[str, Any] = {}
    varying = [p for p in sweep.params if sweep.summary[p].nunique() > 1]
    numeric = [p for p in varying if sweep.numeric(p)]
    if len(sweep.summary) <= 40:
        makers["outcomes"] = lambda: sweep_outcomes(sweep)
    if numeric:
        makers["sweep-line"] = lambda: sweep_line(sweep, numeric[0])
    if sweep.method in ("grid", "list") and len(varying) >= 2:
        makers["heatmap"] = lambda: sweep_heatmap(sweep)
    if sweep.sensitivity is not None:
        makers["sensitivity"] = lambda: sensitivity(sweep.sensitivity, title=sweep.caption,
                                                       scenario=sweep.scenario)
    return makers
