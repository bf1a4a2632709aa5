"""The figure of a comparison: each scenario's outcome shares and its difference from the baseline."""

from __future__ import annotations

import numpy as np

from negotiation_sim.analysis.compare import Comparison, format_p
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.plots.run import outcome_shares
from negotiation_sim.plots.style import (
    MARK_COLOUR,
    OUTCOME_COLOURS,
    closes_on_error,
    outcome_labels,
    pyplot,
)


def figure(comparison: Comparison):
    """Outcome shares side by side (left) and each arm's difference from the baseline (right).

    Returns:
        The matplotlib Figure.
    """
    return closes_on_error(_draw)(comparison)


def _draw(comparison: Comparison):
    plt = pyplot()
    arms = comparison.arms
    width = max(10.0, 2.2 * len(arms) + 6)
    fig, (left, right) = plt.subplots(1, 2, figsize=(width, 4.6), layout="constrained",
                                      gridspec_kw={"width_ratios": [1.0, 1.2]})
    outcome_shares([a.summary for a in arms], ax=left, labels=[a.label for a in arms])
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
                           fmt=markers[j % len(markers)], color=OUTCOME_COLOURS[outcome],
                           markeredgecolor=MARK_COLOUR, ecolor=MARK_COLOUR,
                           elinewidth=1, capsize=3, markersize=7)
            if len(others) > 1:  # name the arm on the side facing zero, where there is room
                at, dx, ha = (lo, -5, "right") if d > 0 else (hi, 5, "left")
                right.annotate(arm.label, (at * 100, yy), textcoords="offset points",
                               xytext=(dx, 0), ha=ha, va="center", fontsize=7, color="#444444")
    right.axvline(0, color=MARK_COLOUR, linewidth=0.8)
    names = outcome_labels(arms[0].summary)  # the baseline's words name the rows
    right.set_yticks(ys, [names[o] for o in OUTCOMES])
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
                    f"chi-square {test.statistic:.1f}, dof {test.dof}, p {format_p(test.p_value)}: "
                    f"{verdict}", fontsize=9)
    runs = sorted({a.runs for a in arms})
    seeds = sorted({a.summary["seed"] for a in arms})
    fig.suptitle(f"Comparing {len(arms)} scenarios: {'/'.join(f'{r:,}' for r in runs)} worlds "
                 f"each, seed {'/'.join(map(str, seeds))}", fontsize=10)
    return fig
