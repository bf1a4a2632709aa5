"""Per-world tables: the columns of ``runs.parquet`` and of a sweep's part files.

One place spells every column: ``chunk_table`` makes one row per world, ``Layout`` conforms part
files of different sweep points to one schema, and ``chunk_from_table`` reads a part back into
outcome arrays. The files' names are in ``results.schema``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from negotiation_sim.config.paths import number_fields
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import END_REASONS, OUTCOMES, ChunkResult


def chunk_table(chunk: ChunkResult, scenario: Scenario, *, point: int | None = None):
    """One row per world: sampled inputs, outcome, format, round, terms, utilities (pyarrow)."""
    import pyarrow as pa

    formats = [f for f, _ in scenario.formats()]
    cols: dict[str, Any] = {}
    if point is not None:
        cols["point"] = pa.array(np.full(chunk.n, point, dtype=np.int32))
    cols["world"] = pa.array(np.arange(chunk.first_world, chunk.first_world + chunk.n))
    for path, values in chunk.inputs.items():
        cols[f"input.{path}"] = pa.array(values)
    cols["outcome"] = pa.DictionaryArray.from_arrays(
        pa.array(chunk.outcome.astype(np.int8)), pa.array(list(OUTCOMES)))
    no_summit = chunk.held_format < 0
    cols["format"] = pa.DictionaryArray.from_arrays(
        pa.array(np.maximum(chunk.held_format, 0).astype(np.int8), mask=no_summit),
        pa.array(formats, type=pa.string()))
    cols["round"] = pa.array(chunk.end_round)
    cols["walked_out"] = pa.array(chunk.walked_out)
    principals = scenario.principals
    n = chunk.n
    cols["end_reason"] = _codes(chunk.end_reason, END_REASONS, n)
    cols["walked_out_by"] = _codes(chunk.walked_out_by, principals, n)
    broken = chunk.broken_round if chunk.broken_round is not None else np.full(n, -1)
    cols["broken_round"] = pa.array(broken.astype(np.int16), mask=broken < 0)
    cols["broken_by"] = _codes(chunk.broken_by, principals, n)
    for k, issue in enumerate(scenario.issue_ids):
        cols[f"terms.{issue}"] = pa.array(chunk.terms[k])
    for a, actor in enumerate(scenario.positioned):
        cols[f"utility.{actor}"] = pa.array(chunk.utility[a])
    war = chunk.war if chunk.war is not None else np.full((len(principals), n), np.nan)
    for i, p in enumerate(principals):
        cols[f"war.{p}"] = pa.array(war[i])
    return pa.table(cols)


def _codes(codes: np.ndarray | None, names, n: int):
    """A dictionary column of ``names`` from int codes (-1 or None: null)."""
    import pyarrow as pa

    codes = np.full(n, -1, dtype=np.int8) if codes is None else codes.astype(np.int8)
    return pa.DictionaryArray.from_arrays(pa.array(np.maximum(codes, 0), mask=codes < 0),
                                          pa.array(list(names), type=pa.string()))


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
        return (["point", "world", *(f"input.{p}" for p in self.inputs), "outcome", "format",
                 "round", "walked_out", "end_reason", "walked_out_by", "broken_round",
                 "broken_by", *(f"terms.{k}" for k in self.issues),
                 *(f"utility.{a}" for a in self.actors),
                 *(f"war.{p}" for p in self.principals or [])])

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


def chunk_from_table(table, scenario: Scenario) -> ChunkResult:
    """Rebuild a chunk's outcomes from its part table (for summaries and resumes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def codes(column: str, names: list[str]) -> np.ndarray:
        values = table[column].cast(pa.string())
        idx = pc.fill_null(pc.index_in(values, value_set=pa.array(names, pa.string())), -1)
        return idx.to_numpy().astype(np.int8)

    formats = [f for f, _ in scenario.formats()]
    terms = [table[f"terms.{k}"].to_numpy() for k in scenario.issue_ids]
    utils = [table[f"utility.{a}"].to_numpy() for a in scenario.positioned]
    n = table.num_rows
    names = table.column_names
    principals = scenario.principals
    broken = None
    if "broken_round" in names:
        broken = table["broken_round"].to_numpy(zero_copy_only=False)
        broken = np.where(np.isnan(broken.astype(float)), -1, broken).astype(np.int16)
    return ChunkResult(
        first_world=int(table["world"][0].as_py()) if n else 0,
        outcome=codes("outcome", list(OUTCOMES)),
        held_format=codes("format", formats),
        end_round=table["round"].to_numpy(),
        walked_out=table["walked_out"].to_numpy(),
        terms=np.stack(terms) if terms else np.empty((0, n)),
        utility=np.stack(utils) if utils else np.empty((0, n)),
        end_reason=codes("end_reason", list(END_REASONS)) if "end_reason" in names else None,
        walked_out_by=codes("walked_out_by", principals) if "walked_out_by" in names else None,
        broken_round=broken,
        broken_by=codes("broken_by", principals) if "broken_by" in names else None,
    )
