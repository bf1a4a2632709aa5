"""Robust policies: which combination of levers does well whatever the uncertainties turn out to be.

A ``robust`` sweep (``config.design``) evaluates every *policy* (a combination of the levers'
values: what a party chooses) in the same sampled *states of the world* (values of the
uncertainties: what nobody controls), with the same worlds when ``common_random_numbers`` is on.
This module reads its points and scores each policy on one outcome share ``y[policy, state]``
with the robustness metrics McPhail et al. (2018) classify (Earth's Future 6, 169-191; cited for
the classification into a transformation of the outcomes, a choice of states and an aggregation,
and for the finding that the metrics can rank policies differently, which is why all are shown):

* **expected**: the mean over states (Laplace's principle of insufficient reason: every state
  equally likely);
* **worst**: the worst state (Wald's maximin, 1950: the most cautious);
* **p10**: the 10th percentile of states from the bad end (a percentile metric, less driven by one
  extreme state than the worst case; Kwakkel, Eker & Pruyt 2016);
* **satisficing**: the share of states where the outcome meets a threshold (Starr's domain
  criterion, 1963; Simon's satisficing);
* **max regret** and **p90 regret**: regret is how far a policy falls short of the best policy
  in the same state (Savage 1951); minimax regret picks the policy whose worst shortfall is
  smallest.

Everything here is data: the sweep has already run (``negsim sweep``), so scoring is instant and
never re-runs the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from negotiation_sim.config.paths import param_label
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.results.reader import SweepResults
from negotiation_sim.results.summary import MEETING_COLUMNS

METRICS = ("expected", "worst", "p10", "satisficing", "max_regret", "p90_regret")
"""Every metric, in table order."""
LOWER_IS_BETTER = ("max_regret", "p90_regret")


class RobustnessError(ValueError):
    """The results cannot answer the question (not a robust sweep, an unknown outcome...)."""


@dataclass
class Robustness:
    """Each policy's scores over the same states of the world.

    Attributes:
        outcome: the outcome share scored.
        maximize: True when more of the outcome is better.
        threshold: the share the satisficing metric asks for (in the good direction).
        levers: lever paths; ``policies``: one dict lever -> value per policy, in design order.
        uncertainties: uncertainty paths; ``states``: ``(S, U)`` their sampled values.
        values: ``(P, S)`` the outcome share of each policy in each state.
        scores: one row per policy, a column per metric (``METRICS``).
        best: metric -> index of the most robust policy under it.
        runs: worlds per point.
    """

    outcome: str
    maximize: bool
    threshold: float
    levers: list[str]
    policies: list[dict[str, Any]]
    uncertainties: list[str]
    states: np.ndarray
    values: np.ndarray
    scores: pd.DataFrame
    best: dict[str, int]
    runs: int
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def regret(self) -> np.ndarray:
        """``(P, S)`` each policy's shortfall from the best policy in the same state."""
        return regret_of(self.values, self.maximize)

    def policy_label(self, i: int) -> str:
        """``pressure.russia=0.02, pressure.ukraine=0``: a policy by its levers' values."""
        return ", ".join(f"{short(p)}={_num(v)}" for p, v in self.policies[i].items())

    def to_json(self) -> dict[str, Any]:
        """``negsim robust --json``: the question, every policy's scores, and the best."""
        return {
            "outcome": self.outcome, "maximize": self.maximize, "threshold": self.threshold,
            "runs": self.runs, "levers": self.levers, "uncertainties": self.uncertainties,
            "states": int(self.values.shape[1]),
            "policies": [{"levers": p, **{m: float(self.scores.loc[i, m]) for m in METRICS}}
                         for i, p in enumerate(self.policies)],
            "best": {m: int(i) for m, i in self.best.items()},
        }


def robustness(results: SweepResults, outcome: str = "agreement", *, maximize: bool = True,
               threshold: float | None = None) -> Robustness:
    """Score every policy of a robust sweep on ``outcome``.

    Args:
        results: the results of a sweep with ``method: robust``.
        outcome: agreement, ceasefire, breakdown or no_summit, or a meeting: talks or leaders.
        maximize: more of the outcome is better (False: less is, e.g. for no_summit).
        threshold: the share satisficing asks for (at least it when maximising, at most it
            otherwise); None takes the mean over every policy and state.

    Returns:
        The policies' scores and the best policy under each metric.

    Raises:
        RobustnessError: not a robust sweep, an unknown outcome, or points missing.
    """
    if outcome not in OUTCOMES and outcome not in MEETING_COLUMNS:
        raise RobustnessError(f"unknown outcome '{outcome}' (choose "
                              f"{', '.join((*OUTCOMES, *MEETING_COLUMNS))})")
    design = results.manifest.get("design", {})
    if design.get("method") != "robust":
        raise RobustnessError(f"these are the results of a {design.get('method', 'single')} "
                              "sweep; robustness needs a sweep with method: robust (levers and "
                              "uncertainties)")
    levers, uncertain = list(design["levers"]), list(design["uncertainties"])
    n_policies, n_states = int(design["policies"]), int(design["samples"])
    table = results.summary.sort_values("point")
    if len(table) != n_policies * n_states:
        raise RobustnessError(f"the sweep holds {len(table)} of its {n_policies * n_states} "
                              "points (finish it with negsim sweep --resume)")
    if outcome not in table:  # a sweep summarised before meetings were
        raise RobustnessError(f"this sweep's summary has no '{outcome}' column (it was made "
                              "before meetings were summarised): run it again")
    values = table[outcome].to_numpy(float).reshape(n_policies, n_states)
    rows = table.reset_index(drop=True)
    policies = [{p: _plain(rows.loc[i * n_states, p]) for p in levers} for i in range(n_policies)]
    states = rows.loc[:n_states - 1, uncertain].to_numpy(float)
    if threshold is None:
        threshold = float(values.mean())
    scores = score(values, maximize, threshold)
    best = best_policies(scores, maximize)
    sc = results.scenario
    labels = {p: param_label(p, sc) for p in [*levers, *uncertain]}
    return Robustness(outcome, maximize, float(threshold), levers, policies, uncertain, states,
                      values, scores, best, int(table["runs"].iloc[0]), labels)


def score(values: np.ndarray, maximize: bool, threshold: float) -> pd.DataFrame:
    """Every metric of ``METRICS`` per policy (rows) of a ``(P, S)`` table of outcome shares.

    ``expected``, ``worst`` and ``p10`` are outcome shares: the mean, the worst state (lowest
    when maximising, highest otherwise) and the 10th percentile from the bad end;
    ``satisficing`` is the share of states meeting ``threshold``; the regrets are shortfalls
    from the best policy of each state, in outcome share.
    """
    meets = values >= threshold - 1e-12 if maximize else values <= threshold + 1e-12
    regret = regret_of(values, maximize)
    return pd.DataFrame({
        "expected": values.mean(axis=1),
        "worst": values.min(axis=1) if maximize else values.max(axis=1),
        "p10": np.percentile(values, 10 if maximize else 90, axis=1),
        "satisficing": meets.mean(axis=1),
        "max_regret": regret.max(axis=1),
        "p90_regret": np.percentile(regret, 90, axis=1),
    })


def best_policies(scores: pd.DataFrame, maximize: bool) -> dict[str, int]:
    """Metric -> the policy it ranks first (ties: the better mean, then the earlier policy in
    design order)."""
    mean = scores["expected"].to_numpy() * (1 if maximize else -1)
    out = {}
    for m in METRICS:
        higher = m == "satisficing" or (maximize and m not in LOWER_IS_BETTER)
        col = scores[m].to_numpy() * (1 if higher else -1)
        # lexsort: the last key sorts first; the index keeps ties in design order
        order = np.lexsort((np.arange(len(col)), -mean, -np.round(col, 12)))
        out[m] = int(order[0])
    return out


def regret_of(values: np.ndarray, maximize: bool) -> np.ndarray:
    """``(P, S)``: how far each policy falls short of the best policy in each state."""
    good = values if maximize else -values
    return good.max(axis=0, keepdims=True) - good


def short(path: str) -> str:
    """The last two parts of a dotted path (``actors.us.pressure.russia`` -> ``pressure.russia``)."""
    return ".".join(path.split(".")[-2:])


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)
