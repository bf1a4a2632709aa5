"""Per-world tables: the columns of ``runs.parquet`` and of a sweep's part files.

The columns come from the outputs' declarations (``core.outputs``): ``chunk_table`` makes one row
per world, ``Layout`` conforms part files of different sweep points to one schema, and
``chunk_from_table`` reads a part back into output arrays. The files' names are in
``results.schema``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from negotiation_sim.config.paths import number_fields
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import END_REASONS, OUTCOMES, ChunkResult
from negotiation_sim.core.outputs import OUTPUTS, Output


def _labels(scenario: Scenario) -> dict[str, list[str]]:
    """The ids along each output axis (``core.outputs``)."""
    return {"issues": scenario.issue_ids, "actors": scenario.positioned,
            "principals": scenario.principals}


def _names(codes: str, scenario: Scenario) -> list[str]:
    """The names a coded output's codes stand for."""
    return {"outcomes": list(OUTCOMES), "end_reasons": list(END_REASONS),
            "formats": [f for f, _ in scenario.formats()],
            "principals": list(scenario.principals)}[codes]


def chunk_table(chunk: ChunkResult, scenario: Scenario, *, point: int | None = None):
    """One row per world: the point, the world, sampled inputs, then every declared output's
    columns (``core.outputs.OUTPUTS``, in order) (pyarrow)."""
    import pyarrow as pa

    cols: dict[str, Any] = {}
    if point is not None:
        cols["point"] = pa.array(np.full(chunk.n, point, dtype=np.int32))
    cols["world"] = pa.array(np.arange(chunk.first_world, chunk.first_world + chunk.n))
    for path, values in chunk.inputs.items():
        cols[f"input.{path}"] = pa.array(values)
    labels = _labels(scenario)
    sizes = {axis: len(ids) for axis, ids in labels.items()}
    for out in OUTPUTS:
        values = getattr(chunk, out.name)
        if values is None:  # not recorded (a chunk read back from an older part)
            values = out.empty(chunk.n, sizes)
        if out.axis is None:
            cols[out.column] = _column(out, values, scenario)
        else:
            for name, row in zip(out.columns(labels), values):
                cols[name] = _column(out, row, scenario)
    return pa.table(cols)


def _column(out: Output, values: np.ndarray, scenario: Scenario):
    """One output's column: names for codes (null below 0), nulls below ``null_below``."""
    import pyarrow as pa

    values = values.astype(out.dtype, copy=False)
    if out.codes is not None:
        names = pa.array(_names(out.codes, scenario), type=pa.string())
        negative = values < 0
        # every world has an outcome: that column has never carried a validity mask (other
        # columns coded as outcomes, such as ``settled_kind``, are null where negative)
        mask = negative if out.name != "outcome" else None
        return pa.DictionaryArray.from_arrays(pa.array(np.maximum(values, 0), mask=mask), names)
    if out.null_below is not None:
        return pa.array(values, mask=values < out.null_below)
    return pa.array(values)


@dataclass
class Layout:
    """The columns every part file has, whatever its point (union over points, fixed order).

    A path that is random in the scenario (or at some points) but fixed at others, because the
    sweep sets it, gets the fixed value there, so ``input.*`` always says what each world used.
    """

    inputs: list[str]
    issues: list[str]
    actors: list[str]
    fixed: dict[int, dict[str, float]]  # per point: value of each non-random number
    principals: list[str] | None = None

    @classmethod
    def of(cls, scenarios: list[Scenario], base: Scenario | None = None) -> Layout:
        """The layout of these point scenarios; ``base`` (the scenario as written) adds its
        random inputs first, so a swept distribution still has its ``input.`` column."""
        inputs: dict[str, None] = {}
        if base is not None:
            inputs.update((p, None) for p, v in number_fields(base)
                          if not isinstance(v, (int, float)))
        issues: dict[str, None] = {}
        actors: dict[str, None] = {}
        principals: dict[str, None] = {}
        fixed = {}
        for point, sc in enumerate(scenarios):
            nums = number_fields(sc)
            inputs.update((p, None) for p, v in nums if not isinstance(v, (int, float)))
            fixed[point] = {p: float(v) for p, v in nums if isinstance(v, (int, float))}
            issues.update(dict.fromkeys(sc.issue_ids))
            actors.update(dict.fromkeys(sc.positioned))
            principals.update(dict.fromkeys(sc.principals))
        return cls(list(inputs), list(issues), list(actors), fixed, list(principals))

    def for_point(self, point: int) -> Layout:
        """The same layout carrying only one point's fixed values: what a task needs, so a
        sweep of thousands of points does not ship all of them with every task."""
        return Layout(self.inputs, self.issues, self.actors, {point: self.fixed[point]},
                      self.principals)

    def columns(self) -> list[str]:
        """Every part file's columns, in order: point, world, inputs, then the outputs'."""
        labels = {"issues": self.issues, "actors": self.actors,
                  "principals": self.principals or []}
        return ["point", "world", *(f"input.{p}" for p in self.inputs),
                *(c for out in OUTPUTS for c in out.columns(labels))]

    def table(self, chunk: ChunkResult, scenario: Scenario, point: int):
        """The part table of one task, conformed to the layout."""
        import pyarrow as pa

        fixed = self.fixed[point]
        chunk.inputs = {p: chunk.inputs[p] if p in chunk.inputs
                        else np.full(chunk.n, fixed.get(p, math.nan)) for p in self.inputs}
        table = chunk_table(chunk, scenario, point=point)
        for name in self.columns():
            if name not in table.column_names:
                table = table.append_column(name, pa.array(np.full(chunk.n, math.nan)))
        return table.select(self.columns())


def output_columns(scenario: Scenario, *, summarised: bool = False) -> list[str]:
    """The per-world columns of the declared outputs (those the summary reads, with
    ``summarised``) for a scenario, in order."""
    labels = _labels(scenario)
    return [c for out in OUTPUTS if out.summarised or not summarised
            for c in out.columns(labels)]


def chunk_from_table(table, scenario: Scenario) -> ChunkResult:
    """Rebuild a chunk's outputs from its part table (for summaries and resumes); an output
    whose columns the table lacks is None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    names = set(table.column_names)
    labels = _labels(scenario)
    outputs: dict[str, np.ndarray] = {}
    for out in OUTPUTS:
        columns = out.columns(labels)
        if not all(c in names for c in columns):
            continue
        if out.codes is not None:
            value_set = pa.array(_names(out.codes, scenario), pa.string())
            values = [pc.fill_null(pc.index_in(table[c].cast(pa.string()), value_set=value_set),
                                   -1).to_numpy().astype(out.dtype) for c in columns]
        elif out.null_below is not None:
            values = []
            for c in columns:
                v = table[c].to_numpy(zero_copy_only=False).astype(float)
                values.append(np.where(np.isnan(v), out.fill, v).astype(out.dtype))
        else:
            values = [table[c].to_numpy() for c in columns]
        if out.axis is None:
            outputs[out.name] = values[0]
        else:
            outputs[out.name] = np.stack(values) if values else np.empty((0, n))
    first = int(table["world"][0].as_py()) if n else 0
    return ChunkResult(first, **outputs)
