"""The declared outputs (core.outputs): the model, ChunkResult, runs.parquet, the reader and
docs/figures.md all follow the declarations."""

from __future__ import annotations

import re

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, SMALL, make_scenario

import negotiation_sim as ns
from negotiation_sim.core.outcomes import ChunkResult
from negotiation_sim.core.outputs import NAMES, OUTPUTS, column_table
from negotiation_sim.results.tables import chunk_from_table, chunk_table, output_columns
from negotiation_sim.run.chunks import simulate_chunk


def sizes_of(sc) -> dict[str, int]:
    return {"issues": len(sc.issue_ids), "actors": len(sc.positioned),
            "principals": len(sc.principals)}


def test_docs_column_table_is_the_one_the_declarations_make():
    text = (ROOT / "docs" / "figures.md").read_text()
    table = re.search(r"<!-- outputs:begin -->\n(.*?)<!-- outputs:end -->", text, re.S)
    assert table is not None, "docs/figures.md lost its outputs table markers"
    assert table.group(1) == column_table()


def test_a_chunk_hands_back_every_declared_output_with_its_shape_and_dtype():
    sc = make_scenario(SMALL)
    chunk = simulate_chunk(sc, 300, seed=1)
    sizes = sizes_of(sc)
    for out in OUTPUTS:
        values = getattr(chunk, out.name)
        shape = (300,) if out.axis is None else (sizes[out.axis], 300)
        assert values.shape == shape and values.dtype == np.dtype(out.dtype), out.name
    assert set(chunk.outputs()) == set(NAMES)


def test_runs_parquet_has_the_declared_columns_in_order_and_reads_back(tmp_path):
    sc = make_scenario(SMALL)
    res = ns.run(sc, runs=500, seed=2, out=tmp_path / "r", plots=False)
    names = pq.read_schema(res.runs_file).names
    assert [c for c in names if c != "world" and not c.startswith("input.")] == \
        output_columns(sc)
    back = chunk_from_table(pq.read_table(res.runs_file), sc)
    again = simulate_chunk(sc, 500, seed=2)
    for name in NAMES:
        np.testing.assert_array_equal(getattr(back, name), getattr(again, name), err_msg=name)


def test_a_table_without_an_output_reads_back_as_none_and_unknown_outputs_are_refused():
    sc = make_scenario(SMALL)
    table = chunk_table(simulate_chunk(sc, 50, seed=0), sc)
    back = chunk_from_table(table.drop_columns(["walked_out_by"]), sc)
    assert back.walked_out_by is None and back.outcome is not None
    with pytest.raises(TypeError, match="no output"):
        ChunkResult(0, outcomes=np.zeros(3))


def test_the_summary_reads_only_summarised_outputs_and_they_suffice():
    sc = make_scenario(SMALL)
    res = ns.run(sc, runs=400, seed=3, keep_runs=True)
    table = pq.read_table(res.runs_file, columns=["world", *output_columns(sc, summarised=True)])
    from negotiation_sim.results.summary import Accumulator

    acc = Accumulator.for_scenario(sc)
    acc.add(chunk_from_table(table, sc))
    expected = ns.run(sc, runs=400, seed=3, keep_runs=False, solutions=False).summary
    got = acc.summary(sc.name, 3)
    got["solutions"] = None
    # the sessions by format count the per-round log (core.outputs.RECORDS), which the file
    # does not keep: read back, they are None; everything else is rebuilt from the columns
    assert got["meetings"]["sessions"]["by_format"] is None
    assert expected["meetings"]["sessions"]["by_format"] is not None
    expected["meetings"]["sessions"]["by_format"] = None
    assert got == expected
