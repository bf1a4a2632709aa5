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
PRIM then pastes: it widens the box again where that raises coverage without lowering
density; the trajectory's last boxes may be pasting steps (``steps``: ``start``, ``peel``,
``paste``), which is why coverage can rise at its end.

Which box to report is the analyst's choice on that trade-off (Bryant & Lempert 2010, section 3:
"the user chooses the box that best balances coverage, density and interpretability"). We take
the *densest box on the coverage plateau*: among the boxes whose density reaches ``min_share``,
those within ``coverage_slack`` (2 percentage points by default) of the largest coverage any of
them reaches, the densest (ties: more coverage, then fewer restricted inputs). The largest
coverage alone is a poor rule, because the early boxes of a trajectory keep almost all of the
outcome's worlds while their density is barely above the bar: with agreement exactly when one
input is at most 0.4, it picks a box at density 52% (input <= 0.77) over the box at density
100% that keeps 98.9% of the deals (input <= 0.40). When no box reaches ``min_share``, the
densest box is reported and ``reached`` is False. Limits name only the restricted inputs, by
their dotted paths.

Each restriction of the chosen box carries what an analyst checks before trusting it:

* its **quasi-p-values** (Bryant & Lempert 2010, section 4.2; EMA Workbench's ``inspect``): a
  one-sided binomial test of whether the box's density could come from the box without that
  limit by chance; values above 0.05 mark a restriction the data do not support;
* whether it **barely binds**: dropping it (the input's whole range) lowers the box's density
  by less than ``BINDS_BELOW`` (one percentage point);
* optionally, its **reproducibility** under resampling (``resample``: PRIM rerun on half
  samples of the rows, the share of reruns whose box at the same coverage, or density,
  restricts that input; EMA Workbench's ``resample``).
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
from negotiation_sim.results.summary import MEETING_COLUMNS

INPUT = "input."
MAX_ROWS_PER_POINT = 400
"""Rows a sweep point contributes (its worlds, scaled down in proportion beyond this)."""
COVERAGE_SLACK = 0.02
"""Coverage (absolute share) the chosen box may give up against the widest box dense enough."""
BINDS_BELOW = 0.01
"""A restriction whose removal lowers the box's density by less than this barely binds."""
QP_SIGNIFICANT = 0.05
"""Quasi-p-values above this mark a restriction the data do not support."""


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


@dataclass(frozen=True)
class Restriction:
    """What one limit of the chosen box is worth.

    Attributes:
        qp: quasi-p-values of the lower and upper limit (None where that side is not limited).
        density_without: the box's density with this input's limits dropped.
        coverage_without: the box's coverage with them dropped.
        binds: False when dropping it lowers density by less than ``BINDS_BELOW``.
        reproduce: share of resampled PRIM runs whose box restricts this input, at the same
            coverage and at the same density (None unless resampled).
    """

    qp: tuple[float | None, float | None]
    density_without: float
    coverage_without: float
    binds: bool
    reproduce: tuple[float, float] | None = None

    @property
    def significant(self) -> bool:
        """Whether every limited side's quasi-p-value is at most ``QP_SIGNIFICANT``."""
        return all(q is None or q <= QP_SIGNIFICANT for q in self.qp)

    def to_json(self) -> dict[str, Any]:
        return {"qp": list(self.qp), "density_without": self.density_without,
                "coverage_without": self.coverage_without, "binds": self.binds,
                "significant": self.significant,
                "reproduce": None if self.reproduce is None else list(self.reproduce)}


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
        steps: per box, ``start``, ``peel`` or ``paste`` (how PRIM reached it).
        restrictions: dotted input path -> ``Restriction``, for the chosen box's limits.
        coverage_slack: coverage the choice may give up for density (``choose``).
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
    steps: list[str] = field(default_factory=list)
    restrictions: dict[str, Restriction] = field(default_factory=dict)
    coverage_slack: float = COVERAGE_SLACK

    @property
    def box(self) -> Box:
        return self.boxes[self.chosen]

    def to_json(self) -> dict[str, Any]:
        """``{"outcome", "boxes": [{"coverage", "density", "limits"}], "chosen"}`` and, beside
        them, ``min_share``, ``reached``, ``coverage_slack``, ``steps`` (one per box) and
        ``restrictions`` (the chosen box's, ``Restriction.to_json``)."""
        return {"outcome": self.outcome,
                "boxes": [{"coverage": b.coverage, "density": b.density,
                           "limits": {p: [lo, hi] for p, (lo, hi) in b.limits.items()}}
                          for b in self.boxes],
                "chosen": self.chosen, "min_share": self.min_share, "reached": self.reached,
                "coverage_slack": self.coverage_slack, "steps": list(self.steps),
                "restrictions": {p: r.to_json() for p, r in self.restrictions.items()}}

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
    """(inputs, 0/1 per row) for PRIM: worlds of a run, or each sweep point's worlds. A
    meeting (``talks``, ``leaders``) is a world's ``<meeting>_round`` being set."""
    if outcome not in OUTCOMES and outcome not in MEETING_COLUMNS:
        raise DiscoveryError(f"unknown outcome '{outcome}' (choose "
                             f"{', '.join((*OUTCOMES, *MEETING_COLUMNS))})")
    column = f"{outcome}_round" if outcome in MEETING_COLUMNS else "outcome"
    if isinstance(results, SweepResults):
        if outcome not in results.summary:
            raise DiscoveryError(f"this sweep's summary has no '{outcome}' column (it was made "
                                 "before meetings were summarised): run it again")
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
    if column not in runs:
        raise DiscoveryError(f"these results have no '{column}' column (a run made before "
                             "meetings were recorded): run it again")
    hit = runs[column].notna() if column != "outcome" else runs["outcome"] == outcome
    return x, hit.to_numpy(int)


def discover(results: RunResults | SweepResults, outcome: str = "agreement", *,
             min_share: float = 0.5, peel_alpha: float = 0.05, mass_min: float = 0.05,
             coverage_slack: float = COVERAGE_SLACK, resample: int = 0,
             seed: int = 0) -> Discovery:
    """The peeling trajectory of ``outcome`` over the results' inputs, and the chosen box.

    Args:
        results: a run (with per-world rows) or a sweep.
        outcome: agreement, ceasefire, breakdown or no_summit, or a meeting: talks or
            leaders.
        min_share: the outcome's share the chosen box must reach.
        peel_alpha: share of the box's worlds each peel removes.
        mass_min: the smallest box, as a share of all worlds.
        coverage_slack: coverage the chosen box may give up for density (``choose``).
        resample: PRIM reruns on half samples for each restriction's reproducibility (0: none).
        seed: seed of the resampling's draws.

    Returns:
        The trajectory, its steps, the chosen box and what each of its restrictions is worth.

    Raises:
        DiscoveryError: an unknown outcome, no varying inputs, or no world with the outcome.
        ImportError: EMA Workbench is not installed (the ``discover`` extra).
    """
    if not 0 < min_share <= 1:
        raise DiscoveryError(f"min_share must lie in (0, 1], got {min_share:g}")
    if not 0 <= coverage_slack <= 1:
        raise DiscoveryError(f"coverage_slack must lie in [0, 1], got {coverage_slack:g}")
    x, y = data_of(results, outcome)
    if y.sum() == 0:
        raise DiscoveryError(f"no world {'had' if outcome in MEETING_COLUMNS else 'ended in'} "
                             f"{outcome}: there is no region to find")
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
        found = p.find_box()
    traj = found.peeling_trajectory
    init = found.box_lims[0]
    ranges = {c: (float(init.loc[0, c]), float(init.loc[1, c])) for c in x.columns}
    boxes = []
    for i, lims in enumerate(found.box_lims):
        limits = {}
        for c in x.columns:
            lo, hi = float(lims.loc[0, c]), float(lims.loc[1, c])
            if lo > ranges[c][0] or hi < ranges[c][1]:
                limits[c] = (lo, hi)
        boxes.append(Box(float(traj.loc[i, "coverage"]), float(traj.loc[i, "density"]),
                         float(traj.loc[i, "mass"]), limits))
    chosen, reached = choose(boxes, min_share, coverage_slack)
    reproduce = _reproduce(found, chosen, resample, seed) if resample else {}
    restrictions = {c: _restriction(x, y, boxes[chosen], c, found.p_values[chosen].get(c),
                                    reproduce.get(c))
                    for c in boxes[chosen].limits}
    sc = results.scenario
    return Discovery(outcome, min_share, "sweep" if isinstance(results, SweepResults) else "run",
                     len(y), float(y.mean()), ranges, boxes, chosen, reached,
                     {c: param_label(c, sc) for c in x.columns}, steps_of(boxes),
                     restrictions, coverage_slack)


def choose(boxes: list[Box], min_share: float,
           coverage_slack: float = COVERAGE_SLACK) -> tuple[int, bool]:
    """(index, reached): the densest box on the coverage plateau, else the densest box.

    The plateau: the boxes whose density reaches ``min_share`` and whose coverage lies within
    ``coverage_slack`` of the largest coverage among them. Ties go to more coverage, then to
    fewer restricted inputs, then to the earlier box. When no box is dense enough, the densest.
    """
    good = [i for i, b in enumerate(boxes) if b.density >= min_share - 1e-12]
    if good:
        widest = max(boxes[i].coverage for i in good)
        plateau = [i for i in good if boxes[i].coverage >= widest - coverage_slack - 1e-12]
        return max(plateau, key=lambda i: (boxes[i].density, boxes[i].coverage,
                                           -boxes[i].restricted, -i)), True
    return max(range(len(boxes)), key=lambda i: (boxes[i].density, -i)), False


def steps_of(boxes: list[Box]) -> list[str]:
    """How PRIM reached each box: ``start``, then ``peel`` where the box lost mass and
    ``paste`` where it gained (pasting only widens a box; peeling only narrows it)."""
    return ["start"] + ["paste" if b.mass > a.mass + 1e-12 else "peel"
                        for a, b in zip(boxes, boxes[1:])]


def _restriction(x: pd.DataFrame, y: np.ndarray, box: Box, name: str, qp,
                 reproduce: tuple[float, float] | None) -> Restriction:
    """The chosen box's ``name`` limit: its quasi-p-values and what dropping it does."""
    inside = np.ones(len(y), dtype=bool)
    for c, (lo, hi) in box.limits.items():
        if c != name:
            v = x[c].to_numpy(float)
            inside &= (v >= lo) & (v <= hi)
    total = max(int(y.sum()), 1)
    density = float(y[inside].mean()) if inside.any() else 0.0
    coverage = float(y[inside].sum()) / total
    sides = tuple(None if q is None or q < 0 else float(q) for q in (qp or [-1, -1]))
    return Restriction(sides, density, coverage, box.density - density >= BINDS_BELOW,
                       reproduce)


def _reproduce(found, chosen: int, iterations: int, seed: int) -> dict[str, tuple[float, float]]:
    """Per input: share of ``iterations`` PRIM reruns on half samples whose box restricts it,
    at the chosen box's coverage and at its density (EMA Workbench's ``resample``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = found.resample(chosen, iterations=iterations, rng=np.random.default_rng(seed))
    return {str(c): (float(r["reproduce coverage"]) / 100, float(r["reproduce density"]) / 100)
            for c, r in table.iterrows()}


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
