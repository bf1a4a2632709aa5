"""Comparing the outcome distributions of scenarios run with the same seed and number of worlds.

Each compared *arm* is a run's summary (the ``negsim run --json`` dict): the Python API's
``compare`` runs scenario files or reads results directories back and hands the summaries here,
so this module only computes. The first arm is the baseline. For every other arm and outcome we report the difference in share
from the baseline with Newcombe's hybrid score interval (Newcombe 1998, method 10: built from
the two Wilson intervals, good at shares near 0 or 1), and a Pearson chi-square test that the
arms share one outcome distribution (all arms together, and each arm against the baseline).

The tests treat the arms as independent samples. Arms run with the same seed reuse random
streams, so their worlds are positively correlated and real differences are, if anything, less
noisy than the test assumes: a significant result stands; identical scenarios give identical
worlds and a statistic of exactly 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.results.summary import wilson_interval

ALPHA = 0.05


@dataclass
class Arm:
    """One compared scenario: its label, run summary and outcome counts."""

    label: str
    summary: dict[str, Any]
    source: str
    counts: np.ndarray = field(init=False)  # (4,) worlds per outcome, in OUTCOMES order

    def __post_init__(self) -> None:
        n = self.summary["runs"]
        self.counts = np.array([round(self.summary["outcomes"][o]["share"] * n) for o in OUTCOMES],
                               dtype=np.int64)

    @property
    def runs(self) -> int:
        return int(self.summary["runs"])


@dataclass
class ChiSquare:
    """Pearson's chi-square test of homogeneity of outcome distributions."""

    statistic: float
    dof: int
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    def as_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "dof": self.dof, "p_value": self.p_value,
                "significant": self.significant}


@dataclass
class Comparison:
    """Arms side by side, differences from the first one, and the tests."""

    arms: list[Arm]
    chi_square: ChiSquare
    pairwise: list[ChiSquare]  # each later arm against the baseline

    @property
    def baseline(self) -> Arm:
        return self.arms[0]

    def difference(self, arm: Arm, outcome: str) -> tuple[float, float, float]:
        """(difference, lo, hi) of ``arm``'s share of ``outcome`` minus the baseline's."""
        i = OUTCOMES.index(outcome)
        b = self.baseline
        d = arm.counts[i] / arm.runs - b.counts[i] / b.runs
        lo, hi = newcombe_interval(b.counts[i], b.runs, arm.counts[i], arm.runs)
        return float(d), lo, hi

    def as_dict(self) -> dict[str, Any]:
        """The ``negsim compare --json`` shape."""
        return {
            "baseline": self.baseline.label,
            "scenarios": [{
                "label": a.label, "scenario": a.summary["scenario"], "source": a.source,
                "runs": a.runs, "seed": a.summary["seed"],
                "outcomes": {o: {"share": a.summary["outcomes"][o]["share"],
                                 "ci95": a.summary["outcomes"][o]["ci95"],
                                 "count": int(a.counts[i])} for i, o in enumerate(OUTCOMES)},
            } for a in self.arms],
            "differences": [{
                "scenario": a.label, "vs": self.baseline.label,
                "outcomes": {o: dict(zip(("difference", "ci95"), _pair(self.difference(a, o))))
                             for o in OUTCOMES},
                "chi_square": test.as_dict(),
            } for a, test in zip(self.arms[1:], self.pairwise)],
            "chi_square": self.chi_square.as_dict(),
        }


def _pair(d: tuple[float, float, float]) -> tuple[float, list[float]]:
    return d[0], [d[1], d[2]]


def newcombe_interval(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """95% interval of ``x2/n2 - x1/n1`` by Newcombe's hybrid score method (method 10)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1)
    l2, u2 = wilson_interval(x2, n2)
    d = p2 - p1
    lo = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    hi = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return max(lo, -1.0), min(hi, 1.0)


def chi_square(counts: np.ndarray) -> ChiSquare:
    """Chi-square test of homogeneity of a (arms x outcomes) table of counts.

    Outcomes no arm reached are dropped (they carry no information and would divide by zero);
    when fewer than two outcomes remain, every arm has the same (degenerate) distribution.
    """
    from scipy.stats import chi2_contingency

    table = np.asarray(counts)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or table.shape[0] < 2:
        return ChiSquare(0.0, 0, 1.0)
    stat, p, dof, _ = chi2_contingency(table, correction=False)
    return ChiSquare(float(stat), int(dof), float(p))


def compare_summaries(arms: list[Arm]) -> Comparison:
    """The comparison of arms already run."""
    if len(arms) < 2:
        raise ValueError("compare needs at least two scenarios or results")
    table = np.stack([a.counts for a in arms])
    pairwise = [chi_square(table[[0, i]]) for i in range(1, len(arms))]
    return Comparison(arms, chi_square(table), pairwise)


def unique_labels(arms: list[Arm]) -> None:
    """Make arm labels distinct: a file and a run may share a name, one file may come twice."""
    names = [a.label for a in arms]
    for i, arm in enumerate(arms):
        if names.count(arm.label) > 1:
            twins = [Path(a.source).stem for a, n in zip(arms, names) if n == names[i]]
            stem = Path(arm.source).stem
            arm.label = f"{arm.label} ({stem})" if twins.count(stem) == 1 else f"{arm.label} #{i + 1}"


def format_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
