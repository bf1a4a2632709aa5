"""Sensitivity analysis of a sweep's results: Sobol indices and Morris elementary effects.

The samples are the sweep's own: ``experiment.make_design`` drew them with SALib, ``sweep`` ran
one point per sample, and this module hands the design matrix and one summary column (an outcome
share, a mean term, a mean utility...) back to SALib's analysers. ``analyze`` is the whole
contract (design in, indices out) and is what the tests run on analytic functions with known
indices (Ishigami); ``analyze_results`` takes a sweep's results (read by ``results.reader``)
and calls it.

SALib is optional and imported only here, when an analysis runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from negotiation_sim.config.design import Space
from negotiation_sim.config.extras import require
from negotiation_sim.results.reader import SweepResults, load_results

SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "mu", "sigma")
NOT_METRICS = {"point", "runs", "label", "scenario_hash"}


class SensitivityError(Exception):
    """Results that cannot be analysed (the message says why)."""


@dataclass
class Sensitivity:
    """Indices per parameter, with 95% confidence half-widths (bootstrap, as SALib computes)."""

    method: str
    metric: str
    names: list[str]
    indices: dict[str, dict[str, float]]  # parameter -> column -> value
    points: int
    second_order: dict[str, dict[str, float]] | None = None  # sobol S2, when sampled for it
    meta: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # why indices are undefined (NaN here, null in JSON), if they are

    @property
    def columns(self) -> tuple[str, ...]:
        return SOBOL_COLUMNS if self.method == "sobol" else MORRIS_COLUMNS

    def to_json(self) -> dict[str, Any]:
        def clean(x: float) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        out = {
            **self.meta,
            "method": self.method,
            "metric": self.metric,
            "points": self.points,
            **({"undefined": self.note} if self.note else {}),
            "parameters": {n: {c: clean(v) for c, v in self.indices[n].items()}
                           for n in self.names},
        }
        if self.second_order is not None:
            out["second_order"] = {a: {b: clean(v) for b, v in row.items()}
                                   for a, row in self.second_order.items()}
        return out


def analyze(method: str, space: Space, X: np.ndarray, Y: np.ndarray, *,
            second_order: bool = False, levels: int = 4, seed: int | None = 0,
            num_resamples: int = 200, metric: str = "y") -> Sensitivity:
    """Sobol (Saltelli/Jansen estimators) or Morris indices of ``Y`` over the design ``X``.

    Args:
        method: ``sobol`` or ``morris``; ``X`` must come from the same method's sampler.
        space: parameter names and bounds the design was drawn in.
        X: ``(points, D)`` the design matrix (Morris needs it; Sobol uses its order only).
        Y: ``(points,)`` the output at each point.
        second_order: the Sobol design was drawn with second-order columns.
        levels: the Morris design's number of levels.
        seed: seed of the bootstrap confidence intervals.
    """
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 1 or Y.shape[0] != X.shape[0]:
        raise SensitivityError(f"need one output per point: {X.shape[0]} points, "
                               f"{Y.shape[0]} outputs")
    bad = int((~np.isfinite(Y)).sum())
    if bad:
        raise SensitivityError(f"{metric} is undefined at {bad} of {Y.size} points (e.g. a "
                               "mean term where no world agreed); choose another --metric")
    problem = space.salib()
    if method == "sobol" and constant(Y):
        # Sobol indices are shares of the output's variance: with none, they are 0/0, which
        # SALib reports as 0 ("no effect"), a claim the data cannot make
        nan = dict.fromkeys(SOBOL_COLUMNS, math.nan)
        s2 = ({a: {b: math.nan for b in space.names[i + 1:]}
               for i, a in enumerate(space.names)} if second_order else None)
        return Sensitivity(method, metric, list(space.names),
                           {n: dict(nan) for n in space.names}, int(Y.size), s2,
                           note=f"{metric} is the same at every point, so it has no variance "
                                "to share out: Sobol indices are undefined")
    if method == "sobol":
        sobol = require("SALib.analyze.sobol", "sobol sensitivity indices")
        res = sobol.analyze(problem, Y, calc_second_order=second_order,
                            num_resamples=num_resamples, conf_level=0.95, seed=seed)
        idx = {n: {c: float(res[c][j]) for c in SOBOL_COLUMNS}
               for j, n in enumerate(space.names)}
        s2 = None
        if second_order:
            s2 = {a: {b: float(res["S2"][i][j]) for j, b in enumerate(space.names) if j > i}
                  for i, a in enumerate(space.names)}
        return Sensitivity(method, metric, list(space.names), idx, int(Y.size), s2)
    if method == "morris":
        morris = require("SALib.analyze.morris", "morris sensitivity indices")
        res = morris.analyze(problem, np.asarray(X, dtype=float), Y, num_resamples=num_resamples,
                             conf_level=0.95, num_levels=levels, seed=seed)
        idx = {n: {c: float(res[c][j]) for c in MORRIS_COLUMNS}
               for j, n in enumerate(space.names)}
        return Sensitivity(method, metric, list(space.names), idx, int(Y.size))
    raise SensitivityError(f"sensitivity needs a sobol or morris sweep, not {method}")


def constant(Y: np.ndarray) -> bool:
    """Whether ``Y`` does not vary beyond rounding (relative to its size)."""
    spread = float(np.max(Y) - np.min(Y))
    return spread <= 1e-12 * max(1.0, float(np.max(np.abs(Y))))


def metrics(summary_columns: list[str], parameters: list[str]) -> list[str]:
    """Summary columns that can be analysed (everything but ids and parameter values)."""
    return [c for c in summary_columns if c not in NOT_METRICS and c not in parameters]


def analyze_results(results: SweepResults | str | Path, metric: str = "agreement", *,
                    num_resamples: int = 200) -> Sensitivity:
    """Analyse ``metric`` of a finished sobol or morris sweep (its results, or their directory)."""
    if not isinstance(results, SweepResults):
        where = Path(results)
        results = load_results(where)
        if not isinstance(results, SweepResults):
            raise SensitivityError(f"{where} holds a run or a trace, not a sweep's results")
    where = results.path if results.path is not None else "the sweep"
    design = results.manifest.get("design") or {}
    method = design.get("method")
    if method is None:
        raise SensitivityError(f"{where} has no manifest.json naming its design: sensitivity "
                               "reads the design of a sweep negsim wrote (sobol or morris)")
    if method not in ("sobol", "morris"):
        raise SensitivityError(f"{where} holds a {method} sweep; sensitivity needs method "
                               "sobol or morris")
    names = list(design["parameters"])
    space = Space(names, [tuple(b) for b in design["bounds"]])
    summary = results.summary
    choices = metrics(list(summary.columns), names)
    if metric not in choices:
        raise SensitivityError(f"unknown metric '{metric}' (choose from: {', '.join(choices)})")
    expected = int(design["points"])
    if results.points is None:
        raise SensitivityError(f"{where} has no points.parquet (the design's points): restore "
                               "it, or run the sweep again")
    if len(summary) != expected:
        raise SensitivityError(f"the sweep is incomplete ({len(summary)} of {expected} "
                               "points have results): finish it with negsim sweep ... --resume")
    order = np.argsort(summary["point"].to_numpy())
    X = np.column_stack([results.points[n].to_numpy() for n in names])
    Y = summary[metric].to_numpy()[order]
    out = analyze(method, space, X, Y, second_order=bool(design.get("second_order")),
                  levels=int(design.get("levels") or 4), seed=design.get("seed"),
                  num_resamples=num_resamples, metric=metric)
    man = results.manifest
    out.meta = {"experiment": man.get("experiment"), "scenario": man.get("scenario"),
                "runs_per_point": man.get("runs"), "results": str(where)}
    return out
