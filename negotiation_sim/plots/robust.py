"""The figure of a robustness analysis: each policy's outcome and regret over the states of the world.

Left: for each policy (one row, ordered by maximum regret, the most robust on top), the outcome's
share in every sampled state of the world as dots, their mean as a bar tick and the satisficing
threshold as a dashed line. Right: the same policies' regret in each state (how far each falls
short of the best policy in that state), the maximum ringed.
"""

from __future__ import annotations

import numpy as np

from negotiation_sim.analysis.robust import Robustness
from negotiation_sim.plots.style import (
    MARK_COLOUR,
    SHARE_COLOURS,
    closes_on_error,
    pyplot,
    share_labels,
    wrap,
)


@closes_on_error
def robustness(found: Robustness, axes=None, *, words=None):
    """Outcome and regret of every policy over the states; ``axes``: two Axes or None;
    ``words``: what names the outcome (the results, their scenario: ``config.words.words_of``).

    Returns:
        The matplotlib Figure.
    """
    plt = pyplot()
    n = len(found.policies)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 1.2 + 0.42 * n), layout="constrained",
                               sharey=True, gridspec_kw={"width_ratios": [1.3, 1]})
    left, right = axes
    fig = left.figure
    order = np.argsort(found.scores["max_regret"].to_numpy(), kind="stable")
    colour = SHARE_COLOURS[found.outcome]
    word = share_labels(words)[found.outcome].lower()
    rng = np.random.default_rng(0)  # jitter only: where the dots sit, not what they say
    regret = found.regret
    for row, i in enumerate(order):
        y = row + rng.uniform(-0.18, 0.18, found.values.shape[1])
        left.scatter(found.values[i] * 100, y, s=10, color=colour, alpha=0.6, lw=0)
        left.plot([found.scores.loc[i, "expected"] * 100] * 2, [row - 0.3, row + 0.3],
                  color=MARK_COLOUR, lw=2)
        right.scatter(regret[i] * 100, y, s=10, color="#888888", alpha=0.6, lw=0)
        worst = found.scores.loc[i, "max_regret"] * 100
        right.scatter([worst], [row], s=70, facecolors="none", edgecolors=MARK_COLOUR, lw=1.2)
    left.axvline(found.threshold * 100, color=MARK_COLOUR, ls="--", lw=1,
                 label=f"threshold {found.threshold:.1%}")
    left.plot([], [], color=MARK_COLOUR, lw=2, label="mean over states")
    left.legend(loc="lower right", frameon=False, fontsize=8)
    left.set_yticks(range(n), [wrap(found.policy_label(i), 44) for i in order], fontsize=8)
    left.invert_yaxis()
    left.set_xlabel(f"share of worlds ending in {word} (%), one dot per state of the world")
    right.set_xlabel("regret: shortfall from the best policy in the same state "
                     "(percentage points); ringed: the maximum")
    left.set_title(f"{word.capitalize()} under each policy "
                   f"({'higher' if found.maximize else 'lower'} is better)", fontsize=10)
    right.set_title("Regret (lower is better); policies by maximum regret", fontsize=10)
    states = found.values.shape[1]
    fig.suptitle(f"Which policy is robust? {n} policies x {states} states of the world "
                 f"({found.runs:,} worlds each)", fontsize=11)
    return fig
