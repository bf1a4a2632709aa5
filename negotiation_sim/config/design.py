"""The sweep of an experiment file and the points it makes, in the vocabulary of exploratory
modelling.

This module owns the ``sweep:`` section's schema (``Sweep``, ``Range``) and its consistency checks,
and the designs: ``grid`` (cartesian product), ``list`` (explicit points), ``lhs`` (Latin hypercube, scipy),
``sobol`` (Saltelli's scheme) and ``morris`` (elementary-effect trajectories), the last two via
SALib so that ``negsim sensitivity`` analyses exactly the samples that were run, and ``robust``:
EMA Workbench's separation of *levers* (what a party chooses: every combination of their values
is a policy) from *uncertainties* (what nobody controls: a Latin hypercube of states of the
world), every policy evaluated in the same states of the world (``negsim robust``). A design's size
is known before any point is made (``n_points``), so one too large for ``limits.MAX_POINTS`` is
refused without building it.
"""

from __future__ import annotations

import warnings

import inspect
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, Discriminator, Field, Tag

from negotiation_sim.config import limits
from negotiation_sim.config.distributions import STRICT, Real, at_most
from negotiation_sim.config.extras import require

_STRICT = STRICT

SAMPLED = ("lhs", "sobol", "morris")  # methods that draw points inside bounds
LABEL = "label"  # reserved key of a ``list`` point: its name in tables (not a scenario path)


class Range(BaseModel):
    """A numeric range: bounds for lhs/sobol/morris, or ``num`` evenly spaced values for grid."""

    model_config = _STRICT
    low: Real
    high: Real
    num: Annotated[int, Field(ge=1), *at_most(limits.MAX_POINTS, "the number of values of a grid "
                                               "axis")] | None = Field(
        None, description="grid only: how many values from low to high.")
    integer: bool = Field(False, description="Round sampled values to whole numbers.")


def _spec_kind(value: Any) -> str:
    return "values" if isinstance(value, list) else "range"


ParamSpec = Annotated[
    Union[Annotated[list[Any], Tag("values")], Annotated[Range, Tag("range")]],
    Discriminator(_spec_kind),
]


class Sweep(BaseModel):
    """How the points of an experiment are chosen."""

    model_config = _STRICT
    method: Literal["grid", "list", "lhs", "sobol", "morris", "robust"]
    samples: Annotated[int, Field(ge=1), *at_most(limits.MAX_POINTS, "samples")] | None = Field(
        None,
        description="lhs: number of points; sobol/morris: base sample count N "
                    "(sobol runs N(D+2) points, N(2D+2) with second_order; morris N(D+1)); "
                    "robust: states of the world every policy meets.")
    parameters: dict[str, ParamSpec] = Field(
        default_factory=dict,
        description="Dotted scenario path -> list of values or {low, high, num} (grid), "
                    "or {low, high} bounds (lhs, sobol, morris).")
    points: list[dict[str, Any]] = Field(
        default_factory=list,
        description="method list: explicit points, each a mapping of dotted path -> value "
                    "(the key 'label' names the point).")
    second_order: bool = Field(False, description="sobol: also sample for second-order indices.")
    levels: int = Field(4, ge=2, le=100, description="morris: number of grid levels.")
    levers: dict[str, ParamSpec] = Field(
        default_factory=dict,
        description="robust: what a party chooses, dotted path -> list of values or {low, "
                    "high, num}; every combination is a policy.")
    uncertainties: dict[str, Range] = Field(
        default_factory=dict,
        description="robust: what nobody controls, dotted path -> {low, high}; a Latin "
                    "hypercube of `samples` states of the world, the same for every policy.")


def sweep_problems(sweep: Sweep) -> list[tuple[tuple, str]]:
    """(loc inside the sweep, message) for every inconsistency of a sweep's fields."""
    out: list[tuple[tuple, str]] = []
    m, params = sweep.method, sweep.parameters
    if m == "list":
        if not sweep.points:
            out.append((("points",), "method list needs at least one point"))
        if params:
            out.append((("parameters",), "method list takes its values from points, not "
                                         "parameters (use grid to cross parameters)"))
        for i, point in enumerate(sweep.points):
            # a labelled point that sets nothing is the scenario as written (a baseline point)
            if not point:
                out.append((("points", i), "a point must set at least one path, or be the "
                                           "scenario as written with a label ({label: "
                                           "baseline})"))
        return out + _list_problems(sweep)
    if sweep.points:
        out.append((("points",), f"points are for method list, not {m}"))
    if m == "robust":
        return out + _robust_problems(sweep)
    for key in ("levers", "uncertainties"):
        if getattr(sweep, key):
            out.append(((key,), f"{key} are for method robust, not {m}"))
    if not params:
        out.append((("parameters",), f"method {m} needs at least one parameter"))
    for path, spec in params.items():
        loc = ("parameters", path)
        if isinstance(spec, Range) and spec.low > spec.high:
            out.append((loc, f"bounds reversed: low ({spec.low:g}) > high ({spec.high:g})"))
        if m == "grid":
            if isinstance(spec, list) and not spec:
                out.append((loc, "a grid parameter needs at least one value"))
            if isinstance(spec, Range) and spec.num is None:
                out.append((loc, "a grid range needs num (how many values from low to high)"))
        else:
            if isinstance(spec, list):
                out.append((loc, f"method {m} needs bounds {{low: ..., high: ...}}, not a "
                                 "list of values"))
            elif spec.num is not None:
                out.append((loc, f"num is for grid; method {m} draws its own values"))
            elif spec.low == spec.high:
                out.append((loc, "bounds must differ (fix the value in overrides instead)"))
    if m in SAMPLED and sweep.samples is None:
        out.append((("method",), f"method {m} needs samples (the base sample count)"))
    if m == "sobol" and sweep.samples and sweep.samples & (sweep.samples - 1):
        out.append((("samples",), f"sobol needs samples to be a power of 2 (got "
                                  f"{sweep.samples}; try {1 << sweep.samples.bit_length()})"))
    if m == "grid":
        for path, spec in params.items():
            if isinstance(spec, list):
                out += _repeated_values(("parameters", path), spec)
    out += _overlapping(("parameters",), list(params))
    if not out and (size := n_points(sweep)) > limits.MAX_POINTS:
        where = ("samples",) if m in SAMPLED else ("parameters",)
        out.append((where, limits.limit_text(f"the number of points of a {m} design",
                                             limits.MAX_POINTS, size)))
    return out


def _robust_problems(sweep: Sweep) -> list[tuple[tuple, str]]:
    """A robust sweep: levers as grid axes, uncertainties as bounds, samples, no parameters."""
    out: list[tuple[tuple, str]] = []
    if sweep.parameters:
        out.append((("parameters",), "method robust takes levers and uncertainties, not "
                                     "parameters"))
    if not sweep.levers:
        out.append((("levers",), "method robust needs at least one lever (what a party "
                                 "chooses)"))
    if not sweep.uncertainties:
        out.append((("uncertainties",), "method robust needs at least one uncertainty (what "
                                        "nobody controls)"))
    if sweep.samples is None:
        out.append((("method",), "method robust needs samples (the states of the world every "
                                 "policy meets)"))
    for path, spec in sweep.levers.items():
        loc = ("levers", path)
        if isinstance(spec, list):
            if not spec:
                out.append((loc, "a lever needs at least one value"))
            out += _repeated_values(loc, spec)
        elif spec.num is None:
            out.append((loc, "a lever range needs num (how many values from low to high)"))
        elif spec.low > spec.high:
            out.append((loc, f"bounds reversed: low ({spec.low:g}) > high ({spec.high:g})"))
    for path, spec in sweep.uncertainties.items():
        loc = ("uncertainties", path)
        if spec.num is not None:
            out.append((loc, "num is for levers; uncertainties are sampled"))
        if spec.low > spec.high:
            out.append((loc, f"bounds reversed: low ({spec.low:g}) > high ({spec.high:g})"))
        elif spec.low == spec.high:
            out.append((loc, "bounds must differ (fix the value in overrides instead)"))
        if path in sweep.levers:
            out.append((loc, f"'{path}' is a lever too: a number is chosen or uncertain, "
                             "not both"))
    out += _overlapping(("levers",), [*sweep.levers, *sweep.uncertainties])
    if not out and (size := n_points(sweep)) > limits.MAX_POINTS:
        out.append((("samples",), limits.limit_text("the number of points of a robust design "
                                                    "(policies x samples)", limits.MAX_POINTS,
                                                    size)))
    return out


def _list_problems(sweep: Sweep) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    if len(sweep.points) > limits.MAX_POINTS:
        out.append((("points",), limits.limit_text("the number of points of a list design",
                                                   limits.MAX_POINTS, len(sweep.points))))
    labels: dict[str, int] = {}
    for i, point in enumerate(sweep.points):
        out += _overlapping(("points", i), [k for k in point if k != LABEL])
        label = point.get(LABEL)
        if label is None:
            continue
        if str(label) in labels:  # tables and figures name points by label
            out.append((("points", i, LABEL), f"label {_show(label)} is used twice (first by "
                                              f"point {labels[str(label)]})"))
        labels.setdefault(str(label), i)
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, default=str)


def _repeated_values(loc: tuple, values: list[Any]) -> list[tuple[tuple, str]]:
    """A grid axis that repeats a value runs the same points twice under different seeds and
    makes the sweep's tables and heat maps hold two cells for one value."""
    first: dict[str, int] = {}
    out = []
    for i, v in enumerate(values):
        key = _canonical(v)
        if key in first:
            out.append(((*loc, i), f"value {_show(v)} is listed twice (first as item "
                                   f"{first[key]})"))
        first.setdefault(key, i)
    return out


def _overlapping(loc: tuple, paths: list[str]) -> list[tuple[tuple, str]]:
    """Paths of which one lies inside another: the later value would replace or reshape the
    earlier one, so what a point means would depend on the order they are applied in."""
    out = []
    for i, inner in enumerate(paths):
        for outer in paths[:i] + paths[i + 1:]:
            if inner.startswith(outer + "."):
                out.append(((*loc, inner), f"path '{inner}' lies inside '{outer}', which is "
                                           "also set here: set one of them"))
    return out


@dataclass(frozen=True)
class Space:
    """The uncertain space of a sampled design: one (low, high) per parameter path."""

    names: list[str]
    bounds: list[tuple[float, float]]

    def salib(self) -> dict[str, Any]:
        """SALib's problem specification (kept at this boundary only)."""
        return {"num_vars": len(self.names), "names": list(self.names),
                "bounds": [list(b) for b in self.bounds]}


@dataclass
class Design:
    """The points of a sweep, in order: point ``i`` sets ``points[i]`` on top of the overrides."""

    method: str
    points: list[dict[str, Any]]
    labels: list[str | None]
    space: Space | None = None  # lhs / sobol / morris
    X: np.ndarray | None = None  # (points, D) sampled values, lhs / sobol / morris
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Parameter paths in column order (the union over points for ``list``)."""
        seen: dict[str, None] = {}
        for p in self.points:
            seen.update(dict.fromkeys(p))
        return list(seen)

    def __len__(self) -> int:
        return len(self.points)


def make_design(sweep: Sweep | None, seed: int) -> Design:
    """The points of a (checked) sweep. Sampled designs are seeded from ``seed``."""
    if sweep is None:
        return Design("single", [{}], [None])
    if sweep.method == "grid":
        axes = [_grid_values(spec) for spec in sweep.parameters.values()]
        names = list(sweep.parameters)
        points = [dict(zip(names, combo)) for combo in itertools.product(*axes)]
        return Design("grid", points, [None] * len(points))
    if sweep.method == "list":
        points = [{k: v for k, v in p.items() if k != LABEL} for p in sweep.points]
        labels = [None if p.get(LABEL) is None else str(p[LABEL]) for p in sweep.points]
        return Design("list", points, labels)
    if sweep.method == "robust":
        return _robust_design(sweep, seed)
    space = Space(list(sweep.parameters),
                  [(spec.low, spec.high) for spec in sweep.parameters.values()])
    X = sample_space(sweep.method, space, sweep.samples or 0, seed,
                     second_order=sweep.second_order, levels=sweep.levels)
    integer = np.array([spec.integer for spec in sweep.parameters.values()])
    X = np.where(integer, np.round(X), X)
    points = [{name: (int(v) if integer[j] else float(v)) for j, (name, v) in
               enumerate(zip(space.names, row))} for row in X]
    options = {"second_order": sweep.second_order, "levels": sweep.levels,
               "samples": sweep.samples, "seed": seed}
    return Design(sweep.method, points, [None] * len(points), space, X, options)


def _robust_design(sweep: Sweep, seed: int) -> Design:
    """Policies (every combination of the levers' values) times states of the world (a Latin
    hypercube of the uncertainties, drawn once): point ``policy * samples + state``."""
    levers = list(sweep.levers)
    policies = list(itertools.product(*(_grid_values(s) for s in sweep.levers.values())))
    space = Space(list(sweep.uncertainties),
                  [(spec.low, spec.high) for spec in sweep.uncertainties.values()])
    X = sample_space("lhs", space, sweep.samples or 0, seed)
    integer = np.array([spec.integer for spec in sweep.uncertainties.values()])
    X = np.where(integer, np.round(X), X)
    states = [{name: (int(v) if integer[j] else float(v)) for j, (name, v) in
               enumerate(zip(space.names, row))} for row in X]
    points = [{**dict(zip(levers, policy)), **state} for policy in policies for state in states]
    options = {"levers": levers, "uncertainties": space.names, "policies": len(policies),
               "samples": sweep.samples, "seed": seed}
    return Design("robust", points, [None] * len(points), space, None, options)


def grid_length(spec: list[Any] | Range) -> int:
    """How many values a grid axis has (without making them)."""
    return len(spec) if isinstance(spec, list) else (spec.num or 1)


def _grid_values(spec: list[Any] | Range) -> list[Any]:
    if isinstance(spec, list):
        return list(spec)
    num = spec.num or 1
    values = np.linspace(spec.low, spec.high, num).tolist()
    return [int(round(v)) for v in values] if spec.integer else values


def sample_space(method: str, space: Space, samples: int, seed: int, *,
                 second_order: bool = False, levels: int = 4) -> np.ndarray:
    """Draw a design matrix ``(points, D)`` inside ``space`` (lhs: scipy; sobol, morris: SALib)."""
    if method == "lhs":
        from scipy.stats import qmc

        rng = np.random.default_rng(seed)
        key = "rng" if "rng" in inspect.signature(qmc.LatinHypercube).parameters else "seed"
        unit = qmc.LatinHypercube(d=len(space.names), **{key: rng}).random(samples)
        lo, hi = np.array(space.bounds).T
        return lo + unit * (hi - lo)
    problem = space.salib()
    if method == "sobol":
        sobol = require("SALib.sample.sobol", "a sobol design")
        return sobol.sample(problem, samples, calc_second_order=second_order, scramble=True,
                            seed=seed)
    if method == "morris":
        morris = require("SALib.sample.morris", "a morris design")
        with warnings.catch_warnings():  # an odd number of levels: validate warns in our words
            warnings.filterwarnings("ignore", message="num_levels should be an even number")
            return morris.sample(problem, samples, num_levels=levels, seed=seed)
    raise ValueError(f"unknown sampling method {method!r}")


def n_points(sweep: Sweep | None) -> int:
    """How many points a sweep has, without making any (exact, however large)."""
    if sweep is None:
        return 1
    d = len(sweep.parameters)
    n = sweep.samples or 0
    return {
        "grid": math.prod(grid_length(s) for s in sweep.parameters.values()),
        "list": len(sweep.points),
        "lhs": n,
        "sobol": n * (2 * d + 2 if sweep.second_order else d + 2),
        "morris": n * (d + 1),
        "robust": math.prod(grid_length(s) for s in sweep.levers.values()) * n,
    }[sweep.method]
