"""Experiment files: which scenario variants a sweep runs, and how its points are sampled.

An experiment names a scenario file, fixed *overrides* and a *sweep* over some of the scenario's
numbers, each addressed by a dotted path into the scenario (``actors.russia.reservation.high``).
This module owns:

* the schema of experiment files (strict, frozen pydantic models, like scenario files);
* dotted paths: checking them against the scenario (an unknown path names the closest valid
  ones) and applying values to the scenario's raw YAML data *before* validation, so a swept value
  can replace a distribution with a fixed number or change one of a distribution's parameters;
* sampling designs, in the vocabulary of exploratory modelling (EMA Workbench): ``grid``
  (cartesian product), ``list`` (explicit points), ``lhs`` (Latin hypercube, scipy), ``sobol``
  (Saltelli's scheme) and ``morris`` (elementary-effect trajectories), the last two via SALib so
  that ``negsim sensitivity`` analyses exactly the samples that were run;
* ``load_experiment``: every mistake becomes a one-line ``FILE:LINE: field: message`` problem.

Execution and storage live elsewhere (``execution``, ``sweep``).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import inspect
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, Discriminator, Field, Tag, ValidationError

from negotiation_sim.distributions import STRICT
from negotiation_sim.runner import DEFAULT_CHUNK
from negotiation_sim.scenario import Scenario, scenario_from_data
from negotiation_sim.yamlio import (
    InputError,
    Problem,
    YamlDoc,
    load_yaml,
    problems_from_validation_error,
)

_STRICT = STRICT

METHODS = ("grid", "list", "lhs", "sobol", "morris")
SAMPLED = ("lhs", "sobol", "morris")  # methods that draw points inside bounds
LABEL = "label"  # reserved key of a ``list`` point: its name in tables (not a scenario path)


class Range(BaseModel):
    """A numeric range: bounds for lhs/sobol/morris, or ``num`` evenly spaced values for grid."""

    model_config = _STRICT
    low: float
    high: float
    num: int | None = Field(None, ge=1, description="grid only: how many values from low to high.")
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
    method: Literal["grid", "list", "lhs", "sobol", "morris"]
    samples: int | None = Field(
        None, ge=1, le=1_000_000,
        description="lhs: number of points; sobol/morris: base sample count N "
                    "(sobol runs N(D+2) points, N(2D+2) with second_order; morris N(D+1)).")
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


class Experiment(BaseModel):
    """A whole experiment file."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    description: str | None = None
    scenario: str = Field(min_length=1, description="Scenario file, relative to this file.")
    runs: int = Field(ge=1, le=10**9, description="Worlds simulated per point.")
    seed: int = Field(0, ge=0, description="Root of every random number of the sweep.")
    common_random_numbers: bool = Field(
        False, description="Every point draws the same worlds (seed spawn key 0 instead of the "
                           "point's index): sharper differences between points.")
    chunk_size: int = Field(
        DEFAULT_CHUNK, ge=1,
        description="Worlds per task (rounded to whole blocks of 1024); memory per task.")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Fixed changes to the scenario, dotted path -> value.")
    sweep: Sweep | None = Field(None, description="Without a sweep: one point, the scenario "
                                                  "with its overrides.")

    def digest(self) -> str:
        """SHA-256 of the validated content (stable across formatting and comments)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


# -- dotted paths -------------------------------------------------------------------------------


def _children(node: Any) -> dict[str, Any] | None:
    """The addressable children of a validated scenario node, or None for a leaf."""
    if isinstance(node, BaseModel):
        return {name: getattr(node, name) for name in type(node).model_fields}
    if isinstance(node, dict):
        return {str(k): v for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return {str(i): v for i, v in enumerate(node)}
    return None


def all_paths(node: Any, prefix: str = "") -> list[str]:
    """Every dotted path inside a validated scenario (fields left at defaults included)."""
    out: list[str] = []
    for key, child in (_children(node) or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        out.append(path)
        out += all_paths(child, path)
    return out


def path_error(scenario: Scenario, path: str) -> str | None:
    """Why ``path`` addresses nothing in ``scenario``, or None when it is valid.

    A path is valid when it leads to a field of the schema (set in the file or left at its
    default), or adds a key to a mapping of numbers (``actors.us.pressure.ukraine``). Values
    are checked later, by validating the changed scenario.
    """
    parts = path.split(".")
    node: Any = scenario
    for i, part in enumerate(parts):
        if node is None:  # an optional section left out: its schema decides, at validation
            return None
        kids = _children(node)
        if kids is None:
            where = ".".join(parts[:i])
            return _unknown_path(scenario, path, f"'{where}' is a single value, not a section")
        if part in kids:
            node = kids[part]
            continue
        last = i == len(parts) - 1
        opens_map = isinstance(node, dict) and not any(
            isinstance(v, BaseModel) for v in node.values())
        if last and opens_map:
            return None
        return _unknown_path(scenario, path)
    return None


def _unknown_path(scenario: Scenario, path: str, why: str | None = None) -> str:
    candidates = all_paths(scenario)
    close = difflib.get_close_matches(path, candidates, n=3, cutoff=0.6)
    if not close:  # e.g. a long path with a wrong actor id: compare the last parts
        tail = path.split(".")[-1]
        close = [c for c in candidates if c.endswith("." + tail)][:3]
    msg = f"unknown path '{path}'" + (f" ({why})" if why else "")
    return msg + (f"; closest valid paths: {', '.join(close)}" if close else "")


def set_path(data: dict, path: str, value: Any) -> None:
    """Set ``value`` at a dotted path in raw scenario data, creating missing sections."""
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
            continue
        if not isinstance(node.get(part), (dict, list)):
            node[part] = {}
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = copy.deepcopy(value)
    else:
        node[last] = copy.deepcopy(value)


# -- designs ------------------------------------------------------------------------------------


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
        from SALib.sample import sobol

        return sobol.sample(problem, samples, calc_second_order=second_order, scramble=True,
                            seed=seed)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, samples, num_levels=levels, seed=seed)
    raise ValueError(f"unknown sampling method {method!r}")


def n_points(sweep: Sweep | None) -> int:
    """How many points a sweep has, without sampling it."""
    if sweep is None:
        return 1
    d = len(sweep.parameters)
    n = sweep.samples or 0
    return {
        "grid": math.prod(len(_grid_values(s)) for s in sweep.parameters.values()),
        "list": len(sweep.points),
        "lhs": n,
        "sobol": n * (2 * d + 2 if sweep.second_order else d + 2),
        "morris": n * (d + 1),
    }[sweep.method]


# -- checks that the schema cannot make field by field ------------------------------------------


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
            if not any(k != LABEL for k in point):
                out.append((("points", i), "a point must set at least one path"))
        return out
    if sweep.points:
        out.append((("points",), f"points are for method list, not {m}"))
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
    return out


# -- loading ------------------------------------------------------------------------------------


@dataclass
class LoadedExperiment:
    """An experiment file with its scenario, checked and ready to make point scenarios."""

    experiment: Experiment
    doc: YamlDoc
    scenario_doc: YamlDoc
    base: Scenario  # the scenario as written, before overrides
    design: Design

    @property
    def path(self) -> str:
        return self.doc.path

    @property
    def scenario_path(self) -> str:
        return self.scenario_doc.path

    def point_scenarios(self) -> list[Scenario]:
        """The scenario of every point, in order (raises InputError on the first bad one)."""
        return [self.point_scenario(i) for i in range(len(self.design))]

    def point_scenario(self, i: int) -> Scenario:
        """The scenario of point ``i``: the file, then the overrides, then the point's values."""
        data = copy.deepcopy(self.scenario_doc.data)
        assigned: list[tuple[tuple, str, Any]] = []
        for path, value in self.experiment.overrides.items():
            set_path(data, path, value)
            assigned.append((("overrides", path), path, value))
        for path, value in self.design.points[i].items():
            set_path(data, path, value)
            assigned.append((self._point_loc(i, path), path, value))
        try:
            return scenario_from_data(data, self.scenario_doc)
        except InputError as err:
            raise InputError([self._relocate(p, assigned, i) for p in err.problems]) from None

    def _point_loc(self, i: int, path: str) -> tuple:
        if self.design.method == "list":
            return ("sweep", "points", i, path)
        return ("sweep", "parameters", path)

    def _relocate(self, problem: Problem, assigned, i: int) -> Problem:
        """Report a problem caused by a set path at that path's line in the experiment file."""
        best = None
        for loc, path, value in assigned:
            hit = (problem.field == path or problem.field.startswith(path + ".")
                   or path.startswith(problem.field + "."))
            if hit and (best is None or len(path) > len(best[1])):
                best = (loc, path, value)
        if best is None:
            return problem
        loc, path, value = best
        what = "" if loc[0] == "overrides" else f" at point {i}"
        field_ = "" if problem.field == path else f"{problem.field}: "
        message = f"{path} = {_show(value)}{what} makes the scenario invalid: {field_}{problem.message}"
        return Problem(self.doc.path, self.doc.line_of(loc), _dotted(loc), message)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value) if not isinstance(value, str) else value


def _dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def load_experiment(path: str | Path, *, check_points: bool = True) -> LoadedExperiment:
    """Read and check an experiment file and its scenario.

    Args:
        path: the experiment file.
        check_points: build every point's scenario once, so that a value that makes the
            scenario invalid is reported now, at its line, rather than when the sweep runs.

    Raises:
        InputError: with one located problem per mistake (``str(err)`` is the first one).
    """
    doc = load_yaml(path)
    try:
        exp = Experiment.model_validate(doc.data)
    except ValidationError as err:
        raise InputError(problems_from_validation_error(err, doc, model=Experiment)) from None
    if exp.sweep is not None:
        problems = [Problem(doc.path, doc.line_of(("sweep", *loc)), _dotted(("sweep", *loc)), msg)
                    for loc, msg in sweep_problems(exp.sweep)]
        if problems:
            raise InputError(problems)
    scenario_doc = _scenario_doc(doc, exp)
    base = scenario_from_data(scenario_doc.data, scenario_doc)
    problems = [Problem(doc.path, doc.line_of(loc), _dotted(loc), msg)
                for loc, msg in _path_problems(exp, base)]
    if problems:
        raise InputError(problems)
    loaded = LoadedExperiment(exp, doc, scenario_doc, base, make_design(exp.sweep, exp.seed))
    if check_points:
        loaded.point_scenarios()
    return loaded


def _scenario_doc(doc: YamlDoc, exp: Experiment) -> YamlDoc:
    target = Path(doc.path).parent / exp.scenario
    if not target.is_file():
        what = "is a directory" if target.is_dir() else "not found"
        raise InputError([Problem(doc.path, doc.line_of(("scenario",)), "scenario",
                                  f"scenario file {what}: {target}")])
    return load_yaml(target)


def _path_problems(exp: Experiment, base: Scenario) -> list[tuple[tuple, str]]:
    out = []
    for path in exp.overrides:
        if (msg := path_error(base, path)) is not None:
            out.append((("overrides", path), msg))
    if exp.sweep is not None:
        for path in exp.sweep.parameters:
            if (msg := path_error(base, path)) is not None:
                out.append((("sweep", "parameters", path), msg))
        for i, point in enumerate(exp.sweep.points):
            for path in point:
                if path != LABEL and (msg := path_error(base, path)) is not None:
                    out.append((("sweep", "points", i, path), msg))
    return out


def experiment_schema() -> dict[str, Any]:
    """The JSON Schema of experiment files, for editors that complete YAML."""
    return Experiment.model_json_schema()
