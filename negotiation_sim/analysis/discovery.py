"""Scenario discovery: the region of inputs where an outcome is likely, found with PRIM.

Given results and an outcome, ``discover`` asks which ranges of the inputs make the outcome
likely, with the Patient Rule Induction Method (Friedman & Fisher 1999) as scenario discovery
uses it (Bryant & Lempert 2010; Kwakkel & Jaxa-Rozen 2016). The implementation is EMA
Workbench's (``ema_workbench.analysis.prim``): maintained with the workbench, BSD-licensed, and
the one scenario-discovery practice is built on (the standalone ``prim`` package is a GPL fork
of an older version of the same code).

The data are worlds. For a run, each world is a row: its drawn inputs (``input.<path>``
columns of ``runs.parquet``) and whether it ended in the outcome. For a sweep, each point's
worlds are rows at the point's values of the swept parameters, as many ending in the outcome as
its share says (up to ``MAX_ROWS_PER_POINT`` rows a point, in proportion), so every point
weighs what its worlds weigh. Then for a box of input ranges:

* **coverage**: the share of all worlds ending in the outcome that lie in the box;
* **density**: the share of the worlds in the box that end in the outcome (the outcome's share
  there).

PRIM peels the box from the whole input space a small slice (``peel_alpha``) at a time, each time
removing the slice that raises the density most per world removed, down to ``mass_min`` of the
worlds; the sequence of boxes is the *peeling trajectory*, density rising as coverage falls.
The chosen box is the one with the largest coverage whose density reaches ``min_share`` (the
region where the outcome's share is at least that); when no box reaches it, the densest box,
and ``reached`` is False. Limits name only the restricted inputs, by their dotted paths.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from negotiation_sim.config.paths import param_label
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.results.reader import RunResults, SweepResults

INPUT = "input."
MAX_ROWS_PER_POINT = 400
"""Rows a sweep point contributes (its worlds, scaled down in proportion beyond this)."""


class DiscoveryError(ValueError):
    """The results cannot answer the question (no inputs vary, an unknown outcome...)."""


@dataclass(frozen=True)
class Box:
    """One box of the peeling trajectory.

    Attributes:
        coverage: share of the outcome's worlds inside the box.
        density: share of the box's worlds that end in the outcome.
        mass: share of all worlds inside the box.
        limits: dotted input path -> (low, high), restricted inputs only.
    """

    coverage: float
    density: float
    mass: float
    limits: dict[str, tuple[float, float]]

    @property
    def restricted(self) -> int:
        return len(self.limits)


@dataclass
class Discovery:
    """A peeling trajectory and the chosen box.

    Attributes:
        outcome: the outcome asked about.
        min_share: the density the chosen box must reach.
        kind: ``run`` (worlds' drawn inputs) or ``sweep`` (points' swept parameters).
        worlds: rows PRIM saw; ``base_share``: the outcome's share among them.
        ranges: every input's range in the data (the whole space).
        boxes: the trajectory, from the whole space to the smallest box.
        chosen: index of the chosen box; ``reached``: whether its density reaches min_share.
    """

    outcome: str
    min_share: float
    kind: str
    worlds: int
    base_share: float
    ranges: dict[str, tuple[float, float]]
    boxes: list[Box]
    chosen: int
    reached: bool
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def box(self) -> Box:
        return self.boxes[self.chosen]

    def to_json(self) -> dict[str, Any]:
        """``{"outcome", "boxes": [{"coverage", "density", "limits"}], "chosen"}`` and, beside
        them, ``min_share`` and ``reached``."""
        return {"outcome": self.outcome,
                "boxes": [{"coverage": b.coverage, "density": b.density,
                           "limits": {p: [lo, hi] for p, (lo, hi) in b.limits.items()}}
                          for b in self.boxes],
                "chosen": self.chosen, "min_share": self.min_share, "reached": self.reached}

    def describe(self, box: Box | None = None) -> list[str]:
        """The chosen box (or ``box``) in the scenario's words, one line per restricted input."""
        box = box or self.box
        out = []
        for p, (lo, hi) in box.limits.items():
            full_lo, full_hi = self.ranges[p]
            label = self.labels.get(p, p)
            if lo > full_lo and hi < full_hi:
                out.append(f"{label} between {lo:.3g} and {hi:.3g}")
            elif lo > full_lo:
                out.append(f"{label} at least {lo:.3g}")
            else:
                out.append(f"{label} at most {hi:.3g}")
        return out


def data_of(results: RunResults | SweepResults, outcome: str) -> tuple[pd.DataFrame, np.ndarray]:
    """(inputs, 0/1 per row) for PRIM: worlds of a run, or each sweep point's worlds."""
    if outcome not in OUTCOMES:
        raise DiscoveryError(f"unknown outcome '{outcome}' (choose {', '.join(OUTCOMES)})")
    if isinstance(results, SweepResults):
        params = [p for p in results.params if results.numeric(p)
                  and results.summary[p].nunique() > 1]
        if not params:
            raise DiscoveryError("the sweep varies no numeric parameter")
        table = results.summary
        cap = min(int(table["runs"].max()), MAX_ROWS_PER_POINT)
        n = np.minimum(table["runs"].to_numpy(int), cap)
        k = np.rint(table[outcome].to_numpy(float) * n).astype(int)
        rows = np.repeat(np.arange(len(table)), n)
        x = table[params].iloc[rows].reset_index(drop=True).astype(float)
        first = np.repeat(np.cumsum(n) - n, n)
        y = (np.arange(len(rows)) - first < np.repeat(k, n)).astype(int)
        return x, y
    runs = results.runs
    cols = [c for c in runs.columns if c.startswith(INPUT) and runs[c].dtype.kind in "fiu"
            and runs[c].nunique() > 1]
    if not cols:
        raise DiscoveryError("these results hold no per-world inputs that vary (a run of a "
                             "scenario with distributions, saved with --out)")
    x = runs[cols].astype(float).rename(columns=lambda c: c[len(INPUT):]).reset_index(drop=True)
    return x, (runs["outcome"] == outcome).to_numpy(int)


def discover(results: RunResults | SweepResults, outcome: str = "agreement", *,
             min_share: float = 0.5, peel_alpha: float = 0.05,
             mass_min: float = 0.05) -> Discovery:
    """The peeling trajectory of ``outcome`` over the results' inputs, and the chosen box.

    Args:
        results: a run (with per-world rows) or a sweep.
        outcome: agreement, ceasefire, breakdown or no_summit.
        min_share: the outcome's share the chosen box must reach.
        peel_alpha: share of the box's worlds each peel removes.
        mass_min: the smallest box, as a share of all worlds.

    Raises:
        DiscoveryError: an unknown outcome, no varying inputs, or no world with the outcome.
        ImportError: EMA Workbench is not installed (the ``discover`` extra).
    """
    if not 0 < min_share <= 1:
        raise DiscoveryError(f"min_share must lie in (0, 1], got {min_share:g}")
    x, y = data_of(results, outcome)
    if y.sum() == 0:
        raise DiscoveryError(f"no world ended in {outcome}: there is no region to find")
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
        found = p.find_box()
    traj = found.peeling_trajectory
    init = found.box_lims[0]
    boxes = []
    for i, lims in enumerate(found.box_lims):
        limits = {}
        for c in x.columns:
            lo, hi = float(lims.loc[0, c]), float(lims.loc[1, c])
            if lo > float(init.loc[0, c]) or hi < float(init.loc[1, c]):
                limits[c] = (lo, hi)
        boxes.append(Box(float(traj.loc[i, "coverage"]), float(traj.loc[i, "density"]),
                         float(traj.loc[i, "mass"]), limits))
    chosen, reached = choose(boxes, min_share)
    sc = results.scenario
    return Discovery(outcome, min_share, "sweep" if isinstance(results, SweepResults) else "run",
                     len(y), float(y.mean()),
                     {c: (float(init.loc[0, c]), float(init.loc[1, c])) for c in x.columns},
                     boxes, chosen, reached, {c: param_label(c, sc) for c in x.columns})


def choose(boxes: list[Box], min_share: float) -> tuple[int, bool]:
    """(index, reached): the largest coverage with density >= min_share, else the densest."""
    good = [i for i, b in enumerate(boxes) if b.density >= min_share - 1e-12]
    if good:
        return max(good, key=lambda i: (boxes[i].coverage, -i)), True
    return max(range(len(boxes)), key=lambda i: (boxes[i].density, -i)), False


def _prim_module():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import logging

            from ema_workbench.analysis import prim
            logging.getLogger("EMA").setLevel(logging.WARNING)
    except ImportError as err:
        raise ImportError("scenario discovery needs EMA Workbench: pip install "
                          "'negotiation_sim[discover]'") from err
    return prim
