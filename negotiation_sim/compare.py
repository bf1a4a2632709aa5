"""Comparing the outcome distributions of scenarios run with the same seed and number of worlds.

Each compared *arm* is a scenario file (run here) or a run's results directory (read back). The
first arm is the baseline. For every other arm and outcome we report the difference in share
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

from negotiation_sim.model import OUTCOMES
from negotiation_sim.results import wilson_interval

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


def load_arm(source: str | Path, *, runs: int, seed: int, chunk_size: int = 16384,
             progress=None) -> Arm:
    """A scenario file run with ``runs`` worlds and ``seed``, or a results directory read back."""
    from negotiation_sim.results import Accumulator
    from negotiation_sim.runner import iter_chunks
    from negotiation_sim.scenario import load_scenario

    path = Path(source)
    if path.is_dir():
        import json

        summary_file = path / "summary.json"
        if not summary_file.exists():
            raise FileNotFoundError(f"{path}: not a run's results directory (no summary.json)")
        summary = json.loads(summary_file.read_text())
        return Arm(summary["scenario"], summary, str(path))
    sc = load_scenario(path)
    acc = Accumulator.for_scenario(sc)
    for chunk in iter_chunks(sc, runs, seed=seed, chunk_size=chunk_size, on_chunk=progress):
        acc.add(chunk)
    # Files are labelled by their name (variants of one scenario often share its long name).
    return Arm(path.stem, acc.summary(sc.name, seed), str(path))


def unique_labels(arms: list[Arm]) -> None:
    """Make arm labels distinct: a file and a run may share a name, one file may come twice."""
    names = [a.label for a in arms]
    for i, arm in enumerate(arms):
        if names.count(arm.label) > 1:
            twins = [Path(a.source).stem for a, n in zip(arms, names) if n == names[i]]
            stem = Path(arm.source).stem
            arm.label = f"{arm.label} ({stem})" if twins.count(stem) == 1 else f"{arm.label} #{i + 1}"


def figure(comparison: Comparison):
    """Outcome shares side by side (left) and each arm's difference from the baseline (right).

    Returns:
        The matplotlib Figure.
    """
    from negotiation_sim.plots import closes_on_error

    return closes_on_error(_figure)(comparison)


def _figure(comparison: Comparison):
    from negotiation_sim import plots

    plt = plots._pyplot()
    arms = comparison.arms
    width = max(10.0, 2.2 * len(arms) + 6)
    fig, (left, right) = plt.subplots(1, 2, figsize=(width, 4.6), layout="constrained",
                                      gridspec_kw={"width_ratios": [1.0, 1.2]})
    plots.outcome_shares([a.summary for a in arms], ax=left, labels=[a.label for a in arms])
    left.set_title("Outcome shares (error bars: 95% Wilson intervals)", fontsize=9)
    left.get_legend().remove()
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False,
               fontsize=8)
    others = arms[1:]
    ys = np.arange(len(OUTCOMES))[::-1]
    step = 0.7 / max(len(others), 1)
    markers = "osD^vP"
    for j, arm in enumerate(others):
        for y, outcome in zip(ys, OUTCOMES):
            d, lo, hi = comparison.difference(arm, outcome)
            yy = y + 0.35 - step * (j + 0.5)
            right.errorbar([d * 100], [yy], xerr=[[(d - lo) * 100], [(hi - d) * 100]],
                           fmt=markers[j % len(markers)], color=plots.OUTCOME_COLOURS[outcome],
                           markeredgecolor=plots.MARK_COLOUR, ecolor=plots.MARK_COLOUR,
                           elinewidth=1, capsize=3, markersize=7)
            if len(others) > 1:  # name the arm on the side facing zero, where there is room
                at, dx, ha = (lo, -5, "right") if d > 0 else (hi, 5, "left")
                right.annotate(arm.label, (at * 100, yy), textcoords="offset points",
                               xytext=(dx, 0), ha=ha, va="center", fontsize=7, color="#444444")
    right.axvline(0, color=plots.MARK_COLOUR, linewidth=0.8)
    right.set_yticks(ys, [plots.OUTCOME_LABELS[o] for o in OUTCOMES])
    from matplotlib.ticker import FuncFormatter

    right.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.0f} pt" if v else "0"))
    what = others[0].label if len(others) == 1 else "each scenario"
    right.set_xlabel(f"Share in {what} minus share in {comparison.baseline.label}\n"
                     "(percentage points)")
    lim = max(abs(v) for v in right.get_xlim())
    right.set_xlim(-lim * 1.08, lim * 1.08)
    test = comparison.chi_square
    verdict = "differ" if test.significant else "no significant difference"
    right.set_title(f"Difference from the baseline, 95% Newcombe intervals\n"
                    f"chi-square {test.statistic:.1f}, dof {test.dof}, p {_p(test.p_value)}: "
                    f"{verdict}", fontsize=9)
    runs = sorted({a.runs for a in arms})
    seeds = sorted({a.summary["seed"] for a in arms})
    fig.suptitle(f"Comparing {len(arms)} scenarios: {'/'.join(f'{r:,}' for r in runs)} worlds "
                 f"each, seed {'/'.join(map(str, seeds))}", fontsize=10)
    return fig


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
