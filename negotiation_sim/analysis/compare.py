"""Comparing the outcome distributions of scenarios run with the same seed and number of worlds.

Each compared *arm* is a run's summary (the ``negsim run --json`` dict): the Python API's
``compare`` runs scenario files or reads results directories back and hands the summaries here,
so this module only computes. The first arm is the baseline. For every other arm and outcome we report the difference in share
from the baseline with Newcombe's hybrid score interval (Newcombe 1998, method 10: built from
the two Wilson intervals, good at shares near 0 or 1), and a Pearson chi-square test that the
arms share one outcome distribution (all arms together, and each arm against the baseline).

Arms run with the same seed and number of worlds draw the same worlds (common random numbers:
world k of every arm draws its inputs from the same streams), so they are *paired*, and
treating them as independent samples hides how sharp the comparison is: two identical arms
would show a difference of +0.0 with an interval of about +-0.8 points at 10,000 worlds. When
every arm's per-world outcomes are known (``Arm.outcomes``: scenario files run here, or results
directories that kept ``runs.parquet``) and the arms share seed and worlds, each later arm is
compared with the baseline world by world:

* the difference in each outcome's share with Newcombe's interval for paired proportions
  (Newcombe 1998b, method 10: the two Wilson intervals combined with the phi correlation of the
  paired indicators; cited for the interval's formula and its coverage near 0 and 1; Altman,
  Machin, Bryant & Gardner 2000, "Statistics with Confidence", ch. 6, for the same formula as
  a worked procedure);
* McNemar's exact test on the worlds that changed into or out of the outcome (McNemar 1947;
  the binomial form on the discordant pairs, cited for the test);
* the Stuart-Maxwell test that the arms' outcome distributions are the same (Stuart 1955;
  Maxwell 1970: the paired analogue of the chi-square over all outcomes, on the matrix of
  transitions between outcomes).

Otherwise the arms are treated as independent samples: Newcombe's hybrid score interval for
the difference of two independent proportions (Newcombe 1998a, method 10) and Pearson's
chi-square test of homogeneity, as before.
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
    outcomes: np.ndarray | None = None  # (runs,) int8 outcome code of every world, if known
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
class Paired:
    """One arm against the baseline, world by world.

    Attributes:
        transitions: ``(4, 4)`` worlds with outcome i in the baseline and j in the arm.
        differences: per outcome, (difference, lo, hi) with Newcombe's paired interval.
        mcnemar: per outcome, (worlds that left it, worlds that entered it, exact p-value).
        stuart_maxwell: the test that the two outcome distributions are the same.
    """

    transitions: np.ndarray
    differences: dict[str, tuple[float, float, float]]
    mcnemar: dict[str, tuple[int, int, float]]
    stuart_maxwell: ChiSquare

    @property
    def changed(self) -> int:
        """Worlds whose outcome differs between the two arms."""
        return int(self.transitions.sum() - np.trace(self.transitions))

    def as_dict(self) -> dict[str, Any]:
        return {"changed_worlds": self.changed,
                "transitions": self.transitions.tolist(),
                "mcnemar": {o: {"left": f, "entered": g, "p_value": p}
                            for o, (f, g, p) in self.mcnemar.items()},
                "stuart_maxwell": self.stuart_maxwell.as_dict()}


@dataclass
class Comparison:
    """Arms side by side, differences from the first one, and the tests.

    ``paired`` holds, for each later arm, its world-by-world comparison with the baseline when
    the arms share their worlds (else it is empty and the independent tests apply).
    """

    arms: list[Arm]
    chi_square: ChiSquare
    pairwise: list[ChiSquare]  # each later arm against the baseline
    paired: list[Paired] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader should know (stale files)

    @property
    def baseline(self) -> Arm:
        return self.arms[0]

    def difference(self, arm: Arm, outcome: str) -> tuple[float, float, float]:
        """(difference, lo, hi) of ``arm``'s share of ``outcome`` minus the baseline's: the
        paired interval when the arms share their worlds, else the independent one."""
        if self.paired:
            return self.paired[self.arms.index(arm) - 1].differences[outcome]
        i = OUTCOMES.index(outcome)
        b = self.baseline
        d = arm.counts[i] / arm.runs - b.counts[i] / b.runs
        lo, hi = newcombe_interval(b.counts[i], b.runs, arm.counts[i], arm.runs)
        return float(d), lo, hi

    def as_dict(self) -> dict[str, Any]:
        """The ``negsim compare --json`` shape. ``paired`` says whether the differences are
        world by world; then each difference carries its ``paired`` tests beside
        ``chi_square`` (the independent test, kept for comparison)."""
        out = {
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
            "paired": bool(self.paired),
            "notes": list(self.notes),
        }
        for entry, pair in zip(out["differences"], self.paired):
            entry["paired"] = pair.as_dict()
        return out


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
    """The comparison of arms already run: paired when ``pairable``, else independent."""
    if len(arms) < 2:
        raise ValueError("compare needs at least two scenarios or results")
    table = np.stack([a.counts for a in arms])
    pairwise = [chi_square(table[[0, i]]) for i in range(1, len(arms))]
    paired = ([paired_comparison(arms[0].outcomes, a.outcomes) for a in arms[1:]]
              if pairable(arms) else [])
    return Comparison(arms, chi_square(table), pairwise, paired)


def pairable(arms: list[Arm]) -> bool:
    """Whether the arms share their worlds: every one's outcomes known, same seed and worlds."""
    return (all(a.outcomes is not None and a.outcomes.shape == (a.runs,) for a in arms)
            and len({a.runs for a in arms}) == 1
            and len({a.summary.get("seed") for a in arms}) == 1)


def paired_comparison(base: np.ndarray, arm: np.ndarray) -> Paired:
    """World-by-world comparison of two arms' outcome codes (same worlds, same order)."""
    k = len(OUTCOMES)
    trans = np.bincount(base.astype(np.int64) * k + arm.astype(np.int64),
                        minlength=k * k).reshape(k, k)
    n = int(trans.sum())
    differences, mcnemar = {}, {}
    for i, o in enumerate(OUTCOMES):
        both = int(trans[i, i])
        left = int(trans[i].sum()) - both  # in the outcome at baseline, not in the arm
        entered = int(trans[:, i].sum()) - both
        differences[o] = newcombe_paired_interval(both, left, entered, n - both - left - entered)
        mcnemar[o] = (left, entered, mcnemar_exact(left, entered))
    return Paired(trans, differences, mcnemar, stuart_maxwell(trans))


def newcombe_paired_interval(e: int, f: int, g: int, h: int) -> tuple[float, float, float]:
    """(difference, lo, hi): 95% interval of the arm's share minus the baseline's for paired
    indicators, Newcombe (1998b) method 10.

    ``e``: worlds in the outcome in both arms; ``f``: in the baseline only; ``g``: in the arm
    only; ``h``: in neither. With A = (e + f)/n and B = (e + g)/n, their Wilson intervals
    (l1, u1) and (l2, u2) and the phi coefficient of the 2x2 table (0 when a margin is empty;
    a positive numerator e h - f g reduced by n/2, not below 0, as Newcombe's method 10 and
    Altman et al. 2000, ch. 6, compute it),
    the interval of B - A is [d - delta, d + eps] with
    delta = sqrt((B - l2)^2 - 2 phi (B - l2)(u1 - A) + (u1 - A)^2) and
    eps = sqrt((u2 - B)^2 - 2 phi (u2 - B)(A - l1) + (A - l1)^2).
    """
    n = e + f + g + h
    a, b = (e + f) / n, (e + g) / n
    l1, u1 = wilson_interval(e + f, n)
    l2, u2 = wilson_interval(e + g, n)
    margins = float(e + f) * float(g + h) * float(e + g) * float(f + h)
    cross = float(e) * h - float(f) * g
    # Newcombe's correction of phi: a positive numerator loses n/2 (not below 0)
    cross = max(cross - n / 2, 0.0) if cross > 0 else cross
    phi = cross / math.sqrt(margins) if margins > 0 else 0.0
    d = b - a
    delta = math.sqrt(max((b - l2) ** 2 - 2 * phi * (b - l2) * (u1 - a) + (u1 - a) ** 2, 0.0))
    eps = math.sqrt(max((u2 - b) ** 2 - 2 * phi * (u2 - b) * (a - l1) + (a - l1) ** 2, 0.0))
    return float(d), max(d - delta, -1.0), min(d + eps, 1.0)


def mcnemar_exact(f: int, g: int) -> float:
    """Two-sided exact McNemar p-value: the binomial test of ``f`` vs ``g`` discordant pairs
    at one half (1 when no pair is discordant)."""
    if f + g == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(min(f, g), f + g, 0.5).pvalue)


def stuart_maxwell(trans: np.ndarray) -> ChiSquare:
    """Stuart-Maxwell test of marginal homogeneity of a square table of paired outcomes.

    With d the differences of row and column totals over all but one outcome and S their
    covariance (S_ii = n_i. + n_.i - 2 n_ii, S_ij = -(n_ij + n_ji)), the statistic d' S^-1 d is
    chi-square with (outcomes - 1) degrees of freedom. Outcomes neither arm reached are left
    out; a singular S (outcomes that only ever change into each other in one direction) uses
    its pseudo-inverse with its rank as the degrees of freedom.
    """
    from scipy.stats import chi2

    t = np.asarray(trans, dtype=float)
    keep = (t.sum(axis=0) + t.sum(axis=1)) > 0
    t = t[np.ix_(keep, keep)]
    if t.shape[0] < 2 or t.sum() == np.trace(t):
        return ChiSquare(0.0, 0, 1.0)
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    d = (rows - cols)[:-1]
    s = -(t + t.T)
    np.fill_diagonal(s, rows + cols - 2 * np.diag(t))
    s = s[:-1, :-1]
    dof = int(np.linalg.matrix_rank(s))
    if dof == 0:
        return ChiSquare(0.0, 0, 1.0)
    stat = float(d @ np.linalg.pinv(s) @ d)
    return ChiSquare(stat, dof, float(chi2.sf(stat, dof)))


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
