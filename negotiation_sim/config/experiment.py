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
* ``load_experiment``: every mistake becomes a one-line ``FILE:LINE: field: message`` problem,
  and a design too large for the limits (``limits``) is refused before any point is made.

Execution and storage live elsewhere (``execution``, ``sweep``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from negotiation_sim.config import limits
from negotiation_sim.config.defaults import BLOCK, DEFAULT_CHUNK
from negotiation_sim.config.design import (
    LABEL,
    Design,
    Sweep,
    grid_length,
    make_design,
    n_points,
    sweep_problems,
)
from negotiation_sim.config.distributions import STRICT, at_most
from negotiation_sim.config.paths import path_error, with_path
from negotiation_sim.config.scenario import Scenario, digest_of, scenario_from_data
from negotiation_sim.config.yamlio import (
    InputError,
    Problem,
    YamlDoc,
    load_yaml,
    problems_from_validation_error,
)

_STRICT = STRICT


class Experiment(BaseModel):
    """A whole experiment file."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    description: str | None = None
    scenario: str = Field(min_length=1, description="Scenario file, relative to this file.")
    runs: Annotated[int, *at_most(limits.MAX_RUNS, "the number of worlds per point")] = Field(
        ge=1, description="Worlds simulated per point.")
    seed: Annotated[int, *at_most(limits.MAX_SEED, "the seed")] = Field(
        0, ge=0, description="Root of every random number of the sweep.")
    common_random_numbers: bool = Field(
        False, description="Every point draws the same worlds (seed spawn key 0 instead of the "
                           "point's index): sharper differences between points.")
    chunk_size: Annotated[int, *at_most(limits.MAX_CHUNK, "the chunk size")] = Field(
        DEFAULT_CHUNK, ge=1,
        description="Worlds per task (rounded to whole blocks of 1024); memory per task.")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Fixed changes to the scenario, dotted path -> value.")
    sweep: Sweep | None = Field(None, description="Without a sweep: one point, the scenario "
                                                  "with its overrides.")

    def digest(self) -> str:
        """SHA-256 of what the file sets, validated, in the file's order.

        Order is part of an experiment: overrides apply in order, and the order of a sweep's
        parameters and points fixes which point is which (and so its seeds). Fields left at
        their defaults are not hashed, so fields added later keep existing files' hashes.
        """
        return digest_of(self.model_dump(mode="json", exclude_unset=True))

    def n_tasks(self) -> int:
        """Tasks of the sweep: points x chunks per point (as ``run.tasks`` plans them)."""
        size = max(BLOCK, (self.chunk_size // BLOCK) * BLOCK)
        return n_points(self.sweep) * -(-self.runs // size)

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

    def check_points(self, limit: int = limits.MAX_CHECKED_POINTS) -> int:
        """Build and check point scenarios (raises InputError on the first bad one).

        Every point when the design has at most ``limit``; else an even spread of ``limit``
        points plus those that carry each value of a grid axis, or each sampled parameter's
        smallest and largest value: what can make a point invalid is nearly always one value,
        and those points hold every value the design uses. Returns how many were checked.
        """
        chosen = checked_points(self.design, self.experiment.sweep, limit)
        for i in chosen:
            self.point_scenario(i)
        return len(chosen)

    def point_warnings(self, limit: int = limits.MAX_CHECKED_POINTS) -> list[Problem]:
        """Sanity warnings a point raises that the scenario file as written does not.

        A swept or overridden value can be valid and still probably unmeant (a pressure of 3
        where 0.03 was meant): each point ``check_points`` builds gets the scenario-level checks
        (``config.warnings.config_warnings``); a warning on a field the experiment sets is
        located at that field's line in the experiment file and says which value at which point
        raised it. Each (line, field, message) is said once, with how many points share it.
        """
        from negotiation_sim.config.warnings import config_warnings

        base = {(w.field, w.message)
                for w in config_warnings(self.base, self.scenario_doc)}
        seen: dict[tuple, list] = {}
        for i in checked_points(self.design, self.experiment.sweep, limit):
            assigned = self._assigned(i)
            for w in config_warnings(self.point_scenario(i), self.scenario_doc):
                if (w.field, w.message) in base:
                    continue
                moved = self._relocate(w, assigned, i, verb="gives a warning")
                key = (moved.line, moved.field, w.message)
                if key in seen:
                    seen[key][1] += 1
                else:
                    seen[key] = [moved, 0]
        out = self._design_warnings()
        for moved, more in seen.values():
            if more:
                moved = Problem(moved.file, moved.line, moved.field,
                                f"{moved.message} (and at {more} other "
                                f"point{'s' if more > 1 else ''})")
            out.append(moved)
        return out

    def _design_warnings(self) -> list[Problem]:
        """What the design allows but probably does not mean: a Morris grid of an odd number
        of levels (its steps of levels / (2 (levels - 1)) are not symmetric, so the sample is
        biased; Morris 1991 and Campolongo et al. 2007 use an even number, and SALib warns)."""
        sweep = self.experiment.sweep
        if sweep is None or sweep.method != "morris" or sweep.levels % 2 == 0:
            return []
        loc = ("sweep", "levels")
        return [Problem(self.doc.path, self.doc.line_of(loc), "sweep.levels",
                        f"{sweep.levels} levels: Morris's grid is symmetric only for an even "
                        "number of levels; the sample may be biased")]

    def _assigned(self, i: int) -> list[tuple[tuple, str, Any]]:
        """(loc in the experiment file, dotted path, value) of what point ``i`` sets."""
        assigned = [(("overrides", path), path, value)
                    for path, value in self.experiment.overrides.items()]
        return assigned + [(self._point_loc(i, path), path, value)
                           for path, value in self.design.points[i].items()]

    def point_scenario(self, i: int) -> Scenario:
        """The scenario of point ``i``: the file, then the overrides, then the point's values."""
        data = self.scenario_doc.data  # with_path copies what it changes: the file stays as read
        assigned = self._assigned(i)
        for _, path, value in assigned:
            data = with_path(data, path, value)
        try:
            return scenario_from_data(data, self.scenario_doc)
        except InputError as err:
            raise InputError([self._relocate(p, assigned, i) for p in err.problems]) from None

    def _point_loc(self, i: int, path: str) -> tuple:
        if self.design.method == "list":
            return ("sweep", "points", i, path)
        if self.design.method == "robust":
            sweep = self.experiment.sweep
            return ("sweep", "levers" if sweep and path in sweep.levers else "uncertainties",
                    path)
        return ("sweep", "parameters", path)

    def _relocate(self, problem: Problem, assigned, i: int,
                  verb: str = "makes the scenario invalid") -> Problem:
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
        message = f"{path} = {_show(value)}{what} {verb}: {field_}{problem.message}"
        return Problem(self.doc.path, self.doc.line_of(loc), _dotted(loc), message)


def _override_problems(exp: Experiment) -> list[tuple[tuple, str]]:
    """An override that a swept path replaces at every point does nothing: refuse it."""
    sweep = exp.sweep
    if sweep is None:
        return []
    swept = set(sweep.parameters) | set(sweep.levers) | set(sweep.uncertainties)
    if sweep.points:  # list: the paths every point sets
        swept = set.intersection(*({k for k in p if k != LABEL} for p in sweep.points))
    out = []
    for path in exp.overrides:
        for w in sorted(swept):
            if path == w or path.startswith(w + "."):
                out.append((("overrides", path), f"the sweep sets '{w}' at every point it "
                                                 "names, replacing this override: remove one"))
                break
    return out


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
    points = doc.data.get("sweep", {}).get("points") if isinstance(doc.data.get("sweep"), dict) \
        else None
    if isinstance(points, list) and len(points) > limits.MAX_POINTS:  # before validating them
        raise InputError([Problem(doc.path, doc.line_of(("sweep", "points")), "sweep.points",
                                  limits.limit_text("the number of points of a list design",
                                                    limits.MAX_POINTS, len(points)))])
    try:
        exp = Experiment.model_validate(doc.data)
    except ValidationError as err:
        raise InputError(problems_from_validation_error(err, doc, model=Experiment)) from None
    if exp.sweep is not None:
        problems = [Problem(doc.path, doc.line_of(("sweep", *loc)), _dotted(("sweep", *loc)), msg)
                    for loc, msg in sweep_problems(exp.sweep)]
        problems += [Problem(doc.path, doc.line_of(loc), _dotted(loc), msg)
                     for loc, msg in _override_problems(exp)]
        if problems:
            raise InputError(problems)
    if exp.n_tasks() > limits.MAX_TASKS:
        where = ("sweep",) if exp.sweep is not None else ("runs",)
        message = limits.limit_text("the number of tasks of a sweep (points x chunks of "
                                    f"{exp.chunk_size:,} worlds)", limits.MAX_TASKS, exp.n_tasks())
        raise InputError([Problem(doc.path, doc.line_of(where), _dotted(where), message)])
    scenario_doc = _scenario_doc(doc, exp)
    base = scenario_from_data(scenario_doc.data, scenario_doc)
    problems = [Problem(doc.path, doc.line_of(loc), _dotted(loc), msg)
                for loc, msg in _path_problems(exp, base)]
    if problems:
        raise InputError(problems)
    loaded = LoadedExperiment(exp, doc, scenario_doc, base, make_design(exp.sweep, exp.seed))
    if check_points:
        loaded.check_points()
    return loaded


def checked_points(design: Design, sweep: Sweep | None, limit: int) -> list[int]:
    """The points ``LoadedExperiment.check_points`` builds, in order (see there)."""
    n = len(design)
    if n <= limit:
        return list(range(n))
    chosen = {round(k * (n - 1) / (limit - 1)) for k in range(limit)} if limit > 1 else {0}
    if design.method == "grid" and sweep is not None:
        # Points are the product of the axes, the last varying fastest: axis d's j-th value
        # with every other axis at its first value is point j * (product of later lengths).
        stride = 1
        for spec in reversed(list(sweep.parameters.values())):
            length = grid_length(spec)
            chosen.update(j * stride for j in range(length))
            stride *= length
    elif design.X is not None:  # each sampled parameter's extremes
        chosen.update(int(i) for i in design.X.argmin(axis=0))
        chosen.update(int(i) for i in design.X.argmax(axis=0))
    return sorted(chosen)


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
        for key in ("parameters", "levers", "uncertainties"):
            for path in getattr(exp.sweep, key):
                if (msg := path_error(base, path)) is not None:
                    out.append((("sweep", key, path), msg))
        for i, point in enumerate(exp.sweep.points):
            for path in point:
                if path != LABEL and (msg := path_error(base, path)) is not None:
                    out.append((("sweep", "points", i, path), msg))
    return out


def experiment_schema() -> dict[str, Any]:
    """The JSON Schema of experiment files, for editors that complete YAML."""
    return Experiment.model_json_schema()
