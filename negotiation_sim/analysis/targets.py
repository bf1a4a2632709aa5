"""What would it take: the smallest change of some levers that brings an outcome to a share.

``reach(scenario, "agreement", 0.5, [Vary("actors.us.pressure.russia", 0, 0.1), ...])`` searches
the named levers, each within its range, for the values closest to the scenario's own (distance
measured in each lever's range, so levers of different units weigh alike) at which the outcome's
share reaches the target. Every evaluation runs the same worlds (the same seed: common random
numbers), so the share is a deterministic function of the levers and differences between
evaluations come from the levers alone.

Method:

1. Each lever alone at each end of its range, the others at the scenario's values, says which end
   raises the share; with every lever at its better end (the *best corner*) the share is the most
   these ranges can give, as far as each lever's effect keeps its sign. Below the target there:
   not reachable within the ranges (said so; the best corner is reported).
2. One lever: bisection on the segment from the scenario's value to its better end (12 steps:
   the range over 4,096).
3. Several: COBYLA (``scipy.optimize.minimize``, constrained optimisation by linear
   approximations; derivative-free, bounds and an inequality constraint) minimises the squared
   distance subject to share >= target, started from the scenario's values, in coordinates
   scaled to each lever's range. A share is a step function of the levers at a fixed seed, so
   the answer is then made feasible and minimal along its ray: bisection between the scenario's
   values and COBYLA's point (or the best corner, when COBYLA ends short of the target).

A target ``holds.agreement`` (or ``holds.ceasefire``) is the share of signed texts of that kind
still holding after the followed rounds (``durability`` in the run summary).

Raises ``TargetError`` for questions the scenario cannot answer (an unknown outcome, a path
without a range, a range outside the field's). Data only: the summaries come from the function
the caller passes (``api.target`` passes the engine's, ``run.engine.summarise``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from negotiation_sim.config.levers import lever_value, levers, set_paths
from negotiation_sim.config.paths import field_range, param_label, path_error
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.config.yamlio import InputError
from negotiation_sim.core.outcomes import OUTCOMES
from negotiation_sim.results.summary import MEETING_COLUMNS

Summarise = Callable[[Scenario], dict[str, Any]]
"""A scenario's run summary (the ``negsim run --json`` shape), the same worlds every call."""

BISECTIONS = 12


class TargetError(ValueError):
    """A target or a lever the scenario cannot take."""


@dataclass(frozen=True)
class Vary:
    """A lever to search: its dotted path and range (None: the field's valid range)."""

    path: str
    low: float | None = None
    high: float | None = None

    @classmethod
    def parse(cls, text: str) -> Vary:
        """``PATH`` or ``PATH=LO:HI``."""
        path, sep, rng = text.partition("=")
        path = path.strip()
        if not sep:
            return cls(path)
        lo, colon, hi = rng.partition(":")
        try:
            if not colon:
                raise ValueError
            low, high = float(lo), float(hi)
        except ValueError:
            raise TargetError(f"--vary {text}: write PATH or PATH=LO:HI (e.g. "
                              "actors.us.pressure.russia=0:0.1)") from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise TargetError(f"--vary {text}: LO and HI must be finite numbers (a search "
                              "needs a bounded range)")
        return cls(path, low, high)


@dataclass
class Answer:
    """What it would take.

    Attributes:
        reached: whether some values within the ranges reach the target.
        levers: path -> value found (the best corner when not reached).
        share, ci95: the metric there, with its 95% Wilson interval.
        worlds: worlds simulated in the whole search; ``evaluations``: runs of ``runs`` worlds.
        start: each lever's value in the scenario; ``start_share``: the metric there.
        ranges: each lever's searched range; ``method``: how it was searched.
    """

    metric: str
    target: float
    reached: bool
    levers: dict[str, float]
    share: float
    ci95: tuple[float, float]
    worlds: int
    evaluations: int
    start: dict[str, float]
    start_share: float
    ranges: dict[str, tuple[float, float]]
    method: str
    labels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"reached", "levers", "share", "ci95", "worlds"}`` and the context beside them."""
        return {"reached": self.reached, "levers": dict(self.levers), "share": self.share,
                "ci95": list(self.ci95), "worlds": self.worlds, "metric": self.metric,
                "target": self.target, "start": dict(self.start),
                "start_share": self.start_share, "evaluations": self.evaluations,
                "ranges": {p: list(r) for p, r in self.ranges.items()}, "method": self.method}


def metric_of(summary: dict[str, Any], metric: str) -> tuple[float, tuple[float, float]]:
    """(share, 95% interval) of an outcome, a meeting (``talks``, ``leaders``) or
    ``holds.<agreement|ceasefire>`` in a summary."""
    if metric in summary["outcomes"]:
        o = summary["outcomes"][metric]
        return o["share"], tuple(o["ci95"])
    if metric in MEETING_COLUMNS:
        m = summary["meetings"][metric]
        return m["share"], tuple(m["ci95"])
    kind = metric.removeprefix("holds.")
    d = (summary.get("durability") or {}).get(kind)
    if d is None:
        return 0.0, (0.0, 0.0)
    return d["holds"]["share"], tuple(d["holds"]["ci95"])


def check_metric(sc: Scenario, metric: str) -> None:
    if metric in OUTCOMES or metric in MEETING_COLUMNS:
        return
    if metric in ("holds.agreement", "holds.ceasefire"):
        if sc.durability.rounds < 1:
            raise TargetError(f"{metric} needs a scenario that follows signed texts "
                              "(durability.rounds >= 1)")
        return
    raise TargetError(f"unknown outcome '{metric}' (choose {', '.join(OUTCOMES)}, "
                      f"{', '.join(MEETING_COLUMNS)}, holds.agreement or holds.ceasefire)")


def ranges_of(sc: Scenario, varies: Sequence[Vary]) -> dict[str, tuple[float, float]]:
    """Each lever's range: the one given, else its explorer control's range, else the range
    its field must lie in (``config.paths.field_range``: patience (0, 1], walk-out [0, 1])."""
    by_path = {lv.path: lv for lv in levers(sc)}
    out: dict[str, tuple[float, float]] = {}
    for v in varies:
        if v.path in out:
            raise TargetError(f"{v.path} is named twice")
        if v.path not in by_path and (msg := path_error(sc, v.path)) is not None:
            raise TargetError(msg)
        lever = by_path.get(v.path)
        if lever is not None and lever.kind == "choice":
            raise TargetError(f"{v.path} takes a choice ({', '.join(lever.choices)}), not a "
                              "number to search")
        if v.low is None:
            if lever is not None:
                out[v.path] = (float(lever.low), float(lever.high))
            elif (span := field_range(sc, v.path)) is not None:  # patience, walk-out...
                out[v.path] = span
            else:
                raise TargetError(f"{v.path} has no range of its own: give one "
                                  f"({v.path}=LO:HI)")
        else:
            if not v.low < v.high:
                raise TargetError(f"{v.path}={v.low:g}:{v.high:g}: the range must run from low "
                                  "to high")
            out[v.path] = (v.low, v.high)
    if not out:
        raise TargetError("name at least one lever to vary (--vary PATH[=LO:HI])")
    return out


class _Evaluator:
    """The metric at given lever values, from ``summarise`` of the changed scenario."""

    def __init__(self, sc: Scenario, metric: str, summarise: Summarise, paths: list[str]):
        self.sc, self.metric, self.summarise, self.paths = sc, metric, summarise, paths
        self.calls = 0
        self.cache: dict[tuple, tuple[float, tuple[float, float]]] = {}

    def __call__(self, values: Sequence[float]) -> tuple[float, tuple[float, float]]:
        key = tuple(round(float(v), 12) for v in values)
        if key not in self.cache:
            try:
                sc = set_paths(self.sc, dict(zip(self.paths, key)), source="--vary")
            except InputError as err:
                raise TargetError(f"{', '.join(self.paths)} = {', '.join(map(str, key))} "
                                  f"makes the scenario invalid: {err}") from None
            self.calls += 1
            self.cache[key] = metric_of(self.summarise(sc), self.metric)
        return self.cache[key]


def reach(sc: Scenario, metric: str, target: float, varies: Sequence[Vary], *,
          summarise: Summarise, runs: int) -> Answer:
    """The smallest change of the levers that brings ``metric``'s share to ``target``.

    Args:
        sc: the scenario.
        metric: an outcome, a meeting (``talks``, ``leaders``), or ``holds.agreement`` /
            ``holds.ceasefire``.
        target: the share to reach (at least).
        varies: the levers and their ranges.
        summarise: the run summary of a changed scenario (the same worlds every call).
        runs: worlds per evaluation (for the answer's count of worlds).

    Returns:
        The answer: the levers' values found (or the best corner), the metric there with its
        interval, and how the search went.

    Raises:
        TargetError: an unknown metric, path or range.
    """
    check_metric(sc, metric)
    if not 0 <= target <= 1:
        raise TargetError(f"the target share must lie in [0, 1], got {target:g}")
    rng = ranges_of(sc, varies)
    paths = list(rng)
    lo = np.array([rng[p][0] for p in paths])
    hi = np.array([rng[p][1] for p in paths])
    x0 = np.clip([float(lever_value(sc, p)) for p in paths], lo, hi)
    f = _Evaluator(sc, metric, summarise, paths)

    def share(z: np.ndarray) -> float:
        return f(lo + np.clip(z, 0, 1) * (hi - lo))[0]

    z0 = (x0 - lo) / (hi - lo)
    s0 = share(z0)
    method = "none needed: the scenario reaches the target"
    z = z0
    if s0 < target:
        best = z0.copy()
        for i in range(len(paths)):  # each lever's better end, the others where they are
            ends = []
            for end in (0.0, 1.0):
                e = z0.copy()
                e[i] = end
                ends.append(share(e))
            best[i] = 1.0 if ends[1] >= ends[0] else 0.0
        if share(best) < target:
            method = "not reachable: the best corner of the ranges falls short"
            z = best
        elif len(paths) == 1:
            z = _bisect(share, z0, best, target)
            method = f"bisection ({BISECTIONS} steps) on the segment to the range's better end"
        else:
            z = _cobyla(share, z0, best, target)
            method = ("COBYLA (scipy.optimize.minimize) on the squared distance in range units "
                      "subject to share >= target, then bisection along its ray")
    values = lo + z * (hi - lo)
    value, ci = f(values)
    return Answer(metric, target, value >= target, dict(zip(paths, map(float, values))), value,
                  ci, f.calls * runs, f.calls, dict(zip(paths, map(float, x0))), s0,
                  {p: rng[p] for p in paths}, method,
                  {p: param_label(p, sc) for p in paths})


def _bisect(share, start: np.ndarray, end: np.ndarray, target: float) -> np.ndarray:
    """The point nearest ``start`` on the segment to ``end`` (which reaches the target) found
    to reach it, by bisection on the fraction of the way."""
    a, b = 0.0, 1.0
    for _ in range(BISECTIONS):
        m = (a + b) / 2
        if share(start + m * (end - start)) >= target:
            b = m
        else:
            a = m
    return start + b * (end - start)


def _cobyla(share, z0: np.ndarray, best: np.ndarray, target: float) -> np.ndarray:
    from scipy.optimize import minimize

    res = minimize(lambda z: float(np.sum((z - z0) ** 2)), z0, method="COBYLA",
                   constraints=[{"type": "ineq", "fun": lambda z: share(z) - target}],
                   bounds=[(0.0, 1.0)] * len(z0),
                   options={"rhobeg": 0.25, "maxiter": 60, "tol": 1e-3})
    z = np.clip(res.x, 0, 1)
    if share(z) < target:  # ended short: walk towards the corner that reaches it
        z = _bisect(share, z, best, target)
    if math.isclose(float(np.sum((z - z0) ** 2)), 0.0):
        return z
    return _bisect(share, z0, z, target)
